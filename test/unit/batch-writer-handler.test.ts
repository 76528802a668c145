import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeBatchWriterHandler } from '../../lambdas/writer/batch-writer.js';
import { UnavailableError } from '../../shared/domain/errors.js';
import type { BatchWriter } from '../../shared/services/batch-writer.js';
import type { QueueRecord } from '../../shared/ports/queue.js';
import { MemoryLogger } from '../helpers/logger.js';

const sqs = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i}`, body, attributes: { ApproximateReceiveCount: '1' } }) as unknown as SQSEvent['Records'][number]),
});

/** A writer that stores what it is given, unless a message says EXPLODE (encode failure) or the store is down. */
function fakeWriter(opts: { down?: () => boolean } = {}) {
  const stored: string[] = [];
  const writer = {
    markFailed: async () => {},
    writeBatch: async (records: readonly QueueRecord[]) => {
      if (opts.down?.()) throw new UnavailableError('store down', 5);
      if (records.some((r) => r.body.includes('EXPLODE'))) throw new Error('Parquet cannot encode this event');
      stored.push(...records.map((r) => r.id));
      return { files: [], events: records.length, poisoned: [] };
    },
  } as unknown as BatchWriter;
  return { writer, stored };
}

describe('SQS batch writer handler', () => {
  it('a message that fails encoding is the only batch item failure; its batch-mates are stored', async () => {
    const { writer, stored } = fakeWriter();
    const logger = new MemoryLogger();
    const res = await makeBatchWriterHandler({ writer, logger })(sqs(['a', 'EXPLODE', 'c']));
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(stored).toEqual(['m0', 'm2']);
    expect(logger.entries.some((e) => e.message === 'message cannot be written' && JSON.stringify(e).includes('Parquet cannot encode'))).toBe(true);
  });

  it('an outage fails the whole invocation (nothing deleted, nothing reported as poison)', async () => {
    const { writer } = fakeWriter({ down: () => true });
    await expect(makeBatchWriterHandler({ writer, logger: new MemoryLogger() })(sqs(['a', 'b']))).rejects.toThrow(UnavailableError);
  });

  it('an outage while finding the culprit still fails the whole invocation', async () => {
    let calls = 0;
    const { writer } = fakeWriter({ down: () => ++calls > 2 });
    await expect(makeBatchWriterHandler({ writer, logger: new MemoryLogger() })(sqs(['a', 'EXPLODE', 'c']))).rejects.toThrow(UnavailableError);
  });
});
