/**
 * What every ingest protocol handler works with: the request, its principal and the ingest service, and
 * the readers of the parameters, headers and body they share.
 */
import { setFlagsFromString } from 'node:v8';
import type { Multiline } from '../../../shared/domain/shippers/logs.js';
import type { DecodedRecord } from '../../../shared/domain/shippers/common.js';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../../shared/domain/errors.js';
import { isValidZone } from '../../../shared/domain/normalize/zone.js';
import type { Principal } from '../../../shared/domain/principal.js';
import { MAX_LISTED_REJECTIONS, type IngestResult, type IngestService } from '../../../shared/services/ingest.js';
import { bodyBytes, header, json, type ApiEvent, type ApiResult } from '../../runtime/api-gateway.js';

/** One authorized ingest request. */
export interface IngestCall {
  readonly event: ApiEvent;
  readonly principal: Principal;
  readonly ingest: IngestService;
  readonly maxBodyBytes: number;
  /** Events of the request refused while others were stored: filled by store(), logged by the handler. */
  readonly rejected: { count: number; firstReason?: string | undefined };
}

/** Notes the events a stored request had refused, for the operator's log (see makeIngestHandler). */
export function noteRejected(call: IngestCall, result: IngestResult | undefined): void {
  if (!result || result.rejectedCount === 0) return;
  call.rejected.count += result.rejectedCount;
  call.rejected.firstReason ??= result.rejected[0]?.reason;
}

/** One protocol: decodes its requests into records, stores them, and replies the way its clients expect. */
export interface IngestProtocolHandler {
  handle(call: IngestCall): Promise<ApiResult>;
  /** Sluice's error reply ({error, message}) in the shape this protocol's clients read; default: as is. */
  errorReply?(reply: ApiResult, err: unknown): ApiResult;
}

const MAX_PARAM_LENGTH = 256;
export const RECEIPT_HEADER = 'x-sluice-receipt';

export function param(event: ApiEvent, name: string): string | undefined {
  const v = event.queryStringParameters?.[name];
  if (v === undefined || v === '') return undefined;
  if (v.length > MAX_PARAM_LENGTH) throw new BadRequestError(`query parameter ${name} is longer than ${MAX_PARAM_LENGTH} characters`);
  return v;
}

/** ?tz=: the zone for times written without one ('+02:00' or an IANA name). */
function zoneParam(event: ApiEvent): string | undefined {
  const tz = param(event, 'tz');
  if (tz !== undefined && !isValidZone(tz))
    throw new BadRequestError(`tz ${JSON.stringify(tz)} is not a time zone: use an offset such as +02:00 or an IANA name such as Europe/Berlin`);
  return tz;
}

// V8's linear-time regular expression engine, for the `l` flag below. A pattern from a request is tested
// against every line of the body: with backtracking, ?multiline=(a%2B)%2B%24 and one line of 40 a's and a !
// would hold the event loop (every tenant's ingest) for hours.
setFlagsFromString('--enable-experimental-regexp-engine');

/** ?multiline=: 'auto' (default), 'off', or a regex matching the first line of an event (run in linear time). */
export function multilineParam(event: ApiEvent): Multiline | undefined {
  const v = param(event, 'multiline');
  if (v === undefined || v === 'auto' || v === 'off') return v;
  try {
    // eslint-disable-next-line no-invalid-regexp -- 'l' is V8's linear-time engine, enabled above
    return new RegExp(v, 'l');
  } catch (err) {
    let valid = true;
    try {
      new RegExp(v);
    } catch {
      valid = false;
    }
    if (valid) {
      throw new BadRequestError(
        `multiline ${JSON.stringify(v)} needs backreferences or lookaround, which Sluice does not run (patterns run in linear time); match the line's start with plain groups, classes and quantifiers`,
      );
    }
    throw new BadRequestError(`multiline is not a regular expression: ${(err as Error).message}`);
  }
}

/** ?service=, ?host=, ?source=, ?tags=, ?tz=: what events that do not say get. */
export function defaultsOf(event: ApiEvent) {
  return {
    service: param(event, 'service'),
    host: param(event, 'host'),
    source: param(event, 'source'),
    tags: param(event, 'tags')
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    tz: zoneParam(event),
  };
}

export function mediaType(event: ApiEvent): string {
  return (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

const isProtobuf = (type: string) => type === 'application/x-protobuf' || type === 'application/protobuf';

/** Refuses a protobuf body with the given advice (Sluice takes the JSON form of every protocol). */
export function refuseProtobuf(type: string, advice: string): void {
  if (isProtobuf(type)) throw new UnsupportedMediaTypeError(advice);
}

export const OTLP_PROTOBUF_ADVICE = 'OTLP/protobuf is not accepted: set the exporter to OTLP/HTTP JSON (OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/json)';

/** The body as text, decompressed per Content-Encoding, within the limits. */
export function bodyText(call: IngestCall): string {
  return bodyBytes(call.event, call.maxBodyBytes).toString('utf8');
}

/** The body as sent, without applying Content-Encoding (GELF bodies are sniffed instead). */
export function rawBody(call: IngestCall): Buffer {
  const { event, maxBodyBytes } = call;
  const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > maxBodyBytes) throw new PayloadTooLargeError(`request body is ${raw.length} bytes; the limit is ${maxBodyBytes}`);
  return raw;
}

/**
 * Stores decoded records; undefined when there were none (an empty OTLP or Loki push is valid). With
 * `withDefaults`, events that do not name a service, host, … take the query parameters'.
 */
export async function store(call: IngestCall, records: readonly DecodedRecord[], { withDefaults = true } = {}): Promise<IngestResult | undefined> {
  if (records.length === 0) return undefined;
  const result = await call.ingest.ingestRecords({ tenant: call.principal.tenant, records, defaults: withDefaults ? defaultsOf(call.event) : {} });
  noteRejected(call, result);
  return result;
}

export function receiptHeader(result: IngestResult | undefined): Record<string, string> {
  return result ? { [RECEIPT_HEADER]: result.receipt } : {};
}

/** A reply lists at most MAX_LISTED_REJECTIONS rejections; rejectedCount has them all. */
export function listed(result: IngestResult): IngestResult {
  return result.rejected.length > MAX_LISTED_REJECTIONS ? { ...result, rejected: result.rejected.slice(0, MAX_LISTED_REJECTIONS) } : result;
}

/**
 * Replies for protocols whose clients treat any non-2xx as "nothing was stored" and a 2xx as "everything
 * was": when some events were rejected, say so with a 400 that also tells the others were stored.
 */
export function partialFailure(result: IngestResult): ApiResult {
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
