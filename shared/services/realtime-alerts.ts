/**
 * Real-time rules: a simple match (level, service, a term, attribute values) checked on events as they are
 * stored, with no query at all, so a notification goes out seconds after the event is accepted. Cooldown
 * still applies: during it, matches are counted, and the next notification says how many there were.
 */
import { CHANNEL_NOT_CONFIGURED, NOTIFICATION_FAILED, realtimeNotification } from '../domain/alerts/notification.js';
import { channelName, type AlertRule, type Channel } from '../domain/alerts/rules.js';
import { realtimeMatches, realtimeTransition, type RealtimeCooldown } from '../domain/alerts/transitions.js';
import type { LogEvent } from '../domain/schema.js';
import { alertStateKey } from '../domain/storage-layout.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Notifier } from '../ports/notifier.js';
import type { VersionedStore } from '../ports/versioned-store.js';

/** A real-time rule's stored state: its cooldown, and a revision bumped on every write (compare-and-swap). */
interface RealtimeState extends RealtimeCooldown {
  rev: number;
}

export interface RealtimeAlertsDeps {
  rules: readonly AlertRule[];
  state: VersionedStore;
  notifierFor: (channel: Channel) => Notifier | undefined;
  clock: Clock;
  logger: Logger;
}

export function makeRealtimeAlerts({ rules, state, notifierFor, clock, logger }: RealtimeAlertsDeps) {
  const realtime = rules.filter((r) => r.realtime);
  const key = (r: AlertRule) => alertStateKey('realtime', r.tenant, r.name);

  return {
    /** Checks stored events against the tenant's real-time rules and notifies (cooldown permitting). */
    observe: async (tenant: string, events: readonly LogEvent[]): Promise<void> => {
      for (const rule of realtime) {
        if (rule.tenant !== tenant) continue;
        const hits = events.filter((e) => realtimeMatches(rule, e));
        if (hits.length === 0) continue;
        for (let attempt = 0; attempt < 5; attempt++) {
          const current = await state.read(key(rule));
          const st: RealtimeState = current ? (JSON.parse(current.value) as RealtimeState) : { rev: 0, held: 0 };
          const { cooldown, notify } = realtimeTransition(rule, st, hits.length, clock.now());
          const next: RealtimeState = { rev: st.rev + 1, ...cooldown };
          // Record first, then send: two writers never both send for the same cooldown.
          if ((await state.write(key(rule), JSON.stringify(next), current?.version ?? null)) === false) continue;
          if (notify) {
            const n = realtimeNotification(rule, hits.length, st.held, hits);
            await Promise.all(
              rule.channels.map(async (c) => {
                const notifier = notifierFor(c);
                if (!notifier) return logger.error(CHANNEL_NOT_CONFIGURED, { rule: rule.name, channel: channelName(c) });
                await notifier
                  .notify(n)
                  .catch((err: unknown) => logger.error(NOTIFICATION_FAILED, { rule: rule.name, channel: channelName(c), error: (err as Error).message }));
              }),
            );
          }
          break;
        }
      }
    },
  };
}

export type RealtimeAlerts = ReturnType<typeof makeRealtimeAlerts>;
