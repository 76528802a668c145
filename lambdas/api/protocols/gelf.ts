/** `POST /gelf`: GELF over HTTP, the body plain, gzip or zlib (sniffed, whatever Content-Encoding says). */
import { decodeGelf, gelfBodyText } from '../../../shared/domain/shippers/gelf.js';
import { DECOMPRESSED_FACTOR, contentEncoding } from '../../runtime/api-gateway.js';
import { partialFailure, rawBody, receiptHeader, store, type IngestProtocolHandler } from './request.js';

export const gelf: IngestProtocolHandler = {
  async handle(call) {
    // The body is sniffed (GELF clients compress without saying so), but an encoding Sluice cannot decode is
    // refused with 415 as on every other route, rather than read as text.
    contentEncoding(call.event);
    const body = gelfBodyText(rawBody(call), call.maxBodyBytes * DECOMPRESSED_FACTOR);
    const result = await store(call, decodeGelf(body));
    if (result && result.rejectedCount > 0) return partialFailure(result);
    // Graylog answers 202 with an empty body; GELF HTTP clients check for exactly that status.
    return { statusCode: 202, headers: receiptHeader(result) };
  },
};
