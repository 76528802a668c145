/**
 * Two compaction runs over the same hour at once (an EventBridge double delivery, a manual invoke during
 * the hourly run; the compactor Lambda has no reserved concurrency). The second run's recovery takes the
 * first run's manifest, still uncommitted, for an interrupted job and deletes what it has written so far;
 * the first run then commits a list that names the deleted output and deletes the inputs. The fix: a
 * manifest younger than jobLeaseMs belongs to a job under way, and the other run leaves the partition alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { decodeParquet, encodeParquet } from '../../shared/domain/parquet.js';
import type { Partition } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import { makeCompactor } from '../../shared/services/compaction/compactor.js';
import { makeEvent } from '../helpers/events.js';
import { MemoryLogger } from '../helpers/logger.js';
import { tempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;
const t0 = Date.UTC(2024, 4, 1, 10, 0);
const part: Partition = { tenant: 'acme', dt: '2024-05-01', hour: 10 };
const prefix = partitionPrefix(part);
const later = { now: () => t0 + 10 * HOUR };

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('compactor: overlapping runs', () => {
  let store: FsObjectStore;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    store = new FsObjectStore(tmp.dir);
  });
  afterEach(() => cleanup());

  it('lose no event', async () => {
    const ids = new Set<string>();
    let bytes = 0;
    for (let f = 0; f < 4; f++) {
      const events = Array.from({ length: 40 }, (_, i) => makeEvent({ ts: (t0 + (i * 4 + f) * 20_000) * 1000, event_id: `e-${f}-${i}` }));
      for (const e of events) ids.add(e.event_id);
      const body = encodeParquet(events);
      bytes += body.byteLength;
      await store.put(`${prefix}20240501T10000${f}Z-batch${f}.parquet`, body);
    }
    const options = { clock: later, logger: new MemoryLogger(), maxFileBytes: Math.ceil(bytes / 2) }; // two outputs

    // Run A pauses right after putting its first output; run B pauses at its first read of an input
    // after its recovery step (which is when A resumes and finishes).
    const aWroteFirst = gate();
    const aResume = gate();
    const aDone = gate();
    const storeA: ObjectStore = {
      get: (k) => store.get(k),
      list: (p) => store.list(p),
      delete: (k) => store.delete(k),
      async put(k, b) {
        await store.put(k, b);
        if (/compact-[0-9a-f]+-0\.parquet$/.test(k)) {
          aWroteFirst.open();
          await aResume.opened;
        }
      },
    };
    let bRecovered = false;
    const storeB: ObjectStore = {
      list: (p) => store.list(p),
      delete: (k) => store.delete(k),
      async put(k, b) {
        if (k.endsWith('.json')) bRecovered = true; // B's own manifest: its recovery is over
        return store.put(k, b);
      },
      async get(k) {
        if (bRecovered && k.endsWith('.parquet')) {
          aResume.open();
          await aDone.opened;
        }
        return store.get(k);
      },
    };
    const runA = makeCompactor({ ...options, store: storeA })
      .run()
      .finally(() => aDone.open());
    await aWroteFirst.opened;
    // B either leaves the partition to A (the fix) or reads an input after its recovery (the bug): either
    // way A resumes.
    const runB = makeCompactor({ ...options, store: storeB })
      .run()
      .finally(() => aResume.open());
    const [, b] = await Promise.all([runA, runB]);
    expect(b).toMatchObject({ partitions: 0, failed: 0 });

    const stored: string[] = [];
    for (const o of await store.list(prefix)) if (o.key.endsWith('.parquet')) stored.push(...decodeParquet((await store.get(o.key))!).map((e) => e.event_id));
    expect(new Set(stored)).toEqual(ids);
  });
});
