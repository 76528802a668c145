/**
 * SqsQueue with the SQS client mocked (SQS has no local peer here): batching by count and bytes, entries
 * SQS reports as failed sent again, sender faults and giving up reported as Sluice errors.
 */
import { SQSClient, SendMessageBatchCommand, QueueDoesNotExist, KmsThrottled, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BODY_BYTES, SqsQueue, planBatches, toSqsText } from '../../shared/adapters/aws/sqs-queue.js';
import { parseMessage } from '../../shared/domain/queue-message.js';
import { SluiceError, UnavailableError } from '../../shared/domain/errors.js';
import { makeIngestService } from '../../shared/services/ingest.js';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/sluice-ingest';
let sleeps: number[];

function queue(opts: { maxRetries?: number; concurrency?: number } = {}) {
  return new SqsQueue({
    client: new SQSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    queueUrl: QUEUE_URL,
    ...opts,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

/** Every SendMessageBatch input, in call order. */
const calls = (): SendMessageBatchCommandInput[] => sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
const accepted = (input: SendMessageBatchCommandInput) => ({
  Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })),
  Failed: [],
});
const body = (bytes: number, c = 'x') => `{"p":"${c.repeat(bytes - 8)}"}`;

beforeEach(() => {
  sqs.reset();
  sleeps = [];
  sqs.on(SendMessageBatchCommand).callsFake(accepted);
});

describe('SqsQueue batching', () => {
  it('leaves room under the SQS limit, and sends at most 10 entries a call', async () => {
    expect(queue().maxMessageBytes).toBe(SQS_MAX_BODY_BYTES);
    expect(SQS_MAX_BODY_BYTES).toBeLessThan(262_144);
    const bodies = Array.from({ length: 23 }, (_, i) => `{"n":${i}}`);
    await queue({ concurrency: 1 }).send(bodies);
    const sent = calls();
    expect(sent.map((c) => c.Entries!.length)).toEqual([10, 10, 3]);
    expect(sent.every((c) => c.QueueUrl === QUEUE_URL)).toBe(true);
    expect(sent.flatMap((c) => c.Entries!.map((e) => e.MessageBody))).toEqual(bodies);
    // Ids are unique within each call
    for (const c of sent) expect(new Set(c.Entries!.map((e) => e.Id)).size).toBe(c.Entries!.length);
  });

  it('splits by bytes: a call never carries more than 256 KiB in total', async () => {
    // 100 KiB bodies: two fit in one call, a third would not.
    const bodies = Array.from({ length: 5 }, (_, i) => body(100 * 1024, String(i)));
    await queue({ concurrency: 1 }).send(bodies);
    const sent = calls();
    expect(sent.map((c) => c.Entries!.length)).toEqual([2, 2, 1]);
    for (const c of sent) expect(c.Entries!.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0)).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
  });

  it('puts a body of exactly the remaining room in the same call, one byte more in the next', () => {
    const a = body(200_000);
    expect(planBatches([a, body(SQS_MAX_BATCH_BYTES - 200_000)]).map((b) => b.length)).toEqual([2]);
    expect(planBatches([a, body(SQS_MAX_BATCH_BYTES - 200_000 + 1)]).map((b) => b.length)).toEqual([1, 1]);
    expect(planBatches([body(SQS_MAX_BODY_BYTES), body(SQS_MAX_BODY_BYTES)]).map((b) => b.length)).toEqual([1, 1]);
    expect(planBatches(Array.from({ length: 10 }, () => '{}'))).toHaveLength(1);
    expect(planBatches(Array.from({ length: 11 }, () => '{}')).map((b) => b.length)).toEqual([10, 1]);
    expect(planBatches([])).toEqual([]);
  });

  it('counts bytes, not characters', () => {
    const euro = `{"p":"${'€'.repeat(40_000)}"}`; // 120,008 bytes, 40,008 characters
    expect(planBatches([euro, euro, euro]).map((b) => b.length)).toEqual([2, 1]);
  });

  it('carries a large ingest request whole: every event arrives once, in messages SQS accepts', async () => {
    const ingest = makeIngestService({ queue: queue(), clock: { now: () => Date.parse('2024-05-01T12:00:00Z') } });
    const lines = Array.from({ length: 6000 }, (_, i) => JSON.stringify({ level: 'info', msg: `event ${i} ${'y'.repeat(300)}` }));
    const result = await ingest.ingest({ tenant: 'acme', body: lines.join('\n'), kind: 'ndjson', defaults: {} });
    expect(result.accepted).toBe(6000);
    const sent = calls();
    expect(sent.length).toBeGreaterThan(1);
    const messages = sent.flatMap((c) => c.Entries!.map((e) => e.MessageBody!));
    for (const m of messages) expect(Buffer.byteLength(m)).toBeLessThanOrEqual(SQS_MAX_BODY_BYTES);
    for (const c of sent) expect(c.Entries!.reduce((n, e) => n + Buffer.byteLength(e.MessageBody!), 0)).toBeLessThanOrEqual(SQS_MAX_BATCH_BYTES);
    const parts = messages.map(parseMessage).sort((a, b) => a.part - b.part);
    expect(parts.map((p) => p.part)).toEqual(parts.map((_, i) => i));
    expect(parts.flatMap((p) => p.events.map((e) => e.message))).toEqual(lines.map((_, i) => `event ${i} ${'y'.repeat(300)}`));
  });
});

describe('SqsQueue failures', () => {
  it('sends again only the entries SQS reported as failed, then succeeds', async () => {
    let call = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      call++;
      if (call === 1) {
        const [first, ...rest] = input.Entries!;
        return {
          Successful: [{ Id: first!.Id!, MessageId: 'm', MD5OfMessageBody: 'x' }],
          Failed: rest.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'InternalError', Message: 'try again' })),
        };
      }
      return accepted(input);
    });
    await queue().send(['{"a":1}', '{"b":2}', '{"c":3}']);
    const sent = calls();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.Entries!.map((e) => e.MessageBody)).toEqual(['{"b":2}', '{"c":3}']);
    expect(sleeps).toHaveLength(1);
  });

  it('gives up with UnavailableError (503 + Retry-After) when SQS keeps failing entries', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [],
      Failed: input.Entries!.map((e) => ({ Id: e.Id!, SenderFault: false, Code: 'ServiceUnavailable', Message: 'busy' })),
    }));
    const err = await queue({ maxRetries: 3 })
      .send(['{"a":1}', '{"b":2}'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).message).toMatch(/2 of 2 messages \(ServiceUnavailable\)/);
    expect((err as UnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(calls()).toHaveLength(4);
    // backoff ceilings grow: 50, 100, 200 ms (full jitter picks below them)
    expect(sleeps).toHaveLength(3);
    sleeps.forEach((ms, i) => expect(ms).toBeLessThan(50 * 2 ** i));
  });

  it('does not retry a sender fault: it is a clear error, not "unavailable"', async () => {
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [],
      Failed: [{ Id: input.Entries![0]!.Id!, SenderFault: true, Code: 'InvalidMessageContents', Message: 'Invalid characters found' }],
    }));
    const err = await queue()
      .send(['{"a":1}'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).not.toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toMatch(/InvalidMessageContents/);
    expect(calls()).toHaveLength(1);
  });

  it('translates SDK errors of the whole call: throttling is UnavailableError, a missing queue is not', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new KmsThrottled({ message: 'KMS throttled', $metadata: { httpStatusCode: 400 } }));
    await expect(queue().send(['{}'])).rejects.toBeInstanceOf(UnavailableError);

    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(queue().send(['{}'])).rejects.toBeInstanceOf(UnavailableError);

    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await expect(queue().send(['{}'])).rejects.toBeInstanceOf(UnavailableError);

    sqs.on(SendMessageBatchCommand).rejects(new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: { httpStatusCode: 400 } }));
    const err = await queue()
      .send(['{}'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).not.toBeInstanceOf(UnavailableError);
    expect((err as Error).name).toBe('SluiceError');
    expect((err as Error).message).toMatch(/queue does not exist/);
  });

  it('stops starting calls once one has failed', async () => {
    sqs.on(SendMessageBatchCommand).rejects(new QueueDoesNotExist({ message: 'gone', $metadata: {} }));
    await expect(queue({ concurrency: 1 }).send(Array.from({ length: 35 }, () => '{}'))).rejects.toThrow(/does not exist/);
    expect(calls()).toHaveLength(1);
  });
});

describe('toSqsText', () => {
  it('escapes the two characters SQS refuses that JSON.stringify leaves raw, keeping the JSON equal', () => {
    const json = JSON.stringify({ message: 'a\uFFFEb\uFFFFc\u0001', ok: 'é😀' });
    const text = toSqsText(json);
    expect(text).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(text)).toEqual(JSON.parse(json));
    expect(toSqsText('{"plain":"text"}')).toBe('{"plain":"text"}');
    expect(() => toSqsText('plain \uFFFF text')).toThrow(/not JSON/);
  });

  it('is applied before sending', async () => {
    await queue().send([JSON.stringify({ m: '\uFFFF' })]);
    expect(calls()[0]!.Entries![0]!.MessageBody).toBe('{"m":"\\uffff"}');
  });
});
