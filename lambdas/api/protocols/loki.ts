/** `POST /loki/api/v1/push`: Loki's push API in its JSON form; 204 when every line was stored. */
import { decodeLokiPush } from '../../../shared/domain/shippers/loki.js';
import { bodyText, mediaType, partialFailure, receiptHeader, refuseProtobuf, store, type IngestProtocolHandler } from './request.js';

export const loki: IngestProtocolHandler = {
  async handle(call) {
    refuseProtobuf(mediaType(call.event), "Loki protobuf (snappy) pushes are not accepted: send the push API's JSON form with content-type application/json");
    const result = await store(call, decodeLokiPush(bodyText(call)));
    if (result && result.rejectedCount > 0) return partialFailure(result);
    return { statusCode: 204, headers: receiptHeader(result) };
  },
};
