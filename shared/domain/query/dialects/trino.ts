/** Trino's SQL as Athena runs it, for the compiler and AthenaQueryEngine. */
import { QueryError } from '../../errors.js';
import type { ColumnType } from '../../schema.js';
import { doubleQuoted, singleQuoted, type QueryParam, type SqlDialect } from './dialect.js';

/**
 * A value as a Trino literal. Athena's ExecutionParameters are literals too (strings in single quotes), so
 * this writes both the values inlined where Athena takes no placeholder and the parameters it is sent.
 * Numbers that print with an exponent are written as DOUBLE '1e+21', so their type says so.
 */
export function trinoLiteral(value: QueryParam): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new QueryError(`the value ${value} cannot be written in a query; use a finite number`);
    const text = String(value);
    return /^-?\d+(\.\d+)?$/.test(text) ? text : `DOUBLE ${singleQuoted(text)}`;
  }
  return singleQuoted(value);
}

/** TIMESTAMP '2024-05-01 10:00:00.000': the instant as a zone-less timestamp in UTC (how the table stores ts). */
export function trinoTimestampLiteral(ms: number): string {
  return `TIMESTAMP ${singleQuoted(new Date(ms).toISOString().replace('T', ' ').replace('Z', ''))}`;
}

/** DATE '2024-05-01': the UTC day of the instant. */
export function trinoDateLiteral(ms: number): string {
  return `DATE ${singleQuoted(new Date(ms).toISOString().slice(0, 10))}`;
}

/**
 * The column's type as `logs` exposes it to queries. Timestamps carry their zone so they compare with
 * from_iso8601_timestamp(…) and print like the local engine's TIMESTAMPTZ.
 */
function trinoColumnType(type: ColumnType): string {
  switch (type) {
    case 'timestamp':
      return 'timestamp(6) with time zone';
    case 'string':
      return 'varchar';
    case 'int32':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'map<string,string>':
      return 'map(varchar, varchar)';
    case 'list<string>':
      return 'array(varchar)';
  }
}

export const trinoDialect: SqlDialect = {
  name: 'trino',
  placeholder: () => '?',
  positionalParams: true,
  // Athena takes `?` parameters only in WHERE clauses.
  paramsOnlyInWhere: true,
  quoteIdentifier: doubleQuoted,
  quoteString: singleQuoted,
  literal: trinoLiteral,
  columnType: trinoColumnType,
  timestampFromIso: (text: string) => `from_iso8601_timestamp(${text})`,
  mapGet: (map: string, key: string) => `element_at(${map}, ${key})`,
  regexMatches: (text: string, pattern: string) => `regexp_like(${text}, ${pattern})`,
  contains: (text: string, needle: string) => `strpos(${text}, ${needle}) > 0`,
  listContains: (list: string, value: string) => `contains(${list}, ${value})`,
  bin: (ts: string, seconds: number) => `from_unixtime(floor(to_unixtime(${ts}) / ${seconds}) * ${seconds})`,
  percentile: (x: string, fraction: string) => `approx_percentile(${x}, ${fraction})`,
  // Athena's lower() is not DuckDB's, and the regex proof is DuckDB's: Trino keeps lower().
  caseFoldPattern: () => undefined,
};
