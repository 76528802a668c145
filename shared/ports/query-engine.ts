/**
 * The query engine port: DuckDB locally, Athena in AWS. Queries are started, polled and paged, because
 * Athena queries outlive one request; the local engine keeps the same shape.
 */
import type { QueryParam, SqlDialect } from '../domain/query/dialects/dialect.js';

export type { QueryParam, SqlDialect };

export interface ScopedQuery {
  tenant: string;
  /** inclusive, ms since epoch */
  startMs: number;
  /** exclusive, ms since epoch */
  endMs: number;
  /**
   * A single SELECT over the table `logs`. The engine binds `logs` to the tenant's events in
   * [startMs, endMs) (partition predicates on tenant, dt, hour plus ts), so the text never decides either.
   */
  sql: string;
  /**
   * Values for the placeholders in `sql`, in order. Placeholders are written in the engine's dialect
   * (SqlDialect.placeholder): compiled pipeline queries use them; user SQL (`trusted: false`) may not.
   */
  params: QueryParam[];
  /** The most rows the query returns. */
  limit: number;
  /** true for SQL compiled by Sluice; false for user SQL, which the engine checks strictly. */
  trusted: boolean;
}

export interface ResultColumn {
  name: string;
  type: string;
}

export interface QueryStats {
  rows: number;
  /** bytes the engine read (Athena) or the size of the files it was given (local) */
  bytesScanned: number;
  /** files handed to the engine (local; Athena does not report it) */
  filesScanned?: number;
  elapsedMs: number;
  /** Set when the engine kept fewer rows than the query returned (the result's size cap): why, in words. */
  truncated?: string;
}

export type QueryState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface QueryStatus {
  state: QueryState;
  /** a message a person can act on, when failed */
  error?: string;
  /**
   * Why it failed, when it was not the query's text: one of its limits (time, the engine's memory bound,
   * a result row's size), or the engine was unavailable (restarted) and a retry may succeed.
   */
  failure?: 'time_limit' | 'memory_limit' | 'result_limit' | 'unavailable';
  stats?: QueryStats;
}

export interface QueryPage {
  columns: ResultColumn[];
  rows: unknown[][];
  /** present when more rows follow */
  nextToken?: string;
  stats: QueryStats;
}

export interface QueryEngine {
  /** the SQL this engine speaks: pipeline queries are compiled with it */
  readonly dialect: SqlDialect;
  /** Starts the query; resolves with its execution id. Invalid SQL is refused here (QueryError). */
  start(query: ScopedQuery): Promise<string>;
  status(id: string): Promise<QueryStatus>;
  /** A page of the results of a succeeded query. */
  page(id: string, pageToken: string | undefined, pageSize: number): Promise<QueryPage>;
  cancel(id: string): Promise<void>;
  /**
   * Resolves once the query has finished (in any state) or after timeoutMs, whichever is first: an engine
   * that knows when its queries end lets a caller wait on it instead of polling status().
   */
  settled?(id: string, timeoutMs: number): Promise<void>;
  close?(): Promise<void>;
}
