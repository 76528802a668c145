/**
 * The ingest queue in AWS: SQS. send() resolves only when SQS has accepted every body, so the ingest
 * handler's 202 means "durable"; when SQS cannot take them it rejects with UnavailableError (503 +
 * Retry-After) and the client sends the request again.
 *
 * Bodies are grouped into SendMessageBatch calls of at most 10 entries and 256 KiB in total. Entries SQS
 * reports in `Failed` are sent again with backoff, unless SQS says the fault is ours (SenderFault), which
 * no retry can fix.
 */
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { SluiceError, UnavailableError } from '../../domain/errors.js';
import type { Queue } from '../../ports/queue.js';
import { isRetryableSdkError, sdkErrorMessage, sdkErrorName } from './sdk-errors.js';

/**
 * SQS's size limit for one message and for the sum of a SendMessageBatch call (262,144 bytes). AWS has
 * since raised both to 1 MiB, but a queue's MaximumMessageSize may still be set lower; 256 KiB fits either.
 */
export const SQS_MAX_BATCH_BYTES = 256 * 1024;
/** The largest body send() takes: the SQS limit less room for the escapes toSqsText may add. */
export const SQS_MAX_BODY_BYTES = SQS_MAX_BATCH_BYTES - 6 * 1024;
/** SendMessageBatch takes at most 10 entries. */
export const SQS_MAX_BATCH_ENTRIES = 10;

export interface SqsQueueOptions {
  client: SQSClient;
  queueUrl: string;
  /** retries of entries SQS reported as failed (not our fault) before giving up (default 4) */
  maxRetries?: number;
  /** SendMessageBatch calls in flight at once for one send() (default 4) */
  concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 1_000;

/**
 * SQS accepts only XML characters: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. JSON.stringify
 * already escapes control characters and lone surrogates, but leaves U+FFFE and U+FFFF raw. Sluice's bodies
 * are JSON (queue-message.ts), where those can only occur inside strings, so writing them as \uXXXX escapes
 * changes nothing the batch writer parses.
 */
export function toSqsText(body: string): string {
  if (!/[\uFFFE\uFFFF]/.test(body)) return body;
  const first = body.trimStart()[0];
  if (first !== '{' && first !== '[')
    throw new SluiceError('a queue message contains U+FFFE or U+FFFF, which SQS refuses, and is not JSON, so it cannot be escaped');
  return body.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Consecutive bodies grouped into SendMessageBatch calls: ≤ 10 entries and ≤ maxBatchBytes each. */
export function planBatches(bodies: readonly string[], maxBatchBytes = SQS_MAX_BATCH_BYTES): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = Buffer.byteLength(body, 'utf8');
    if (current.length > 0 && (current.length === SQS_MAX_BATCH_ENTRIES || bytes + size > maxBatchBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(body);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export class SqsQueue implements Queue {
  readonly maxMessageBytes = SQS_MAX_BODY_BYTES;
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly maxRetries: number;
  private readonly concurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor({ client, queueUrl, maxRetries = 4, concurrency = 4, sleep }: SqsQueueOptions) {
    if (!/^https?:\/\/\S+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(queueUrl)) throw new Error(`SqsQueue: ${JSON.stringify(queueUrl)} is not a queue URL`);
    this.client = client;
    this.queueUrl = queueUrl;
    this.maxRetries = maxRetries;
    this.concurrency = Math.max(1, concurrency);
    this.sleep = sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async send(bodies: readonly string[]): Promise<void> {
    const texts = bodies.map((b) => {
      const text = toSqsText(b);
      const size = Buffer.byteLength(text, 'utf8');
      if (size > SQS_MAX_BATCH_BYTES) throw new SluiceError(`a queue message of ${size} bytes is over SQS's limit of ${SQS_MAX_BATCH_BYTES}`);
      return text;
    });
    const batches = planBatches(texts);
    let next = 0;
    // sendBatch throws only Errors: translate()'s, SluiceError, UnavailableError.
    let failed: Error | undefined;
    // A few calls at once: a 6 MB request is ~25 messages; one failure stops the rest from starting.
    const worker = async () => {
      while (next < batches.length && failed === undefined) {
        const batch = batches[next++]!;
        try {
          await this.sendBatch(batch);
        } catch (err) {
          failed ??= err as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    if (failed !== undefined) throw failed;
  }

  /** One SendMessageBatch call, then again for the entries SQS failed, until all are in or we give up. */
  private async sendBatch(bodies: readonly string[]): Promise<void> {
    let pending: SendMessageBatchRequestEntry[] = bodies.map((body, i) => ({ Id: String(i), MessageBody: body }));
    for (let attempt = 0; ; attempt++) {
      let out;
      try {
        out = await this.client.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
      } catch (err) {
        // The SDK has already retried throttling and 5xx for the call as a whole.
        throw translate(err);
      }
      const failed = out.Failed ?? [];
      if (failed.length === 0) return;
      const ours = failed.find((f) => f.SenderFault);
      if (ours) {
        throw new SluiceError(`SQS refused a message as malformed (${ours.Code ?? 'unknown code'}): ${ours.Message ?? 'no reason given'}`);
      }
      const ids = new Set(failed.map((f) => f.Id));
      pending = pending.filter((e) => ids.has(e.Id));
      if (attempt >= this.maxRetries) {
        const codes = [...new Set(failed.map((f) => f.Code ?? 'unknown'))].join(', ');
        throw new UnavailableError(`SQS did not accept ${pending.length} of ${bodies.length} messages (${codes}); try again`, 2);
      }
      await this.sleep(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
    }
  }
}

/** An SQS SDK error as one of Sluice's errors, so no SDK exception leaves this adapter. */
function translate(err: unknown): Error {
  if (err instanceof SluiceError) return err;
  const name = sdkErrorName(err);
  // A KMS key that is throttling or briefly unavailable is the same as SQS being busy.
  if (isRetryableSdkError(err) || name === 'KmsThrottled' || name === 'RequestThrottled' || name === 'OverLimit') {
    return new UnavailableError('SQS cannot accept messages right now; try again', 1, { cause: err });
  }
  switch (name) {
    case 'QueueDoesNotExist':
    case 'ResourceNotFoundException':
      return new SluiceError('SQS SendMessageBatch: the queue does not exist (check SLUICE_QUEUE_URL)', { cause: err });
    case 'AccessDeniedException':
    case 'KmsAccessDenied':
    case 'KmsDisabled':
    case 'KmsNotFound':
    case 'KmsInvalidState':
    case 'KmsInvalidKeyUsage':
    case 'KmsOptInRequired':
      return new SluiceError(`SQS SendMessageBatch was denied (${name}): check the function's role and the queue's KMS key`, { cause: err });
    default:
      return new SluiceError(`SQS SendMessageBatch failed: ${name || 'error'}: ${sdkErrorMessage(err)}`, { cause: err });
  }
}
