/** `POST /otlp/v1/logs`: OTLP/HTTP JSON export requests; replies with OTLP's partial success. */
import { BadRequestError, UnsupportedMediaTypeError } from '../../../shared/domain/errors.js';
import { OTLP_EXPECTED, decodeOtlpLogs, otlpResponse } from '../../../shared/domain/shippers/otlp.js';
import type { IngestResult } from '../../../shared/services/ingest.js';
import { json, type ApiResult } from '../../runtime/api-gateway.js';
import { OTLP_PROTOBUF_ADVICE, bodyText, mediaType, receiptHeader, refuseProtobuf, store, type IngestProtocolHandler } from './request.js';

/** OTLP's reply: 200 with the rejected records as a partial success (also for OTLP posted to /v1/logs). */
export function otlpReply(result: IngestResult | undefined): ApiResult {
  return json(200, result ? otlpResponse(result.rejectedCount, result.rejected) : {}, receiptHeader(result));
}

export const otlp: IngestProtocolHandler = {
  async handle(call) {
    const type = mediaType(call.event);
    refuseProtobuf(type, OTLP_PROTOBUF_ADVICE);
    if (type !== '' && type !== 'application/json' && !type.endsWith('+json')) {
      throw new UnsupportedMediaTypeError(`content type ${type} is not accepted here; send ${OTLP_EXPECTED} as application/json`);
    }
    const body = bodyText(call);
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch (err) {
      throw new BadRequestError(`body is not valid JSON (${(err as Error).message}); send ${OTLP_EXPECTED}`);
    }
    return otlpReply(await store(call, decodeOtlpLogs(doc)));
  },
};
