/**
 * The local query engine: embedded DuckDB over the Parquet layout in the data directory.
 *
 * Isolation: the files handed to read_parquet are listed from the tenant's own prefix and the requested
 * hours only, so other tenants' data is never opened; user SQL is checked by DuckDB's parser (see
 * duckdb-sql-guard.ts); and DuckDB itself runs with external access off except for the data directory,
 * no extension installs, and its configuration locked.
 */
import { DuckDBInstance, DuckDBTypeId, JsonDuckDBValueConverter, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, QueryError, QueryLimitError } from '../../domain/errors.js';
import { keysHiddenBy, parseManifest, type CompactionManifest } from '../../domain/compaction.js';
import { partitionStartMs } from '../../domain/partitioning.js';
import { duckDbDialect } from '../../domain/query/dialects/duckdb.js';
import { dayPrefix, isDataFileKey, isManifestKey, parseDayDir, parseHourDir, partitionPrefix, tenantPrefix } from '../../domain/storage-layout.js';
import type { ObjectInfo } from '../../ports/object-store.js';
import { TABLE_NAME } from '../../domain/schema.js';
import { textOf } from '../../domain/text.js';
import type { QueryEngine, QueryPage, QueryState, QueryStats, QueryStatus, ResultColumn, ScopedQuery } from '../../ports/query-engine.js';
import { randomUUID } from 'node:crypto';
import { emptyLogs, logsOverFiles } from './duckdb-schema.js';
import { checkSelect } from './duckdb-sql-guard.js';
import type { FsObjectStore } from './fs-object-store.js';
import { QueryResultFiles, RowTooLargeError, formatBytes, type ResultWriter } from './query-results.js';

export interface DuckDbEngineOptions {
  store: FsObjectStore;
  /** DuckDB threads per tenant instance */
  threads?: number;
  /** DuckDB's memory_limit per tenant instance, e.g. '512MB' (it bounds DuckDB's buffers, not every allocation) */
  memoryLimit?: string;
  /** A query is stopped once it has run this long (from its start, however busy the engine is). */
  timeoutMs?: number;
  /** How many tenants keep an open DuckDB instance. */
  maxInstances?: number;
  /** Where DuckDB spills (a directory per tenant); default: a temporary directory. */
  tempDir?: string;
  /** The most a tenant's instance may spill, e.g. '1GB'. */
  maxTempSize?: string;
  /** Where finished results are kept (a directory per tenant); default: a temporary directory. */
  resultsDir?: string;
  /** Caps of one result: bytes kept, and bytes per page (also the most one row may be). */
  maxResultBytes?: number;
  maxPageBytes?: number;
  /** How long a finished result stays readable. */
  resultTtlMs?: number;
  /** The most bytes of finished results kept for one tenant; the oldest go first beyond it. */
  tenantResultBytes?: number;
}

const MiB = 1024 * 1024;

/**
 * An in-memory DuckDB that can read files only under `dir`: external access off except that directory,
 * no extension installs or loads, times in UTC, spilling only to its own temp directory (bounded), and its
 * configuration locked so SQL cannot undo any of it.
 */
export async function openSandboxedDuckDb(
  dir: string,
  opts: { threads?: number | undefined; memoryLimit?: string | undefined; tempDir?: string | undefined; maxTempSize?: string | undefined } = {},
): Promise<DuckDBInstance> {
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
    if (opts.tempDir) await setup.run(`SET temp_directory = ${duckDbDialect.quoteString(opts.tempDir)}`);
    if (opts.maxTempSize) await setup.run(`SET max_temp_directory_size = ${duckDbDialect.quoteString(opts.maxTempSize)}`);
    await setup.run(`SET allowed_directories = [${duckDbDialect.quoteString(allowed)}]`);
    await setup.run('SET enable_external_access = false');
    await setup.run('SET lock_configuration = true');
  } finally {
    setup.closeSync();
  }
  return instance;
}

interface Execution {
  tenant: string;
  state: QueryState;
  conn: DuckDBConnection | undefined;
  finishedAt: number | undefined;
  /** resolves when the execution has finished */
  done?: Promise<void>;
  /** set once the time limit passed: the engine is being interrupted */
  timedOut: boolean;
  columns?: ResultColumn[];
  /** rows kept on disk (QueryResultFiles), never here */
  rows: number;
  resultBytes: number;
  stats?: QueryStats;
  error?: string;
  failure?: QueryStatus['failure'];
}

interface TenantInstance {
  instance: DuckDBInstance;
  running: number;
  lastUsed: number;
}

/** The alias the row-size guard gives the query's rows (to_json of it is one row as JSON). */
const ROW = '__sluice_row';
const ROW_TOO_LARGE = 'sluice: row too large';

/**
 * One DuckDB instance per tenant (kept in a small LRU): each may read only its own tenant's directory, so
 * even SQL that got past the guard could not open another tenant's files. Results are streamed to disk as
 * they are read (QueryResultFiles), so a finished query holds no rows in the heap.
 */
export class DuckDbQueryEngine implements QueryEngine {
  readonly dialect = duckDbDialect;
  private readonly instances = new Map<string, Promise<TenantInstance>>();
  private readonly executions = new Map<string, Execution>();
  private closed = false;
  private readonly timeoutMs: number;
  private readonly resultTtlMs: number;
  private readonly tenantResultBytes: number;
  private readonly expiry: ReturnType<typeof setInterval>;

  private constructor(
    private readonly store: FsObjectStore,
    private readonly opts: DuckDbEngineOptions,
    private readonly results: QueryResultFiles,
    private readonly tempDir: string,
    private readonly ownDirs: string[],
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.resultTtlMs = opts.resultTtlMs ?? 10 * 60_000;
    this.tenantResultBytes = opts.tenantResultBytes ?? 512 * MiB;
    this.expiry = setInterval(() => void this.expire(), Math.min(60_000, this.resultTtlMs));
    this.expiry.unref();
  }

  static async open(opts: DuckDbEngineOptions): Promise<DuckDbQueryEngine> {
    const own: string[] = [];
    const dirOr = async (dir: string | undefined, prefix: string) => {
      if (dir) return dir;
      const made = await mkdtemp(join(tmpdir(), prefix));
      own.push(made);
      return made;
    };
    const resultsDir = await dirOr(opts.resultsDir, 'sluice-results-');
    const tempDir = await dirOr(opts.tempDir, 'sluice-duckdb-tmp-');
    const results = new QueryResultFiles(resultsDir, { maxResultBytes: opts.maxResultBytes ?? 64 * MiB, maxPageBytes: opts.maxPageBytes ?? 8 * MiB });
    // Results and spill files of an earlier process can never be read again: start empty.
    await results.clear();
    await rm(tempDir, { recursive: true, force: true });
    return new DuckDbQueryEngine(opts.store, opts, results, tempDir, own);
  }

  private async createInstance(tenant: string): Promise<TenantInstance> {
    const dir = this.store.pathOf(tenantPrefix(tenant).replace(/\/$/, ''));
    const instance = await openSandboxedDuckDb(dir, {
      threads: this.opts.threads,
      memoryLimit: this.opts.memoryLimit,
      tempDir: join(this.tempDir, tenant),
      maxTempSize: this.opts.maxTempSize ?? '1GB',
    });
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
    void this.expire();
    const started = performance.now();
    const tenantInstance = await this.acquire(q.tenant);
    let conn: DuckDBConnection | undefined;
    try {
      conn = await tenantInstance.instance.connect();
      // Refused SQL fails here, before an execution exists, so the caller gets its 400 at once.
      const userSql = await checkSelect(conn, q.sql, { allowParams: q.trusted });
      const id = randomUUID();
      const execution: Execution = { tenant: q.tenant, state: 'running', conn, finishedAt: undefined, timedOut: false, rows: 0, resultBytes: 0 };
      this.executions.set(id, execution);
      const c = conn;
      conn = undefined; // owned by the execution from here on
      execution.done = this.execute(id, execution, c, tenantInstance, q, userSql, started);
      return id;
    } finally {
      if (conn) {
        conn.closeSync();
        this.release(tenantInstance);
      }
    }
  }

  /**
   * The time limit, counted from the query's start. DuckDB's interrupt only stops a statement that is
   * executing: one that arrives while the query is still being listed, prepared or waiting for a thread
   * is forgotten, and the statement then runs unbounded (measured: of 40 queries started at once with a
   * 2 s limit, 36 were still running 20 s later). So once the limit passes the connection is interrupted again and again until the
   * execution has ended, and the execution checks the flag between its steps.
   */
  private watchdog(execution: Execution, conn: DuckDBConnection): () => void {
    let repeat: ReturnType<typeof setInterval> | undefined;
    const timer = setTimeout(() => {
      execution.timedOut = true;
      conn.interrupt();
      repeat = setInterval(() => conn.interrupt(), 100);
    }, this.timeoutMs);
    return () => {
      clearTimeout(timer);
      if (repeat) clearInterval(repeat);
    };
  }

  private timeLimitError(): QueryLimitError {
    return new QueryLimitError(
      `the query reached its time limit of ${Math.round(this.timeoutMs / 100) / 10} s and was stopped; narrow the time range, add filters, or aggregate`,
      'time',
    );
  }

  private async execute(
    id: string,
    execution: Execution,
    conn: DuckDBConnection,
    tenantInstance: TenantInstance,
    q: ScopedQuery,
    userSql: string,
    started: number,
  ): Promise<void> {
    const stopWatchdog = this.watchdog(execution, conn);
    let writer: ResultWriter | undefined;
    try {
      const attempt = async () => {
        const files = await this.filesFor(q);
        if (execution.timedOut) throw this.timeLimitError();
        const source = files.paths.length > 0 ? logsOverFiles(files.paths) : emptyLogs();
        const { rangeStart, rangeEnd, timestampFromIso } = duckDbDialect;
        // The row-size guard runs inside DuckDB, so an oversized row fails there instead of being copied
        // into the heap first.
        const maxRow = this.results.caps.maxPageBytes;
        const sql =
          `WITH ${TABLE_NAME} AS (SELECT * FROM (${source}) WHERE ts >= ${timestampFromIso(rangeStart)} AND ts < ${timestampFromIso(rangeEnd)})\n` +
          `SELECT ${ROW}.* FROM (SELECT * FROM (\n${userSql}\n) AS q LIMIT ${Math.floor(q.limit)}) AS ${ROW}\n` +
          `WHERE CASE WHEN strlen(to_json(${ROW})::VARCHAR) > ${maxRow} THEN error(${duckDbDialect.quoteString(ROW_TOO_LARGE)}) ELSE true END`;
        const result = await engineCall(() => conn.stream(sql, [new Date(q.startMs).toISOString(), new Date(q.endMs).toISOString(), ...q.params]));
        const out = await this.results.writer(q.tenant, id);
        writer = out;
        const types = result.columnTypes();
        execution.columns = result.columnNames().map((name, i) => ({ name, type: types[i]!.toString() }));
        for (;;) {
          if (execution.timedOut) throw this.timeLimitError();
          const chunk = await engineCall(() => result.fetchChunk());
          if (!chunk || chunk.rowCount === 0) break;
          const rows = chunk.convertRows(JsonDuckDBValueConverter).map((row) => row.map((v, i) => fromJson(v, types[i]!)));
          if (!(await out.add(rows))) break;
        }
        return files;
      };
      // A compaction may delete a merged input between the listing and the read; by then its outputs
      // exist, so listing again finds the same events.
      const { paths, bytes } = await attempt().catch(async (err: unknown) => {
        if (!(err instanceof QueryLimitError) && /no such file|No files found|cannot open file/i.test(messageOf(err))) {
          await writer?.discard();
          writer = undefined;
          return attempt();
        }
        throw err;
      });
      const out = writer!;
      execution.rows = out.rows;
      execution.resultBytes = out.size;
      await out.finish();
      execution.stats = {
        rows: out.rows,
        bytesScanned: bytes,
        filesScanned: paths.length,
        elapsedMs: Math.round(performance.now() - started),
        ...(out.truncated ? { truncated: out.truncated } : {}),
      };
      execution.state = execution.state === 'cancelled' ? 'cancelled' : 'succeeded';
    } catch (err) {
      await writer?.discard();
      if (execution.state !== 'cancelled') {
        execution.state = 'failed';
        const failure = this.failureOf(err, execution);
        execution.error = failure.message;
        if (failure.kind) execution.failure = failure.kind;
      }
      execution.stats = { rows: 0, bytesScanned: 0, elapsedMs: Math.round(performance.now() - started) };
    } finally {
      stopWatchdog();
      execution.finishedAt = Date.now();
      execution.conn = undefined;
      conn.closeSync();
      this.release(tenantInstance);
    }
  }

  /** What a failed execution reports: a message for the caller (never a server path) and why, when a limit. */
  private failureOf(err: unknown, execution: Execution): { message: string; kind?: QueryStatus['failure'] } {
    const message = messageOf(err);
    if (err instanceof QueryLimitError) return { message: err.message, kind: `${err.limit}_limit` };
    if (err instanceof RowTooLargeError) return { message: err.message, kind: 'result_limit' };
    if (message.includes(ROW_TOO_LARGE)) {
      return {
        message: `a row of the result is larger than a row may be (${formatBytes(this.results.caps.maxPageBytes)}); select fewer or shorter columns, for example left(message, 1000)`,
        kind: 'result_limit',
      };
    }
    if (/INTERRUPT/i.test(message) && execution.timedOut) return { message: this.timeLimitError().message, kind: 'time_limit' };
    if (/Out of Memory Error|could not allocate|failed to offload/i.test(message)) {
      return {
        message: `the query needed more memory than it may use (${this.opts.memoryLimit ?? '2GB'}, and ${this.opts.maxTempSize ?? '1GB'} of spill): narrow the time range, add filters, or aggregate`,
        kind: 'memory_limit',
      };
    }
    if (/INTERRUPT/i.test(message)) return { message: 'the query was stopped (the engine is shutting down); retry', kind: 'unavailable' };
    if (err instanceof QueryError) return { message: err.message };
    return { message: `the query failed: ${this.scrub(message)}` };
  }

  /** Engine messages can name files and directories; never show server paths to the caller. */
  private scrub(message: string): string {
    const root = this.store.root;
    return message
      .replace(/'?\/[^\s']*\.parquet'?/g, '<file>')
      .split(root)
      .join('<data>')
      .split(this.tempDir)
      .join('<tmp>');
  }

  private release(inst: TenantInstance): void {
    inst.running--;
    inst.lastUsed = Date.now();
  }

  private get(id: string): Execution {
    const e = this.executions.get(id);
    if (!e) throw new NotFoundError(`no such query (finished queries are kept for ${Math.round(this.resultTtlMs / 60_000)} minutes)`);
    return e;
  }

  async status(id: string): Promise<QueryStatus> {
    const e = this.get(id);
    return { state: e.state, ...(e.error ? { error: e.error } : {}), ...(e.failure ? { failure: e.failure } : {}), ...(e.stats ? { stats: e.stats } : {}) };
  }

  async page(id: string, pageToken: string | undefined, pageSize: number): Promise<QueryPage> {
    const e = this.get(id);
    if (e.state !== 'succeeded') throw new QueryError(e.error ?? `the query is ${e.state}`);
    const offset = pageToken === undefined ? 0 : Number(pageToken);
    if (!Number.isInteger(offset) || offset < 0) throw new QueryError('nextToken is not valid for this query');
    const { rows, next } = await this.results.page(e.tenant, id, offset, pageSize, e.rows);
    return { columns: e.columns!, rows, ...(next !== undefined ? { nextToken: String(next) } : {}), stats: e.stats! };
  }

  /** Where a finished query's rows are kept (tests: results live on disk, not in the heap). */
  resultFilesOf(id: string): { rows: string; index: string; rowsInMemory: number } {
    const e = this.get(id);
    return { ...this.results.filesOf(e.tenant, id), rowsInMemory: 0 };
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

  /**
   * Finished results are kept for resultTtlMs so their pages can be read, and at most tenantResultBytes
   * of them per tenant (the oldest go first); then their files are deleted.
   */
  private async expire(): Promise<void> {
    const now = Date.now();
    const drop: [string, Execution][] = [];
    const byTenant = new Map<string, [string, Execution][]>();
    for (const [id, e] of this.executions) {
      if (e.finishedAt === undefined) continue;
      if (now - e.finishedAt > this.resultTtlMs) drop.push([id, e]);
      else byTenant.set(e.tenant, [...(byTenant.get(e.tenant) ?? []), [id, e]]);
    }
    for (const finished of byTenant.values()) {
      let total = finished.reduce((n, [, e]) => n + e.resultBytes, 0);
      for (const entry of finished) {
        if (total <= this.tenantResultBytes) break;
        total -= entry[1].resultBytes;
        drop.push(entry);
      }
    }
    for (const [id, e] of drop) {
      this.executions.delete(id);
      if (e.state === 'succeeded') await this.results.remove(e.tenant, id).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.expiry);
    for (const e of this.executions.values()) e.conn?.interrupt();
    await Promise.all([...this.executions.values()].map((e) => (e.done ?? Promise.resolve()).catch(() => undefined)));
    for (const p of this.instances.values()) {
      const inst = await p.catch(() => undefined);
      inst?.instance.closeSync();
    }
    this.instances.clear();
    await Promise.all(this.ownDirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

function messageOf(err: unknown): string {
  return String((err as Error & { cause?: Error })?.cause?.message ?? (err as Error)?.message ?? err);
}

/** A call into DuckDB; an interrupt becomes a recognisable error (the caller decides what it meant). */
async function engineCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const message = (err as Error).message;
    if (/INTERRUPT/i.test(message)) throw new QueryError('INTERRUPT: the query was stopped', { cause: err });
    throw err;
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
