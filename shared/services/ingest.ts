import { MAX_RECORDS_PER_REQUEST, decodeLogsBody, type BodyKind, type Multiline } from '../domain/shippers/logs.js';
import type { DecodedRecord } from '../domain/shippers/common.js';
import { applyHints } from '../domain/normalize/hints.js';
import { BadRequestError, PayloadTooLargeError } from '../domain/errors.js';
import { newReceiptId } from '../domain/ids.js';
import { DEFAULT_EVENT_LIMITS, normalizeJsonObject, normalizeTextLine, type EventLimits, type RecordContext } from '../domain/normalize/record.js';
import { maxEventBytesFor, packMessages } from '../domain/queue-message.js';
import type { LogEvent } from '../domain/schema.js';
import type { Clock } from '../ports/clock.js';
import type { Queue } from '../ports/queue.js';

export interface Rejection {
  index: number;
  reason: string;
}

export interface IngestResult {
  receipt: string;
  accepted: number;
  rejected: Rejection[];
  /** Total rejections (`rejected` has them all; the /v1/logs reply lists at most MAX_LISTED_REJECTIONS). */
  rejectedCount: number;
}

export interface IngestRequest {
  tenant: string;
  body: string;
  kind: BodyKind;
  defaults: RecordContext['defaults'];
  /** How text lines are joined into multi-line events (default 'auto'). */
  multiline?: Multiline;
}

export interface IngestRecordsRequest {
  tenant: string;
  records: readonly DecodedRecord[];
  defaults: RecordContext['defaults'];
}

export const MAX_LISTED_REJECTIONS = 1000;

/** Every event of the request was rejected (400); the reply lists the rejections, like a partial success. */
export class AllEventsRejectedError extends BadRequestError {
  constructor(
    readonly rejected: readonly Rejection[],
    readonly rejectedCount: number,
  ) {
    super(rejectedCount === 1 ? `the only event was rejected: ${rejected[0]!.reason}` : `all ${rejectedCount} events were rejected`, {
      rejected: rejected.slice(0, MAX_LISTED_REJECTIONS),
      rejectedCount,
    });
  }
}

export interface IngestServiceDeps {
  queue: Queue;
  clock: Clock;
  limits?: EventLimits;
}

/** Decode → normalize → enqueue. Resolves once the accepted events are durable in the queue. */
export function makeIngestService({ queue, clock, limits = DEFAULT_EVENT_LIMITS }: IngestServiceDeps) {
  const maxEventBytes = maxEventBytesFor(queue.maxMessageBytes);

  const service = {
    /** A /v1/logs body: NDJSON, JSON, or text lines. */
    ingest(req: IngestRequest): Promise<IngestResult> {
      const records = decodeLogsBody(req.body, req.kind, { multiline: req.multiline, refMicros: clock.now() * 1000 });
      return service.ingestRecords({ tenant: req.tenant, defaults: req.defaults, records });
    },

    /** Records already decoded by a shipper protocol's decoder. */
    async ingestRecords(req: IngestRecordsRequest): Promise<IngestResult> {
      const nowMs = clock.now();
      const receipt = newReceiptId(nowMs);
      const ctx: RecordContext = { receipt, ingestedAtMicros: nowMs * 1000, defaults: req.defaults, limits };
      const records = req.records;
      if (records.length > MAX_RECORDS_PER_REQUEST) {
        throw new PayloadTooLargeError(`the request has more than ${MAX_RECORDS_PER_REQUEST} events; send at most ${MAX_RECORDS_PER_REQUEST} per request`);
      }
      const rejected: Rejection[] = [];
      let rejectedCount = 0;
      const reject = (index: number, reason: string) => {
        rejectedCount++;
        rejected.push({ index, reason });
      };

      const serialized: string[] = [];
      let sinceYield = 0;
      for (const rec of records) {
        // Big requests are normalized in slices so other requests and the writer keep running meanwhile.
        if (++sinceYield >= 2000) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        if (rec.kind === 'error') {
          reject(rec.index, rec.reason);
          continue;
        }
        const event: LogEvent = applyHints(
          rec.kind === 'json'
            ? normalizeJsonObject(rec.value, rec.index, ctx, rec.raw)
            : normalizeTextLine(rec.line, rec.index, ctx, rec.hints?.parse !== false),
          rec.hints,
          limits,
        );
        const json = JSON.stringify(event);
        if (Buffer.byteLength(json) > maxEventBytes) {
          reject(rec.index, `event is larger than ${maxEventBytes} bytes after normalization; split it or reduce its fields`);
          continue;
        }
        serialized.push(json);
      }

      if (serialized.length === 0) {
        throw new AllEventsRejectedError(rejected, rejectedCount);
      }
      await queue.send(packMessages(req.tenant, receipt, serialized, queue.maxMessageBytes));
      return { receipt, accepted: serialized.length, rejected, rejectedCount };
    },
  };
  return service;
}

export type IngestService = ReturnType<typeof makeIngestService>;
