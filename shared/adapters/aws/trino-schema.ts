/**
 * The Athena (Trino) side of the event schema, derived from EVENT_COLUMNS and PARTITION_COLUMNS: the `logs`
 * relation the query engine builds over the Glue table (whose columns and partition projection are in
 * shared/domain/glue-schema.ts).
 */
import { trinoDialect } from '../../domain/query/dialects/trino.js';
import { EVENT_COLUMNS, PARTITION_COLUMNS } from '../../domain/schema.js';

// The Glue side lives in shared/domain (the CDK stack may not import adapters); re-exported for callers here.
export { glueColumns, gluePartitionKeys, glueType, partitionProjectionParameters, type GlueColumn } from '../../domain/glue-schema.js';

/**
 * The SELECT list of `logs`: every column in schema order (files first, then partitions). Only these are
 * visible, so Athena's hidden columns ("$path", "$file_size") never reach a query. Timestamps are stored
 * as UTC instants in a zone-less Glue `timestamp`; with_timezone says which zone that wall clock is in,
 * and the cast gives them the type (and six fraction digits) of the local engine's TIMESTAMPTZ.
 */
export function logsSelectList(): string {
  return [...EVENT_COLUMNS, ...PARTITION_COLUMNS]
    .map((c) => {
      const name = trinoDialect.quoteIdentifier(c.name);
      return c.type === 'timestamp' ? `CAST(with_timezone(${name}, 'UTC') AS ${trinoDialect.columnType(c.type)}) AS ${name}` : name;
    })
    .join(', ');
}
