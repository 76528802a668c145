import { NotFoundError } from '../../shared/domain/errors.js';
import { ROUTES, routeKeyOf, type IngestProtocol } from '../../shared/domain/routes.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { IngestService } from '../../shared/services/ingest.js';
import { errorResponse, principalOf, requireScope, takeRequest, type ApiHandler } from '../runtime/api-gateway.js';
import { elasticsearchBulk, elasticsearchInfo } from './protocols/elasticsearch.js';
import { gelf } from './protocols/gelf.js';
import { logs } from './protocols/logs.js';
import { loki } from './protocols/loki.js';
import { otlp } from './protocols/otlp.js';
import { proton } from './protocols/proton.js';
import type { IngestProtocolHandler } from './protocols/request.js';
import { splunkHecEvent, splunkHecHealth, splunkHecRaw } from './protocols/splunk-hec.js';

export interface IngestHandlerDeps {
  ingest: IngestService;
  logger: Logger;
  maxBodyBytes: number;
  /** Per-tenant request rate limits (AWS: DynamoDB); absent: none. */
  limiter?: RateLimiter | undefined;
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
export function makeIngestHandler({ ingest, logger, maxBodyBytes, limiter }: IngestHandlerDeps): ApiHandler {
  return async (event) => {
    // An event without a route key (a direct invocation) is the generic endpoint.
    const protocol = BY_ROUTE_KEY.get(event.routeKey ?? 'POST /v1/logs');
    try {
      if (!protocol) throw new NotFoundError(`no ingest route ${event.routeKey}`);
      const principal = principalOf(event);
      requireScope(principal, 'ingest');
      await takeRequest(limiter, principal);
      return await protocol.handle({ event, principal, ingest, maxBodyBytes });
    } catch (err) {
      const reply = errorResponse(err, logger, event.requestContext?.requestId);
      return protocol?.errorReply ? protocol.errorReply(reply, err) : reply;
    }
  };
}
