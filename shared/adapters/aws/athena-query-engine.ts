/**
 * The query engine in AWS: Athena (Trino) over the Glue table that projects the Parquet layout.
 *
 * Isolation: every query runs inside `WITH logs AS (SELECT … FROM <table> WHERE tenant = … AND dt … AND
 * hour … AND ts …)`, so the tenant and the time range come from Sluice, never from the SQL; user SQL is
 * checked with a Trino grammar first (trino-sql-guard.ts) so it can read nothing but `logs`.
 *
 * Errors are translated here: nothing above this file sees an AWS SDK exception. Throttling is retried with
 * exponential backoff and full jitter, then reported as UnavailableError with a Retry-After. The adapter
 * owns those retries: build the client with `maxAttempts: 1`, or the SDK's own retries multiply them.
 */
import { randomUUID } from 'node:crypto';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { NotFoundError, QueryError, SluiceError, UnavailableError } from '../../domain/errors.js';
import { TABLE_NAME } from '../../domain/schema.js';
import { trinoDateLiteral, trinoDialect, trinoLiteral, trinoTimestampLiteral } from '../../domain/query/dialects/trino.js';
import { TENANT_PATTERN } from '../../domain/tenant.js';
import { textOf } from '../../domain/text.js';
import type { QueryEngine, QueryPage, QueryStats, QueryStatus, ScopedQuery } from '../../ports/query-engine.js';
import { convertValue } from './athena-values.js';
import { logsSelectList } from './trino-schema.js';

export interface AthenaQueryEngineDeps {
  client: AthenaClient;
  /** the stack's workgroup: result location, encryption and the per-query scan cutoff live there */
  workgroup: string;
  /** the Glue database and table over the event layout (partition projection on tenant, dt, hour) */
  database: string;
  table: string;
  /**
   * The least time between two GetQueryExecution calls for the same running query; status() answers from
   * the last one in between, so a caller polling fast does not spend the account's API rate. Default 200.
   */
  pollMs?: number;
  /** retries of a throttled call before giving up with UnavailableError (default 5) */
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The first backoff ceiling and the largest one; each retry waits a random time up to its ceiling. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 5_000;
/** Limits from the StartQueryExecution API reference. */
const MAX_QUERY_BYTES = 262_144;
const MAX_PARAMETER_CHARS = 1024;
/** GetQueryResults returns at most this many rows a call. */
const MAX_RESULTS = 1000;
const THROTTLING = new Set(['TooManyRequestsException', 'ThrottlingException']);
const IDENTIFIER = /^[A-Za-z0-9_-]{1,255}$/;
const EXECUTION_ID = /^[A-Za-z0-9-]{1,128}$/;
const MS_PER_HOUR = 3_600_000;
/** Lines the engine writes before the sender's SQL (see buildSql); Athena's error positions are shifted back by these. */
const SCOPE_LINES = 7;

/**
 * The Trino grammar (trino-sql-guard.ts over dt-sql-parser: most of the query and alert bundles, and tens
 * of ms to build its ATN) is loaded when the first query starts, not at cold start: a cold function that
 * only polls, pages or cancels never builds it, nor an alert run with no rule due. esbuild still bundles
 * it (one file), but evaluates it only on this import.
 */
type TrinoGuard = typeof import('./trino-sql-guard.js');
let trinoGuard: Promise<TrinoGuard> | undefined;
const loadTrinoGuard = (): Promise<TrinoGuard> => (trinoGuard ??= import('./trino-sql-guard.js'));

/** Athena's messages can name bucket paths and ARNs; the caller needs neither. */
function redact(message: string): string {
  return message.replace(/s3a?:\/\/[^\s'"),]+/g, '<object>').replace(/arn:aws[\w-]*:[^\s'"),]+/g, '<arn>');
}

/** Athena counts lines of the SQL it ran; the sender's SQL starts SCOPE_LINES + 1 lines in. */
function senderPositions(message: string): string {
  return message.replace(/\bline (\d+):(\d+)/g, (all, line: string, column: string) =>
    Number(line) > SCOPE_LINES ? `line ${Number(line) - SCOPE_LINES}:${column}` : all,
  );
}

function isScanCutoff(reason: string | undefined): boolean {
  return /bytes scanned limit was exceeded/i.test(reason ?? '');
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}

function statsOf(execution: QueryExecution, rows: number): QueryStats {
  const s = execution.Statistics;
  return { rows, bytesScanned: s?.DataScannedInBytes ?? 0, elapsedMs: s?.TotalExecutionTimeInMillis ?? 0 };
}

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null ? textOf((err as { name?: unknown }).name ?? '') : '';
}

function errorMessage(err: unknown): string {
  return redact(String((err as { message?: unknown })?.message ?? err));
}

export class AthenaQueryEngine implements QueryEngine {
  readonly dialect = trinoDialect;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly pollMs: number;
  private readonly source: string;
  /** the last GetQueryExecution answer per running query, for pollMs */
  private readonly recent = new Map<string, { at: number; execution: QueryExecution }>();

  constructor(private readonly deps: AthenaQueryEngineDeps) {
    for (const key of ['workgroup', 'database', 'table'] as const) {
      if (!IDENTIFIER.test(deps[key])) throw new Error(`AthenaQueryEngine: ${key} ${JSON.stringify(deps[key])} is not a valid Athena name`);
    }
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxRetries = deps.maxRetries ?? 5;
    this.pollMs = deps.pollMs ?? 200;
    this.source = `${trinoDialect.quoteIdentifier(deps.database)}.${trinoDialect.quoteIdentifier(deps.table)}`;
  }

  /** The SQL Athena runs and its ExecutionParameters, engine values first, then the query's in text order. */
  private buildSql(q: ScopedQuery, { prepareSelect }: TrinoGuard): { sql: string; params: string[] } {
    if (!TENANT_PATTERN.test(q.tenant)) throw new QueryError(`invalid tenant id ${JSON.stringify(q.tenant.slice(0, 80))}`);
    if (!Number.isFinite(q.startMs) || !Number.isFinite(q.endMs) || q.endMs <= q.startMs) {
      throw new QueryError('the time range is empty: start must be before end');
    }
    if (!Number.isInteger(q.limit) || q.limit < 1) throw new QueryError('limit must be a positive integer');
    if (!q.trusted && q.params.length > 0) throw new QueryError('query parameters are not supported in sql; write the values inline');

    if (Buffer.byteLength(q.sql, 'utf8') > MAX_QUERY_BYTES) throw new QueryError(`the query is longer than Athena accepts (${MAX_QUERY_BYTES} bytes)`);
    const statement = prepareSelect(q.sql, { trusted: q.trusted, limit: q.limit });
    if (statement.placeholders !== q.params.length) {
      throw new QueryError(`the query has ${statement.placeholders} placeholders but ${q.params.length} values were given`);
    }

    // Partition predicates Athena's projection can prune with. The first and last hour the range touches:
    const firstHour = Math.floor(q.startMs / MS_PER_HOUR) * MS_PER_HOUR;
    const lastHour = Math.floor((q.endMs - 1) / MS_PER_HOUR) * MS_PER_HOUR;
    const firstDay = trinoDateLiteral(firstHour);
    const lastDay = trinoDateLiteral(lastHour);
    const h1 = new Date(firstHour).getUTCHours();
    const h2 = new Date(lastHour).getUTCHours();
    const params: string[] = [firstDay, lastDay];
    let hours: string;
    if (firstDay === lastDay) {
      hours = '"hour" BETWEEN ? AND ?';
      params.push(String(h1), String(h2));
    } else {
      // Several days: every hour of the days between, from h1 on the first day, up to h2 on the last.
      hours = '("dt" > ? OR "hour" >= ?) AND ("dt" < ? OR "hour" <= ?)';
      params.push(firstDay, String(h1), lastDay, String(h2));
    }
    params.push(trinoTimestampLiteral(q.startMs), trinoTimestampLiteral(q.endMs));

    // The tenant is inlined, not a parameter. Its projection type is `injected`, which Athena documents as
    // needing "literals or expressions that can be evaluated without reading any data" in static equality
    // conditions; it does not say whether an ExecutionParameter counts, and a wrong guess fails every
    // query (CONSTRAINT_VIOLATION). TENANT_PATTERN (checked above) admits only [a-z0-9_-], so the quoted
    // literal cannot carry anything but the tenant id.
    const lines = [
      `WITH${statement.recursive ? ' RECURSIVE' : ''} ${TABLE_NAME} AS (`,
      `  SELECT ${logsSelectList()}`,
      `  FROM ${this.source}`,
      `  WHERE "tenant" = ${trinoDialect.quoteString(q.tenant)}`,
      `    AND "dt" BETWEEN ? AND ? AND ${hours}`,
      `    AND "ts" >= ? AND "ts" < ?`,
      `)`,
    ];
    if (lines.length !== SCOPE_LINES) throw new Error('SCOPE_LINES is out of date');
    // The sender's text starts on a line of its own, so its lines and columns keep their numbers.
    const sql = `${lines.join('\n')}${statement.hasCtes ? ',' : ''}\n${statement.text}`;

    // ExecutionParameters are literals, strings in single quotes (trinoLiteral), not raw values.
    const literals = [...params, ...q.params.map(trinoLiteral)];
    for (const literal of literals) {
      if (literal.length > MAX_PARAMETER_CHARS) {
        throw new QueryError(`a value in the query is ${literal.length} characters long; Athena takes at most ${MAX_PARAMETER_CHARS} per value`);
      }
    }
    if (Buffer.byteLength(sql, 'utf8') > MAX_QUERY_BYTES) throw new QueryError(`the query is longer than Athena accepts (${MAX_QUERY_BYTES} bytes)`);
    return { sql, params: literals };
  }

  async start(q: ScopedQuery): Promise<string> {
    const { sql, params } = this.buildSql(q, await loadTrinoGuard());
    // One token for all retries of this start: a retried call cannot start the query twice.
    const token = randomUUID();
    const out = await this.call('StartQueryExecution', () =>
      this.deps.client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          ExecutionParameters: params,
          QueryExecutionContext: { Database: this.deps.database },
          WorkGroup: this.deps.workgroup,
          ClientRequestToken: token,
        }),
      ),
    );
    if (!out.QueryExecutionId) throw new SluiceError('Athena started the query but returned no execution id');
    return out.QueryExecutionId;
  }

  async status(id: string): Promise<QueryStatus> {
    const execution = await this.execution(id, true);
    const stats = statsOf(execution, 0);
    const reason = execution.Status?.StateChangeReason ?? execution.Status?.AthenaError?.ErrorMessage;
    const state = execution.Status?.State;
    // The workgroup's per-query cutoff cancels the query (engine v3 reports CANCELLED, older FAILED).
    if ((state === 'FAILED' || state === 'CANCELLED') && isScanCutoff(reason)) {
      const scanned = stats.bytesScanned > 0 ? ` (stopped after ${formatBytes(stats.bytesScanned)})` : '';
      return {
        state: 'failed',
        error: `the query scanned more data than this workgroup allows per query${scanned}; narrow the time range or add filters (service, level, a search term) so it reads less`,
        stats,
      };
    }
    switch (state) {
      case 'SUCCEEDED':
        return { state: 'succeeded', stats };
      case 'FAILED':
        return { state: 'failed', error: `the query failed: ${senderPositions(redact(reason ?? 'Athena gave no reason'))}`, stats };
      case 'CANCELLED':
        return { state: 'cancelled', error: 'the query was cancelled', stats };
      default:
        // QUEUED, RUNNING
        return { state: 'running', stats };
    }
  }

  async page(id: string, pageToken: string | undefined, pageSize: number): Promise<QueryPage> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new QueryError('page size must be a positive integer');
    const execution = await this.execution(id, false);
    const state = execution.Status?.State;
    if (state !== 'SUCCEEDED') {
      throw new QueryError(
        state === 'QUEUED' || state === 'RUNNING'
          ? 'the query has not finished yet; ask again shortly'
          : `the query ${String(state).toLowerCase()}; it has no results`,
      );
    }
    const first = pageToken === undefined;
    const out = await this.call('GetQueryResults', () =>
      this.deps.client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          NextToken: pageToken,
          // The first page starts with the header row, so ask for one more.
          MaxResults: Math.min(first ? pageSize + 1 : pageSize, MAX_RESULTS),
        }),
      ),
    );
    const info = out.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    const raw = out.ResultSet?.Rows ?? [];
    const rows = (first ? raw.slice(1) : raw).map((row) => info.map((column, i) => convertValue(row.Data?.[i]?.VarCharValue, column.Type)));
    return {
      columns: info.map((c) => ({ name: c.Label ?? c.Name ?? '', type: c.Type ?? 'varchar' })),
      rows,
      ...(out.NextToken ? { nextToken: out.NextToken } : {}),
      stats: statsOf(execution, rows.length),
    };
  }

  async cancel(id: string): Promise<void> {
    if (!EXECUTION_ID.test(id)) throw new NotFoundError('no such query');
    this.recent.delete(id);
    await this.call('StopQueryExecution', () => this.deps.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })));
  }

  private async execution(id: string, mayReuse: boolean): Promise<QueryExecution> {
    if (!EXECUTION_ID.test(id)) throw new NotFoundError('no such query');
    const cached = this.recent.get(id);
    if (mayReuse && cached && performance.now() - cached.at < this.pollMs) return cached.execution;
    const out = await this.call('GetQueryExecution', () => this.deps.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id })));
    const execution = out.QueryExecution;
    if (!execution) throw new NotFoundError('no such query');
    const state = execution.Status?.State;
    this.recent.delete(id);
    if (state === 'QUEUED' || state === 'RUNNING') {
      this.recent.set(id, { at: performance.now(), execution });
      if (this.recent.size > 1000) this.recent.delete(this.recent.keys().next().value!);
    }
    return execution;
  }

  /** Runs one Athena call: throttling retried with full jitter, every error translated. */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (err) {
        const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
        if (!THROTTLING.has(errorName(err))) throw translate(err, operation);
        if (attempt >= this.maxRetries) {
          const busy =
            (err as { Reason?: string }).Reason === 'CONCURRENT_QUERY_LIMIT_EXCEEDED'
              ? 'Athena is already running as many queries as this account allows'
              : 'Athena is throttling requests';
          throw new UnavailableError(`${busy}; try again in a few seconds`, Math.max(1, Math.ceil(ceiling / 1000)), { cause: err });
        }
        await this.sleep(Math.random() * ceiling);
      }
    }
  }
}

/** An Athena SDK error as one of Sluice's errors, so no SDK exception leaves this adapter. */
function translate(err: unknown, operation: string): Error {
  if (err instanceof SluiceError) return err;
  const name = errorName(err);
  const message = errorMessage(err);
  switch (name) {
    case 'InvalidRequestException':
      if (operation === 'StartQueryExecution') return new QueryError(`Athena refused the query: ${senderPositions(message)}`, { cause: err });
      if (/not found|does not exist|unknown/i.test(message)) return new NotFoundError('no such query (Athena keeps query history for 45 days)', { cause: err });
      return new QueryError(`Athena refused the request: ${message}`, { cause: err });
    case 'InternalServerException':
      return new UnavailableError('Athena had an internal error; try again', 1, { cause: err });
    case 'TimeoutError':
    case 'NetworkingError':
      return new UnavailableError('Athena could not be reached; try again', 1, { cause: err });
    default: {
      const code = (err as { code?: unknown })?.code;
      if (typeof code === 'string' && /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(code)) {
        return new UnavailableError('Athena could not be reached; try again', 1, { cause: err });
      }
      // Access, configuration (unknown workgroup or database) and anything unforeseen: a server error.
      return new SluiceError(`Athena ${operation} failed: ${message}`, { cause: err });
    }
  }
}
