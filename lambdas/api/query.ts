import * as z from 'zod';
import { BadRequestError, NotFoundError } from '../../shared/domain/errors.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { QueryService } from '../../shared/services/query.js';
import type { ReceiptService } from '../../shared/services/receipts.js';
import { bodyBytes, json, principalOf, requireScope, takeRequest, withErrors, type ApiEvent, type ApiHandler } from '../runtime/api-gateway.js';

export interface QueryHandlerDeps {
  queries: QueryService;
  receipts: ReceiptService;
  logger: Logger;
  /** Per-tenant request rate limits (AWS: DynamoDB); absent: none. */
  limiter?: RateLimiter | undefined;
}

/** Any JSON value: the time-range parser (shared/domain/time-range.ts) refuses what is not a time, naming the forms it takes. */
const time = z.unknown();
/** A query body is at most this large as sent (and 8× that decompressed); the query text itself is capped below. */
const MAX_QUERY_BODY_BYTES = 1024 * 1024;
const queryBody = z
  .object({
    sql: z.string().min(1).max(100_000).optional(),
    query: z.string().min(1).max(100_000).optional(),
    start: time.optional(),
    end: time.optional(),
    limit: z.number().int().optional(),
  })
  .strict();

function parseBody(event: ApiEvent): z.infer<typeof queryBody> {
  // Content-Encoding as on the ingest routes: gzip or deflate decoded, others refused with 415.
  const text = bodyBytes(event, MAX_QUERY_BODY_BYTES).toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BadRequestError('body must be a JSON object such as {"sql": "SELECT count(*) FROM logs", "start": "2024-05-01T00:00:00Z"}');
  }
  const parsed = queryBody.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new BadRequestError(`${i.path.join('.') || 'body'}: ${i.message}`);
  }
  return parsed.data;
}

/** POST /v1/query, GET /v1/query/{token} and GET /v1/receipts/{id}. */
export function makeQueryHandler({ queries, receipts, logger, limiter }: QueryHandlerDeps): ApiHandler {
  return withErrors(logger, async (event) => {
    const principal = principalOf(event);
    await takeRequest(limiter, principal);
    switch (event.routeKey) {
      case 'POST /v1/query': {
        const body = parseBody(event);
        if (body.query === undefined && body.sql === undefined) {
          throw new BadRequestError('send "query" (for example "filter level = \\"error\\" | stats count(*) by service") or "sql" (a SELECT over logs)');
        }
        // Raw SQL is for admins; the pipeline language is compiled by Sluice and needs only the query scope.
        if (body.sql !== undefined) requireScope(principal, 'admin');
        else requireScope(principal, 'query', 'admin');
        const answer = await queries.run({ tenant: principal.tenant, query: body.query, sql: body.sql, start: body.start, end: body.end, limit: body.limit });
        return json(answer.status === 'complete' ? 200 : 202, answer);
      }
      case 'GET /v1/query/{token}': {
        requireScope(principal, 'query', 'admin');
        const token = event.pathParameters?.['token'] ?? '';
        const next = event.queryStringParameters?.['nextToken'];
        const answer = await queries.results(principal.tenant, token, next);
        return json(answer.status === 'complete' ? 200 : 202, answer);
      }
      case 'GET /v1/receipts/{id}': {
        requireScope(principal, 'ingest', 'query');
        const id = event.pathParameters?.['id'] ?? '';
        return json(200, await receipts.get(principal.tenant, id));
      }
      default:
        throw new NotFoundError(`no route ${event.routeKey}`);
    }
  });
}
