/**
 * The storage layout: the one module that formats and parses object keys. Everything Sluice stores has
 * one of these shapes:
 *
 *   events/tenant=<tenant>/dt=<YYYY-MM-DD>/hour=<HH>/<YYYYMMDDTHHMMSSZ>-<batch>.parquet   a batch file
 *   events/tenant=<tenant>/dt=<YYYY-MM-DD>/hour=<HH>/compact-<hash>-<n>.parquet            a compaction output
 *   events/tenant=<tenant>/dt=<YYYY-MM-DD>/hour=<HH>/_compaction-<hash>.json               a compaction manifest
 *   receipts/tenant=<tenant>/<receipt>/<part>.json                                         one part of a receipt
 *   alerts/state/tenant=<tenant>/<rule>.json                                               a scheduled rule's state
 *   alerts/realtime/tenant=<tenant>/<rule>.json                                            a real-time rule's state
 *
 * Formatters check the tenant (it ends up in a path); parsers return undefined for a key of any other
 * shape, so a change of format fails the round-trip test instead of silently emptying a reader. The
 * partition segments are named after the table's partition columns (PARTITION_COLUMNS in schema.ts):
 * DuckDB's hive_partitioning and Athena's partition projection read tenant, dt and hour from the path.
 */
import type { Partition } from './partitioning.js';
import { assertTenant, isValidTenant } from './tenant.js';

export const EVENTS_PREFIX = 'events/';
export const RECEIPTS_PREFIX = 'receipts/';
/** Where alert state lives (the stack grants the alert and writer Lambdas this prefix). */
export const ALERTS_PREFIX = 'alerts/';
/** A compaction job's manifest: `_compaction-<hash>.json` beside the partition's files. */
export const MANIFEST_PREFIX = '_compaction-';
/** A compaction job's outputs: `compact-<hash>-<n>.parquet`. */
export const COMPACT_PREFIX = 'compact-';

const DATA_FILE_SUFFIX = '.parquet';
const DT = /^\d{4}-\d{2}-\d{2}$/;
const HOUR = /^\d{2}$/;
const HASH = /^[0-9a-f]+$/;
const PART = /^(?:0|[1-9]\d*)$/;

// ─── Event partitions and their files ───────────────────────────────────────────────────────────────

/** A directory named `<column>=<value>`, as Hive partitioning reads them. */
const dir = (column: 'tenant' | 'dt' | 'hour', value: string) => `${column}=${value}`;
/** The value of such a directory's name; undefined when it is another column's or no such name. */
const valueOf = (column: 'tenant' | 'dt' | 'hour', name: string | undefined) => (name?.startsWith(`${column}=`) ? name.slice(column.length + 1) : undefined);
const formatPartitionPrefix = (tenant: string, dt: string, hour: string) => `${EVENTS_PREFIX}${dir('tenant', tenant)}/${dir('dt', dt)}/${dir('hour', hour)}/`;

/**
 * Partition projection's `storage.location.template` below the bucket URL: the partition prefix with
 * Athena's `${column}` placeholders. Ends in '/' as Athena's documented templates do, so hour=01 never
 * also matches a longer key prefix.
 */
export const PARTITION_LOCATION_TEMPLATE = formatPartitionPrefix('${tenant}', '${dt}', '${hour}');

export function tenantPrefix(tenant: string): string {
  return `${EVENTS_PREFIX}${dir('tenant', assertTenant(tenant))}/`;
}

/** The directory of one day of a tenant: `events/tenant=<t>/dt=<YYYY-MM-DD>/`. */
export function dayPrefix(tenant: string, dt: string): string {
  return `${tenantPrefix(tenant)}${dir('dt', dt)}/`;
}

export function partitionPrefix(p: Partition): string {
  assertTenant(p.tenant);
  return formatPartitionPrefix(p.tenant, p.dt, String(p.hour).padStart(2, '0'));
}

/** The key of a file named `name` in the partition. */
export function eventKey(p: Partition, name: string): string {
  return `${partitionPrefix(p)}${name}`;
}

/** `tenant=<t>` → t, when t is a valid tenant id. */
function tenantOfDir(name: string | undefined): string | undefined {
  const tenant = valueOf('tenant', name);
  return tenant !== undefined && isValidTenant(tenant) ? tenant : undefined;
}

const validDt = (dt: string) => DT.test(dt) && !Number.isNaN(Date.parse(`${dt}T00:00:00Z`)) && new Date(`${dt}T00:00:00Z`).toISOString().slice(0, 10) === dt;

function parseHour(hh: string): number | undefined {
  if (!HOUR.test(hh)) return undefined;
  const hour = Number(hh);
  return hour <= 23 ? hour : undefined;
}

/** A day directory's name under tenantPrefix (`dt=2024-05-01`) → its date; undefined for any other name. */
export function parseDayDir(name: string): string | undefined {
  const dt = valueOf('dt', name);
  return dt !== undefined && validDt(dt) ? dt : undefined;
}

/** An hour directory's name under dayPrefix (`hour=07`) → its hour (7); undefined for any other name. */
export function parseHourDir(name: string): number | undefined {
  const hh = valueOf('hour', name);
  return hh === undefined ? undefined : parseHour(hh);
}

/** Any object directly in a partition's directory → its partition and file name; undefined otherwise. */
export function parseEventKey(key: string): { partition: Partition; name: string } | undefined {
  const [root, tenantName, day, hourName, name, ...rest] = key.split('/');
  const tenant = tenantOfDir(tenantName);
  const dt = day === undefined ? undefined : parseDayDir(day);
  const hour = hourName === undefined ? undefined : parseHourDir(hourName);
  if (`${root}/` !== EVENTS_PREFIX || rest.length > 0 || tenant === undefined || dt === undefined || hour === undefined || !name) return undefined;
  return { partition: { tenant, dt, hour }, name };
}

/** The last segment of a key: a file's name. */
export function fileName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** A Parquet data file (a batch file or a compaction output), as opposed to a manifest. */
export function isDataFileKey(key: string): boolean {
  return key.endsWith(DATA_FILE_SUFFIX);
}

// ─── Batch files (written by the batch writer) ──────────────────────────────────────────────────────

/** `20240501T101500Z`: the batch's first ingest, to the second. */
function ingestStamp(firstIngestMicros: number): string {
  return new Date(Math.floor(firstIngestMicros / 1000))
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

const BATCH_NAME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([^/]+)\.parquet$/;

/**
 * The key of one batch's file within one partition: the batch's first ingest time, then its id. Being
 * deterministic for a batch, a retried batch overwrites its own file; the compactor reads the time to
 * leave a file alone while its batch may still be written again.
 */
export function batchFileKey(p: Partition, batchId: string, firstIngestMicros: number): string {
  return eventKey(p, batchFileName(batchId, firstIngestMicros));
}

export function batchFileName(batchId: string, firstIngestMicros: number): string {
  return `${ingestStamp(firstIngestMicros)}-${batchId}${DATA_FILE_SUFFIX}`;
}

/** A batch file's name → its batch id and first ingest (ms, whole seconds); undefined for any other name. */
export function parseBatchFileName(name: string): { batchId: string; firstIngestMs: number } | undefined {
  const m = BATCH_NAME.exec(name);
  if (!m) return undefined;
  const firstIngestMs = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  // Date.parse lets some impossible times through (T24:00:00); a stamp must format back to itself.
  if (Number.isNaN(firstIngestMs) || ingestStamp(firstIngestMs * 1000) !== name.slice(0, 16)) return undefined;
  return { batchId: m[7]!, firstIngestMs };
}

// ─── Compaction manifests and outputs ───────────────────────────────────────────────────────────────

export function manifestName(hash: string): string {
  return `${MANIFEST_PREFIX}${hash}.json`;
}

/** Every output key of a job starts with this: `<partition prefix>compact-<hash>-`. */
export function outputPrefix(partitionPrefix: string, hash: string): string {
  return `${partitionPrefix}${COMPACT_PREFIX}${hash}-`;
}

/** A job's manifest key, beside the partition's files. */
export function manifestKey(partitionPrefix: string, hash: string): string {
  return `${partitionPrefix}${manifestName(hash)}`;
}

/** The key of a job's n-th output. */
export function outputKey(partitionPrefix: string, hash: string, n: number): string {
  return `${partitionPrefix}${outputName(hash, n)}`;
}

export function outputName(hash: string, n: number): string {
  return `${COMPACT_PREFIX}${hash}-${n}${DATA_FILE_SUFFIX}`;
}

/** A compaction manifest (by its name: `_compaction-….json`); its content is checked by parseManifest. */
export function isManifestKey(key: string): boolean {
  const name = fileName(key);
  return name.startsWith(MANIFEST_PREFIX) && name.endsWith('.json');
}

/** Something the compactor wrote (its name starts with `compact-`): an output, or a job's output prefix. */
export function isCompactedKey(key: string): boolean {
  return fileName(key).startsWith(COMPACT_PREFIX);
}

/** `_compaction-<hash>.json` → the job's hash; undefined for any other name. */
export function parseManifestName(name: string): { hash: string } | undefined {
  if (!name.startsWith(MANIFEST_PREFIX) || !name.endsWith('.json')) return undefined;
  const hash = name.slice(MANIFEST_PREFIX.length, -'.json'.length);
  return HASH.test(hash) ? { hash } : undefined;
}

/** `compact-<hash>-<n>.parquet` → the job's hash and the output's number; undefined for any other name. */
export function parseOutputName(name: string): { hash: string; n: number } | undefined {
  if (!name.startsWith(COMPACT_PREFIX) || !name.endsWith(DATA_FILE_SUFFIX)) return undefined;
  const [hash = '', n = '', ...rest] = name.slice(COMPACT_PREFIX.length, -DATA_FILE_SUFFIX.length).split('-');
  return rest.length === 0 && HASH.test(hash) && PART.test(n) ? { hash, n: Number(n) } : undefined;
}

// ─── Receipts ───────────────────────────────────────────────────────────────────────────────────────

export function receiptPrefix(tenant: string, receipt: string): string {
  return `${RECEIPTS_PREFIX}${dir('tenant', assertTenant(tenant))}/${receipt}/`;
}

export function receiptPartKey(tenant: string, receipt: string, part: number): string {
  return `${receiptPrefix(tenant, receipt)}${part}.json`;
}

/** `receipts/tenant=<t>/<receipt>/<part>.json` → its parts; undefined for any other key. */
export function parseReceiptPartKey(key: string): { tenant: string; receipt: string; part: number } | undefined {
  const [root, tenantName, receipt, file, ...rest] = key.split('/');
  const tenant = tenantOfDir(tenantName);
  const part = file?.endsWith('.json') ? file.slice(0, -'.json'.length) : undefined;
  if (`${root}/` !== RECEIPTS_PREFIX || rest.length > 0 || tenant === undefined || !receipt || part === undefined || !PART.test(part)) return undefined;
  return { tenant, receipt, part: Number(part) };
}

// ─── Alert state ────────────────────────────────────────────────────────────────────────────────────

/** Scheduled rules keep their state under alerts/state/, real-time rules under alerts/realtime/. */
export type AlertStateKind = 'scheduled' | 'realtime';
const ALERT_STATE_DIRS: Record<AlertStateKind, string> = { scheduled: 'state', realtime: 'realtime' };

/** The state document of one alert rule: `alerts/state/tenant=<t>/<rule>.json` (or alerts/realtime/…). */
export function alertStateKey(kind: AlertStateKind, tenant: string, rule: string): string {
  return `${ALERTS_PREFIX}${ALERT_STATE_DIRS[kind]}/${dir('tenant', assertTenant(tenant))}/${rule}.json`;
}

/** An alert state key → its kind, tenant and rule name; undefined for any other key. */
export function parseAlertStateKey(key: string): { kind: AlertStateKind; tenant: string; rule: string } | undefined {
  const [root, kindName, tenantName, file, ...rest] = key.split('/');
  const kind = (Object.keys(ALERT_STATE_DIRS) as AlertStateKind[]).find((k) => ALERT_STATE_DIRS[k] === kindName);
  const tenant = tenantOfDir(tenantName);
  const rule = file?.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
  if (`${root}/` !== ALERTS_PREFIX || rest.length > 0 || kind === undefined || tenant === undefined || rule === '') return undefined;
  return { kind, tenant, rule };
}
