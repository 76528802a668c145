import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { UnavailableError } from '../../shared/domain/errors.js';
import { packMessages } from '../../shared/domain/queue-message.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { makeBatchWriter } from '../../shared/services/batch-writer.js';
import type { QueueRecord } from '../../shared/ports/queue.js';
import { makeEvent } from '../helpers/events.js';
import { MemoryLogger } from '../helpers/logger.js';
import { tempDir } from '../helpers/tmp.js';

const H = 3600 * 1e6;
const t0 = Date.UTC(2024, 4, 1, 23, 30) * 1000; // 23:30 UTC, so +1h crosses a day

function records(tenant: string, receipt: string, events: LogEvent[], idPrefix: string): QueueRecord[] {
  return packMessages(
    tenant,
    receipt,
    events.map((e) => JSON.stringify(e)),
    1 << 20,
  ).map((body, i) => ({ id: `${idPrefix}-${i}`, body, attempt: 1 }));
}

describe('batch writer', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: FsObjectStore;
  const writer = () => makeBatchWriter({ store, clock: { now: () => Date.UTC(2024, 4, 2) }, logger: new MemoryLogger() });

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    store = new FsObjectStore(dir);
  });
  afterEach(() => cleanup());

  it('writes one file per tenant and hour, under the partition layout', async () => {
    const batch = [
      ...records('acme', 'R1', [makeEvent({ ts: t0 }), makeEvent({ ts: t0 + H })], 'm1'),
      ...records('globex', 'R2', [makeEvent({ ts: t0 + 1 })], 'm2'),
    ];
    const result = await writer().writeBatch(batch);
    expect(result.events).toBe(3);
    expect(result.poisoned).toEqual([]);
    const keys = (await store.list('events/')).map((o) => o.key.replace(/[^/]+\.parquet$/, '*'));
    expect(keys).toEqual([
      'events/tenant=acme/dt=2024-05-01/hour=23/*',
      'events/tenant=acme/dt=2024-05-02/hour=00/*',
      'events/tenant=globex/dt=2024-05-01/hour=23/*',
    ]);
  });

  it('writes the same keys when the same batch is retried, so retries never duplicate', async () => {
    const batch = records('acme', 'R1', [makeEvent({ ts: t0 }), makeEvent({ ts: t0 + 5 })], 'm1');
    const first = await writer().writeBatch(batch);
    const second = await writer().writeBatch([...batch].reverse());
    expect(second.files).toEqual(first.files);
    expect((await store.list('events/')).length).toBe(1);
  });

  it('reports undecodable messages as poisoned and still writes the rest', async () => {
    const good = records('acme', 'R1', [makeEvent({ ts: t0 })], 'ok');
    const result = await writer().writeBatch([
      ...good,
      { id: 'bad-json', body: '{not json', attempt: 1 },
      { id: 'bad-tenant', body: JSON.stringify({ v: 1, tenant: '../x', receipt: 'R', part: 0, parts: 1, events: [] }), attempt: 1 },
    ]);
    expect(result.poisoned.map((p) => p.id)).toEqual(['bad-json', 'bad-tenant']);
    expect(result.poisoned[0]!.reason).toMatch(/not JSON/);
    expect(result.poisoned[1]!.reason).toMatch(/tenant/);
    expect(result.events).toBe(1);
  });

  it('writes a receipt part per message naming its files, after the files', async () => {
    const events = Array.from({ length: 50 }, (_, i) => makeEvent({ ts: t0 + i * 60e6, message: 'x'.repeat(100) }));
    const bodies = packMessages(
      'acme',
      'R9',
      events.map((e) => JSON.stringify(e)),
      2000,
    );
    expect(bodies.length).toBeGreaterThan(1);
    const result = await writer().writeBatch(bodies.map((body, i) => ({ id: `m${i}`, body, attempt: 1 })));
    const parts = await store.list('receipts/tenant=acme/R9/');
    expect(parts.length).toBe(bodies.length);
    const allFiles = new Set<string>();
    let count = 0;
    for (const p of parts) {
      const part = JSON.parse(Buffer.from((await store.get(p.key))!).toString());
      expect(part.parts).toBe(bodies.length);
      count += part.events;
      for (const f of part.files) allFiles.add(f);
    }
    expect(count).toBe(50);
    expect([...allFiles].sort()).toEqual([...result.files].sort());
  });

  it('keeps the files it wrote when the store fails for a later one: the retry rewrites the same keys', async () => {
    // Deleting them could hide events a receipt already reports stored (an earlier attempt of this batch
    // succeeded but was not acknowledged); a retry of the batch puts the same keys again, and in AWS, where
    // SQS may regroup the messages, the compactor drops the copies (same event_id, same ts).
    const flaky = new FsObjectStore(dir);
    const realPut = flaky.put.bind(flaky);
    let puts = 0;
    flaky.put = async (key, body) => {
      if (++puts === 2) throw new Error('second put fails');
      return realPut(key, body);
    };
    const w = makeBatchWriter({ store: flaky, clock: { now: () => 0 }, logger: new MemoryLogger(), putConcurrency: 1 });
    const batch = records('acme', 'R1', [makeEvent({ ts: t0 }), makeEvent({ ts: t0 + H })], 'm');
    await expect(w.writeBatch(batch)).rejects.toThrow('second put fails');
    const kept = await store.list('events/');
    expect(kept).toHaveLength(1);
    const retried = await makeBatchWriter({ store, clock: { now: () => 0 }, logger: new MemoryLogger() }).writeBatch(batch);
    expect(retried.files).toContain(kept[0]!.key);
    expect(await store.list('events/')).toHaveLength(2);
  });

  it('fails the whole batch when the object store fails, writing no receipt', async () => {
    const failing = new FsObjectStore(dir);
    failing.put = async () => {
      throw new Error('disk on fire');
    };
    const w = makeBatchWriter({ store: failing, clock: { now: () => 0 }, logger: new MemoryLogger() });
    await expect(w.writeBatch(records('acme', 'R1', [makeEvent({ ts: t0 })], 'm'))).rejects.toThrow('disk on fire');
    expect(await store.list('receipts/')).toEqual([]);
  });

  it('reports every store failure, classified by the adapter or not, as UnavailableError (an outage to retry, never poison)', async () => {
    const cause = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const failing = new FsObjectStore(dir);
    let failPut: (key: string) => boolean = () => true;
    const realPut = failing.put.bind(failing);
    failing.put = async (key, body) => {
      if (failPut(key)) throw cause;
      return realPut(key, body);
    };
    const w = makeBatchWriter({ store: failing, clock: { now: () => 0 }, logger: new MemoryLogger() });
    const batch = records('acme', 'R1', [makeEvent({ ts: t0 })], 'm');
    // An events file, then a receipt, then markFailed's receipt.
    const err = await w.writeBatch(batch).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ message: expect.stringMatching(/object store put events\/.* failed: EACCES/), cause });
    failPut = (key) => key.startsWith('receipts/');
    await expect(w.writeBatch(batch)).rejects.toBeInstanceOf(UnavailableError);
    await expect(w.markFailed([{ body: batch[0]!.body, reason: 'x' }])).rejects.toBeInstanceOf(UnavailableError);
    // The adapter's own UnavailableError passes through untouched.
    const own = new UnavailableError('S3 could not be reached (put); try again', 1);
    failing.put = async () => {
      throw own;
    };
    await expect(w.writeBatch(batch)).rejects.toBe(own);
  });
});
