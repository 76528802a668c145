import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine, openSandboxedDuckDb } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { partitionOf } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { QueryError } from '../../shared/domain/errors.js';
import { makeEvent } from '../helpers/events.js';
import { runToEnd } from '../helpers/query.js';
import { tempDir } from '../helpers/tmp.js';

const t0 = Date.UTC(2024, 4, 1, 10, 0);
const us = (ms: number) => ms * 1000;
const MIN = 60_000;

describe('DuckDbQueryEngine', () => {
  let engine: DuckDbQueryEngine;
  let cleanup: () => Promise<void>;
  let root: string;

  async function put(store: FsObjectStore, tenant: string, name: string, events: LogEvent[]) {
    const key = `${partitionPrefix(partitionOf(tenant, events[0]!.ts))}${name}.parquet`;
    await store.put(key, encodeParquet(events));
  }

  beforeAll(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    root = tmp.dir;
    const store = new FsObjectStore(tmp.dir);
    await put(store, 'acme', 'a', [
      makeEvent({ ts: us(t0), level: 'error', service: 'api', message: "it's broken", attributes: { code: '500' } }),
      makeEvent({ ts: us(t0 + 10 * MIN), level: 'info', service: 'api', message: 'ok' }),
    ]);
    await put(store, 'acme', 'b', [makeEvent({ ts: us(t0 + 70 * MIN), level: 'error', service: 'web', message: 'later' })]);
    await put(store, 'globex', 'a', [makeEvent({ ts: us(t0 + 5 * MIN), level: 'error', service: 'secret', message: 'globex only' })]);
    engine = await DuckDbQueryEngine.open({ store });
  });
  afterAll(async () => {
    await engine.close();
    await cleanup();
  });

  const run = (sql: string, tenant = 'acme', startMs = t0, endMs = t0 + 3 * 60 * MIN) => runToEnd(engine, { tenant, sql, startMs, endMs, limit: 100 });

  it('reads only the tenant’s own events', async () => {
    const r = await run('SELECT message FROM logs ORDER BY ts');
    expect(r.rows).toEqual([["it's broken"], ['ok'], ['later']]);
    const g = await run('SELECT message, tenant FROM logs', 'globex');
    expect(g.rows).toEqual([['globex only', 'globex']]);
  });

  it('enforces the time range exactly and opens only the hours it touches', async () => {
    const r = await run('SELECT count(*) AS n FROM logs', 'acme', t0 + 1, t0 + 60 * MIN);
    expect(r.rows).toEqual([[1]]);
    expect(r.stats.filesScanned).toBe(1);
    const all = await run('SELECT count(*) AS n FROM logs');
    expect(all.rows).toEqual([[3]]);
    expect(all.stats.filesScanned).toBe(2);
    expect(all.stats.bytesScanned).toBeGreaterThan(0);
  });

  it('returns typed columns and JSON-friendly values', async () => {
    const r = await run("SELECT ts, attributes, tags, severity, hour, dt, attributes['code'] AS code FROM logs WHERE level = 'error' AND service = 'api'");
    expect(r.columns.map((c) => c.type)).toEqual(['TIMESTAMP WITH TIME ZONE', 'MAP(VARCHAR, VARCHAR)', 'VARCHAR[]', 'INTEGER', 'INTEGER', 'DATE', 'VARCHAR']);
    expect(r.rows[0]).toEqual(['2024-05-01T10:00:00.000000Z', { code: '500' }, [], 9, 10, '2024-05-01', '500']);
  });

  it('answers an empty range with the full typed schema and no rows', async () => {
    const r = await run('SELECT * FROM logs', 'acme', t0 - 10 * 24 * 60 * MIN, t0 - 9 * 24 * 60 * MIN);
    expect(r.rows).toEqual([]);
    expect(r.columns.map((c) => c.name)).toContain('attributes');
    expect(r.columns.find((c) => c.name === 'hour')?.type).toBe('INTEGER');
  });

  it('applies the limit', async () => {
    expect((await runToEnd(engine, { tenant: 'acme', sql: 'SELECT * FROM logs', startMs: t0, endMs: t0 + 3 * 60 * MIN, limit: 2 })).rows.length).toBe(2);
  });

  it.each([
    ['DDL', 'CREATE TABLE x (a INT)', /only a single SELECT/],
    ['two statements', 'SELECT 1; SELECT 2', /exactly one SELECT/],
    ['a file reader', "SELECT * FROM read_csv('/etc/passwd')", /table functions are not allowed/],
    ['a file by name', "SELECT * FROM '/etc/passwd'", /unknown table/],
    ['the catalog', 'SELECT * FROM information_schema.tables', /unknown table/],
    ['a qualified logs', 'SELECT * FROM main.logs', /unknown table/],
    ['another table', 'SELECT * FROM users', /unknown table/],
    ['a parameter', 'SELECT * FROM logs WHERE level = $1', /parameters/],
    ['settings', "SELECT current_setting('allowed_directories')", /not allowed/],
    ['a subquery reading files', "SELECT (SELECT count(*) FROM read_parquet('x')) FROM logs", /table functions/],
    ['a syntax error', 'SELEC 1', /syntax error/],
    ['UNION to another table', 'SELECT message FROM logs UNION ALL SELECT name FROM duckdb_tables', /unknown table/],
  ])('refuses %s', async (_name, sql, message) => {
    const err = await run(sql).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(message);
  });

  it.each([
    [
      'a CTE named like a file path (absolute)',
      () => `SELECT tenant, message FROM '${root}/events/*/*/*/*.parquet', (WITH "${root}/events/*/*/*/*.parquet" AS (SELECT 1) SELECT 1) t`,
    ],
    ['a CTE named like a glob', () => `SELECT * FROM "events/*/*/*/*.parquet", (WITH "events/*/*/*/*.parquet" AS (SELECT 1) SELECT 1) t`],
    [
      'a CTE in an inner scope shadowing a file name',
      () =>
        `WITH x AS (SELECT 1) SELECT * FROM (WITH "${root}/events/tenant=globex/dt=2024-05-01/hour=10/a.parquet" AS (SELECT 1) SELECT 1), "${root}/events/tenant=globex/dt=2024-05-01/hour=10/a.parquet"`,
    ],
    ['a quoted table name', () => 'SELECT * FROM "logs.parquet"'],
  ])('refuses %s (a reviewer’s cross-tenant read)', async (_name, sql) => {
    const err = await run(sql()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(/unknown table|plain identifier/);
  });

  it('runs each tenant in a DuckDB that cannot open another tenant’s files, even with raw SQL', async () => {
    const db = await openSandboxedDuckDb(`${root}/events/tenant=acme`);
    const conn = await db.connect();
    const own = await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${root}/events/tenant=acme/*/*/*.parquet')`);
    expect(Number(own.getRows()[0]![0])).toBe(3);
    await expect(conn.run(`SELECT * FROM read_parquet('${root}/events/tenant=globex/*/*/*.parquet')`)).rejects.toThrow(/Permission|not allowed|disabled/i);
    await expect(conn.run(`SELECT * FROM read_parquet('${root}/events/tenant=acme/../tenant=globex/*/*/*.parquet')`)).rejects.toThrow();
    await expect(conn.run('SET enable_external_access = true')).rejects.toThrow(/lock/i);
    conn.closeSync();
    db.closeSync();
  });

  it('lists decades of range quickly (directories are listed level by level)', async () => {
    const r = await runToEnd(engine, { tenant: 'acme', sql: 'SELECT count(*) FROM logs', startMs: 0, endMs: Date.UTC(2199, 0, 1), limit: 10 });
    expect(r.rows).toEqual([[3]]);
    expect(r.stats.elapsedMs).toBeLessThan(5_000);
  });

  it('cannot be tricked by a comment into dropping the wrapper', async () => {
    const r = await run('SELECT count(*) FROM logs -- ) UNION ALL SELECT 1');
    expect(r.rows).toEqual([[3]]);
  });

  it('a CTE named logs cannot reach other tenants', async () => {
    const r = await run("WITH logs AS (SELECT * FROM logs WHERE service = 'secret') SELECT count(*) FROM logs");
    expect(r.rows).toEqual([[0]]);
  });

  it('reports engine errors without server paths', async () => {
    const err = (await run('SELECT no_such_column FROM logs').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(QueryError);
    expect(err.message).toMatch(/no_such_column/);
    expect(err.message).not.toMatch(/\/tmp|sluice-test/);
  });
});
