/**
 * Local stand-in for SQS's Lambda event source mapping: takes batches from the spool when they are big
 * enough or old enough, hands them to the same batch-writer handler as SQS events, and acknowledges them
 * only after the handler returns. A handler that throws (object store down) retries with backoff, forever:
 * nothing acknowledged is dropped. Messages the handler reports as failed are retried, then set aside in
 * the dead-letter file after maxReceiveCount deliveries, as SQS's redrive policy does.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { SpoolBatch, SpoolQueue } from '../../shared/adapters/local/spool-queue.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { QueueRecord } from '../../shared/ports/queue.js';
import { UnavailableError } from '../../shared/domain/errors.js';
import type { BatchWriterHandler } from '../writer/batch-writer.js';

/** Failures of the same batch (other than "storage unavailable") before its messages are tried one by one. */
const SPLIT_AFTER = 3;

export interface WriterLoopOptions {
  spool: SpoolQueue;
  handler: BatchWriterHandler;
  logger: Logger;
  flushMs: number;
  batchBytes: number;
  maxReceiveCount?: number;
  /** Told about every message set aside, after it is in the dead-letter file (receipts say "failed"). */
  onDeadLetter?: (entries: { record: QueueRecord; reason: string }[]) => Promise<void>;
  pollMs?: number;
}

function sqsEvent(records: readonly QueueRecord[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: records.map(
      (r): SQSRecord => ({
        messageId: r.id,
        receiptHandle: r.id,
        body: r.body,
        attributes: {
          ApproximateReceiveCount: String(r.attempt),
          SentTimestamp: now,
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:local:sqs:local:local:sluice-ingest',
        awsRegion: 'local',
      }),
    ),
  };
}

export function startWriterLoop(opts: WriterLoopOptions) {
  const { spool, handler, logger } = opts;
  const maxReceiveCount = opts.maxReceiveCount ?? 5;
  const pollMs = opts.pollMs ?? 100;
  let stopping = false;
  let draining = false;
  let backoffMs = 0;
  let batchFailures = 0;
  let splitNext = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;

  const due = (): boolean => {
    if (spool.pendingBytes === 0) return false;
    if (draining || spool.pendingBytes >= opts.batchBytes) return true;
    const oldest = spool.oldestPendingAt;
    return oldest !== undefined && Date.now() - oldest >= opts.flushMs;
  };

  /**
   * Writes one batch; returns false when there was nothing to write. After a batch has failed
   * SPLIT_AFTER times with an error that is not "storage unavailable", its messages are written one at a
   * time and a message that still fails goes to the dead-letter file with the error, so one bad message
   * cannot hold up the spool.
   */
  const writeOne = async (): Promise<boolean> => {
    const batch = await spool.nextBatch(opts.batchBytes);
    if (!batch) return false;
    await spool.begin(batch);
    let failed = splitNext ? await deliverOneByOne(batch.records) : await deliver(batch, batch.records);
    while (failed.length > 0) {
      const retry = failed.filter((r) => r.attempt < maxReceiveCount);
      const dead = failed.filter((r) => r.attempt >= maxReceiveCount);
      if (dead.length > 0) {
        logger.error('moving messages to the dead-letter file', { count: dead.length, ids: dead.map((r) => r.id) });
        await setAside(dead.map((record) => ({ record, reason: `the writer failed it ${record.attempt} times (see the log)` })));
      }
      for (const r of retry) r.attempt += 1;
      failed = retry.length > 0 ? await deliver(batch, retry) : [];
    }
    await spool.commit(batch);
    return true;
  };

  const setAside = async (entries: { record: QueueRecord; reason: string }[]): Promise<void> => {
    await spool.deadLetter(entries);
    await opts.onDeadLetter?.(entries).catch((err: unknown) => logger.error('could not mark dead-lettered receipts failed', { error: (err as Error).message }));
  };

  const deliverOneByOne = async (records: QueueRecord[]): Promise<QueueRecord[]> => {
    const failed: QueueRecord[] = [];
    for (const record of records) {
      try {
        failed.push(...(await deliver(undefined, [record])));
      } catch (err) {
        if (err instanceof UnavailableError) throw err;
        logger.error('a message the writer cannot write goes to the dead-letter file', { id: record.id, error: (err as Error).message });
        await setAside([{ record, reason: `the writer failed: ${(err as Error).message}` }]);
      }
    }
    return failed;
  };

  const deliver = async (_batch: SpoolBatch | undefined, records: QueueRecord[]): Promise<QueueRecord[]> => {
    const response = await handler(sqsEvent(records));
    const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    return records.filter((r) => failedIds.has(r.id));
  };

  const tick = async (): Promise<void> => {
    try {
      while (due()) {
        if (!(await writeOne())) break;
        backoffMs = 0;
        batchFailures = 0;
        splitNext = false;
      }
    } catch (err) {
      backoffMs = Math.min(30_000, backoffMs === 0 ? 200 : backoffMs * 2);
      if (!(err instanceof UnavailableError) && ++batchFailures >= SPLIT_AFTER) splitNext = true;
      logger.error('batch write failed; will retry', { error: (err as Error).message, retryInMs: backoffMs, oneByOne: splitNext });
    }
  };

  const schedule = (): void => {
    if (stopping) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        const w = wake;
        wake = undefined;
        w?.();
        schedule();
      });
    }, backoffMs || pollMs);
  };
  schedule();

  return {
    /** Writes everything pending now (used at shutdown and by tests); rejects if the writer keeps failing. */
    async drain(deadlineMs = 30_000): Promise<void> {
      draining = true;
      const until = Date.now() + deadlineMs;
      try {
        while (spool.pendingBytes > 0) {
          if (Date.now() > until) throw new Error(`could not write ${spool.pendingBytes} pending bytes within ${deadlineMs} ms`);
          await new Promise<void>((r) => (wake = r));
        }
      } finally {
        draining = false;
      }
    },
    async stop(): Promise<void> {
      stopping = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type WriterLoop = ReturnType<typeof startWriterLoop>;
