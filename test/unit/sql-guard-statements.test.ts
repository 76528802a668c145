/**
 * Issue 13, finding 5: SUMMARIZE, DESCRIBE and SHOW passed the single-SELECT check (DuckDB parses them as a
 * SELECT over a SHOW_REF). Both SQL guards now refuse every statement that is not a SELECT over logs,
 * naming the statement, at the top level and inside a subquery; queries that are reads of logs in another
 * spelling (FROM-first, TABLE, VALUES, UNPIVOT) still pass.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSelect } from '../../shared/adapters/aws/trino-sql-guard.js';
import { checkSelect } from '../../shared/adapters/local/duckdb-sql-guard.js';
import { QueryError } from '../../shared/domain/errors.js';

let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

async function duckRefusal(sql: string): Promise<string> {
  try {
    await checkSelect(conn, sql);
  } catch (err) {
    expect(err).toBeInstanceOf(QueryError);
    return (err as Error).message;
  }
  throw new Error(`${sql} passed the guard`);
}

function trinoRefusal(sql: string): string {
  try {
    prepareSelect(sql, { trusted: false, limit: 100 });
  } catch (err) {
    expect(err).toBeInstanceOf(QueryError);
    return (err as Error).message;
  }
  throw new Error(`${sql} passed the guard`);
}

describe('DuckDB SQL guard: statements that are not a SELECT over logs', () => {
  it.each([
    ['SUMMARIZE logs', /\(SUMMARIZE statements are refused\)/],
    ['summarize SELECT * FROM logs', /\(SUMMARIZE statements are refused\)/],
    ['DESCRIBE logs', /\(DESCRIBE and SHOW <table> statements are refused\)/],
    ['DESC logs', /\(DESCRIBE and SHOW <table> statements are refused\)/],
    ['DESCRIBE SELECT * FROM logs', /\(DESCRIBE and SHOW <table> statements are refused\)/],
    ['SHOW logs', /\(DESCRIBE and SHOW <table> statements are refused\)/],
    ['SHOW TABLES', /\(SHOW statements are refused\)/],
    ['SHOW ALL TABLES', /\(SHOW statements are refused\)/],
    ['SHOW DATABASES', /\(SHOW statements are refused\)/],
    ['SELECT * FROM (SUMMARIZE logs)', /\(SUMMARIZE statements are refused\)/],
    ['FROM (SHOW TABLES)', /\(SHOW statements are refused\)/],
    ['SELECT * FROM logs a JOIN (DESCRIBE logs) b ON true', /\(DESCRIBE and SHOW <table> statements are refused\)/],
    ['EXPLAIN SELECT * FROM logs', /\(EXPLAIN statements are refused\)/],
    ['EXPLAIN ANALYZE SELECT * FROM logs', /\(EXPLAIN statements are refused\)/],
    ['-- a comment\n/* and another */ explain SELECT 1', /\(EXPLAIN statements are refused\)/],
    ['PIVOT logs ON level', /\(PIVOT statements are refused\)/],
    ['CALL pragma_version()', /\(CALL statements are refused\)/],
    ['CHECKPOINT', /\(CHECKPOINT statements are refused\)/],
    ['VACUUM', /\(VACUUM statements are refused\)/],
    ["EXPORT DATABASE '/tmp/x'", /\(EXPORT statements are refused\)/],
    ['PREPARE p AS SELECT 1', /\(PREPARE statements are refused\)/],
    ['BEGIN', /\(BEGIN statements are refused\)/],
    ['USE memory', /\(USE statements are refused\)/],
  ])('refuses %j naming it', async (sql, reason) => {
    const message = await duckRefusal(sql);
    expect(message).toMatch(/^only a single SELECT over logs is allowed/);
    expect(message).toMatch(reason);
  });

  it.each([
    'SELECT count(*) FROM logs',
    'FROM logs',
    'FROM logs SELECT message LIMIT 1',
    'TABLE logs',
    'VALUES (1)',
    'UNPIVOT logs ON level INTO NAME k VALUE v',
  ])('still accepts %j', async (sql) => {
    await expect(checkSelect(conn, sql)).resolves.toEqual(expect.any(String));
  });
});

describe('DuckDB SQL guard: literals DuckDB serializes as non-JSON', () => {
  it('regression (found by fuzzing): SELECT 1e400 was a 500 (json_serialize_sql writes Infinity; JSON.parse threw): now a 400 that says why', async () => {
    for (const sql of ['SELECT 1e400', 'SELECT -1e400 AS x FROM logs', 'SELECT [1e400, 1]']) {
      expect(await duckRefusal(sql), sql).toMatch(/out of DOUBLE's range/);
    }
    // Strings that spell Infinity, and 'infinity'::DOUBLE, are fine.
    await expect(checkSelect(conn, "SELECT 'Infinity', '-Infinity', 'infinity'::DOUBLE FROM logs WHERE 1e300 > 0")).resolves.toEqual(expect.any(String));
  });
});

describe('Trino SQL guard: the same statements', () => {
  it.each([
    ['SUMMARIZE logs', /\(SUMMARIZE statements are refused\)/],
    ['DESCRIBE logs', /\(DESCRIBE statements are refused\)/],
    ['DESC logs', /\(DESC statements are refused\)/],
    ['SHOW TABLES', /\(SHOW statements are refused\)/],
    ['show columns from logs', /\(SHOW statements are refused\)/],
    ['EXPLAIN SELECT * FROM logs', /\(EXPLAIN statements are refused\)/],
    ['EXPLAIN ANALYZE SELECT * FROM logs', /\(EXPLAIN statements are refused\)/],
    ['PIVOT logs ON level', /\(PIVOT statements are refused\)/],
    ['PRAGMA database_list', /\(PRAGMA statements are refused\)/],
    ["COPY logs TO '/tmp/x'", /\(COPY statements are refused\)/],
    ["ATTACH '/tmp/x.db'", /\(ATTACH statements are refused\)/],
    ['/* hidden */ SUMMARIZE logs', /\(SUMMARIZE statements are refused\)/],
  ])('refuses %j naming it', (sql, reason) => {
    const message = trinoRefusal(sql);
    expect(message).toMatch(/^only a single SELECT over logs is allowed/);
    expect(message).toMatch(reason);
  });

  it('refuses DESCRIBE inside a subquery (it is not a query in Trino’s grammar)', () => {
    expect(trinoRefusal('SELECT * FROM (DESCRIBE logs)')).toMatch(/SQL syntax error/);
  });
});
