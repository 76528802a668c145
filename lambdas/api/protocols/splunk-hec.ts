/**
 * Splunk HTTP Event Collector: `/services/collector[/event]`, `/services/collector/raw` and the health
 * check. Errors carry the HEC `code` and `text` Splunk clients read, beside Sluice's {error, message}.
 */
import type { DecodedRecord } from '../../../shared/domain/shippers/common.js';
import { HEC_CODES, HEC_SUCCESS, HecError, decodeHecEvents, decodeHecRaw, type HecCode, type HecParams } from '../../../shared/domain/shippers/splunk-hec.js';
import { AllEventsRejectedError } from '../../../shared/services/ingest.js';
import { json, type ApiResult } from '../../runtime/api-gateway.js';
import { bodyText, listed, param, receiptHeader, store, type IngestCall, type IngestProtocolHandler } from './request.js';

/** The HEC code of an error reply: the server's state for 5xx, the refusal's own code, else invalid data. */
function hecCode(status: number, err: unknown): HecCode {
  if (status === 503) return HEC_CODES.serverBusy;
  if (status >= 500) return HEC_CODES.internalError;
  if (err instanceof HecError) return err.hecCode;
  return HEC_CODES.invalidDataFormat;
}

function errorReply(reply: ApiResult, err: unknown): ApiResult {
  const body = JSON.parse(reply.body ?? '{}') as { message?: string };
  return { ...reply, body: JSON.stringify({ text: body.message ?? 'error', code: hecCode(reply.statusCode ?? 500, err), ...body }) };
}

/** A request whose only event was rejected is refused with that event's HEC code (12, 13), as Splunk does. */
function withHecCode(err: unknown, records: readonly DecodedRecord[]): unknown {
  if (!(err instanceof AllEventsRejectedError) || err.rejectedCount !== 1) return err;
  const only = records.find((r) => r.index === err.rejected[0]?.index);
  const code = only?.kind === 'error' ? (only.code as HecCode | undefined) : undefined;
  return code === undefined ? err : new HecError(err.message, code, err.details, { cause: err });
}

async function collect(call: IngestCall, decode: (body: string, params: HecParams) => DecodedRecord[]): Promise<ApiResult> {
  const { event } = call;
  const params: HecParams = {
    host: param(event, 'host'),
    source: param(event, 'source'),
    sourcetype: param(event, 'sourcetype'),
    index: param(event, 'index'),
  };
  const records = decode(bodyText(call), params);
  let result;
  try {
    // The decoders refuse a body without events, so there is a result.
    result = (await store(call, records, { withDefaults: false }))!;
  } catch (err) {
    throw withHecCode(err, records);
  }
  const extra = result.rejectedCount > 0 ? { rejected: listed(result).rejected, rejectedCount: result.rejectedCount } : {};
  return json(200, { ...HEC_SUCCESS, ...extra }, receiptHeader(result));
}

export const splunkHecEvent: IngestProtocolHandler = { handle: (call) => collect(call, decodeHecEvents), errorReply };
export const splunkHecRaw: IngestProtocolHandler = { handle: (call) => collect(call, decodeHecRaw), errorReply };
export const splunkHecHealth: IngestProtocolHandler = { handle: async () => json(200, { text: 'HEC is healthy', code: HEC_CODES.healthy }), errorReply };
