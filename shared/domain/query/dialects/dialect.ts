/**
 * What differs between the SQL of the two engines, for everything Sluice writes into SQL itself:
 * placeholders, literal and identifier quoting, type names and the functions the pipeline language
 * compiles to. One module per engine (duckdb.ts, trino.ts); the compiler writes through it, and each
 * engine uses its own for the SQL it wraps around a query.
 */
import type { ColumnType } from '../../schema.js';

/** A value bound to a placeholder; the engine binds it, it is never spliced into SQL text as raw text. */
export type QueryParam = string | number | boolean | null;

export type SqlDialectName = 'duckdb' | 'trino';

// Members are plain functions (no `this`), declared as properties so they can be taken off a dialect.
export interface SqlDialect {
  readonly name: SqlDialectName;

  /**
   * The placeholder of a query's index-th value (0-based, in the order of its `params`). The engine binds
   * values of its own (the time range) before the query's, and the numbering leaves room for them.
   */
  readonly placeholder: (index: number) => string;
  /**
   * Positional placeholders (Trino's `?`) take their values in text order, so a value written twice is
   * bound twice; numbered ones (DuckDB's `$n`) name a value, which is bound once.
   */
  readonly positionalParams: boolean;
  /** Placeholders are taken only in WHERE clauses (Athena); elsewhere a value is written with literal(). */
  readonly paramsOnlyInWhere: boolean;

  /** A quoted identifier: any name is safe inside it. */
  readonly quoteIdentifier: (name: string) => string;
  /** A string literal: any text is safe inside it. */
  readonly quoteString: (text: string) => string;
  /** A value as a SQL literal; a number that is not finite is refused (QueryError). */
  readonly literal: (value: QueryParam) => string;

  /** The type of a schema column as this engine spells it. */
  readonly columnType: (type: ColumnType) => string;
  /** A timestamp with time zone read from ISO 8601 text (a placeholder or a string literal). */
  readonly timestampFromIso: (textSql: string) => string;

  /** The functions the pipeline language compiles to, where the engines name them differently. */
  readonly mapGet: (mapSql: string, keySql: string) => string;
  readonly regexMatches: (textSql: string, patternSql: string) => string;
  readonly contains: (textSql: string, needleSql: string) => string;
  readonly listContains: (listSql: string, valueSql: string) => string;
  /** The instant rounded down to a multiple of `seconds` since the epoch. */
  readonly bin: (tsSql: string, seconds: number) => string;
  readonly percentile: (xSql: string, fractionSql: string) => string;
  /**
   * A case-sensitive regular expression that matches exactly where a case-insensitive search for `term`
   * does, where this engine has one proven for its lower(); undefined keeps lower() on both sides.
   */
  readonly caseFoldPattern: (term: string) => string | undefined;
}

/** Double quotes with inner ones doubled: how both engines quote a name. */
export function doubleQuoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Single quotes with inner ones doubled (no other character is special): how both engines write text. */
export function singleQuoted(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
