import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { decodeParquet, encodeParquet, rowGroupCount } from '../../shared/domain/parquet.js';
import type { Partition } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import { makeCompactor } from '../../shared/services/compaction/compactor.js';
import { groupSlices, planSlices } from '../../shared/services/compaction/merge.js';
import { AllPartitionsFailedError, JOB_TIME_RESERVE_MS, makeCompactHandler } from '../../lambdas/compactor/compact.js';
import { makeEvent } from '../helpers/events.js';
import { MemoryLogger } from '../helpers/logger.js';
import { runToEnd } from '../helpers/query.js';
import { tempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const t0 = Date.UTC(2024, 4, 1, 10, 0);
const part: Partition = { tenant: 'acme', dt: '2024-05-01', hour: 10 };
const prefix = partitionPrefix(part);
const later = { now: () => t0 + 10 * HOUR };

class CrashError extends Error {
  override name = 'CrashError';
}

/**
 * A store that fails its Nth write or delete, as a process killed at that point would leave things: from
 * then on every call fails (a dead process does nothing more, not even clean up after a failed job).
 */
function crashingAt(store: ObjectStore, n: number): ObjectStore & { ops: number } {
  let dead = false;
  const alive = () => {
    if (dead) throw new CrashError('the process is dead');
  };
  const wrapper = {
    ops: 0,
    get: async (k: string) => (alive(), store.get(k)),
    list: async (p: string) => (alive(), store.list(p)),
    async put(k: string, b: Uint8Array, t?: string) {
      alive();
      if (++wrapper.ops === n) {
        dead = true;
        throw new CrashError(`crash at op ${n}`);
      }
      return store.put(k, b, t);
    },
    async delete(k: string) {
      alive();
      if (++wrapper.ops === n) {
        dead = true;
        throw new CrashError(`crash at op ${n}`);
      }
      return store.delete(k);
    },
  };
  return wrapper;
}

describe('compactor', () => {
  let store: FsObjectStore;
  let engine: DuckDbQueryEngine;
  let cleanup: () => Promise<void>;
  let expected: Set<string>;

  /**
   * 4 batch files of 40 events each in 10:00-11:00, interleaved in time; with withDuplicate, one event_id
   * appears in two files (the crash tests leave it out: before compaction a query shows it twice).
   */
  async function seed(withDuplicate = true): Promise<number> {
    expected = new Set();
    let bytes = 0;
    for (let f = 0; f < 4; f++) {
      const events: LogEvent[] = [];
      for (let i = 0; i < 40; i++) {
        const e = makeEvent({ ts: (t0 + (i * 4 + f) * 20_000) * 1000, event_id: `e-${f}-${i}`, message: `file ${f} event ${i}` });
        events.push(e);
        expected.add(e.event_id);
      }
      // The same event delivered twice (SQS redelivery in another batch), later in a second file: the same
      // queue message normalized once, so the same event_id and the same ts.
      if (f === 3 && withDuplicate) events.push(makeEvent({ ts: t0 * 1000, event_id: 'e-0-0', message: 'redelivered' }));
      const body = encodeParquet(events);
      bytes += body.byteLength;
      await store.put(`${prefix}2024050110000${f}-batch${f}.parquet`, body);
    }
    return bytes;
  }

  async function eventIds(): Promise<string[]> {
    const page = await runToEnd(engine, { tenant: 'acme', sql: 'SELECT event_id FROM logs', startMs: t0, endMs: t0 + HOUR, limit: 100_000 });
    return page.rows.map((r) => r[0] as string);
  }

  async function expectEachEventOnce(): Promise<void> {
    const ids = await eventIds();
    expect(ids.length).toBe(expected.size);
    expect(new Set(ids)).toEqual(expected);
  }

  const dataFiles = async () => (await store.list(prefix)).filter((o) => o.key.endsWith('.parquet')).map((o) => o.key.slice(prefix.length));
  const allFiles = async () => (await store.list(prefix)).map((o) => o.key.slice(prefix.length));

  beforeEach(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    store = new FsObjectStore(tmp.dir);
    engine = await DuckDbQueryEngine.open({ store });
  });
  afterEach(async () => {
    await engine.close();
    await cleanup();
  });

  it('merges many small files into one, sorted by ts, without the duplicate event_id', async () => {
    await seed();
    expect(await dataFiles()).toHaveLength(4);
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger() }).run();
    expect(result).toMatchObject({ partitions: 1, inputFiles: 4, outputFiles: 1, duplicatesDropped: 1, failed: 0 });
    const files = await allFiles();
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^compact-[0-9a-f]{16}-0\.parquet$/);
    const events = decodeParquet((await store.get(prefix + files[0]!))!);
    expect(events.map((e) => e.ts)).toEqual(events.map((e) => e.ts).sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.event_id))).toEqual(expected);
    expect(events).toHaveLength(expected.size);
    // The first copy by ts is kept, not the redelivered one.
    expect(events.find((e) => e.event_id === 'e-0-0')!.message).toBe('file 0 event 0');
    await expectEachEventOnce();
  });

  it('splits into files of about maxFileBytes', async () => {
    const bytes = await seed();
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger(), maxFileBytes: Math.ceil(bytes / 3) }).run();
    expect(result.outputFiles).toBe(3);
    expect((await dataFiles()).sort()).toEqual([0, 1, 2].map((n) => expect.stringMatching(new RegExp(`^compact-[0-9a-f]{16}-${n}\\.parquet$`))));
    await expectEachEventOnce();
  });

  it('leaves open hours alone', async () => {
    await seed();
    const justClosed = { now: () => t0 + HOUR + 2 * HOUR - 1 };
    const result = await makeCompactor({ store, clock: justClosed, logger: new MemoryLogger() }).run();
    expect(result.partitions).toBe(0);
    expect(await dataFiles()).toHaveLength(4);
  });

  it('a second run does nothing', async () => {
    await seed();
    const compactor = makeCompactor({ store, clock: later, logger: new MemoryLogger() });
    await compactor.run();
    const before = await store.list(prefix);
    expect(await compactor.run()).toMatchObject({ partitions: 0, inputFiles: 0, outputFiles: 0 });
    expect(await store.list(prefix)).toEqual(before);
  });

  it('a late batch file in a compacted hour is merged with the compacted file', async () => {
    await seed();
    const compactor = makeCompactor({ store, clock: later, logger: new MemoryLogger() });
    await compactor.run();
    const late = makeEvent({ ts: (t0 + 30 * 60_000) * 1000, event_id: 'late-1' });
    await store.put(`${prefix}20240501170000-late.parquet`, encodeParquet([late, makeEvent({ ts: late.ts, event_id: 'e-1-1' })]));
    expected.add('late-1');
    expect(await compactor.run()).toMatchObject({ partitions: 1, inputFiles: 2, outputFiles: 1, duplicatesDropped: 1 });
    expect(await dataFiles()).toHaveLength(1);
    await expectEachEventOnce();
  });

  it('leaves large compacted files alone', async () => {
    const bytes = await seed();
    // Each input counts as an already large compacted file when maxFileBytes is small.
    for (const o of await store.list(prefix)) {
      const body = (await store.get(o.key))!;
      await store.delete(o.key);
      await store.put(`${prefix}compact-${o.key.slice(prefix.length)}`, body);
    }
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger(), maxFileBytes: Math.floor(bytes / 8) }).run();
    expect(result.partitions).toBe(0);
    expect(await dataFiles()).toHaveLength(4);
  });

  it('merges a slice at a time: the same files, every event once, sorted, however small the slices', async () => {
    await seed();
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger(), sliceEvents: 7 }).run();
    expect(result).toMatchObject({ partitions: 1, inputFiles: 4, outputFiles: 1, duplicatesDropped: 1 });
    const files = await dataFiles();
    const events = decodeParquet((await store.get(prefix + files[0]!))!);
    expect(events.map((e) => e.ts)).toEqual(events.map((e) => e.ts).sort((a, b) => a - b));
    expect(events.map((e) => e.event_id).sort()).toEqual([...expected].sort());
    expect(events.find((e) => e.event_id === 'e-0-0')!.message).toBe('file 0 event 0');
    await expectEachEventOnce();
  });

  it('reads a multi-row-group input a row group at a time', async () => {
    // One input of 600,000 events (two row groups of at most 524,288 rows) merged with a small one.
    const many: LogEvent[] = [];
    for (let i = 0; i < 600_000; i++) many.push(makeEvent({ ts: (t0 + i * 5) * 1000, event_id: `m-${i}`, message: 'm' }));
    const big = encodeParquet(many);
    expect(await rowGroupCount(big)).toBe(2);
    await store.put(`${prefix}20240501100000-big.parquet`, big);
    // The last event of the big file again (a redelivery: same id, same ts) and a new one.
    await store.put(
      `${prefix}20240501100001-small.parquet`,
      encodeParquet([{ ...many.at(-1)!, message: 'again' }, makeEvent({ ts: (t0 + 7) * 1000, event_id: 's-1' })]),
    );
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger(), sliceEvents: 100_000 }).run();
    expect(result).toMatchObject({ inputFiles: 2, outputFiles: 1, duplicatesDropped: 1 });
    const [row] = (
      await runToEnd(engine, {
        tenant: 'acme',
        sql: `SELECT count(*), count(DISTINCT event_id), count(*) FILTER (event_id = '${many.at(-1)!.event_id}') FROM logs`,
        startMs: t0,
        endMs: t0 + HOUR,
        limit: 10,
      })
    ).rows;
    expect(row!.map(Number)).toEqual([600_001, 600_001, 1]);
  }, 60_000);

  it('drops events a late file repeats from a large compacted file, without rewriting it', async () => {
    const bytes = await seed();
    const compactor = makeCompactor({ store, clock: later, logger: new MemoryLogger() });
    await compactor.run();
    const [compacted] = await dataFiles();
    // The same message redelivered long after (same event_id, same ts), beside one new event.
    const again = makeEvent({ ts: (t0 + (4 * 4 + 1) * 20_000) * 1000, event_id: 'e-1-4', message: 'file 1 event 4' });
    const late = makeEvent({ ts: (t0 + 30 * 60_000) * 1000, event_id: 'late-1' });
    await store.put(`${prefix}20240501170000-late.parquet`, encodeParquet([again, late]));
    expected.add('late-1');
    // With maxFileBytes this small, the compacted file counts as large: it is a reference, not an input.
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger(), maxFileBytes: Math.floor(bytes / 2) }).run();
    expect(result).toMatchObject({ partitions: 1, inputFiles: 1, outputFiles: 1, duplicatesDropped: 1 });
    const files = await dataFiles();
    expect(files).toContain(compacted);
    expect(files).toHaveLength(2);
    await expectEachEventOnce();
  });

  it('a busy hour takes several jobs of at most maxJobBytes in one run, and no duplicate survives across them', async () => {
    const bytes = await seed();
    const compactor = makeCompactor({ store, clock: later, logger: new MemoryLogger(), maxJobBytes: Math.ceil(bytes / 3) });
    const result = await compactor.run();
    // Job 1 merges two batch files; job 2 merges its output with the next two (it is compacted and small,
    // so it goes first) — the redelivered e-0-0 in file 3 meets its twin there.
    expect(result).toMatchObject({ partitions: 1, failed: 0, deferred: 0, duplicatesDropped: 1 });
    expect(result.inputFiles).toBeGreaterThan(4);
    expect(await dataFiles()).toHaveLength(1);
    await expectEachEventOnce();
  });

  it('past the deadline no job starts: the rest waits for the next run', async () => {
    await seed();
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger() }).run({ deadline: later.now() });
    expect(result).toMatchObject({ partitions: 0, deferred: 1 });
    expect(await dataFiles()).toHaveLength(4);
  });

  it('a batch file joins a job only once its batch is settleMs old, so a rewrite of it finds it still there', async () => {
    await seed();
    // A replayed batch's file, named as the writer names it: its first ingest 30 minutes before now.
    const stamp = (ms: number) =>
      new Date(ms)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
    const young = `${prefix}${stamp(later.now() - 30 * 60_000)}-0123abcd.parquet`;
    const late = makeEvent({ ts: (t0 + 5 * 60_000) * 1000, event_id: 'late-young' });
    await store.put(young, encodeParquet([late]));
    expected.add('late-young');
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger() }).run();
    expect(result).toMatchObject({ partitions: 1, inputFiles: 4 });
    expect(await dataFiles()).toContain(young.slice(prefix.length));
    // Rewritten (a replay): still one copy of each event.
    await store.put(young, encodeParquet([late]));
    await expectEachEventOnce();
    // Settled: the next run merges it.
    const settled = { now: () => later.now() + 31 * 60_000 };
    expect(await makeCompactor({ store, clock: settled, logger: new MemoryLogger() }).run()).toMatchObject({ partitions: 1, inputFiles: 2 });
    expect(await dataFiles()).toHaveLength(1);
    await expectEachEventOnce();
  });

  it('a crash at any write or delete leaves every event queryable exactly once, and a rerun finishes the job', async () => {
    const bytes = await seed(false);
    const options = { clock: later, logger: new MemoryLogger(), maxFileBytes: Math.ceil(bytes / 2) };
    // Count the writes and deletes of an uninterrupted job: manifest, 2 outputs, manifest committed,
    // 4 inputs, manifest.
    const counting = crashingAt(store, -1);
    await makeCompactor({ ...options, store: counting }).compactPartition(part);
    const total = counting.ops;
    expect(total).toBe(1 + 2 + 1 + 4 + 1);
    const finalFiles = await allFiles();

    for (let n = 1; n <= total; n++) {
      for (const o of await store.list(prefix)) await store.delete(o.key);
      await seed(false);
      const crashing = crashingAt(store, n);
      await expect(makeCompactor({ ...options, store: crashing }).compactPartition(part)).rejects.toThrow(CrashError);
      // Between the crash and the rerun, queries see every event once.
      await expectEachEventOnce();
      // A run straight after leaves the job alone (it may be another run's, still going); the next hourly
      // run finishes or undoes it.
      if ((await allFiles()).some((f) => f.startsWith('_compaction-'))) {
        expect(await makeCompactor({ ...options, store }).run()).toMatchObject({ partitions: 0, failed: 0 });
        await expectEachEventOnce();
      }
      const rerun = await makeCompactor({ ...options, clock: { now: () => later.now() + HOUR }, store }).run();
      expect(rerun.failed).toBe(0);
      expect(await allFiles()).toEqual(finalFiles);
      await expectEachEventOnce();
    }
  });

  it('a job that fails while writing its outputs (a full disk) removes them at once; the inputs stay and the next run compacts', async () => {
    const bytes = await seed(false);
    const options = { clock: later, logger: new MemoryLogger(), maxFileBytes: Math.ceil(bytes / 2) };
    const before = await allFiles();
    let puts = 0;
    const full: ObjectStore = {
      get: (k) => store.get(k),
      list: (p) => store.list(p),
      delete: (k) => store.delete(k),
      // manifest, output 0, then the disk is full at output 1
      put: async (k, b) => {
        if (++puts === 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return store.put(k, b);
      },
    };
    expect(await makeCompactor({ ...options, store: full }).run()).toMatchObject({ partitions: 0, failed: 1 });
    // Nothing of the job is left taking space: no output, no manifest; the inputs are all there.
    expect(await allFiles()).toEqual(before);
    expect(options.logger.entries.some((e) => e.message.includes('its outputs were removed'))).toBe(true);
    await expectEachEventOnce();
    expect(await makeCompactor({ ...options, store }).run()).toMatchObject({ partitions: 1, failed: 0 });
    expect((await allFiles()).filter((f) => f.startsWith('compact-'))).toHaveLength(2);
    await expectEachEventOnce();
  });

  it('a query during a swap sees every event once: outputs written, inputs not yet deleted', async () => {
    const bytes = await seed(false);
    const options = { clock: later, logger: new MemoryLogger(), maxFileBytes: Math.ceil(bytes / 2) };
    // Crash at the first input delete (op 5: manifest, output 0, output 1, manifest committed, delete).
    await expect(makeCompactor({ ...options, store: crashingAt(store, 5) }).compactPartition(part)).rejects.toThrow(CrashError);
    const files = await allFiles();
    expect(files.filter((f) => f.startsWith('compact-'))).toHaveLength(2);
    expect(files.filter((f) => f.endsWith('.parquet') && !f.startsWith('compact-'))).toHaveLength(4);
    expect(files.filter((f) => f.startsWith('_compaction-'))).toHaveLength(1);
    await expectEachEventOnce();
  });
});

describe('compaction slices', () => {
  it('planSlices cuts the hour into slices of at most maxEvents events, except a single overfull bucket', () => {
    const counts = new Int32Array(360_000);
    counts[0] = 3;
    counts[1] = 3;
    counts[2] = 3;
    counts[10] = 10; // a burst larger than a slice stays whole
    counts[359_999] = 1;
    const slices = planSlices(counts, 0, 6);
    expect(slices.map((s) => s.events)).toEqual([6, 3, 10, 1]);
    expect(slices[0]!.from).toBe(-Infinity);
    expect(slices.at(-1)!.to).toBe(Infinity);
    for (let i = 1; i < slices.length; i++) expect(slices[i]!.from).toBe(slices[i - 1]!.to);
    expect(slices[1]).toMatchObject({ from: 20_000, to: 100_000 });
  });

  it('groupSlices fills each output up to perOutput events', () => {
    const s = (events: number) => ({ from: 0, to: 0, events });
    expect(groupSlices([s(3), s(3), s(3), s(5), s(1)], 6).map((g) => g.map((x) => x.events))).toEqual([[3, 3], [3], [5, 1]]);
    expect(groupSlices([s(9)], 6)).toHaveLength(1);
  });
});

describe('makeCompactHandler', () => {
  const logger = new MemoryLogger();
  const result = { partitions: 0, inputFiles: 0, outputFiles: 0, bytesBefore: 0, bytesAfter: 0, duplicatesDropped: 0, deferred: 0 };

  it('reports the run, and fails it only when every partition tried failed', async () => {
    const ok = makeCompactHandler({ compactor: { compactPartition: async () => result, run: async () => ({ ...result, partitions: 2, failed: 1 }) }, logger });
    await expect(ok()).resolves.toMatchObject({ partitions: 2, failed: 1 });
    const idle = makeCompactHandler({ compactor: { compactPartition: async () => result, run: async () => ({ ...result, failed: 0 }) }, logger });
    await expect(idle()).resolves.toMatchObject({ partitions: 0 });
    const bad = makeCompactHandler({ compactor: { compactPartition: async () => result, run: async () => ({ ...result, failed: 3 }) }, logger });
    await expect(bad()).rejects.toThrow(AllPartitionsFailedError);
  });

  it('in Lambda, starts no job in the last JOB_TIME_RESERVE_MS of the invocation', async () => {
    let deadline: number | undefined;
    const handler = makeCompactHandler({
      compactor: { compactPartition: async () => result, run: async (opts) => ((deadline = opts?.deadline), { ...result, failed: 0 }) },
      logger,
    });
    const before = Date.now();
    await handler(undefined, { getRemainingTimeInMillis: () => 15 * 60_000 });
    expect(deadline! - before).toBeGreaterThanOrEqual(15 * 60_000 - JOB_TIME_RESERVE_MS - 50);
    expect(deadline! - before).toBeLessThanOrEqual(15 * 60_000 - JOB_TIME_RESERVE_MS + 50);
    await handler();
    expect(deadline).toBeUndefined();
  });
});

describe('decodeParquet', () => {
  it('reads back exactly what encodeParquet wrote (µs timestamps, nulls, maps, lists, UTF-8), sorted by ts', () => {
    const events = [
      makeEvent({
        ts: 1_714_557_600_123_457,
        ingested_at: 1_714_557_600_999_999,
        level: null,
        severity: null,
        host: null,
        attributes: { 'a.b': '1', empty: '', ünï: 'cödé' },
        tags: ['x', 'y'],
        trace_id: 't',
        span_id: 's',
        ts_inferred: true,
      }),
      makeEvent({ ts: 1_714_557_600_000_001, message: 'first ✓', attributes: {}, tags: [] }),
      ...Array.from({ length: 500 }, (_, i) => makeEvent({ ts: 1_714_557_601_000_000 + i, attributes: { i: String(i) }, tags: i % 2 ? ['odd'] : [] })),
    ];
    const decoded = decodeParquet(encodeParquet(events));
    expect(decoded).toEqual([...events].sort((a, b) => a.ts - b.ts));
  });
});
