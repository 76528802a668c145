/**
 * The Athena (Trino) side of the event schema, derived from EVENT_COLUMNS and PARTITION_COLUMNS: the Glue
 * table's columns and partition projection (for the CDK stack), and the `logs` relation the query engine
 * builds over that table.
 */
import { EVENTS_PREFIX } from '../../domain/partitioning.js';
import { EVENT_COLUMNS, PARTITION_COLUMNS, type ColumnType } from '../../domain/schema.js';

/** The column's type in the Glue table (Hive DDL spelling). */
export function glueType(type: ColumnType): string {
  switch (type) {
    case 'timestamp':
      return 'timestamp';
    case 'string':
      return 'string';
    case 'int32':
      return 'int';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'map<string,string>':
      return 'map<string,string>';
    case 'list<string>':
      return 'array<string>';
  }
}

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

export interface GlueColumn {
  name: string;
  type: string;
  comment: string;
}

/** The Glue table's data columns, in file order (CfnTable storageDescriptor.columns). */
export function glueColumns(): GlueColumn[] {
  return EVENT_COLUMNS.map((c) => ({ name: c.name, type: glueType(c.type), comment: c.doc }));
}

/** The Glue table's partition keys, in path order (CfnTable partitionKeys). */
export function gluePartitionKeys(): GlueColumn[] {
  return PARTITION_COLUMNS.map((c) => ({ name: c.name, type: glueType(c.type), comment: c.doc }));
}

/**
 * Table parameters for partition projection over the storage layout. The query engine's predicates are
 * written for exactly this: `tenant` injected (every query names one tenant), `dt` a date, `hour` an
 * integer printed with two digits. `location` is the bucket URL ending in '/', e.g. s3://bucket/.
 */
export function partitionProjectionParameters(location: string, firstDay = '2020-01-01'): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.tenant.type': 'injected',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    // One day ahead: events are partitioned by their own time, which may run ahead of the clock. (Units are
    // ChronoUnit names, as in the documented NOW-3YEARS.)
    'projection.dt.range': `${firstDay},NOW+1DAYS`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'projection.hour.type': 'integer',
    'projection.hour.range': '0,23',
    'projection.hour.digits': '2',
    'storage.location.template': `${location}${EVENTS_PREFIX}tenant=\${tenant}/dt=\${dt}/hour=\${hour}`,
  };
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
