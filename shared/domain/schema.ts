/**
 * The event schema, defined once. The Arrow/Parquet schema (shared/domain/parquet.ts), the DuckDB table
 * (shared/adapters/local/duckdb-schema.ts) and, later, the Glue columns are all derived from this list.
 */

export type ColumnType =
  | 'timestamp' // microseconds since the epoch, UTC
  | 'string'
  | 'int32'
  | 'boolean'
  | 'date'
  | 'map<string,string>'
  | 'list<string>';

export interface ColumnDef {
  readonly name: string;
  readonly type: ColumnType;
  readonly nullable: boolean;
  readonly doc: string;
}

export const SCHEMA_VERSION = 1;

export const EVENT_COLUMNS = [
  { name: 'ts', type: 'timestamp', nullable: false, doc: 'event time; ingest time when none was found (ts_inferred)' },
  { name: 'ingested_at', type: 'timestamp', nullable: false, doc: 'when Sluice accepted the event' },
  { name: 'level', type: 'string', nullable: true, doc: 'trace, debug, info, warn, error, fatal' },
  { name: 'severity', type: 'int32', nullable: true, doc: 'OpenTelemetry severity number 1-24' },
  { name: 'service', type: 'string', nullable: true, doc: 'emitting service' },
  { name: 'host', type: 'string', nullable: true, doc: 'emitting host' },
  { name: 'source', type: 'string', nullable: true, doc: 'file, stream or input name' },
  { name: 'message', type: 'string', nullable: false, doc: 'the human message' },
  { name: 'attributes', type: 'map<string,string>', nullable: false, doc: 'other fields, dotted keys' },
  { name: 'tags', type: 'list<string>', nullable: false, doc: 'user tags' },
  { name: 'trace_id', type: 'string', nullable: true, doc: 'trace correlation id' },
  { name: 'span_id', type: 'string', nullable: true, doc: 'span correlation id' },
  { name: 'format', type: 'string', nullable: false, doc: 'detected input format' },
  { name: 'event_id', type: 'string', nullable: false, doc: 'stable id used to remove duplicates' },
  { name: 'ts_inferred', type: 'boolean', nullable: false, doc: 'true when ts is the ingest time' },
] as const satisfies readonly ColumnDef[];

/** Columns that come from the object path (hive partitioning), not from the file. */
export const PARTITION_COLUMNS = [
  { name: 'tenant', type: 'string', nullable: false, doc: 'tenant id' },
  { name: 'dt', type: 'date', nullable: false, doc: 'UTC date of ts' },
  { name: 'hour', type: 'int32', nullable: false, doc: 'UTC hour of ts, 0-23' },
] as const satisfies readonly ColumnDef[];

export const TABLE_NAME = 'logs';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];

/** A normalized event as it travels through the queue and into the batch writer. */
export interface LogEvent {
  /** microseconds since the epoch, UTC */
  ts: number;
  /** microseconds since the epoch, UTC */
  ingested_at: number;
  level: Level | null;
  severity: number | null;
  service: string | null;
  host: string | null;
  source: string | null;
  message: string;
  attributes: Record<string, string>;
  tags: string[];
  trace_id: string | null;
  span_id: string | null;
  format: string;
  event_id: string;
  ts_inferred: boolean;
}

type EventColumnName = (typeof EVENT_COLUMNS)[number]['name'];
// Compile-time check that LogEvent and EVENT_COLUMNS name the same fields.
type _SameFields = [EventColumnName] extends [keyof LogEvent] ? ([keyof LogEvent] extends [EventColumnName] ? true : never) : never;
export const _schemaFieldsMatch: _SameFields = true;
