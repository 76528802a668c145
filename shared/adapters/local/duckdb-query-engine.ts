/**
 * The local query engine: embedded DuckDB over the Parquet layout in the data directory.
 *
 * Isolation: the files handed to read_parquet are listed from the tenant's own prefix and the requested
 * hours only, so other tenants' data is never opened; user SQL is checked by DuckDB's parser (see
 * duckdb-sql-guard.ts); and DuckDB itself runs with external access off except for the data directory,
 * no extension installs, and its configuration locked.
 */
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { NotFoundError, QueryError } from '../../domain/errors.js';
import { keysHiddenBy, parseManifest, type CompactionManifest } from '../../domain/compaction.js';
import { partitionStartMs } from '../../domain/partitioning.js';
import { duckDbDialect } from '../../domain/query/dialects/duckdb.js';
import { dayPrefix, isDataFileKey, isManifestKey, parseDayDir, parseHourDir, partitionPrefix, tenantPrefix } from '../../domain/storage-layout.js';
import type { ObjectInfo } from '../../ports/object-store.js';
import { TABLE_NAME } from '../../domain/schema.js';
import { textOf } from '../../domain/text.js';
import type { QueryEngine, QueryPage, QueryParam, QueryState, QueryStats, QueryStatus, ResultColumn, ScopedQuery } from '../../ports/query-engine.js';
import { randomUUID } from 'node:crypto';
import { emptyLogs, logsOverFiles } from './duckdb-schema.js';
import { checkSelect } from './duckdb-sql-guard.js';
import type { FsObjectStore } from './fs-object-store.js';

export interface DuckDbEngineOptions {
  store: FsObjectStore;
  threads?: number;
  /** per tenant instance */
  memoryLimit?: string;
  /** Queries running longer are interrupted. */
  timeoutMs?: number;
  /** How many tenants keep an open DuckDB instance. */
  maxInstances?: number;
}

/**
 * An in-memory DuckDB that can read files only under `dir`: external access off except that directory,
 * no extension installs or loads, times in UTC, and its configuration locked so SQL cannot undo any of it.
 */
export async function openSandboxedDuckDb(dir: string, opts: { threads?: number | undefined; memoryLimit?: string | undefined } = {}): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(opts.threads ?? 2),
    memory_limit: opts.memoryLimit ?? '2GB',
  });
  const setup = await instance.connect();
  const allowed = `${dir.replace(/\/+$/, '')}/`;
  try {
    await setup.run(`SET GLOBAL TimeZone = 'UTC'`);
    await setup.run('SET autoinstall_known_extensions = false');
    await setup.run('SET autoload_known_extensions = false');
    await setup.run(`SET allowed_directories = [${duckDbDialect.quoteString(allowed)}]`);
    await setup.run('SET enable_external_access = false');
    await setup.run('SET lock_configuration = true');
  } finally {
    setup.closeSync();
  }
  return instance;
}

/** How long the results of a finished query stay readable. */
const RESULT_TTL_MS = 10 * 60_000;

interface Execution {
  tenant: string;
  state: QueryState;
  conn: DuckDBConnection | undefined;
  finishedAt: number | undefined;
  /** resolves when the execution has finished */
  done?: Promise<void>;
  columns?: ResultColumn[];
  rows?: unknown[][];
  stats?: QueryStats;
  error?: string;
}

interface TenantInstance {
  instance: DuckDBInstance;
  running: number;
  lastUsed: number;
}

/**
 * One DuckDB instance per tenant (kept in a small LRU): each may read only its own tenant's directory, so
 * even SQL that got past the guard could not open another tenant's files.
 */
export class DuckDbQueryEngine implements QueryEngine {
  readonly dialect = duckDbDialect;
  private readonly instances = new Map<string, Promise<TenantInstance>>();
  private readonly executions = new Map<string, Execution>();
  private closed = false;

  private constructor(
    private readonly store: FsObjectStore,
    private readonly opts: DuckDbEngineOptions,
  ) {}

  static async open(opts: DuckDbEngineOptions): Promise<DuckDbQueryEngine> {
    return new DuckDbQueryEngine(opts.store, opts);
  }

  private async createInstance(tenant: string): Promise<TenantInstance> {
    const dir = this.store.pathOf(tenantPrefix(tenant).replace(/\/$/, ''));
    const instance = await openSandboxedDuckDb(dir, { threads: this.opts.threads, memoryLimit: this.opts.memoryLimit });
    return { instance, running: 0, lastUsed: Date.now() };
  }

  private async acquire(tenant: string): Promise<TenantInstance> {
    let entry = this.instances.get(tenant);
    if (!entry) {
      entry = this.createInstance(tenant);
      this.instances.set(tenant, entry);
      entry.catch(() => this.instances.delete(tenant));
      await this.evict();
    }
    const inst = await entry;
    inst.running++;
    inst.lastUsed = Date.now();
    return inst;
  }

  private async evict(): Promise<void> {
    const max = this.opts.maxInstances ?? 16;
    if (this.instances.size <= max) return;
    const idle: [string, TenantInstance][] = [];
    for (const [tenant, p] of this.instances) {
      const inst = await p.catch(() => undefined);
      if (inst && inst.running === 0) idle.push([tenant, inst]);
    }
    idle.sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [tenant, inst] of idle.slice(0, this.instances.size - max)) {
      this.instances.delete(tenant);
      inst.instance.closeSync();
    }
  }

  /**
   * The Parquet files of the tenant for the hours the range touches. Directories are listed level by
   * level (days, then hours), so a range of decades costs what the data there costs, not one listing per
   * hour of the range.
   *
   * Newest first (days, hours and names in descending order): DuckDB scans the files in the order given,
   * and for `ORDER BY ts DESC LIMIT n` (events without a sort: newest first) its Top-N raises a ts bound
   * as rows come in, which skips every older file by its ts statistics once n rows are found. Oldest first,
   * each file is newer than the bound and nothing is skipped (a search for a term in 1 of 2,000 events
   * over 10M: ~2 s → ~0.15 s). Results do not depend on the order; only what is read does.
   */
  private async filesFor(q: ScopedQuery): Promise<{ paths: string[]; bytes: number }> {
    const paths: string[] = [];
    let bytes = 0;
    const firstHour = Math.floor(q.startMs / 3_600_000) * 3_600_000;
    const base = tenantPrefix(q.tenant);
    const startDay = new Date(firstHour).toISOString().slice(0, 10);
    const endDay = new Date(q.endMs - 1).toISOString().slice(0, 10);
    const newestFirst = (names: string[]) => [...names].sort().reverse();
    for (const dayDir of newestFirst(await this.store.listPrefixes(base))) {
      const day = parseDayDir(dayDir);
      if (!day || day < startDay || day > endDay) continue;
      for (const hourDir of newestFirst(await this.store.listPrefixes(dayPrefix(q.tenant, day)))) {
        const hour = parseHourDir(hourDir);
        if (hour === undefined) continue;
        const partition = { tenant: q.tenant, dt: day, hour };
        const hourStart = partitionStartMs(partition);
        if (hourStart + 3_600_000 <= q.startMs || hourStart >= q.endMs) continue;
        const objects = await this.store.list(partitionPrefix(partition));
        const hidden = await this.hiddenByCompaction(objects);
        for (const obj of [...objects].sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))) {
          if (!isDataFileKey(obj.key) || hidden.has(obj.key)) continue;
          paths.push(this.store.pathOf(obj.key));
          bytes += obj.size;
        }
      }
    }
    return { paths, bytes };
  }

  /**
   * While a compaction job of the partition is under way (its manifest exists), its inputs and outputs
   * hold the same events: read the inputs until the job's commit point (and this listing holds every
   * output), then the outputs.
   */
  private async hiddenByCompaction(objects: readonly ObjectInfo[]): Promise<Set<string>> {
    const manifests: CompactionManifest[] = [];
    for (const o of objects) {
      if (!isManifestKey(o.key)) continue;
      const bytes = await this.store.get(o.key);
      const m = bytes && parseManifest(bytes);
      if (m) manifests.push(m);
    }
    return manifests.length === 0 ? new Set() : keysHiddenBy(manifests, new Set(objects.map((o) => o.key)));
  }

  async start(q: ScopedQuery): Promise<string> {
    if (this.closed) throw new Error('the query engine is closed');
    this.expire();
    const started = performance.now();
    const tenantInstance = await this.acquire(q.tenant);
    let conn: DuckDBConnection | undefined;
    try {
      conn = await tenantInstance.instance.connect();
      // Refused SQL fails here, before an execution exists, so the caller gets its 400 at once.
      const userSql = await checkSelect(conn, q.sql, { allowParams: q.trusted });
      const id = randomUUID();
      const execution: Execution = { tenant: q.tenant, state: 'running', conn, finishedAt: undefined };
      this.executions.set(id, execution);
      const c = conn;
      conn = undefined; // owned by the execution from here on
      execution.done = this.execute(execution, c, tenantInstance, q, userSql, started);
      return id;
    } finally {
      if (conn) {
        conn.closeSync();
        this.release(tenantInstance);
      }
    }
  }

  private async execute(
    execution: Execution,
    conn: DuckDBConnection,
    tenantInstance: TenantInstance,
    q: ScopedQuery,
    userSql: string,
    started: number,
  ): Promise<void> {
    const timer = setTimeout(() => conn.interrupt(), this.opts.timeoutMs ?? 30_000);
    try {
      const attempt = async () => {
        const files = await this.filesFor(q);
        const source = files.paths.length > 0 ? logsOverFiles(files.paths) : emptyLogs();
        const { rangeStart, rangeEnd, timestampFromIso } = duckDbDialect;
        const sql =
          `WITH ${TABLE_NAME} AS (SELECT * FROM (${source}) WHERE ts >= ${timestampFromIso(rangeStart)} AND ts < ${timestampFromIso(rangeEnd)})\n` +
          `SELECT * FROM (\n${userSql}\n) AS q LIMIT ${Math.floor(q.limit)}`;
        return { ...files, reader: await runQuery(conn, sql, [new Date(q.startMs).toISOString(), new Date(q.endMs).toISOString(), ...q.params]) };
      };
      // A compaction may delete a merged input between the listing and the read; by then its outputs
      // exist, so listing again finds the same events.
      const { paths, bytes, reader } = await attempt().catch((err: unknown) => {
        if (/no such file|No files found|cannot open file/i.test(String((err as Error & { cause?: Error }).cause?.message ?? (err as Error).message)))
          return attempt();
        throw err;
      });
      const types = reader.columnTypes();
      execution.columns = reader.columnNames().map((name, i) => ({ name, type: types[i]!.toString() }));
      execution.rows = reader.getRowsJson().map((row) => row.map((v, i) => fromJson(v, types[i]!)));
      execution.stats = { rows: execution.rows.length, bytesScanned: bytes, filesScanned: paths.length, elapsedMs: Math.round(performance.now() - started) };
      execution.state = execution.state === 'cancelled' ? 'cancelled' : 'succeeded';
    } catch (err) {
      if (execution.state !== 'cancelled') {
        execution.state = 'failed';
        execution.error = err instanceof QueryError ? err.message : `the query failed: ${(err as Error).message}`;
      }
      execution.stats = { rows: 0, bytesScanned: 0, elapsedMs: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
      execution.finishedAt = Date.now();
      execution.conn = undefined;
      conn.closeSync();
      this.release(tenantInstance);
    }
  }

  private release(inst: TenantInstance): void {
    inst.running--;
    inst.lastUsed = Date.now();
  }

  private get(id: string): Execution {
    const e = this.executions.get(id);
    if (!e) throw new NotFoundError('no such query (finished queries are kept for 10 minutes)');
    return e;
  }

  async status(id: string): Promise<QueryStatus> {
    const e = this.get(id);
    return { state: e.state, ...(e.error ? { error: e.error } : {}), ...(e.stats ? { stats: e.stats } : {}) };
  }

  async page(id: string, pageToken: string | undefined, pageSize: number): Promise<QueryPage> {
    const e = this.get(id);
    if (e.state !== 'succeeded') throw new QueryError(e.error ?? `the query is ${e.state}`);
    const offset = pageToken === undefined ? 0 : Number(pageToken);
    if (!Number.isInteger(offset) || offset < 0) throw new QueryError('nextToken is not valid for this query');
    const rows = e.rows!.slice(offset, offset + pageSize);
    const next = offset + pageSize < e.rows!.length ? String(offset + pageSize) : undefined;
    return { columns: e.columns!, rows, ...(next ? { nextToken: next } : {}), stats: e.stats! };
  }

  async settled(id: string, timeoutMs: number): Promise<void> {
    const e = this.get(id);
    if (e.state !== 'running' || !e.done) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([e.done.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  async cancel(id: string): Promise<void> {
    const e = this.get(id);
    if (e.state !== 'running') return;
    e.state = 'cancelled';
    e.conn?.interrupt();
  }

  /** Finished executions are kept for a while so their pages can be read, then dropped. */
  private expire(): void {
    const now = Date.now();
    for (const [id, e] of this.executions) {
      if (e.finishedAt !== undefined && now - e.finishedAt > RESULT_TTL_MS) this.executions.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.instances.values()) {
      const inst = await p.catch(() => undefined);
      inst?.instance.closeSync();
    }
    this.instances.clear();
  }
}

async function runQuery(conn: DuckDBConnection, sql: string, params: QueryParam[]) {
  try {
    return await conn.runAndReadAll(sql, params);
  } catch (err) {
    const message = (err as Error).message;
    if (/INTERRUPT/i.test(message)) throw new QueryError('the query took too long and was stopped; narrow the time range or add filters', { cause: err });
    // Engine messages can name files; never show server paths to the caller.
    throw new QueryError(message.replace(/'?\/[^\s']*\.parquet'?/g, '<file>'), { cause: err });
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** DuckDB's JSON rendering → API values: ISO 8601 timestamps, numbers for safe integers, objects for maps. */
function fromJson(value: unknown, type: DuckDBType): Json {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.TIMESTAMP_TZ: {
      // Always the same shape, whatever the engine prints: 2024-05-01T10:00:00.000000Z
      const m = /^(-?\d{4,}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?\+00(?::00)?$/.exec(textOf(value));
      return m ? `${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(6, '0')}Z` : textOf(value);
    }
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_S:
      return textOf(value).replace(' ', 'T');
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DECIMAL: {
      const n = Number(value);
      return Number.isSafeInteger(n) || (type.typeId === DuckDBTypeId.DECIMAL && Number.isFinite(n)) ? n : textOf(value);
    }
    case DuckDBTypeId.MAP: {
      const t = type as unknown as { valueType: DuckDBType };
      const out: Record<string, Json> = Object.create(null) as Record<string, Json>;
      for (const e of value as { key: unknown; value: unknown }[]) out[String(e.key)] = fromJson(e.value, t.valueType);
      return out;
    }
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const t = type as unknown as { valueType: DuckDBType };
      return (value as unknown[]).map((v) => fromJson(v, t.valueType));
    }
    case DuckDBTypeId.STRUCT: {
      const t = type as unknown as { entryNames: string[]; entryTypes: DuckDBType[] };
      const obj = value as Record<string, unknown>;
      const out: Record<string, Json> = Object.create(null) as Record<string, Json>;
      t.entryNames.forEach((name, i) => (out[name] = fromJson(obj[name], t.entryTypes[i]!)));
      return out;
    }
    default:
      return value as Json;
  }
}
