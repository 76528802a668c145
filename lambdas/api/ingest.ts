import { bodyKindOf, type DecodedRecord, type Multiline } from '../../shared/domain/decode-body.js';
import { isValidZone } from '../../shared/domain/normalize/zone.js';
import { BadRequestError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../shared/domain/errors.js';
import type { Principal } from '../../shared/domain/principal.js';
import { isPlainObject, recordFromJsonValue } from '../../shared/domain/shippers/common.js';
import { ES_PRODUCT_HEADER, bulkResponse, decodeBulk, esRootInfo } from '../../shared/domain/shippers/elasticsearch.js';
import { decodeGelf, gelfBodyText } from '../../shared/domain/shippers/gelf.js';
import { decodeLokiPush } from '../../shared/domain/shippers/loki.js';
import { OTLP_EXPECTED, decodeOtlpLogs, isOtlpLogsRequest, otlpResponse } from '../../shared/domain/shippers/otlp.js';
import { decodeProtonIngest } from '../../shared/domain/shippers/proton.js';
import { HEC_CODES, HEC_SUCCESS, decodeHecEvents, decodeHecRaw, type HecParams } from '../../shared/domain/shippers/splunk-hec.js';
import type { Logger } from '../../shared/ports/logger.js';
import { MAX_LISTED_REJECTIONS, type IngestResult, type IngestService } from '../../shared/services/ingest.js';
import {
  DECOMPRESSED_FACTOR,
  bodyBytes,
  errorResponse,
  header,
  json,
  principalOf,
  requireScope,
  type ApiEvent,
  type ApiHandler,
  type ApiResult,
} from '../runtime/http.js';

export interface IngestHandlerDeps {
  ingest: IngestService;
  logger: Logger;
  maxBodyBytes: number;
}

const MAX_PARAM_LENGTH = 256;
const RECEIPT_HEADER = 'x-sluice-receipt';

function param(event: ApiEvent, name: string): string | undefined {
  const v = event.queryStringParameters?.[name];
  if (v === undefined || v === '') return undefined;
  if (v.length > MAX_PARAM_LENGTH) throw new BadRequestError(`query parameter ${name} is longer than ${MAX_PARAM_LENGTH} characters`);
  return v;
}

/** ?tz=: the zone for times written without one ('+02:00' or an IANA name). */
function zoneParam(event: ApiEvent): string | undefined {
  const tz = param(event, 'tz');
  if (tz !== undefined && !isValidZone(tz)) throw new BadRequestError(`tz ${JSON.stringify(tz)} is not a time zone: use an offset such as +02:00 or an IANA name such as Europe/Berlin`);
  return tz;
}

/** ?multiline=: 'auto' (default), 'off', or a regex matching the first line of an event. */
function multilineParam(event: ApiEvent): Multiline | undefined {
  const v = param(event, 'multiline');
  if (v === undefined || v === 'auto' || v === 'off') return v;
  try {
    return new RegExp(v);
  } catch (err) {
    throw new BadRequestError(`multiline is not a regular expression: ${(err as Error).message}`);
  }
}

/** The /v1/logs reply lists at most MAX_LISTED_REJECTIONS rejections; rejectedCount has them all. */
function listed(result: IngestResult): IngestResult {
  return result.rejected.length > MAX_LISTED_REJECTIONS ? { ...result, rejected: result.rejected.slice(0, MAX_LISTED_REJECTIONS) } : result;
}

function mediaType(event: ApiEvent): string {
  return (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

const isProtobuf = (type: string) => type === 'application/x-protobuf' || type === 'application/protobuf';

/** The body as sent, without applying Content-Encoding (GELF bodies are sniffed instead). */
function rawBody(event: ApiEvent, maxBytes: number): Buffer {
  const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > maxBytes) throw new PayloadTooLargeError(`request body is ${raw.length} bytes; the limit is ${maxBytes}`);
  return raw;
}

/** True when the body's first character (after a BOM and whitespace) is `{`. */
function startsWithObject(body: string): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0xfeff || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    return c === 0x7b;
  }
  return false;
}

/** `{"logs":[…]}`, the wrapper pino-http-send (and others) put around a batch. */
function logsWrapper(doc: unknown): unknown[] | undefined {
  if (!isPlainObject(doc)) return undefined;
  const keys = Object.keys(doc);
  return keys.length === 1 && keys[0] === 'logs' && Array.isArray(doc['logs']) ? doc['logs'] : undefined;
}

/** The HEC status code for an error status, as Splunk clients read it. */
function hecCode(status: number, message: string): number {
  if (status === 503) return HEC_CODES.serverBusy;
  if (status >= 500) return 8;
  if (/No data/.test(message)) return HEC_CODES.noData;
  if (/Event field is required/.test(message)) return HEC_CODES.eventRequired;
  if (/Event field cannot be blank/.test(message)) return HEC_CODES.eventBlank;
  return HEC_CODES.invalidDataFormat;
}

type Protocol = 'sluice' | 'otlp' | 'elasticsearch' | 'splunk' | 'loki' | 'gelf' | 'proton';

/** The error response in the shape each protocol's clients read, on top of Sluice's {error, message}. */
function protocolError(protocol: Protocol, result: ApiResult): ApiResult {
  if (protocol === 'elasticsearch') return { ...result, headers: { ...result.headers, ...ES_PRODUCT_HEADER } };
  if (protocol === 'splunk') {
    const body = JSON.parse(result.body ?? '{}') as { message?: string };
    const status = result.statusCode ?? 500;
    return { ...result, body: JSON.stringify({ text: body.message ?? 'error', code: hecCode(status, body.message ?? ''), ...body }) };
  }
  return result;
}

/**
 * Replies for protocols whose clients treat any non-2xx as "nothing was stored" and a 2xx as "everything
 * was": when some events were rejected, say so with a 400 that also tells the others were stored.
 */
function partialFailure(result: IngestResult): ApiResult {
  const first = result.rejected[0]?.reason ?? '';
  return json(
    400,
    {
      error: 'bad_request',
      message: `${result.rejectedCount} event(s) were rejected and ${result.accepted} stored; first reason: ${first}`,
      ...result,
    },
    { [RECEIPT_HEADER]: result.receipt },
  );
}

/**
 * Every ingest route: `POST /v1/logs` (NDJSON, JSON, text; OTLP JSON and `{"logs":[…]}` recognised by
 * their body) and the endpoints of the shippers people already run (OTLP, Elasticsearch bulk, Splunk
 * HEC, Loki, GELF, Proton). Each decodes its protocol into records and replies the way its clients expect.
 */
export function makeIngestHandler({ ingest, logger, maxBodyBytes }: IngestHandlerDeps): ApiHandler {
  const text = (event: ApiEvent) => bodyBytes(event, maxBodyBytes).toString('utf8');
  const defaultsOf = (event: ApiEvent) => ({
    service: param(event, 'service'),
    host: param(event, 'host'),
    source: param(event, 'source'),
    tags: param(event, 'tags')?.split(',').map((t) => t.trim()).filter(Boolean),
    tz: zoneParam(event),
  });
  /** Stores decoded records; undefined when there were none (an empty OTLP or Loki push is valid). */
  const store = async (principal: Principal, records: readonly DecodedRecord[], event?: ApiEvent): Promise<IngestResult | undefined> => {
    if (records.length === 0) return undefined;
    return ingest.ingestRecords({ tenant: principal.tenant, records, defaults: event ? defaultsOf(event) : {} });
  };
  const receiptHeader = (result: IngestResult | undefined): Record<string, string> => (result ? { [RECEIPT_HEADER]: result.receipt } : {});

  const otlpReply = (result: IngestResult | undefined): ApiResult =>
    json(200, result ? otlpResponse(result.rejectedCount, result.rejected) : {}, receiptHeader(result));

  const routes: Record<string, { protocol: Protocol; handle: (event: ApiEvent, principal: Principal) => Promise<ApiResult> }> = {
    'POST /v1/logs': {
      protocol: 'sluice',
      handle: async (event, principal) => {
        const type = mediaType(event);
        if (isProtobuf(type)) {
          throw new UnsupportedMediaTypeError('OTLP/protobuf is not accepted: set the exporter to OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json)');
        }
        const kind = bodyKindOf(header(event, 'content-type'));
        const body = text(event);
        if ((kind === 'json' || kind === 'sniff') && startsWithObject(body)) {
          // Shippers that post a wrapper object to the generic endpoint: OTLP exporters (4318 is
          // OTLP/HTTP's port and /v1/logs its path) and pino-http-send's {"logs":[…]}.
          let doc: unknown;
          try {
            doc = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
          } catch {
            doc = undefined; // not one JSON document (NDJSON, or broken): the generic decoder explains
          }
          if (isOtlpLogsRequest(doc)) return otlpReply(await store(principal, decodeOtlpLogs(doc), event));
          const wrapped = logsWrapper(doc);
          if (wrapped) {
            if (wrapped.length === 0) throw new BadRequestError('"logs" is an empty array: nothing to ingest');
            const records = wrapped.map((v, i) => recordFromJsonValue(v, i, `logs[${i}]`));
            const result = await store(principal, records, event);
            return json(202, result && listed(result), receiptHeader(result));
          }
        }
        const result = await ingest.ingest({ tenant: principal.tenant, body, kind, defaults: defaultsOf(event), multiline: multilineParam(event) });
        return json(202, listed(result), { [RECEIPT_HEADER]: result.receipt });
      },
    },

    'POST /otlp/v1/logs': {
      protocol: 'otlp',
      handle: async (event, principal) => {
        const type = mediaType(event);
        if (isProtobuf(type)) {
          throw new UnsupportedMediaTypeError('OTLP/protobuf is not accepted: set the exporter to OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json)');
        }
        if (type !== '' && type !== 'application/json' && !type.endsWith('+json')) {
          throw new UnsupportedMediaTypeError(`content type ${type} is not accepted here; send ${OTLP_EXPECTED} as application/json`);
        }
        const body = text(event);
        let doc: unknown;
        try {
          doc = JSON.parse(body);
        } catch (err) {
          throw new BadRequestError(`body is not valid JSON (${(err as Error).message}); send ${OTLP_EXPECTED}`);
        }
        return otlpReply(await store(principal, decodeOtlpLogs(doc), event));
      },
    },

    'GET /': { protocol: 'elasticsearch', handle: async () => json(200, esRootInfo(), { ...ES_PRODUCT_HEADER }) },
    'HEAD /': { protocol: 'elasticsearch', handle: async () => json(200, esRootInfo(), { ...ES_PRODUCT_HEADER }) },
    'POST /_bulk': { protocol: 'elasticsearch', handle: (event, principal) => bulk(event, principal) },
    'POST /{index}/_bulk': { protocol: 'elasticsearch', handle: (event, principal) => bulk(event, principal) },

    'POST /services/collector': { protocol: 'splunk', handle: (event, principal) => hec(event, principal, 'event') },
    'POST /services/collector/event': { protocol: 'splunk', handle: (event, principal) => hec(event, principal, 'event') },
    'POST /services/collector/event/1.0': { protocol: 'splunk', handle: (event, principal) => hec(event, principal, 'event') },
    'POST /services/collector/raw': { protocol: 'splunk', handle: (event, principal) => hec(event, principal, 'raw') },
    'POST /services/collector/raw/1.0': { protocol: 'splunk', handle: (event, principal) => hec(event, principal, 'raw') },
    'GET /services/collector/health': { protocol: 'splunk', handle: async () => json(200, { text: 'HEC is healthy', code: 17 }) },
    'GET /services/collector/health/1.0': { protocol: 'splunk', handle: async () => json(200, { text: 'HEC is healthy', code: 17 }) },

    'POST /loki/api/v1/push': {
      protocol: 'loki',
      handle: async (event, principal) => {
        if (isProtobuf(mediaType(event))) {
          throw new UnsupportedMediaTypeError('Loki protobuf (snappy) pushes are not accepted: send the push API\'s JSON form with content-type application/json');
        }
        const result = await store(principal, decodeLokiPush(text(event)), event);
        if (result && result.rejectedCount > 0) return partialFailure(result);
        return { statusCode: 204, headers: receiptHeader(result) };
      },
    },

    'POST /gelf': {
      protocol: 'gelf',
      handle: async (event, principal) => {
        const body = gelfBodyText(rawBody(event, maxBodyBytes), maxBodyBytes * DECOMPRESSED_FACTOR);
        const result = await store(principal, decodeGelf(body), event);
        if (result && result.rejectedCount > 0) return partialFailure(result);
        // Graylog answers 202 with an empty body; GELF HTTP clients check for exactly that status.
        return { statusCode: 202, headers: receiptHeader(result) };
      },
    },

    'POST /proton/v1/ingest/streams/{stream}': {
      protocol: 'proton',
      handle: async (event, principal) => {
        const format = param(event, 'format');
        if (format !== undefined && format !== 'compact') {
          throw new BadRequestError(`format=${format} is not supported; send the compact format {"columns":[…],"data":[[…]]}`);
        }
        const records = decodeProtonIngest(text(event), event.pathParameters?.['stream'] ?? '');
        return json(202, await store(principal, records, event));
      },
    },
  };

  async function bulk(event: ApiEvent, principal: Principal): Promise<ApiResult> {
    const started = Date.now();
    const ops = decodeBulk(text(event), event.pathParameters?.['index']);
    const records = ops.map((op) => op.record);
    let result: IngestResult | undefined;
    // A bulk request whose every document is bad is still answered 200 with per-item errors, as ES does.
    if (records.some((r) => r.kind !== 'error')) result = await store(principal, records);
    // result.rejected has every rejection, so each item gets its own status.
    const rejected = new Map((result?.rejected ?? []).map((r) => [r.index, r.reason]));
    const reply = bulkResponse(ops, { receipt: result?.receipt, rejected, tookMs: Date.now() - started });
    return json(200, reply, { ...ES_PRODUCT_HEADER, ...receiptHeader(result) });
  }

  async function hec(event: ApiEvent, principal: Principal, endpoint: 'event' | 'raw'): Promise<ApiResult> {
    const params: HecParams = { host: param(event, 'host'), source: param(event, 'source'), sourcetype: param(event, 'sourcetype'), index: param(event, 'index') };
    const body = text(event);
    const records = endpoint === 'raw' ? decodeHecRaw(body, params) : decodeHecEvents(body, params);
    const result = (await store(principal, records))!;
    const extra = result.rejectedCount > 0 ? { rejected: listed(result).rejected, rejectedCount: result.rejectedCount } : {};
    return json(200, { ...HEC_SUCCESS, ...extra }, receiptHeader(result));
  }

  return async (event) => {
    // An event without a route key (a direct invocation) is the generic endpoint.
    const route = routes[event.routeKey ?? 'POST /v1/logs'];
    try {
      if (!route) throw new NotFoundError(`no ingest route ${event.routeKey}`);
      const principal = principalOf(event);
      requireScope(principal, 'ingest');
      return await route.handle(event, principal);
    } catch (err) {
      return protocolError(route?.protocol ?? 'sluice', errorResponse(err, logger, event.requestContext?.requestId));
    }
  };
}
