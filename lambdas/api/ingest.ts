import { bodyKindOf } from '../../shared/domain/decode-body.js';
import { BadRequestError } from '../../shared/domain/errors.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { IngestService } from '../../shared/services/ingest.js';
import { bodyBytes, header, json, principalOf, requireScope, withErrors, type ApiEvent, type ApiHandler } from '../runtime/http.js';

export interface IngestHandlerDeps {
  ingest: IngestService;
  logger: Logger;
  maxBodyBytes: number;
}

const MAX_PARAM_LENGTH = 256;

function param(event: ApiEvent, name: string): string | undefined {
  const v = event.queryStringParameters?.[name];
  if (v === undefined || v === '') return undefined;
  if (v.length > MAX_PARAM_LENGTH) throw new BadRequestError(`query parameter ${name} is longer than ${MAX_PARAM_LENGTH} characters`);
  return v;
}

/** POST /v1/logs: NDJSON, JSON, or text lines → 202 with a receipt and per-event rejections. */
export function makeIngestHandler({ ingest, logger, maxBodyBytes }: IngestHandlerDeps): ApiHandler {
  return withErrors(logger, async (event) => {
    const principal = principalOf(event);
    requireScope(principal, 'ingest');
    const kind = bodyKindOf(header(event, 'content-type'));
    const body = bodyBytes(event, maxBodyBytes).toString('utf8');
    const tags = param(event, 'tags')?.split(',').map((t) => t.trim()).filter(Boolean);
    const result = await ingest.ingest({
      tenant: principal.tenant,
      body,
      kind,
      defaults: { service: param(event, 'service'), host: param(event, 'host'), source: param(event, 'source'), tags },
    });
    return json(202, result);
  });
}
