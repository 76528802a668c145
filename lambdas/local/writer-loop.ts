/**
 * Local stand-in for SQS's Lambda event source mapping: takes batches from the spool when they are big
 * enough or old enough, hands them to the same batch-writer handler as SQS events, and acknowledges them
 * only after the handler returns.
 *
 * Two kinds of failure, told apart by the batch writer (shared/services/batch-writer.ts):
 * - an outage (UnavailableError: the object or receipts store failing, whatever the error) or a spool
 *   failure: the batch is retried with capped exponential backoff, forever, and never counted toward
 *   dead-lettering; one error is logged per try. Nothing acknowledged is dropped.
 * - anything else the handler throws is about the messages: after SPLIT_AFTER failures they are written
 *   one at a time and the one that still fails is set aside in the dead-letter file with the error.
 *   Messages the handler reports as failed (undecodable) are retried, then set aside after
 *   maxReceiveCount deliveries, as SQS's redrive policy does.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { errorCode } from '../../shared/adapters/local/disk-space.js';
import type { SpoolBatch, SpoolQueue } from '../../shared/adapters/local/spool-queue.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { QueueRecord } from '../../shared/ports/queue.js';
import { UnavailableError } from '../../shared/domain/errors.js';
import type { BatchWriterHandler } from '../writer/batch-writer.js';

/** Failures of the same batch (other than "storage unavailable") before its messages are tried one by one. */
const SPLIT_AFTER = 3;

/** The handler failed on these messages for a reason other than an outage: one of them may be poison. */
class MessageFailure extends Error {}

export interface WriterLoopOptions {
  spool: SpoolQueue;
  handler: BatchWriterHandler;
  logger: Logger;
  flushMs: number;
  batchBytes: number;
  maxReceiveCount?: number;
  /** Told about every message set aside, just before it goes to the dead-letter file (receipts say "failed"); a rejection retries the batch. */
  onDeadLetter?: (entries: { record: QueueRecord; reason: string }[]) => Promise<void>;
  pollMs?: number;
  /** Retry delays after a failed batch: firstMs, doubling up to maxMs (default 200 ms to 30 s); retryNow() cuts one short. */
  backoff?: { firstMs?: number; maxMs?: number };
  /**
   * The most bytes the next batch may take, when less than batchBytes. Local mode passes the free disk
   * space, so that a backlog read after the disk filled up makes Parquet files that fit in what is left.
   */
  batchLimit?: () => number;
}

/** What the writer has been doing, for /health. */
export interface WriterStatus {
  /** When a batch was last stored (ms since the epoch), if ever since the start. */
  lastSuccessAt?: number;
  /** The last failed try: when, and why (an error code such as ENOSPC, or the error's name). */
  lastError?: { at: number; reason: string };
  /** Tries that failed in a row (0: the writer is keeping up). */
  failedTries: number;
  /** When the next try is due, while failing. */
  nextRetryAt?: number;
}

function sqsEvent(records: readonly QueueRecord[]): SQSEvent {
  const now = String(Date.now());
  return {
    Records: records.map((r): SQSRecord => ({
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
    })),
  };
}

export function startWriterLoop(opts: WriterLoopOptions) {
  const { spool, handler, logger } = opts;
  const maxReceiveCount = opts.maxReceiveCount ?? 5;
  const pollMs = opts.pollMs ?? 100;
  const firstBackoffMs = opts.backoff?.firstMs ?? 200;
  const maxBackoffMs = opts.backoff?.maxMs ?? 30_000;
  let stopping = false;
  let draining = false;
  let backoffMs = 0;
  let batchFailures = 0;
  let failedTries = 0;
  let splitNext = false;
  let timer: NodeJS.Timeout | undefined;
  let sleepingUntil: number | undefined;
  let running: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let lastSuccessAt: number | undefined;
  let lastError: WriterStatus['lastError'];

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
    const limit = opts.batchLimit ? Math.max(1, Math.min(opts.batchBytes, Math.floor(opts.batchLimit()))) : opts.batchBytes;
    const batch = await spool.nextBatch(limit);
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

  /**
   * Receipts are marked failed first: if the store is down that throws, the batch is retried later and the
   * message set aside then, so its receipt never stays "queued" and the dead-letter file has it once.
   */
  const setAside = async (entries: { record: QueueRecord; reason: string }[]): Promise<void> => {
    await opts.onDeadLetter?.(entries);
    await spool.deadLetter(entries);
  };

  const deliverOneByOne = async (records: QueueRecord[]): Promise<QueueRecord[]> => {
    const failed: QueueRecord[] = [];
    for (const record of records) {
      try {
        failed.push(...(await deliver(undefined, [record])));
      } catch (err) {
        if (!(err instanceof MessageFailure)) throw err;
        logger.error('a message the writer cannot write goes to the dead-letter file', { id: record.id, error: err.message });
        await setAside([{ record, reason: `the writer failed: ${err.message}` }]);
      }
    }
    return failed;
  };

  const deliver = async (_batch: SpoolBatch | undefined, records: QueueRecord[]): Promise<QueueRecord[]> => {
    const response = await handler(sqsEvent(records)).catch((err: unknown) => {
      throw err instanceof UnavailableError ? err : new MessageFailure(err instanceof Error ? err.message : String(err), { cause: err });
    });
    const failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    return records.filter((r) => failedIds.has(r.id));
  };

  const tick = async (): Promise<void> => {
    try {
      while (due()) {
        if (!(await writeOne())) break;
        lastSuccessAt = Date.now();
        if (failedTries > 0) logger.info('batch written after failed tries; the writer is caught up again', { failedTries });
        backoffMs = 0;
        batchFailures = 0;
        failedTries = 0;
        splitNext = false;
      }
    } catch (err) {
      failedTries++;
      backoffMs = Math.min(maxBackoffMs, backoffMs === 0 ? firstBackoffMs : backoffMs * 2);
      const outage = !(err instanceof MessageFailure);
      if (!outage && ++batchFailures >= SPLIT_AFTER) splitNext = true;
      lastError = { at: Date.now(), reason: errorCode(err) ?? (err as Error).name ?? 'Error' };
      logger.error('batch write failed; will retry', {
        error: (err as Error).message,
        cause: outage ? 'object store or spool unavailable (retried until it recovers, never dead-lettered)' : 'the messages',
        failedTries,
        retryInMs: backoffMs,
        oneByOne: splitNext,
      });
    }
  };

  const schedule = (delayMs = backoffMs || pollMs): void => {
    if (stopping) return;
    sleepingUntil = Date.now() + delayMs;
    timer = setTimeout(() => {
      sleepingUntil = undefined;
      running = tick().finally(() => {
        const w = wake;
        wake = undefined;
        w?.();
        schedule();
      });
    }, delayMs);
  };
  schedule();

  return {
    /**
     * Tries again now if the writer is sleeping out a backoff after a failure: called when the disk gets
     * room or takes writes again, so the writer does not leave freed space to new spool data for up to
     * 30 s. The backoff itself is kept: a try that fails again waits longer.
     */
    retryNow(): void {
      if (stopping || failedTries === 0 || sleepingUntil === undefined || !timer) return;
      clearTimeout(timer);
      schedule(0);
    },
    status(): WriterStatus {
      return {
        failedTries,
        ...(lastSuccessAt !== undefined ? { lastSuccessAt } : {}),
        ...(lastError ? { lastError } : {}),
        ...(failedTries > 0 && sleepingUntil !== undefined ? { nextRetryAt: sleepingUntil } : {}),
      };
    },
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
