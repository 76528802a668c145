/**
 * Tells the operator when a shipper's data is refused (415, a 400 on a whole batch, 413, 429, 501, …, and
 * events rejected inside an accepted request), which otherwise only the shipper would know. At most one
 * warn line per route, tenant, status and error code per interval: the first refusal is logged at once,
 * the ones after it within the interval are counted, and the count is logged with the next line for that
 * key, or on its own once the interval is over (when any later refusal comes through, there being no timer
 * in a Lambda). A shipper retrying in a loop costs one line a minute, not one per request.
 */
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';

export interface Refusal {
  /** the route key, `POST /v1/logs` */
  route: string;
  /** the key's tenant; '-' when the request had no valid key */
  tenant: string;
  status: number;
  /** the error code of the reply (`unsupported_media_type`, `events_rejected`, …) */
  error: string;
  /** the reply's message: what was wrong */
  reason: string;
  userAgent?: string | undefined;
  /** events refused, when the refusal is of some events of a request */
  events?: number | undefined;
}

export interface RefusalLogDeps {
  logger: Logger;
  clock: Clock;
  /** one line per key per this long (default: a minute) */
  intervalMs?: number;
  /** keys remembered at most (tenants × routes × codes is small; this bounds a flood of odd ones) */
  maxKeys?: number;
}

interface Entry {
  loggedAt: number;
  /** refusals counted, not logged, since loggedAt */
  suppressed: number;
  /** events among them */
  events: number;
  last: Refusal;
}

const MAX_REASON = 300;
const MAX_USER_AGENT = 200;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

export function makeRefusalLog({ logger, clock, intervalMs = 60_000, maxKeys = 1000 }: RefusalLogDeps) {
  const seen = new Map<string, Entry>();
  let sweptAt = 0;

  const line = (r: Refusal, counted?: { entry: Entry; now: number }) =>
    logger.warn(r.error === 'events_rejected' ? 'ingest rejected events' : 'ingest request refused', {
      route: r.route,
      tenant: r.tenant,
      status: r.status,
      error: r.error,
      reason: clip(r.reason, MAX_REASON),
      userAgent: clip(r.userAgent ?? '', MAX_USER_AGENT),
      ...(r.events !== undefined ? { events: r.events } : {}),
      // How many more like it were refused (and not logged) since the previous line for this key.
      ...(counted && counted.entry.suppressed > 0
        ? {
            suppressed: counted.entry.suppressed,
            ...(counted.entry.events > 0 ? { suppressedEvents: counted.entry.events } : {}),
            sinceMs: counted.now - counted.entry.loggedAt,
          }
        : {}),
    });

  /** Logs the counts of keys whose interval is over, and forgets them. */
  const sweep = (now: number, except: string) => {
    for (const [key, entry] of seen) {
      if (key === except || now - entry.loggedAt < intervalMs) continue;
      if (entry.suppressed > 0) line({ ...entry.last, events: undefined }, { entry, now });
      seen.delete(key);
    }
  };

  return {
    refused(r: Refusal): void {
      const now = clock.now();
      const key = `${r.route}\u0000${r.tenant}\u0000${r.status}\u0000${r.error}`;
      if (now - sweptAt >= Math.min(intervalMs, 5_000)) {
        sweptAt = now;
        sweep(now, key);
      }
      const entry = seen.get(key);
      if (entry && now - entry.loggedAt < intervalMs) {
        entry.suppressed++;
        entry.events += r.events ?? 0;
        entry.last = r;
        return;
      }
      line(r, entry && { entry, now });
      seen.delete(key);
      // Bounded whatever arrives: the oldest key (and its count) goes first.
      while (seen.size >= maxKeys) seen.delete(seen.keys().next().value!);
      seen.set(key, { loggedAt: now, suppressed: 0, events: 0, last: r });
    },
    /** Kinds remembered now (at most maxKeys). */
    tracked: (): number => seen.size,
  };
}

export type RefusalLog = ReturnType<typeof makeRefusalLog>;
