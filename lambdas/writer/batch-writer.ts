import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Logger } from '../../shared/ports/logger.js';
import { UnavailableError } from '../../shared/domain/errors.js';
import type { BatchWriter, RecordFailure } from '../../shared/services/batch-writer.js';

export interface BatchWriterHandlerDeps {
  writer: BatchWriter;
  logger: Logger;
}

export type BatchWriterHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/**
 * SQS → batch writer. Messages that can never be written are reported as batch item failures (SQS
 * redrives them to the dead-letter queue after maxReceiveCount); a batch that fails for another reason
 * than an outage is written one message at a time to find them, so their batch-mates are not held back. An object-store failure (the writer
 * reports every one as UnavailableError) throws: no message is deleted, the whole batch becomes visible
 * again after the visibility timeout and is retried under the same keys, and Lambda's SQS poller backs
 * off while invocations fail. SQS still counts those receives, so dlqMaxReceiveCount × the visibility
 * timeout is the outage a message rides out before it waits in the DLQ for a redrive (README: Durability).
 */
export function makeBatchWriterHandler({ writer, logger }: BatchWriterHandlerDeps): BatchWriterHandler {
  return async (event) => {
    const records = event.Records.map((r) => ({
      id: r.messageId,
      body: r.body,
      attempt: Number(r.attributes?.ApproximateReceiveCount ?? '1'),
    }));
    let poisoned: RecordFailure[];
    try {
      poisoned = (await writer.writeBatch(records)).poisoned;
    } catch (err) {
      if (err instanceof UnavailableError || records.length === 1) throw err;
      // A message the writer cannot encode fails the batch: write one message at a time so only the
      // culprit is reported (and redriven to the DLQ in the end) and its batch-mates are stored now.
      logger.warn('batch failed; writing its messages one at a time', { messages: records.length, error: (err as Error).message });
      poisoned = [];
      for (const record of records) {
        try {
          poisoned.push(...(await writer.writeBatch([record])).poisoned);
        } catch (one) {
          if (one instanceof UnavailableError) throw one;
          poisoned.push({ id: record.id, reason: (one as Error).message });
        }
      }
    }
    for (const p of poisoned) logger.error('message cannot be written', { messageId: p.id, reason: p.reason });
    return { batchItemFailures: poisoned.map((p) => ({ itemIdentifier: p.id })) };
  };
}
