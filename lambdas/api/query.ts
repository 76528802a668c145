import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../../shared/domain/errors.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { QueryService } from '../../shared/services/query.js';
import type { ReceiptService } from '../../shared/services/receipts.js';
import { json, principalOf, requireScope, withErrors, type ApiEvent, type ApiHandler } from '../runtime/http.js';

export interface QueryHandlerDeps {
  queries: QueryService;
  receipts: ReceiptService;
  logger: Logger;
}

const time = z.union([z.string().min(1).max(64), z.number()]);
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
  const text = event.body === undefined ? '' : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
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

/** POST /v1/query and GET /v1/receipts/{id}. */
export function makeQueryHandler({ queries, receipts, logger }: QueryHandlerDeps): ApiHandler {
  return withErrors(logger, async (event) => {
    const principal = principalOf(event);
    switch (event.routeKey) {
      case 'POST /v1/query': {
        const body = parseBody(event);
        if (body.query !== undefined) {
          throw new BadRequestError('the pipeline query language is not available in this version yet; send {"sql": "SELECT … FROM logs"}');
        }
        if (body.sql === undefined) throw new BadRequestError('send "sql" with a SELECT over the table logs');
        requireScope(principal, 'admin');
        const result = await queries.runSql({ tenant: principal.tenant, sql: body.sql, start: body.start, end: body.end, limit: body.limit });
        return json(200, result);
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
