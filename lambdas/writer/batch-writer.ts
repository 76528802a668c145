import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Logger } from '../../shared/ports/logger.js';
import type { BatchWriter } from '../../shared/services/batch-writer.js';

export interface BatchWriterHandlerDeps {
  writer: BatchWriter;
  logger: Logger;
}

export type BatchWriterHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

/**
 * SQS → batch writer. Messages that can never be written are reported as batch item failures (SQS
 * redrives them to the dead-letter queue after maxReceiveCount). An object-store failure (the writer
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
    const result = await writer.writeBatch(records);
    for (const p of result.poisoned) logger.error('message cannot be written', { messageId: p.id, reason: p.reason });
    return { batchItemFailures: result.poisoned.map((p) => ({ itemIdentifier: p.id })) };
  };
}
