/**
 * The two SQL dialects (shared/domain/query/dialects/): literals and names each engine reads back as what
 * was written. The compiler's use of them is covered by query-language.test.ts and query-search.test.ts.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryError } from '../../shared/domain/errors.js';
import { compilePipeline } from '../../shared/domain/query/compile.js';
import type { QueryParam } from '../../shared/domain/query/dialects/dialect.js';
import { duckDbDialect } from '../../shared/domain/query/dialects/duckdb.js';
import { trinoDialect, trinoLiteral } from '../../shared/domain/query/dialects/trino.js';
import { textOf } from '../../shared/domain/text.js';

const VALUES: QueryParam[] = ["it's", 'two\nlines \\ "q" \u{1F525}', '', 0, -2.5, 17, 1e21, 1e-7, 0.1 + 0.2, true, false, null];

describe('the DuckDB dialect', () => {
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

  it('writes literals DuckDB reads back as the same values, and names it reads back as the same names', async () => {
    const name = 'a "quoted" name';
    const sql = `SELECT ${VALUES.map((v, i) => `${duckDbDialect.literal(v)} AS ${duckDbDialect.quoteIdentifier(`${name} ${i}`)}`).join(', ')}`;
    const reader = await conn.runAndReadAll(sql);
    expect(reader.columnNames()).toEqual(VALUES.map((_, i) => `${name} ${i}`));
    // Decimal literals (-2.5) come back as DuckDB decimal values: compared by their text.
    const row = reader.getRowsJS()[0]!.map((v) => (typeof v === 'object' && v !== null ? Number(textOf(v)) : v));
    expect(row).toEqual(VALUES);
    expect(() => duckDbDialect.literal(Number.POSITIVE_INFINITY)).toThrow(QueryError);
  });

  it('numbers a query’s placeholders after the two the engine binds for the range', () => {
    expect([duckDbDialect.rangeStart, duckDbDialect.rangeEnd, duckDbDialect.placeholder(0), duckDbDialect.placeholder(1)]).toEqual(['$1', '$2', '$3', '$4']);
  });
});

describe('the Trino dialect', () => {
  it('writes numbers that print with an exponent as DOUBLE literals, and booleans in capitals', () => {
    expect(trinoLiteral(1e21)).toBe("DOUBLE '1e+21'");
    expect(trinoLiteral(1e-7)).toBe("DOUBLE '1e-7'");
    expect(trinoLiteral(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(trinoLiteral(false)).toBe('FALSE');
    expect(trinoDialect.placeholder(7)).toBe('?');
  });

  it('inlines values outside WHERE clauses with the same literals the Athena engine sends as parameters', async () => {
    const { parseTrino } = await import('../../shared/adapters/aws/trino-sql-guard.js');
    const c = compilePipeline('fields true as t, 0.0000001 as tiny, 1000000000000000000000000 as big, "it\'s" as s | filter t', 'trino');
    expect(c.sql).toContain(`TRUE AS "t", DOUBLE '1e-7' AS "tiny", DOUBLE '1e+24' AS "big", 'it''s' AS "s"`);
    expect(c.params).toEqual([]);
    expect(parseTrino(c.sql)).toEqual({ ok: true });
  });
});
