/**
 * The local query engine: embedded DuckDB over the Parquet layout in the data directory.
 *
 * Isolation: the files handed to read_parquet are listed from the tenant's own prefix and the requested
 * hours only, so other tenants' data is never opened; user SQL is checked by DuckDB's parser (see
 * duckdb-sql-guard.ts); and DuckDB itself runs with external access off except for the data directory,
 * no extension installs, and its configuration locked.
 */
import { DuckDBInstance, DuckDBTypeId, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { QueryError } from '../../domain/errors.js';
import { partitionPrefix, partitionsInRange } from '../../domain/partitioning.js';
import { TABLE_NAME } from '../../domain/schema.js';
import type { QueryEngine, QueryResult, ScopedSql } from '../../ports/query-engine.js';
import { emptyLogs, logsOverFiles } from './duckdb-schema.js';
import { checkSelect } from './duckdb-sql-guard.js';
import type { FsObjectStore } from './fs-object-store.js';

export interface DuckDbEngineOptions {
  store: FsObjectStore;
  threads?: number;
  memoryLimit?: string;
  /** Queries running longer are interrupted. */
  timeoutMs?: number;
}

export class DuckDbQueryEngine implements QueryEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly store: FsObjectStore,
    private readonly timeoutMs: number,
  ) {}

  static async open(opts: DuckDbEngineOptions): Promise<DuckDbQueryEngine> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(opts.threads ?? 2),
      memory_limit: opts.memoryLimit ?? '2GB',
    });
    const setup = await instance.connect();
    const root = `${opts.store.root.replace(/\/+$/, '')}/`;
    try {
      await setup.run(`SET GLOBAL TimeZone = 'UTC'`);
      await setup.run('SET autoinstall_known_extensions = false');
      await setup.run('SET autoload_known_extensions = false');
      await setup.run(`SET allowed_directories = ['${root.replaceAll("'", "''")}']`);
      await setup.run('SET enable_external_access = false');
      await setup.run('SET lock_configuration = true');
    } finally {
      setup.closeSync();
    }
    return new DuckDbQueryEngine(instance, opts.store, opts.timeoutMs ?? 30_000);
  }

  /** The Parquet files of the tenant for every hour the range touches. */
  private async filesFor(q: ScopedSql): Promise<{ paths: string[]; bytes: number }> {
    const paths: string[] = [];
    let bytes = 0;
    for (const p of partitionsInRange(q.tenant, q.startMs, q.endMs)) {
      for (const obj of await this.store.list(partitionPrefix(p))) {
        if (!obj.key.endsWith('.parquet')) continue;
        paths.push(this.store.pathOf(obj.key));
        bytes += obj.size;
      }
    }
    return { paths, bytes };
  }

  async run(q: ScopedSql): Promise<QueryResult> {
    const started = performance.now();
    const conn = await this.instance.connect();
    const timer = setTimeout(() => conn.interrupt(), this.timeoutMs);
    try {
      const userSql = await checkSelect(conn, q.sql);
      const { paths, bytes } = await this.filesFor(q);
      const source = paths.length > 0 ? logsOverFiles(paths) : emptyLogs();
      const sql =
        `WITH ${TABLE_NAME} AS (SELECT * FROM (${source}) WHERE ts >= $start::TIMESTAMPTZ AND ts < $end::TIMESTAMPTZ)\n` +
        `SELECT * FROM (\n${userSql}\n) AS q LIMIT ${Math.floor(q.limit)}`;
      const reader = await runQuery(conn, sql, {
        start: new Date(q.startMs).toISOString(),
        end: new Date(q.endMs).toISOString(),
      });
      const types = reader.columnTypes();
      const rows = reader.getRowsJson().map((row) => row.map((v, i) => fromJson(v, types[i]!)));
      return {
        columns: reader.columnNames().map((name, i) => ({ name, type: types[i]!.toString() })),
        rows,
        stats: { rows: rows.length, bytesScanned: bytes, filesScanned: paths.length, elapsedMs: Math.round(performance.now() - started) },
      };
    } finally {
      clearTimeout(timer);
      conn.closeSync();
    }
  }

  async close(): Promise<void> {
    this.instance.closeSync();
  }
}

async function runQuery(conn: DuckDBConnection, sql: string, params: Record<string, string>) {
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
    case DuckDBTypeId.TIMESTAMP_TZ:
      return String(value).replace(' ', 'T').replace(/\+00(:00)?$/, 'Z');
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_S:
      return String(value).replace(' ', 'T');
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DECIMAL: {
      const n = Number(value);
      return Number.isSafeInteger(n) || (type.typeId === DuckDBTypeId.DECIMAL && Number.isFinite(n)) ? n : String(value);
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
