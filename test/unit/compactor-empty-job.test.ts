/**
 * Jobs with nothing to write: a late file whose every event is already in a large compacted file (an SQS
 * redelivery after the hour was compacted — the case the settle rule leaves to "the next run"), and an
 * hour left with only compacted files over the job budget.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import type { Partition } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import { makeCompactor } from '../../shared/services/compaction/compactor.js';
import { makeEvent } from '../helpers/events.js';
import { MemoryLogger } from '../helpers/logger.js';
import { tempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const t0 = Date.UTC(2024, 4, 1, 10, 0);
const part: Partition = { tenant: 'acme', dt: '2024-05-01', hour: 10 };
const prefix = partitionPrefix(part);
const later = { now: () => t0 + 10 * HOUR };

describe('compactor: jobs with nothing to write', () => {
  let store: FsObjectStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    store = new FsObjectStore(tmp.dir);
  });
  afterEach(() => cleanup());

  const events = Array.from({ length: 50 }, (_, i) => makeEvent({ ts: (t0 + i * 1000) * 1000, event_id: `e-${i}` }));
  const dataFiles = async () => (await store.list(prefix)).map((o) => o.key.slice(prefix.length));

  it('a late file that only repeats events of a large compacted file is dropped, and the hour is left clean', async () => {
    await store.put(`${prefix}20240501T100000Z-a.parquet`, encodeParquet(events.slice(0, 25)));
    await store.put(`${prefix}20240501T100001Z-b.parquet`, encodeParquet(events.slice(25)));
    await makeCompactor({ store, clock: later, logger: new MemoryLogger() }).run();
    const [compacted] = await store.list(prefix);
    // The same batch redelivered long after: every event already in the compacted file.
    await store.put(`${prefix}20240501T100002Z-c.parquet`, encodeParquet(events.slice(10, 12)));
    // maxFileBytes makes the compacted file a large one: a reference, not an input.
    const compactor = makeCompactor({ store, clock: later, logger: new MemoryLogger(), maxFileBytes: compacted!.size });
    const result = await compactor.run();
    expect(result).toMatchObject({ failed: 0, inputFiles: 1, outputFiles: 0, duplicatesDropped: 2 });
    expect(await dataFiles()).toEqual([compacted!.key.slice(prefix.length)]);
  });

  it('an hour left with compacted files only, over maxJobBytes, is not a failure', async () => {
    await store.put(`${prefix}20240501T100000Z-a.parquet`, encodeParquet(events.slice(0, 25)));
    await store.put(`${prefix}20240501T100001Z-b.parquet`, encodeParquet(events.slice(25)));
    const bytes = (await store.list(prefix)).reduce((s, o) => s + o.size, 0);
    // Three outputs.
    await makeCompactor({ store, clock: later, logger: new MemoryLogger(), maxFileBytes: Math.ceil(bytes / 3) }).run();
    expect((await dataFiles()).filter((k) => k.startsWith('compact-'))).toHaveLength(3);
    // A later run with a larger maxFileBytes (they are small now) and a budget below their total.
    const result = await makeCompactor({ store, clock: later, logger: new MemoryLogger(), maxJobBytes: 1 }).compactPartition(part);
    expect(result.partitions).toBe(0);
  });
});
