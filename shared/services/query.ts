import { BadRequestError, QueryError } from '../domain/errors.js';
import { compilePipeline } from '../domain/query/compile.js';
import { signQueryToken, verifyQueryToken } from '../domain/query-token.js';
import { parseTimeRange } from '../domain/time-range.js';
import type { Clock } from '../ports/clock.js';
import type { QueryEngine, QueryPage, QueryStats, QueryStatus } from '../ports/query-engine.js';
import { QueryLimitError, UnavailableError } from '../domain/errors.js';
import { withAdmission, type QueryAdmission } from './query-admission.js';

export const DEFAULT_RANGE_MS = 15 * 60_000;
export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;
export const PAGE_SIZE = 1000;
const TOKEN_TTL_MS = 10 * 60_000;

export interface QueryRequest {
  tenant: string;
  /** the pipeline language */
  query?: string | undefined;
  /** raw SQL over `logs` (admin scope; checked by the engine) */
  sql?: string | undefined;
  /** ISO 8601, epoch ms, "now" or "-15m"; anything else is refused (shared/domain/time-range.ts) */
  start?: unknown;
  end?: unknown;
  limit?: number | undefined;
}

export interface QueryRange {
  start: string;
  end: string;
}

export type QueryAnswer =
  | ({ status: 'complete'; token: string; range: QueryRange } & Omit<QueryPage, 'stats'> & { stats: QueryStats & { rangeHours: number } })
  | { status: 'running'; token: string; range: QueryRange };

export interface QueryServiceDeps {
  engine: QueryEngine;
  clock: Clock;
  /** signs query tokens */
  tokenSecret: Buffer;
  /** how long a request waits for results before answering 202 with a token */
  waitBudgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Limits on the queries running at once (per tenant and in all); unset: none. */
  admission?: QueryAdmission | undefined;
}

/** A failed query's error, typed by why it failed (so a time limit is not reported like a syntax error). */
function failureOf(status: QueryStatus): Error {
  const message = status.error ?? `the query was ${status.state}`;
  switch (status.failure) {
    case 'time_limit':
      return new QueryLimitError(message, 'time');
    case 'memory_limit':
      return new QueryLimitError(message, 'memory');
    case 'result_limit':
      return new QueryLimitError(message, 'result');
    case 'unavailable':
      return new UnavailableError(message, 1);
    default:
      return new QueryError(message);
  }
}

/**
 * Runs a query (pipeline or SQL) for one tenant over a time range: resolves the range (default: the last
 * 15 minutes) and the limit, compiles the pipeline to the engine's dialect, starts it, and waits up to the
 * budget. Finished: the first page of rows. Still running: a signed token to poll.
 */
export function makeQueryService({
  engine: bare,
  clock,
  tokenSecret,
  waitBudgetMs = 3000,
  sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
  admission,
}: QueryServiceDeps) {
  const engine = admission ? withAdmission(bare, admission) : bare;
  const answer = async (
    id: string,
    token: string,
    range: QueryRange,
    rangeHours: number,
    nextToken: string | undefined,
    waitMs: number,
  ): Promise<QueryAnswer> => {
    const until = clock.now() + waitMs;
    let pause = 20;
    let status = await engine.status(id);
    while (status.state === 'running' && clock.now() < until) {
      // A local engine says when the query ends (no sleeping past it); a remote one is polled.
      const wait = Math.min(pause, Math.max(1, until - clock.now()));
      await (engine.settled ? engine.settled(id, wait) : sleep(wait));
      pause = Math.min(pause * 2, 250);
      status = await engine.status(id);
    }
    if (status.state === 'running') return { status: 'running', token, range };
    if (status.state !== 'succeeded') throw failureOf(status);
    const page = await engine.page(id, nextToken, PAGE_SIZE);
    return { status: 'complete', token, range, ...page, stats: { ...page.stats, rangeHours } };
  };

  return {
    async run(req: QueryRequest): Promise<QueryAnswer> {
      const now = clock.now();
      const { startMs, endMs } = parseTimeRange(req, now, DEFAULT_RANGE_MS);
      const limit = req.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new BadRequestError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
      if ((req.query === undefined) === (req.sql === undefined)) throw new BadRequestError('send either "query" (the pipeline language) or "sql", not both');

      const compiled =
        req.query !== undefined ? { ...compilePipeline(req.query, engine.dialect, limit), trusted: true } : { sql: req.sql!, params: [], trusted: false };
      const id = await engine.start({ tenant: req.tenant, startMs, endMs, sql: compiled.sql, params: compiled.params, limit, trusted: compiled.trusted });
      const token = signQueryToken({ id, tenant: req.tenant, start: startMs, end: endMs, exp: now + TOKEN_TTL_MS }, tokenSecret);
      const range = { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() };
      return answer(id, token, range, Math.round(((endMs - startMs) / 3_600_000) * 100) / 100, undefined, waitBudgetMs);
    },

    /** GET /v1/query/{token}: the state, or a page of rows, of a query this tenant started. */
    async results(tenant: string, token: string, nextToken?: string): Promise<QueryAnswer> {
      const payload = verifyQueryToken(token, tenant, tokenSecret, clock.now());
      const range = { start: new Date(payload.start).toISOString(), end: new Date(payload.end).toISOString() };
      return answer(payload.id, token, range, Math.round(((payload.end - payload.start) / 3_600_000) * 100) / 100, nextToken, 0);
    },
  };
}

export type QueryService = ReturnType<typeof makeQueryService>;
