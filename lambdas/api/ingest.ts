import { NotFoundError } from '../../shared/domain/errors.js';
import { ROUTES, routeKeyOf, type IngestProtocol } from '../../shared/domain/routes.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { IngestService } from '../../shared/services/ingest.js';
import { systemClock } from '../../shared/ports/clock.js';
import { makeRefusalLog, type RefusalLog } from '../../shared/services/refusals.js';
import { errorResponse, principalOf, requireScope, takeRequest, type ApiHandler, type ApiResult } from '../runtime/api-gateway.js';
import { elasticsearchBulk, elasticsearchInfo } from './protocols/elasticsearch.js';
import { gelf } from './protocols/gelf.js';
import { logs } from './protocols/logs.js';
import { loki } from './protocols/loki.js';
import { otlp } from './protocols/otlp.js';
import { proton } from './protocols/proton.js';
import type { IngestCall, IngestProtocolHandler } from './protocols/request.js';
import { splunkHecEvent, splunkHecHealth, splunkHecRaw } from './protocols/splunk-hec.js';

export interface IngestHandlerDeps {
  ingest: IngestService;
  logger: Logger;
  maxBodyBytes: number;
  /** Per-tenant request rate limits (AWS: DynamoDB); absent: none. */
  limiter?: RateLimiter | undefined;
  /** where refusals of a shipper's data are reported (default: the logger, a line per kind per minute) */
  refusals?: RefusalLog;
}

/** A refusal's error code and reason, from the reply Sluice built ({error, message, rejected?}). */
function refusalOf(reply: ApiResult): { error: string; reason: string } {
  try {
    const body = JSON.parse(reply.body ?? '') as { error?: unknown; message?: unknown; rejected?: { reason?: unknown }[] };
    const message = typeof body.message === 'string' ? body.message : '';
    const first = body.rejected?.[0]?.reason;
    // "all 12 events were rejected" says little: the first event's reason says what to fix.
    const reason = typeof first === 'string' && !message.includes(first) ? `${message}; first: ${first}` : message;
    return { error: typeof body.error === 'string' ? body.error : 'refused', reason };
  } catch {
    return { error: 'refused', reason: '' };
  }
}

/** One handler per protocol an ingest route names in ROUTES (shared/domain/routes.ts). */
const PROTOCOLS: Record<IngestProtocol, IngestProtocolHandler> = {
  logs,
  otlp,
  'elasticsearch-info': elasticsearchInfo,
  'elasticsearch-bulk': elasticsearchBulk,
  'splunk-hec-event': splunkHecEvent,
  'splunk-hec-raw': splunkHecRaw,
  'splunk-hec-health': splunkHecHealth,
  loki,
  gelf,
  proton,
};

/** Route key → its protocol's handler, for every ingest route. */
const BY_ROUTE_KEY = new Map(ROUTES.flatMap((r) => (r.target === 'ingest' ? [[routeKeyOf(r), PROTOCOLS[r.protocol]] as const] : [])));

/**
 * Every ingest route: `POST /v1/logs` and the endpoints of the shippers people already run (OTLP,
 * Elasticsearch bulk, Splunk HEC, Loki, GELF, Proton). The route's protocol decodes the request into
 * records, and shapes the reply, errors included, the way its clients expect.
 */
export function makeIngestHandler({
  ingest,
  logger,
  maxBodyBytes,
  limiter,
  refusals = makeRefusalLog({ logger, clock: systemClock }),
}: IngestHandlerDeps): ApiHandler {
  return async (event) => {
    // An event without a route key (a direct invocation) is the generic endpoint.
    const routeKey = event.routeKey ?? 'POST /v1/logs';
    const protocol = BY_ROUTE_KEY.get(routeKey);
    const rejected: IngestCall['rejected'] = { count: 0 };
    let reply: ApiResult;
    let sluiceReply: ApiResult | undefined;
    try {
      if (!protocol) throw new NotFoundError(`no ingest route ${event.routeKey}`);
      const principal = principalOf(event);
      requireScope(principal, 'ingest');
      await takeRequest(limiter, principal);
      reply = await protocol.handle({ event, principal, ingest, maxBodyBytes, rejected });
    } catch (err) {
      sluiceReply = errorResponse(err, logger, event.requestContext?.requestId);
      reply = protocol?.errorReply ? protocol.errorReply(sluiceReply, err) : sluiceReply;
    }
    // The shipper alone learns from the reply that its data was refused: tell the operator too (a 500 is
    // already logged as an error).
    const status = reply.statusCode ?? 200;
    const common = {
      route: routeKey,
      tenant: event.requestContext?.authorizer?.lambda?.tenant ?? '-',
      status,
      userAgent: event.requestContext?.http?.userAgent,
    };
    if (rejected.count > 0) {
      refusals.refused({ ...common, error: 'events_rejected', reason: rejected.firstReason ?? '', events: rejected.count });
    } else if (status >= 400 && status !== 500) {
      refusals.refused({ ...common, ...refusalOf(sluiceReply ?? reply) });
    }
    return reply;
  };
}
