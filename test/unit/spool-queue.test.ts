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

describe('SpoolQueue and disk space', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const logger = new MemoryLogger();
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  const segments = async () => (await readdir(dir)).filter((f) => f.startsWith('seg-')).sort();
  async function until(cond: () => Promise<boolean>): Promise<void> {
    for (const end = Date.now() + 3000; !(await cond());) {
      if (Date.now() > end) throw new Error('condition not met within 3 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A stand-in for DiskSpace that records what the spool tells it and refuses when told to. */
  function fakeSpace() {
    const seen = { wrote: 0, failed: [] as string[], reclaimed: 0 };
    let refuse: { reason: string; message: string } | undefined;
    return {
      seen,
      refuseWith: (r: typeof refuse) => (refuse = r),
      space: {
        refusal: () => refuse,
        wrote: (n: number) => (seen.wrote += n),
        failed: (err: unknown) => seen.failed.push((err as NodeJS.ErrnoException).code ?? '?'),
        reclaimed: () => seen.reclaimed++,
      },
    };
  }

  it('gives an acknowledged segment back as soon as the writer has caught up, and never reuses a record id', async () => {
    const { space, seen } = fakeSpace();
    const q = await SpoolQueue.open({ dir, logger, space });
    await q.send(['a', 'b']);
    const first = (await q.nextBatch(1 << 20))!;
    await q.begin(first);
    await q.commit(first);
    // The spool moves to a fresh segment and deletes the acknowledged one, without waiting for it to fill.
    await until(async () => (await segments()).length === 1 && !(await segments()).includes('seg-000000000001.log'));
    expect(seen.reclaimed).toBeGreaterThan(0);
    await q.send(['c']);
    const second = (await q.nextBatch(1 << 20))!;
    expect(second.records.map((r) => [r.id, r.body])).toEqual([['000000000002:0', 'c']]);
    expect(first.records.map((r) => r.id)).not.toContain('000000000002:0');
    await q.begin(second);
    await q.close(); // a crash while `second` is in flight; cursor.json still names the deleted segment

    const again = await SpoolQueue.open({ dir, logger });
    const replay = (await again.nextBatch(1 << 20))!;
    expect(replay.records.map((r) => [r.id, r.body])).toEqual([['000000000002:0', 'c']]);
    await again.begin(replay);
    await again.commit(replay);
    await until(async () => !(await segments()).includes('seg-000000000002.log'));
    await again.send(['d']);
    expect((await again.nextBatch(1 << 20))!.records.map((r) => r.id)).toEqual(['000000000003:0']);
    await again.close();

    // Restarted with everything acknowledged and its segment given back: nothing to replay, ids go on.
    const third = await SpoolQueue.open({ dir, logger });
    const pending = (await third.nextBatch(1 << 20))!;
    expect(pending.records.map((r) => r.body)).toEqual(['d']);
    await third.begin(pending);
    await third.commit(pending);
    await until(async () => !(await segments()).includes('seg-000000000003.log'));
    await third.close();
    const fourth = await SpoolQueue.open({ dir, logger });
    expect(await fourth.nextBatch(1 << 20)).toBeUndefined();
    await fourth.send(['e']);
    expect((await fourth.nextBatch(1 << 20))!.records[0]!.id).toBe('000000000004:0');
    await fourth.close();
  });

  it('while the writer is behind, segments are deleted as soon as every record in them is acknowledged', async () => {
    const q = await SpoolQueue.open({ dir, logger, segmentBytes: 1024 });
    for (let i = 0; i < 12; i++) await q.send(['x'.repeat(300)]);
    expect((await segments()).length).toBe(4);
    const b = (await q.nextBatch(1500))!; // 5 records: the first segment and part of the second
    await q.begin(b);
    await q.commit(b);
    await q.send(['y']); // more arrives: not caught up
    expect(await segments()).toEqual(['seg-000000000002.log', 'seg-000000000003.log', 'seg-000000000004.log']);
    await q.close();
  });

  it('refuses below the disk reserve without writing anything, and says why', async () => {
    const { space, seen, refuseWith } = fakeSpace();
    const q = await SpoolQueue.open({ dir, logger, space });
    await q.send(['before']);
    expect(seen.wrote).toBe(8 + 'before'.length);
    refuseWith({ reason: 'disk below reserve', message: 'free disk space (1.0 MiB) is below the reserve …' });
    const err = await q.send(['refused']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ message: 'free disk space (1.0 MiB) is below the reserve …', retryAfterSeconds: 5 });
    expect(q.refusal()?.reason).toBe('disk below reserve');
    refuseWith(undefined);
    expect(q.refusal()).toBeUndefined();
    await q.send(['after']);
    expect((await q.nextBatch(1 << 20))!.records.map((r) => r.body)).toEqual(['before', 'after']);
    await q.close();
  });

  it('a read-only filesystem: a write that cannot even be cut off is cut before the next one, and a restart finds only acknowledged records', async () => {
    const { space, seen } = fakeSpace();
    const q = await SpoolQueue.open({ dir, logger, space });
    await q.send(['one']);
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as Record<'writev' | 'truncate', (...args: unknown[]) => Promise<unknown>>;
    await probe.close();
    const { writev, truncate } = proto;
    const rofs = () => Promise.reject(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }));
    // The frames reach the file, then the filesystem turns read-only: the write fails, and so does the cut.
    proto.writev = async function (this: unknown, ...args: unknown[]) {
      await writev.apply(this, args);
      return rofs();
    };
    proto.truncate = rofs;
    try {
      await expect(q.send(['refused-1'])).rejects.toMatchObject({ name: 'UnavailableError', message: /cannot write to disk: EROFS/ });
      proto.writev = rofs;
      await expect(q.send(['refused-2'])).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      proto.writev = writev;
      proto.truncate = truncate;
    }
    expect(seen.failed).toEqual(['EROFS', 'EROFS']);
    // Writable again: no restart needed, and nothing refused is delivered.
    await q.send(['two']);
    expect((await q.nextBatch(1 << 20))!.records.map((r) => r.body)).toEqual(['one', 'two']);
    await q.close();
    const again = await SpoolQueue.open({ dir, logger });
    expect((await again.nextBatch(1 << 20))!.records.map((r) => r.body)).toEqual(['one', 'two']);
    await again.close();
  });
});
