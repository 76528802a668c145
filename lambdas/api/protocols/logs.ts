/**
 * `POST /v1/logs`, Sluice's own endpoint: NDJSON, JSON or text lines, and the wrapper objects some shippers
 * post to it (OTLP JSON, pino-http-send's `{"logs":[…]}`), recognised by their body.
 */
import { bodyKindOf } from '../../../shared/domain/shippers/logs.js';
import { BadRequestError } from '../../../shared/domain/errors.js';
import { isPlainObject, recordFromJsonValue } from '../../../shared/domain/shippers/common.js';
import { decodeOtlpLogs, isOtlpLogsRequest } from '../../../shared/domain/shippers/otlp.js';
import { header, json } from '../../runtime/api-gateway.js';
import { otlpReply } from './otlp.js';
import {
  OTLP_PROTOBUF_ADVICE,
  RECEIPT_HEADER,
  bodyText,
  defaultsOf,
  listed,
  mediaType,
  multilineParam,
  noteRejected,
  receiptHeader,
  refuseProtobuf,
  store,
  type IngestProtocolHandler,
} from './request.js';

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

export const logs: IngestProtocolHandler = {
  async handle(call) {
    const { event, principal, ingest } = call;
    refuseProtobuf(mediaType(event), OTLP_PROTOBUF_ADVICE);
    const kind = bodyKindOf(header(event, 'content-type'));
    const body = bodyText(call);
    if ((kind === 'json' || kind === 'sniff') && startsWithObject(body)) {
      // Shippers that post a wrapper object to the generic endpoint: OTLP exporters (4318 is
      // OTLP/HTTP's port and /v1/logs its path) and pino-http-send's {"logs":[…]}.
      let doc: unknown;
      try {
        doc = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
      } catch {
        doc = undefined; // not one JSON document (NDJSON, or broken): the generic decoder explains
      }
      if (isOtlpLogsRequest(doc)) return otlpReply(await store(call, decodeOtlpLogs(doc)));
      const wrapped = logsWrapper(doc);
      if (wrapped) {
        if (wrapped.length === 0) throw new BadRequestError('"logs" is an empty array: nothing to ingest');
        const records = wrapped.map((v, i) => recordFromJsonValue(v, i, `logs[${i}]`));
        const result = await store(call, records);
        return json(202, result && listed(result), receiptHeader(result));
      }
    }
    const result = await ingest.ingest({ tenant: principal.tenant, body, kind, defaults: defaultsOf(event), multiline: multilineParam(event) });
    noteRejected(call, result);
    return json(202, listed(result), { [RECEIPT_HEADER]: result.receipt });
  },
};
