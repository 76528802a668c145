/**
 * Bounds on the pipeline language's expressions and on the SQL the Trino guard checks (found while fuzzing
 * issue 13's "every bad input is a 4xx"):
 * - `filter ((((…` 4,900 levels deep overflowed the parser's recursion: a 500 on both engines;
 * - the compiler wrote one parenthesis per operator, so `filter a = 1 and b = 2 and …` (128 terms) nested
 *   128 levels and Athena's SQL check (the Trino grammar) took 80 s; 1,000 nested levels of raw SQL, 22 s;
 *   3,000 nested conditions, minutes, then a stack overflow (a 500).
 * Chains are now written flat (and still mean what they meant: checked on DuckDB against JavaScript's own
 * arithmetic), nesting is bounded with a 400 that says where, and the Trino guard refuses what it could
 * not check in time.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SQL_NESTING, prepareSelect } from '../../shared/adapters/aws/trino-sql-guard.js';
import { emptyLogs } from '../../shared/adapters/local/duckdb-schema.js';
import { BadRequestError, QueryError } from '../../shared/domain/errors.js';
import { compilePipeline } from '../../shared/domain/query/compile.js';
import { MAX_NESTING, MAX_OPERATORS, QuerySyntaxError } from '../../shared/domain/query/parse.js';

let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run(`CREATE TABLE t AS ${emptyLogs()}`);
  await conn.run(`INSERT INTO t (ts, message, attributes, tenant) VALUES ('2024-05-01T12:00:00Z', 'm', MAP {'x': '7', 'y': '3'}, 'acme')`);
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

/** The value of `fields <expression> as v` over one event, as the DuckDB engine would run it. */
async function valueOf(expression: string): Promise<unknown> {
  const { sql, params } = compilePipeline(`fields ${expression} as v`, 'duckdb', 10);
  const wrapped = `WITH logs AS (SELECT * FROM t WHERE ts >= CAST($1 AS TIMESTAMPTZ) AND ts < CAST($2 AS TIMESTAMPTZ)) SELECT v FROM (${sql}) AS q`;
  const reader = await conn.runAndReadAll(wrapped, ['2024-01-01T00:00:00Z', '2025-01-01T00:00:00Z', ...params] as never);
  return reader.getRows()[0]?.[0];
}

function syntaxError(query: string): QuerySyntaxError {
  try {
    compilePipeline(query, 'duckdb');
  } catch (err) {
    expect(err).toBeInstanceOf(QuerySyntaxError);
    return err as QuerySyntaxError;
  }
  throw new Error(`${query.slice(0, 40)} compiled`);
}

describe('pipeline expressions are bounded', () => {
  it('regression: filter with 4,900 nested parentheses was a 500 (stack overflow); now a 400 at the 33rd', () => {
    const err = syntaxError(`filter ${'('.repeat(4900)}level = "x"${')'.repeat(4900)}`);
    expect(err.message).toMatch(/line 1, column 40: expressions may nest at most 32 levels deep/);
  });

  it(`${MAX_NESTING} levels of parentheses, not and calls compile; one more is a 400`, () => {
    for (const [open, close] of [
      ['(', ')'],
      ['abs(', ')'],
      ['not (', ')'],
    ] as const) {
      const deep = (n: number) => `filter ${open.repeat(n)}x = 1${close.repeat(n)}`;
      expect(() => compilePipeline(deep(open === 'not (' ? MAX_NESTING / 2 : MAX_NESTING - 1), 'trino')).not.toThrow();
      expect(syntaxError(deep(MAX_NESTING + 1)).message).toMatch(/nest at most/);
    }
    expect(syntaxError(`filter ${'not '.repeat(MAX_NESTING + 1)}x = 1`).message).toMatch(/nest at most/);
  });

  it(`an expression holds at most ${MAX_OPERATORS} operators; each expression has its own budget`, () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `a${i} = ${i}`).join(' or ');
    expect(() => compilePipeline(`filter ${terms(MAX_OPERATORS / 2)}`, 'duckdb')).not.toThrow();
    expect(syntaxError(`filter ${terms(MAX_OPERATORS / 2 + 1)}`).message).toMatch(/at most 256 operators/);
    expect(() => compilePipeline(`filter ${terms(100)} | filter ${terms(100)} | fields ${Array(200).fill('x').join(' + ')} as s`, 'duckdb')).not.toThrow();
  });

  it('property: any pipeline up to the length limit is compiled or refused with a 400, never a stack overflow', () => {
    const piece = fc.constantFrom('(', ')', 'not ', 'abs(', 'x', ' = 1', ' and ', ' or ', ' + ', ' * ', '-', '1', '"s"', ', ');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 3000 }), (pieces) => {
        const query = `filter ${pieces.join('')}`.slice(0, 10_000);
        try {
          compilePipeline(query, 'trino');
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(BadRequestError);
        }
      }),
      { seed: 13, numRuns: 300 },
    );
  });
});

describe('chains are written flat and keep their meaning', () => {
  it('a - b - c is (a - b) - c, a - (b - c) keeps its parentheses, * and / bind tighter', async () => {
    expect(await valueOf('10 - 3 - 2')).toBe(5);
    expect(await valueOf('10 - (3 - 2)')).toBe(9);
    expect(await valueOf('100 / 10 / 5')).toBe(2);
    expect(await valueOf('100 / (10 / 5)')).toBe(50);
    expect(await valueOf('1 + 2 * 3 - 4 / 2')).toBe(5);
    expect(await valueOf('x - y - 1')).toBe(3); // attributes read as numbers: 7 - 3 - 1
  });

  it('property: arithmetic over integers evaluates as JavaScript evaluates it', async () => {
    type Tree = number | { op: '+' | '-' | '*' | '/'; l: Tree; r: Tree };
    const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.integer({ min: 1, max: 9 }),
        fc.record({ op: fc.constantFrom('+', '-', '*', '/'), l: tie('t'), r: tie('t') }) as fc.Arbitrary<Tree>,
      ),
    })).t;
    // Written the way a person might: parentheses only where precedence or associativity needs them.
    const prec = (op: string) => (op === '+' || op === '-' ? 1 : 2);
    const text = (t: Tree): string => {
      if (typeof t === 'number') return String(t);
      const l = typeof t.l === 'number' || prec(t.l.op) >= prec(t.op) ? text(t.l) : `(${text(t.l)})`;
      const r = typeof t.r === 'number' || prec(t.r.op) > prec(t.op) ? text(t.r) : `(${text(t.r)})`;
      return `${l} ${t.op} ${r}`;
    };
    const value = (t: Tree): number => {
      if (typeof t === 'number') return t;
      const [l, r] = [value(t.l), value(t.r)];
      return t.op === '+' ? l + r : t.op === '-' ? l - r : t.op === '*' ? l * r : l / r;
    };
    await fc.assert(
      fc.asyncProperty(tree, async (t) => {
        const want = value(t);
        const got = await valueOf(text(t));
        if (!Number.isFinite(want)) expect(got === null || !Number.isFinite(Number(got))).toBe(true);
        else expect(Number(got)).toBeCloseTo(want, 6);
      }),
      { seed: 13, numRuns: 200 },
    );
  });

  it('and/or chains mean what they meant', async () => {
    expect(await valueOf('1 = 1 and 2 = 2 and 3 = 4')).toBe(false);
    expect(await valueOf('1 = 2 or 2 = 3 or 3 = 3')).toBe(true);
    expect(await valueOf('1 = 1 or 2 = 3 and 3 = 4')).toBe(true); // and binds tighter
    expect(await valueOf('(1 = 1 or 2 = 3) and 3 = 4')).toBe(false);
  });
});

describe('the Trino guard checks what it can in time, and refuses the rest with a 400', () => {
  it('regression: a 128-term filter compiled for Athena took the guard 80 s; now well under a second', () => {
    const { sql } = compilePipeline(`filter ${Array.from({ length: 128 }, (_, i) => `a${i} = ${i}`).join(' and ')}`, 'trino', 100);
    prepareSelect('SELECT 1 FROM logs', { trusted: false, limit: 1 }); // the grammar's first use builds its tables
    const started = Date.now();
    expect(prepareSelect(sql, { trusted: true, limit: 100 }).placeholders).toBe(256);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it(`regression: SQL nested ${MAX_SQL_NESTING + 1}+ levels (1,000: 22 s, then a stack overflow) is refused before the grammar runs`, () => {
    for (const sql of [
      `SELECT ${'('.repeat(1000)}1${')'.repeat(1000)} FROM logs`,
      `SELECT * FROM logs WHERE ${Array(3000).fill('(a = 1').join(' AND ')}${')'.repeat(3000)}`,
      `SELECT ${'ARRAY['.repeat(MAX_SQL_NESTING + 1)}1${']'.repeat(MAX_SQL_NESTING + 1)} FROM logs`,
    ]) {
      const started = Date.now();
      expect(() => prepareSelect(sql, { trusted: false, limit: 10 })).toThrow(/nests parentheses \d+ levels deep; at most 64/);
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });

  it('regression: a long flat chain (5,000 ANDs) overflowed the grammar’s recursion (a 500); now a 400', () => {
    const sql = `SELECT * FROM logs WHERE ${Array(5000).fill('a = 1').join(' AND ')}`;
    expect(() => prepareSelect(sql, { trusted: false, limit: 10 })).toThrow(QueryError);
    expect(() => prepareSelect(sql, { trusted: false, limit: 10 })).toThrow(/too long or too deeply nested to check/);
  });
});
