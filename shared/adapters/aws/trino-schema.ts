/**
 * The Athena (Trino) side of the event schema, derived from EVENT_COLUMNS and PARTITION_COLUMNS: the `logs`
 * relation the query engine builds over the Glue table (whose columns and partition projection are in
 * shared/domain/glue-schema.ts).
 */
import { EVENT_COLUMNS, PARTITION_COLUMNS, type ColumnType } from '../../domain/schema.js';

// The Glue side lives in shared/domain (the CDK stack may not import adapters); re-exported for callers here.
export { glueColumns, gluePartitionKeys, glueType, partitionProjectionParameters, type GlueColumn } from '../../domain/glue-schema.js';

/**
 * The column's type as `logs` exposes it to queries (Trino spelling). Timestamps carry their zone so they
 * compare with from_iso8601_timestamp(…) and print like the local engine's TIMESTAMPTZ.
 */
export function trinoType(type: ColumnType): string {
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

/** A quoted Trino identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * The SELECT list of `logs`: every column in schema order (files first, then partitions). Only these are
 * visible, so Athena's hidden columns ("$path", "$file_size") never reach a query. Timestamps are stored
 * as UTC instants in a zone-less Glue `timestamp`; with_timezone says which zone that wall clock is in,
 * and the cast gives them the type (and six fraction digits) of the local engine's TIMESTAMPTZ.
 */
export function logsSelectList(): string {
  return [...EVENT_COLUMNS, ...PARTITION_COLUMNS]
    .map((c) => {
      const name = quoteIdentifier(c.name);
      return c.type === 'timestamp' ? `CAST(with_timezone(${name}, 'UTC') AS ${trinoType(c.type)}) AS ${name}` : name;
    })
    .join(', ');
}
