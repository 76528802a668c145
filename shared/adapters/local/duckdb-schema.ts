/** The DuckDB side of the event schema, derived from EVENT_COLUMNS and PARTITION_COLUMNS. */
import { duckDbDialect } from '../../domain/query/dialects/duckdb.js';
import { EVENT_COLUMNS, PARTITION_COLUMNS } from '../../domain/schema.js';

const { columnType, quoteIdentifier, quoteString } = duckDbDialect;

/** read_parquet's hive_types argument: partition columns get declared types, not guessed ones. */
export const HIVE_TYPES = `{${PARTITION_COLUMNS.map((c) => `${quoteString(c.name)}: ${columnType(c.type)}`).join(', ')}}`;

/** Every column of `logs`, in schema order (files first, then partitions). */
const COLUMN_LIST = [...EVENT_COLUMNS, ...PARTITION_COLUMNS].map((c) => quoteIdentifier(c.name)).join(', ');

/** The `logs` relation over a list of files (paths must already be safe to quote). */
export function logsOverFiles(paths: readonly string[]): string {
  const list = paths.map(quoteString).join(', ');
  return `SELECT ${COLUMN_LIST} FROM read_parquet([${list}], hive_partitioning = true, hive_types = ${HIVE_TYPES}, hive_types_autocast = false, union_by_name = true)`;
}

/** An empty `logs` relation with the full typed schema, for a range with no files. */
export function emptyLogs(): string {
  const cols = [...EVENT_COLUMNS, ...PARTITION_COLUMNS].map((c) => `NULL::${columnType(c.type)} AS ${quoteIdentifier(c.name)}`);
  return `SELECT ${cols.join(', ')} WHERE false`;
}
