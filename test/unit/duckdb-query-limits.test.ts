/**
 * The DuckDB engine's limits: a time limit that stops the engine (however many queries start at once),
 * results kept on disk and paged from there within caps, a row-size guard, introspection refused, a
 * per-tenant spill directory, and bounded retention of finished results.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine, openSandboxedDuckDb } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { NotFoundError, QueryError } from '../../shared/domain/errors.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { partitionOf } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import type { ScopedQuery } from '../../shared/ports/query-engine.js';
import { makeEvent } from '../helpers/events.js';
import { runToEnd } from '../helpers/query.js';
import { eventually } from '../helpers/local-stack.js';
import { tempDir } from '../helpers/tmp.js';

const t0 = Date.UTC(2024, 4, 1, 10, 0);
const KiB = 1024;
const NEVER_ENDS = 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r';

describe('DuckDbQueryEngine limits', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: FsObjectStore;
  let engine: DuckDbQueryEngine;
  const opened: DuckDbQueryEngine[] = [];

  const open = async (opts: Partial<Parameters<typeof DuckDbQueryEngine.open>[0]> = {}) => {
    const e = await DuckDbQueryEngine.open({
      store,
      timeoutMs: 500,
      resultsDir: join(dir, 'query-results'),
      tempDir: join(dir, 'query-tmp'),
      maxPageBytes: 64 * KiB,
      maxResultBytes: 256 * KiB,
      ...opts,
    });
    opened.push(e);
    return e;
  };
  const q = (sql: string, tenant = 'acme', limit = 10_000): ScopedQuery => ({
    tenant,
    sql,
    startMs: t0,
    endMs: t0 + 3_600_000,
    params: [],
    limit,
    trusted: false,
  });
  const finish = async (e: DuckDbQueryEngine, id: string) => {
    await e.settled(id, 20_000);
    return e.status(id);
  };

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    store = new FsObjectStore(join(dir, 'store'));
    const events = Array.from({ length: 300 }, (_, i) => makeEvent({ ts: (t0 + i * 1000) * 1000, message: `event ${i}` }));
    await store.put(`${partitionPrefix(partitionOf('acme', events[0]!.ts))}a.parquet`, encodeParquet(events));
    engine = await open();
  });
  afterAll(async () => {
    for (const e of opened) await e.close();
    await cleanup();
  });

  it('stops a query that never ends at its time limit, with a time-limit failure', async () => {
    const started = Date.now();
    const id = await engine.start(q(NEVER_ENDS));
    const status = await finish(engine, id);
    expect(status).toMatchObject({ state: 'failed', failure: 'time_limit', error: expect.stringMatching(/time limit of 0\.5 s/) });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('stops every query of a burst larger than the thread pool (an interrupt before a statement runs is not lost)', async () => {
    // Twice libuv's default pool: half of these wait for a thread when their time limit passes.
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) => engine.start(q(i % 2 ? NEVER_ENDS : 'SELECT count(*) FROM logs a, logs b, logs c, logs d, logs e'))),
    );
    const statuses = await Promise.all(ids.map((id) => finish(engine, id)));
    expect(statuses.map((s) => s.failure)).toEqual(Array(8).fill('time_limit'));
  });

  it('keeps a finished result on disk, not in the heap, and pages it within the page cap', async () => {
    // 300 rows of ~1 KiB: more than two 64 KiB pages.
    const id = await engine.start(q("SELECT ts, message, repeat('x', 500) AS pad FROM logs ORDER BY ts"));
    expect(await finish(engine, id)).toMatchObject({ state: 'succeeded', stats: { rows: 300 } });
    const files = engine.resultFilesOf(id);
    expect(statSync(files.rows).size).toBeGreaterThan(300 * 500);
    expect(statSync(files.index).size).toBe(301 * 8);
    // What the engine holds for the execution is its metadata, not its rows.
    const held = (engine as unknown as { executions: Map<string, Record<string, unknown>> }).executions.get(id)!;
    const { conn: _conn, done: _done, ...state } = held;
    expect(JSON.stringify(state).length).toBeLessThan(2 * KiB);

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await engine.page(id, token, 1000);
      expect(Buffer.byteLength(JSON.stringify(page.rows))).toBeLessThanOrEqual(64 * KiB);
      expect(page.rows.length).toBeGreaterThan(0);
      seen.push(...page.rows.map((r) => String(r[1])));
      token = page.nextToken;
      pages++;
    } while (token);
    expect(pages).toBeGreaterThan(2);
    expect(seen).toEqual(Array.from({ length: 300 }, (_, i) => `event ${i}`));
  });

  it('cuts a result at its size cap and says so', async () => {
    const r = await runToEnd(engine, { tenant: 'acme', sql: "SELECT repeat('y', 2000) AS s FROM logs", startMs: t0, endMs: t0 + 3_600_000, limit: 10_000 });
    expect(r.stats.rows).toBeLessThan(300);
    expect(r.stats.rows).toBeGreaterThan(100);
    expect(r.stats.truncated).toMatch(/size cap of 256 KiB after \d+ rows/);
  });

  it('refuses a row larger than a page may be, before it reaches the heap', async () => {
    const id = await engine.start(q("SELECT repeat('z', 1000000) AS s FROM logs LIMIT 6"));
    expect(await finish(engine, id)).toMatchObject({
      state: 'failed',
      failure: 'result_limit',
      error: expect.stringMatching(/larger than a row may be \(64 KiB\)/),
    });
  });

  it.each(['SELECT current_query()', 'SELECT CURRENT_QUERY() AS q FROM logs', "SELECT current_setting('temp_directory')"])(
    'refuses introspection that would show server paths: %s',
    async (sql) => {
      await expect(engine.start(q(sql))).rejects.toThrow(QueryError);
      await expect(engine.start(q(sql))).rejects.toThrow(/not allowed/);
    },
  );

  it('spills each tenant to its own bounded temp directory', async () => {
    const db = await openSandboxedDuckDb(join(dir, 'store'), { tempDir: join(dir, 'query-tmp', 'acme'), maxTempSize: '16MB' });
    const conn = await db.connect();
    const rows = (await conn.runAndReadAll("SELECT current_setting('temp_directory'), current_setting('max_temp_directory_size')")).getRows()[0]!;
    expect(rows[0]).toBe(join(dir, 'query-tmp', 'acme'));
    expect(String(rows[1])).toMatch(/^1[56]\.\d+ MiB$|^16.0 MB$/);
    conn.closeSync();
    db.closeSync();
  });

  it('deletes finished results once their retention is over, and at most a tenant’s share is kept', async () => {
    const short = await open({ resultTtlMs: 300, resultsDir: join(dir, 'short-results') });
    const id = await short.start(q('SELECT message FROM logs'));
    await finish(short, id);
    const { rows } = short.resultFilesOf(id);
    expect(existsSync(rows)).toBe(true);
    await eventually(async () => (existsSync(rows) ? undefined : true), 5_000, 50);
    await expect(short.status(id)).rejects.toThrow(NotFoundError);

    const small = await open({ tenantResultBytes: 20 * KiB, resultsDir: join(dir, 'small-results') });
    const first = await small.start(q("SELECT repeat('a', 100) FROM logs")); // ~32 KiB
    await finish(small, first);
    const second = await small.start(q('SELECT 1'));
    await finish(small, second);
    await eventually(
      async () => (existsSync(small.resultFilesOf(second).rows) && !(await small.status(first).catch(() => undefined)) ? true : undefined),
      5_000,
      50,
    );
  });
});
