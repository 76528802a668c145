import { BadRequestError } from '../domain/errors.js';
import type { Clock } from '../ports/clock.js';
import type { QueryEngine, QueryResult } from '../ports/query-engine.js';
import { parseTimestampMicros } from '../domain/normalize/timestamp.js';

export const DEFAULT_RANGE_MS = 15 * 60_000;
export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 10_000;

export interface SqlQueryRequest {
  tenant: string;
  sql: string;
  start?: string | number | undefined;
  end?: string | number | undefined;
  limit?: number | undefined;
}

function toMs(value: string | number, name: string): number {
  const micros = parseTimestampMicros(value);
  if (micros === undefined) {
    throw new BadRequestError(`${name} ${JSON.stringify(value)} is not a time: use ISO 8601 (2024-05-01T12:00:00Z) or epoch milliseconds`);
  }
  return Math.floor(micros / 1000);
}

/** Resolves the time range (default: the last 15 minutes) and limit, then runs the query scoped to the tenant. */
export function makeQueryService({ engine, clock }: { engine: QueryEngine; clock: Clock }) {
  return {
    async runSql(req: SqlQueryRequest): Promise<QueryResult & { range: { start: string; end: string } }> {
      const now = clock.now();
      const endMs = req.end === undefined ? now : toMs(req.end, 'end');
      const startMs = req.start === undefined ? endMs - DEFAULT_RANGE_MS : toMs(req.start, 'start');
      if (startMs >= endMs) throw new BadRequestError('start must be before end');
      const limit = req.limit ?? DEFAULT_LIMIT;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw new BadRequestError(`limit must be an integer from 1 to ${MAX_LIMIT}`);
      }
      const result = await engine.run({ tenant: req.tenant, startMs, endMs, sql: req.sql, limit });
      return { ...result, range: { start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString() } };
    },
  };
}

export type QueryService = ReturnType<typeof makeQueryService>;
