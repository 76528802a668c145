/**
 * Issue 13, finding 5 ("a 415 is not logged"): refusals of a shipper's data are logged at warn with route,
 * tenant, status, reason and user agent, at most once per route, tenant, status and code per interval,
 * with a count of the rest; memory stays bounded whatever arrives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeRefusalLog, type Refusal } from '../../shared/services/refusals.js';
import { MemoryLogger } from '../helpers/logger.js';

const MIN = 60_000;

function setup(opts: { maxKeys?: number } = {}) {
  let now = Date.UTC(2024, 4, 1);
  const logger = new MemoryLogger();
  const log = makeRefusalLog({ logger, clock: { now: () => now }, intervalMs: MIN, ...opts });
  return { logger, log, advance: (ms: number) => (now += ms) };
}

const refusal = (over: Partial<Refusal> = {}): Refusal => ({
  route: 'POST /v1/logs',
  tenant: 'acme',
  status: 415,
  error: 'unsupported_media_type',
  reason: 'content type application/xml is not accepted',
  userAgent: 'fluent-bit/3.0',
  ...over,
});

describe('refusal log', () => {
  it('logs the first refusal at warn with route, tenant, status, reason and user agent', () => {
    const { logger, log } = setup();
    log.refused(refusal());
    expect(logger.entries).toEqual([
      {
        level: 'warn',
        message: 'ingest request refused',
        fields: {
          route: 'POST /v1/logs',
          tenant: 'acme',
          status: 415,
          error: 'unsupported_media_type',
          reason: 'content type application/xml is not accepted',
          userAgent: 'fluent-bit/3.0',
        },
      },
    ]);
  });

  it('a shipper refused in a loop costs one line a minute, with the count of the others', () => {
    const { logger, log, advance } = setup();
    for (let i = 0; i < 600; i++) {
      log.refused(refusal());
      advance(200); // 5 a second for two minutes
    }
    const lines = logger.entries.filter((e) => e.level === 'warn');
    expect(lines).toHaveLength(2);
    expect(lines[0]!.fields!['suppressed']).toBeUndefined();
    expect(lines[1]!.fields!['suppressed']).toBe(299);
    expect(lines[1]!.fields!['sinceMs']).toBe(MIN);
  });

  it('keys by route, tenant, status and code: each kind gets its own line', () => {
    const { logger, log } = setup();
    log.refused(refusal());
    log.refused(refusal({ tenant: 'globex' }));
    log.refused(refusal({ route: 'POST /_bulk' }));
    log.refused(refusal({ status: 400, error: 'bad_request', reason: 'body is empty' }));
    log.refused(refusal({ reason: 'another reason, same kind' }));
    expect(logger.entries).toHaveLength(4);
  });

  it('reports the count of a kind that stopped once its minute is over, when any refusal comes through', () => {
    const { logger, log, advance } = setup();
    log.refused(refusal());
    log.refused(refusal());
    log.refused(refusal({ reason: 'the last one' }));
    advance(MIN + 1);
    log.refused(refusal({ tenant: 'globex' }));
    const acme = logger.entries.filter((e) => e.fields!['tenant'] === 'acme');
    expect(acme).toHaveLength(2);
    expect(acme[1]!.fields).toMatchObject({ suppressed: 2, reason: 'the last one' });
  });

  it('counts the events of partial rejections', () => {
    const { logger, log, advance } = setup();
    log.refused(refusal({ status: 202, error: 'events_rejected', reason: 'line 2 is not valid JSON', events: 3 }));
    log.refused(refusal({ status: 202, error: 'events_rejected', reason: 'line 5 is not valid JSON', events: 4 }));
    advance(MIN);
    log.refused(refusal({ status: 202, error: 'events_rejected', reason: 'line 1 is not valid JSON', events: 1 }));
    expect(logger.entries.map((e) => [e.message, e.fields!['events'], e.fields!['suppressedEvents']])).toEqual([
      ['ingest rejected events', 3, undefined],
      ['ingest rejected events', 1, 4],
    ]);
  });

  it('clips long reasons and user agents', () => {
    const { logger, log } = setup();
    log.refused(refusal({ reason: 'r'.repeat(10_000), userAgent: 'u'.repeat(10_000) }));
    expect(String(logger.entries[0]!.fields!['reason']).length).toBeLessThanOrEqual(301);
    expect(String(logger.entries[0]!.fields!['userAgent']).length).toBeLessThanOrEqual(201);
  });

  it('property: whatever arrives, at most two lines per kind in any minute, never more lines than refusals, and bounded memory', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ route: fc.constantFrom('a', 'b'), tenant: fc.string({ maxLength: 2 }), status: fc.constantFrom(400, 415), wait: fc.nat(20_000) }),
          {
            maxLength: 400,
          },
        ),
        fc.constantFrom(5, 1000),
        (arrivals, maxKeys) => {
          const { logger, log, advance } = setup({ maxKeys });
          let t = 0;
          const times = new Map<string, number[]>();
          for (const a of arrivals) {
            const before = logger.entries.length;
            log.refused(refusal({ route: a.route, tenant: a.tenant, status: a.status }));
            for (const e of logger.entries.slice(before)) {
              const key = `${String(e.fields!['route'])}|${String(e.fields!['tenant'])}|${String(e.fields!['status'])}`;
              times.set(key, [...(times.get(key) ?? []), t]);
            }
            expect(log.tracked()).toBeLessThanOrEqual(maxKeys);
            t += a.wait;
            advance(a.wait);
          }
          expect(logger.entries.length).toBeLessThanOrEqual(arrivals.length);
          // Without evictions (enough keys), a kind never gets a third line within a minute.
          if (maxKeys === 1000) for (const ts of times.values()) for (let i = 2; i < ts.length; i++) expect(ts[i]! - ts[i - 2]!).toBeGreaterThanOrEqual(MIN);
        },
      ),
      { seed: 13, numRuns: 300 },
    );
  });
});
