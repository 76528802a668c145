import { appendFile, open, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../shared/domain/errors.js';
import { SpoolQueue } from '../../shared/adapters/local/spool-queue.js';
import { MemoryLogger } from '../helpers/logger.js';
import { tempDir } from '../helpers/tmp.js';

describe('SpoolQueue', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const logger = new MemoryLogger();
  const open = (opts: Partial<Parameters<typeof SpoolQueue.open>[0]> = {}) => SpoolQueue.open({ dir, logger, ...opts });

  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  it('delivers sent messages in order and not again after commit', async () => {
    const q = await open();
    await q.send(['a', 'b']);
    await q.send(['c']);
    const batch = (await q.nextBatch(1 << 20))!;
    expect(batch.records.map((r) => r.body)).toEqual(['a', 'b', 'c']);
    await q.begin(batch);
    await q.commit(batch);
    expect(q.pendingBytes).toBe(0);
    expect(await q.nextBatch(1 << 20)).toBeUndefined();
    await q.close();
  });

  it('keeps many concurrent sends (one fsync per group) without losing or reordering within a sender', async () => {
    const q = await open();
    await Promise.all(Array.from({ length: 200 }, (_, i) => q.send([`m${i}`])));
    const batch = (await q.nextBatch(1 << 30))!;
    expect(new Set(batch.records.map((r) => r.body)).size).toBe(200);
    await q.close();
  });

  it('limits a batch by bytes but always returns at least one record', async () => {
    const q = await open();
    await q.send(['x'.repeat(100), 'y'.repeat(100), 'z'.repeat(100)]);
    const first = (await q.nextBatch(150))!;
    expect(first.records.map((r) => r.body[0])).toEqual(['x', 'y']);
    await q.begin(first);
    await q.commit(first);
    const second = (await q.nextBatch(1))!;
    expect(second.records.map((r) => r.body[0])).toEqual(['z']);
    await q.close();
  });

  it('replays unacknowledged messages after a restart (nothing acknowledged is lost)', async () => {
    const q1 = await open();
    await q1.send(['one', 'two']);
    const b = (await q1.nextBatch(1 << 20))!;
    await q1.begin(b);
    await q1.commit(b);
    await q1.send(['three', 'four']);
    await q1.close(); // close() acknowledges nothing: on disk this is the same as a crash
    const q2 = await open();
    const replay = (await q2.nextBatch(1 << 20))!;
    expect(replay.records.map((r) => r.body)).toEqual(['three', 'four']);
    await q2.close();
  });

  it('replays an in-flight batch with exactly the same records and ids, even if more arrived', async () => {
    const q1 = await open();
    await q1.send(['a', 'b']);
    const b = (await q1.nextBatch(1 << 20))!;
    await q1.begin(b);
    await q1.send(['c']); // arrives while the batch is being written; then the process dies
    await q1.close();
    const q2 = await open();
    const replay = (await q2.nextBatch(1 << 20))!;
    expect(replay.records.map((r) => [r.id, r.body])).toEqual(b.records.map((r) => [r.id, r.body]));
    await q2.begin(replay);
    expect(replay.records[0]!.attempt).toBe(2);
    await q2.commit(replay);
    const next = (await q2.nextBatch(1 << 20))!;
    expect(next.records.map((r) => r.body)).toEqual(['c']);
    await q2.close();
  });

  it('ignores a stale in-flight record left by a crash right after commit', async () => {
    const q1 = await open();
    await q1.send(['a']);
    const b = (await q1.nextBatch(1 << 20))!;
    await q1.begin(b);
    const inflight = await readFile(join(dir, 'inflight.json'), 'utf8');
    await q1.commit(b);
    await q1.send(['b']);
    await writeFile(join(dir, 'inflight.json'), inflight); // as if the unlink never happened
    await q1.close();
    const q2 = await open();
    const next = (await q2.nextBatch(1 << 20))!;
    expect(next.records.map((r) => r.body)).toEqual(['b']);
    await q2.close();
  });

  it('cuts a torn record at the tail and keeps the complete ones', async () => {
    const q1 = await open();
    await q1.send(['complete-1', 'complete-2']);
    await q1.close();
    const seg = (await readdir(dir)).find((f) => f.startsWith('seg-'))!;
    // A frame header promising 1000 bytes followed by only a few: a crash mid-write.
    const torn = Buffer.alloc(12);
    torn.writeUInt32LE(1000, 0);
    await appendFile(join(dir, seg), torn);
    const q2 = await open();
    const batch = (await q2.nextBatch(1 << 20))!;
    expect(batch.records.map((r) => r.body)).toEqual(['complete-1', 'complete-2']);
    await q2.send(['after']);
    await q2.begin(batch);
    await q2.commit(batch);
    expect((await q2.nextBatch(1 << 20))!.records.map((r) => r.body)).toEqual(['after']);
    await q2.close();
  });

  it('rolls segments and deletes fully acknowledged ones', async () => {
    const q = await open({ segmentBytes: 1024 });
    for (let i = 0; i < 10; i++) await q.send(['x'.repeat(300)]);
    expect((await readdir(dir)).filter((f) => f.startsWith('seg-')).length).toBeGreaterThan(2);
    const batch = (await q.nextBatch(1 << 20))!;
    expect(batch.records.length).toBe(10);
    await q.begin(batch);
    await q.commit(batch);
    expect((await readdir(dir)).filter((f) => f.startsWith('seg-')).length).toBe(1);
    await q.close();
  });

  it('refuses with UnavailableError when the backlog is over its limit', async () => {
    const q = await open({ maxPendingBytes: 500 });
    await q.send(['x'.repeat(600)]);
    await expect(q.send(['y'])).rejects.toBeInstanceOf(UnavailableError);
    await q.close();
  });

  it('writes dead letters with the reason and the body', async () => {
    const q = await open();
    await q.send(['poison']);
    const batch = (await q.nextBatch(1 << 20))!;
    await q.deadLetter([{ record: batch.records[0]!, reason: 'cannot decode' }]);
    const line = JSON.parse((await readFile(join(dir, 'dead-letter.ndjson'), 'utf8')).trim());
    expect(line).toMatchObject({ reason: 'cannot decode', body: 'poison', id: batch.records[0]!.id });
    await q.close();
  });
});

describe('SpoolQueue under disk faults', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const logger = new MemoryLogger();
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  /** Makes the next FileHandle.writev fail with ENOSPC (all handles share the prototype). */
  async function failNextWrite(): Promise<() => void> {
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { writev: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const original = proto.writev;
    let armed = true;
    proto.writev = function (this: unknown, ...args: unknown[]) {
      if (armed) {
        armed = false;
        return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
      }
      return original.apply(this, args);
    };
    return () => {
      proto.writev = original;
    };
  }

  it('a failed write right after a segment roll refuses that send and loses nothing acknowledged after it', async () => {
    const q = await SpoolQueue.open({ dir, logger, segmentBytes: 1000 });
    for (let i = 0; i < 9; i++) await q.send([`{"n":${i},"pad":"${'x'.repeat(80)}"}`]);
    const restore = await failNextWrite();
    try {
      await expect(q.send([`{"n":"fails","pad":"${'x'.repeat(80)}"}`])).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      restore();
    }
    await q.send(['{"n":"acked-after-failure"}']);
    const batch = (await q.nextBatch(1e9))!;
    expect(batch.records.map((r) => r.body)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(80)}"}`),
      '{"n":"acked-after-failure"}',
    ]);
    await q.close();
    const again = await SpoolQueue.open({ dir, logger, segmentBytes: 1000 });
    expect((await again.nextBatch(1e9))!.records.map((r) => r.body).at(-1)).toBe('{"n":"acked-after-failure"}');
    await again.close();
  });

  it('damage in the middle of a segment keeps the records after it and sets the damaged bytes aside', async () => {
    const q = await SpoolQueue.open({ dir, logger });
    await q.send(['record-1']);
    await q.send(['record-2']);
    await q.send(['record-3']);
    await q.close();
    const seg = (await readdir(dir)).find((f) => f.startsWith('seg-'))!;
    const fh = await open(join(dir, seg), 'r+');
    await fh.write(Buffer.from('X'), 0, 1, 16 + 8 + 2); // one byte inside record-2's payload
    await fh.close();
    const q2 = await SpoolQueue.open({ dir, logger });
    expect((await q2.nextBatch(1 << 20))!.records.map((r) => r.body)).toEqual(['record-1', 'record-3']);
    expect((await readdir(dir)).some((f) => f.startsWith('damaged-'))).toBe(true);
    expect(logger.entries.some((e) => e.level === 'error' && /damaged bytes/.test(e.message))).toBe(true);
    await q2.close();
  });

  it('zero-filled space is not mistaken for records', async () => {
    const q = await SpoolQueue.open({ dir, logger });
    await q.send(['real']);
    await q.close();
    const seg = (await readdir(dir)).find((f) => f.startsWith('seg-'))!;
    await appendFile(join(dir, seg), Buffer.alloc(64));
    const q2 = await SpoolQueue.open({ dir, logger });
    expect((await q2.nextBatch(1 << 20))!.records.map((r) => r.body)).toEqual(['real']);
    await q2.close();
  });

  it('group commit: concurrent sends from one sender stay in order', async () => {
    const q = await SpoolQueue.open({ dir, logger });
    await Promise.all(Array.from({ length: 100 }, (_, i) => q.send([`a${i}`, `b${i}`])));
    const bodies = (await q.nextBatch(1 << 30))!.records.map((r) => r.body);
    for (let i = 0; i < 100; i++) expect(bodies.indexOf(`b${i}`)).toBe(bodies.indexOf(`a${i}`) + 1);
    await q.close();
  });
});
