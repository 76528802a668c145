/** DuckDB's SQL (the local engine), for the compiler and DuckDbQueryEngine. */
import { QueryError } from '../../errors.js';
import type { ColumnType } from '../../schema.js';
import { doubleQuoted, singleQuoted, type QueryParam, type SqlDialect } from './dialect.js';

/**
 * The engine binds the query's time range itself, as $1 and $2 (ISO 8601 text); a query's own values are
 * numbered after them.
 */
const RANGE_START = '$1';
const RANGE_END = '$2';
const ENGINE_VALUES = 2;

/**
 * A case-sensitive RE2 pattern that matches exactly where `contains(lower(text), lower(term))` holds, for an
 * ASCII term: DuckDB's lower() maps one code point to one code point, and the only code points it maps onto
 * ASCII are ASCII letters, U+0130 (İ → i) and U+212A (Kelvin sign → k) (test/unit/query-search.test.ts checks
 * this against every code point). So each letter becomes the class of what lowers to it, and every other
 * character an escaped literal. DuckDB runs this regex in about half the time lower() takes to copy and
 * lowercase every message. Undefined for an empty or non-ASCII term (those keep lower()).
 */
export function asciiCaseFoldRegex(term: string): string | undefined {
  if (term === '' || /[^\x00-\x7f]/.test(term)) return undefined;
  let out = '';
  for (const ch of term.toLowerCase()) {
    if (ch >= 'a' && ch <= 'z') out += `[${ch}${ch.toUpperCase()}${ch === 'i' ? '\\x{130}' : ch === 'k' ? '\\x{212A}' : ''}]`;
    else if (ch >= '0' && ch <= '9') out += ch;
    else out += `\\x{${ch.charCodeAt(0).toString(16).padStart(2, '0')}}`;
  }
  return out;
}

function duckDbLiteral(value: QueryParam): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new QueryError(`the value ${value} cannot be written in a query; use a finite number`);
    // DuckDB reads 1e+21 and 1e-7 as DOUBLE literals.
    return String(value);
  }
  return singleQuoted(value);
}

function duckDbColumnType(type: ColumnType): string {
  switch (type) {
    case 'timestamp':
      return 'TIMESTAMPTZ';
    case 'string':
      return 'VARCHAR';
    case 'int32':
      return 'INTEGER';
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'map<string,string>':
      return 'MAP(VARCHAR, VARCHAR)';
    case 'list<string>':
      return 'VARCHAR[]';
  }
}

export interface DuckDbDialect extends SqlDialect {
  /** The placeholders of the range the engine binds before a query's values: its start and end. */
  readonly rangeStart: string;
  readonly rangeEnd: string;
}

export const duckDbDialect: DuckDbDialect = {
  name: 'duckdb',
  placeholder: (index: number) => `$${ENGINE_VALUES + index + 1}`,
  positionalParams: false,
  // DuckDB binds parameters anywhere.
  paramsOnlyInWhere: false,
  rangeStart: RANGE_START,
  rangeEnd: RANGE_END,
  quoteIdentifier: doubleQuoted,
  quoteString: singleQuoted,
  literal: duckDbLiteral,
  columnType: duckDbColumnType,
  timestampFromIso: (text: string) => `CAST(${text} AS TIMESTAMPTZ)`,
  mapGet: (map: string, key: string) => `${map}[${key}]`,
  regexMatches: (text: string, pattern: string) => `regexp_matches(${text}, ${pattern})`,
  contains: (text: string, needle: string) => `contains(${text}, ${needle})`,
  listContains: (list: string, value: string) => `list_contains(${list}, ${value})`,
  bin: (ts: string, seconds: number) => `to_timestamp(floor(epoch(${ts}) / ${seconds}) * ${seconds})`,
  percentile: (x: string, fraction: string) => `quantile_cont(${x}, ${fraction})`,
  caseFoldPattern: asciiCaseFoldRegex,
};
