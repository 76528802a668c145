/**
 * Real-time rules: a simple match (level, service, a term, attribute values) checked on events as they are
 * stored, with no query at all, so a notification goes out seconds after the event is accepted. Cooldown
 * still applies: during it, matches are counted, and the next notification says how many there were.
 */
import { channelName, type AlertRule, type Channel } from '../domain/alerts/rules.js';
import { microsToIso } from '../domain/normalize/timestamp.js';
import type { LogEvent } from '../domain/schema.js';
import { alertStateKey } from '../domain/storage-layout.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Notification, Notifier } from '../ports/notifier.js';
import type { VersionedStore } from '../ports/versioned-store.js';

interface RealtimeState {
  rev: number;
  lastNotifiedAt?: number;
  /** matches seen during the cooldown, not yet reported */
  held: number;
}

export function matches(rule: AlertRule, e: LogEvent): boolean {
  const m = rule.match;
  if (!m) return false;
  if (m.level && !(e.level && m.level.includes(e.level))) return false;
  if (m.service && !(e.service && m.service.includes(e.service))) return false;
  if (m.term && !e.message.toLowerCase().includes(m.term.toLowerCase())) return false;
  if (m.attributes) for (const [k, v] of Object.entries(m.attributes)) if (e.attributes[k] !== v) return false;
  return true;
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

  function notification(rule: AlertRule, count: number, held: number, samples: LogEvent[]): Notification {
    const total = count + held;
    const subject = `[FIRING] ${rule.name} (${rule.tenant}): ${total} matching event${total === 1 ? '' : 's'}`;
    const lines = [
      subject,
      '',
      `Rule:      ${rule.name}${rule.description ? ` — ${rule.description}` : ''} (real-time)`,
      `Match:     ${JSON.stringify(rule.match)}`,
      `Tenant:    ${rule.tenant}`,
      ...(held > 0 ? [`Also:      ${held} more matched during the ${rule.cooldownSeconds / 60}-minute cooldown before this`] : []),
      '',
      'Sample lines:',
      ...samples.slice(0, 5).map((e) => `  ${microsToIso(e.ts)} ${e.level ?? '-'} ${e.service ?? '-'}: ${e.message.slice(0, 300)}`),
    ];
    const first = samples[0]!;
    return {
      subject: subject.slice(0, 99),
      text: lines.join('\n'),
      attributes: { rule: rule.name, tenant: rule.tenant, state: 'firing' },
      alert: {
        rule: rule.name,
        tenant: rule.tenant,
        state: 'firing',
        condition: `match ${JSON.stringify(rule.match)}`,
        value: total,
        windowStart: microsToIso(first.ts),
        windowEnd: microsToIso(samples.at(-1)!.ts),
        samples: samples.slice(0, 5).map((e) => e.message.slice(0, 300)),
        query: 'real-time match',
      },
    };
  }

  return {
    /** Checks stored events against the tenant's real-time rules and notifies (cooldown permitting). */
    async observe(tenant: string, events: readonly LogEvent[]): Promise<void> {
      for (const rule of realtime) {
        if (rule.tenant !== tenant) continue;
        const hits = events.filter((e) => matches(rule, e));
        if (hits.length === 0) continue;
        for (let attempt = 0; attempt < 5; attempt++) {
          const current = await state.read(key(rule));
          const st: RealtimeState = current ? (JSON.parse(current.value) as RealtimeState) : { rev: 0, held: 0 };
          const now = clock.now();
          const cooled = st.lastNotifiedAt === undefined || now - st.lastNotifiedAt >= rule.cooldownSeconds * 1000;
          const next: RealtimeState = cooled ? { rev: st.rev + 1, lastNotifiedAt: now, held: 0 } : { ...st, rev: st.rev + 1, held: st.held + hits.length };
          // Record first, then send: two writers never both send for the same cooldown.
          if ((await state.write(key(rule), JSON.stringify(next), current?.version ?? null)) === false) continue;
          if (cooled) {
            const n = notification(rule, hits.length, st.held, hits);
            await Promise.all(
              rule.channels.map(async (c) => {
                const notifier = notifierFor(c);
                if (!notifier) return logger.error('alert channel is not configured here; notification dropped', { rule: rule.name, channel: channelName(c) });
                await notifier.notify(n).catch((err: unknown) => logger.error('alert notification failed', { rule: rule.name, channel: channelName(c), error: (err as Error).message }));
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
