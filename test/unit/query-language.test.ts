/**
 * Every construct of the pipeline language, compiled for DuckDB and run against real Parquet files, with
 * the expected answers computed from the fixture events in plain TypeScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { BadRequestError } from '../../shared/domain/errors.js';
import { QuerySyntaxError, parsePipeline } from '../../shared/domain/query/parse.js';
import { compilePipeline } from '../../shared/domain/query/compile.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { makeQueryService, type QueryAnswer } from '../../shared/services/query.js';
import { T0, fixtureEvents, writeFixture } from '../helpers/query-fixture.js';
import { tempDir } from '../helpers/tmp.js';

const events = fixtureEvents();
const attr = (e: LogEvent, k: string) => e.attributes[k];
const countBy = <K extends string>(xs: LogEvent[], key: (e: LogEvent) => K) => {
  const m = new Map<K, number>();
  for (const e of xs) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
  return m;
};

describe('pipeline language on DuckDB', () => {
  let engine: DuckDbQueryEngine;
  let cleanup: () => Promise<void>;
  let service: ReturnType<typeof makeQueryService>;

  beforeAll(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const store = new FsObjectStore(tmp.dir);
    await writeFixture(store, 'acme', events);
    await writeFixture(store, 'globex', [{ ...events[0]!, message: 'globex secret', event_id: 'g1' }]);
    engine = await DuckDbQueryEngine.open({ store });
    service = makeQueryService({ engine, clock: { now: () => T0 + 3 * 3600_000 }, tokenSecret: Buffer.alloc(32, 1), waitBudgetMs: 30_000 });
  });
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  async function q(query: string, limit = 10_000): Promise<{ columns: string[]; rows: unknown[][] }> {
    const a: QueryAnswer = await service.run({ tenant: 'acme', query, start: T0, end: T0 + 3 * 3600_000, limit });
    if (a.status !== 'complete') throw new Error('still running');
    return { columns: a.columns.map((c) => c.name), rows: a.rows };
  }

  it('with no commands but search terms: matching messages, newest first, case-insensitive', async () => {
    const r = await q('"CONNECTION refused" pay');
    const want = events.filter((e) => e.message.toLowerCase().includes('connection refused') && e.message.includes('pay'));
    expect(r.rows.length).toBe(want.length);
    const ts = r.rows.map((row) => row[r.columns.indexOf('ts')] as string);
    expect([...ts].sort().reverse()).toEqual(ts);
  });

  it('filter with =, !=, <, <=, >, >= on columns and attributes (numbers compared as numbers)', async () => {
    const r = await q(
      'filter service = "api" and level != "info" and duration_ms >= 100 and duration_ms < 900 and severity > 5 and severity <= 17 | fields event_id',
    );
    const want = events.filter(
      (e) =>
        e.service === 'api' && e.level !== 'info' && +attr(e, 'duration_ms')! >= 100 && +attr(e, 'duration_ms')! < 900 && e.severity! > 5 && e.severity! <= 17,
    );
    expect(r.rows.map((x) => x[0]).sort()).toEqual(want.map((e) => e.event_id).sort());
    expect(want.length).toBeGreaterThan(3);
  });

  it('filter with like (substring), like /regex/, =~, not like, in [...], not in, and/or/not, ispresent()', async () => {
    const ids = async (f: string) => (await q(`filter ${f} | fields event_id`)).rows.map((x) => x[0]).sort();
    const expectIds = (pred: (e: LogEvent) => boolean) =>
      events
        .filter(pred)
        .map((e) => e.event_id)
        .sort();
    expect(await ids('message like "refused"')).toEqual(expectIds((e) => e.message.includes('refused')));
    expect(await ids('message like /user=(bob|alice) action=pay/')).toEqual(expectIds((e) => /user=(bob|alice) action=pay/.test(e.message)));
    expect(await ids('`http.path` =~ /^\\/(pay|cart)$/')).toEqual(expectIds((e) => /^\/(pay|cart)$/.test(attr(e, 'http.path')!)));
    expect(await ids('message not like "ok"')).toEqual(expectIds((e) => !e.message.includes('ok')));
    expect(await ids('level in ["error", "warn"]')).toEqual(expectIds((e) => ['error', 'warn'].includes(e.level!)));
    expect(await ids('level not in ["info"]')).toEqual(expectIds((e) => e.level !== 'info'));
    expect(await ids('http.status in [404, 500]')).toEqual(expectIds((e) => ['404', '500'].includes(attr(e, 'http.status')!)));
    expect(await ids('(service = "db" or service = "web") and not level = "info"')).toEqual(
      expectIds((e) => (e.service === 'db' || e.service === 'web') && e.level !== 'info'),
    );
    expect(await ids('ispresent(region)')).toEqual(expectIds((e) => attr(e, 'region') !== undefined));
    expect(await ids('attributes.region = "eu"')).toEqual(expectIds((e) => attr(e, 'region') === 'eu'));
  });

  it('fields with as aliases, @timestamp and @message', async () => {
    const r = await q('fields @timestamp, @message as msg, `http.path` as path, service | limit 3');
    expect(r.columns).toEqual(['ts', 'msg', 'path', 'service']); // @timestamp is ts's Insights name
    expect(r.rows.length).toBe(3);
    expect(r.rows[0]![0]).toBe('2024-05-01T11:59:30.000000Z');
  });

  it('parse with a glob and with a regex of named groups', async () => {
    const glob = await q('parse message "* user=* action=*" as what, user, action | stats count(*) as n by user, action | sort n desc, user asc, action asc');
    const want = countBy(events, (e) => `${/user=(\w+)/.exec(e.message)![1]}|${/action=(\w+)/.exec(e.message)![1]}`);
    expect(glob.rows.length).toBe(want.size);
    for (const [user, action, n] of glob.rows as [string, string, number][]) expect(n).toBe(want.get(`${user}|${action}`));
    const re = await q('parse message /user=(?<user>\\w+) action=(?<act>\\w+)/ | filter act = "pay" | stats count_distinct(user) as users');
    expect(re.rows).toEqual([[new Set(events.filter((e) => e.message.includes('action=pay')).map((e) => /user=(\w+)/.exec(e.message)![1])).size]]);
  });

  it('stats count(*), count_distinct, sum, avg, min, max, pct by a field and bin(5m)', async () => {
    const r = await q(
      'stats count(*) as n, count_distinct(host) as hosts, sum(duration_ms) as total, avg(duration_ms) as mean, min(duration_ms) as lo, max(duration_ms) as hi, pct(duration_ms, 50) as p50 by service',
    );
    for (const row of r.rows as [string, number, number, number, number, number, number, number][]) {
      const mine = events.filter((e) => e.service === row[0]);
      const d = mine.map((e) => +attr(e, 'duration_ms')!).sort((a, b) => a - b);
      expect(row.slice(1, 7)).toEqual([mine.length, 2, d.reduce((a, b) => a + b, 0), d.reduce((a, b) => a + b, 0) / d.length, d[0], d.at(-1)]);
      const mid = (d.length - 1) / 2;
      expect(row[7]).toBeCloseTo((d[Math.floor(mid)]! + d[Math.ceil(mid)]!) / 2, 6);
    }
    const bins = await q('filter level = "error" | stats count(*) as errors by bin(5m), service');
    expect(bins.columns).toEqual(['bin(5m)', 'service', 'errors']);
    const want = countBy(
      events.filter((e) => e.level === 'error'),
      (e) => `${new Date(Math.floor(e.ts / 1000 / 300_000) * 300_000).toISOString().slice(0, 19)}|${e.service}`,
    );
    expect(bins.rows.length).toBe(want.size);
    for (const [bin, service, n] of bins.rows as [string, string, number][]) expect(n).toBe(want.get(`${bin.slice(0, 19)}|${service}`));
    const times = bins.rows.map((x) => x[0] as string);
    expect([...times].sort()).toEqual(times); // bins come in time order
  });

  it('sort asc/desc with limit, and limit in the middle of a pipeline', async () => {
    const r = await q('sort duration_ms desc | limit 5 | fields event_id, duration_ms');
    const want = [...events].sort((a, b) => +attr(b, 'duration_ms')! - +attr(a, 'duration_ms')!).slice(0, 5);
    expect(r.rows.map((x) => Number(x[1]))).toEqual(want.map((e) => +attr(e, 'duration_ms')!));
    const top = await q('stats count(*) as n by `http.path` | sort n asc | limit 2');
    expect(top.rows.length).toBe(2);
    expect((top.rows[0]![1] as number) <= (top.rows[1]![1] as number)).toBe(true);
  });

  it('dedup keeps the first row per key in the current order', async () => {
    const r = await q('sort @timestamp desc | dedup service | fields service, event_id');
    expect(r.rows.length).toBe(3);
    for (const [service, id] of r.rows as [string, string][]) {
      const newest = events.filter((e) => e.service === service).sort((a, b) => b.ts - a.ts)[0]!;
      expect(id).toBe(newest.event_id);
    }
  });

  it('arithmetic and functions', async () => {
    const r = await q(
      'filter strlen(service) = 3 and duration_ms * 2 > 1800 | fields toupper(service) as svc, duration_ms / 1000 as secs | sort secs desc | limit 1',
    );
    const best = events
      .filter((e) => e.service!.length === 3 && +attr(e, 'duration_ms')! * 2 > 1800)
      .sort((a, b) => +attr(b, 'duration_ms')! - +attr(a, 'duration_ms')!)[0]!;
    expect(r.rows[0]).toEqual([best.service!.toUpperCase(), +attr(best, 'duration_ms')! / 1000]);
  });

  it('never reaches another tenant, whatever the query says', async () => {
    const r = await q('filter message like "globex" or tenant = "globex" | stats count(*)');
    expect(r.rows).toEqual([[0]]);
  });

  it('keeps every literal out of the SQL text', () => {
    const c = compilePipeline('filter message like "x\'; DROP TABLE logs; --" and `http.path` = "/a\'b" | parse message "a=*" as v', 'duckdb');
    expect(c.sql).not.toContain('DROP');
    expect(c.sql).not.toContain("/a'b");
    expect(c.params).toEqual(expect.arrayContaining(["x'; DROP TABLE logs; --", "/a'b", 'http.path']));
  });
});

describe('syntax and name errors', () => {
  it.each([
    ['filter level = ', /line 1, column 16: expected a field name, a value, or \(/],
    ['stats count(*) by', /expected a field name/],
    ['filter message like', /expected a string .* or a regular expression/],
    ['parse message "a=* b=*" as one', /2 \* but 1 name/],
    ['parse message /no groups/', /named groups/],
    ['sort', /expected a field name/],
    ['limit many', /whole number after limit/],
    ['stats bogus(x)', /expected an aggregate/],
    ['filter level = "x" |', /expected a command/],
    ['filter level = "unclosed', /not closed/],
    ['fields a\n| filter ]', /line 2, column 10/],
  ])('%j', (query, message) => {
    let err: unknown;
    try {
      parsePipeline(query);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QuerySyntaxError);
    expect((err as Error).message).toMatch(message);
  });

  it('names an unknown field after stats and lists the ones there are', () => {
    expect(() => compilePipeline('stats count(*) as n by service | filter level = "error"', 'duckdb')).toThrow(BadRequestError);
    expect(() => compilePipeline('stats count(*) as n by service | filter level = "error"', 'duckdb')).toThrow(/unknown field "level" in filter.*service, n/);
  });
});

describe('the same pipelines compiled for Trino (Athena)', () => {
  const QUERIES = [
    '"CONNECTION refused" pay',
    'filter service = "api" and level != "info" and duration_ms >= 100 and duration_ms < 900 and severity > 5 and severity <= 17 | fields event_id',
    'filter message like "refused" or message like /user=(bob|alice)/ or `http.path` =~ /^\\/(pay|cart)$/ or message not like "ok"',
    'filter level in ["error", "warn"] and level not in ["debug"] and http.status in [404, 500] and not (service = "db") and ispresent(region) and isempty(user)',
    'fields @timestamp, @message as msg, `http.path` as path, service | limit 3',
    'parse message "* user=* action=*" as what, user, action | stats count(*) as n by user, action | sort n desc, user asc, action asc',
    'parse message /user=(?<user>\\w+) action=(?<act>\\w+)/ | filter act = "pay" | stats count_distinct(user) as users',
    'stats count(*) as n, count_distinct(host) as hosts, sum(duration_ms) as total, avg(duration_ms) as mean, min(duration_ms) as lo, max(duration_ms) as hi, pct(duration_ms, 95) as p95 by service',
    'filter level = "error" | stats count(*) as errors by bin(5m), service',
    'sort duration_ms desc | limit 5 | fields event_id, duration_ms',
    'sort @timestamp desc | dedup service | fields service, event_id',
    'filter strlen(service) = 3 and duration_ms * 2 > 1800 | fields toupper(service) as svc, duration_ms / 1000 as secs | sort secs desc | limit 1',
    'filter @timestamp > "2024-05-01T10:30:00Z" and message like "it\'s" | stats count(*)',
  ];

  it.each(QUERIES)('%s', async (query) => {
    const { parseTrino } = await import('../../shared/adapters/aws/trino-sql-guard.js');
    const c = compilePipeline(query, 'trino', 100);
    expect(parseTrino(c.sql)).toEqual({ ok: true });
    // Placeholders outside string literals and quoted names: one per value.
    const bare = c.sql.replace(/'(?:[^']|'')*'/g, "''").replace(/"(?:[^"]|"")*"/g, '""');
    expect(bare.split('?').length - 1).toBe(c.params.length);
    // Parameters only where Athena takes them: every ? sits after a WHERE.
    for (const m of bare.matchAll(/\?/g)) expect(bare.lastIndexOf('WHERE', m.index)).toBeGreaterThanOrEqual(0);
    expect(c.sql).not.toMatch(/\$\d/);
  });

  it('writes the values it must inline as escaped literals, never as raw text', () => {
    const c = compilePipeline('parse message "it\'s * here" as x | fields `a\'b` as y | sort y', 'trino');
    expect(c.sql).toContain("'^it''s (.*?) here$'");
    expect(c.sql).toContain("element_at(\"attributes\", 'a''b')");
    expect(c.sql).not.toMatch(/[^']'b'/);
  });

  it('writes the same pipeline with DuckDB placeholders numbered after the engine’s own two', () => {
    const c = compilePipeline('filter level = "error" and service = "api"', 'duckdb');
    expect(c.sql).toMatch(/\$3.*\$4/s);
    expect(c.params).toEqual(['error', 'api']);
  });
});
