/**
 * The Glue (Hive DDL) side of the event schema, derived from EVENT_COLUMNS and PARTITION_COLUMNS: the
 * `events` table's columns, partition keys and partition projection. Pure data, so both the CDK stack
 * (infra/, which may import only shared/domain and shared/config) and the Athena adapter can use it.
 */
import { EVENT_COLUMNS, PARTITION_COLUMNS, type ColumnType } from './schema.js';
import { PARTITION_LOCATION_TEMPLATE } from './storage-layout.js';

/** The Glue table's name (the query engine exposes it to queries as the `logs` relation). */
export const GLUE_TABLE_NAME = 'events';

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
    'storage.location.template': `${location}${PARTITION_LOCATION_TEMPLATE}`,
  };
}
