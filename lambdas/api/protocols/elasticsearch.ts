/**
 * The Elasticsearch endpoints Filebeat, Logstash, Fluent Bit and Vector call: `GET|HEAD /` (which product
 * and version this is) and `POST /_bulk`, `POST /{index}/_bulk`. Every reply, errors too, carries the
 * product header those clients check.
 */
import { ES_PRODUCT_HEADER, bulkResponse, decodeBulk, esRootInfo } from '../../../shared/domain/shippers/elasticsearch.js';
import type { IngestResult } from '../../../shared/services/ingest.js';
import { json, type ApiResult } from '../../runtime/api-gateway.js';
import { bodyText, receiptHeader, store, type IngestProtocolHandler } from './request.js';

const withProductHeader = (reply: ApiResult): ApiResult => ({ ...reply, headers: { ...reply.headers, ...ES_PRODUCT_HEADER } });

export const elasticsearchInfo: IngestProtocolHandler = {
  handle: async () => json(200, esRootInfo(), { ...ES_PRODUCT_HEADER }),
  errorReply: withProductHeader,
};

export const elasticsearchBulk: IngestProtocolHandler = {
  async handle(call) {
    const started = Date.now();
    const ops = decodeBulk(bodyText(call), call.event.pathParameters?.['index']);
    const records = ops.map((op) => op.record);
    let result: IngestResult | undefined;
    // A bulk request whose every document is bad is still answered 200 with per-item errors, as ES does.
    if (records.some((r) => r.kind !== 'error')) result = await store(call, records, { withDefaults: false });
    else {
      // Nothing stored, and still a 200 (with an error per item): the operator's log says so.
      call.rejected.count += records.length;
      for (const r of records) if (r.kind === 'error') call.rejected.firstReason ??= r.reason;
    }
    // result.rejected has every rejection, so each item gets its own status.
    const rejected = new Map((result?.rejected ?? []).map((r) => [r.index, r.reason]));
    const reply = bulkResponse(ops, { receipt: result?.receipt, rejected, tookMs: Date.now() - started });
    return json(200, reply, { ...ES_PRODUCT_HEADER, ...receiptHeader(result) });
  },
  errorReply: withProductHeader,
};
