/**
 * Compaction: merges the small files of each closed hour into files of up to maxFileBytes, sorted by ts,
 * without duplicate event_ids, then removes the merged inputs. makeCompactor is the entry; the work is
 * split by job:
 *   discover.ts  which hours are closed and have work, and which of an hour's files one job merges;
 *   job.ts       the crash-safe job protocol (manifest intent → outputs → commit → delete inputs →
 *                delete manifest), recovery of interrupted jobs, and the lease between overlapping runs;
 *   merge.ts     the merge itself: time slices, sorted runs read from each file, de-duplication, and
 *                outputs written a slice at a time.
 */
import type { Partition } from '../../domain/partitioning.js';
import { partitionPrefix } from '../../domain/storage-layout.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { makeDiscovery } from './discover.js';
import { addResults, emptyResult, makeJobProtocol, type CompactionResult } from './job.js';
import { makeMerge } from './merge.js';

export interface CompactorDeps {
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  /** target size of an output file, estimated from the input bytes */
  maxFileBytes?: number;
  /** an hour is compacted once its end is older than this */
  closedAfterMs?: number;
  /**
   * A batch file joins a job only once its batch's first ingest (the stamp that starts its name) is older
   * than this: a batch that is written again — a replay after a crash between the put and the queue's
   * ack, an SQS redelivery — rewrites the same key, and must find it still there rather than merged
   * away, or its events would be stored twice until the next run. SQS redelivers after the visibility
   * timeout (12 minutes), so an hour covers all but repeated failures, whose copies the next run drops.
   */
  settleMs?: number;
  /** about how many events are merged in memory at once (one time slice) */
  sliceEvents?: number;
  /** input file bytes kept between slices (past it, a file a later slice needs is fetched again) */
  cacheBytes?: number;
  /**
   * A manifest younger than this belongs to a job another run may still be doing: its partition is left
   * alone (recovering it would delete that job's outputs under it). In AWS, longer than the Lambda's 15
   * minutes; locally 0, where one process runs compaction and its runs never overlap.
   */
  jobLeaseMs?: number;
  /**
   * Input bytes one job merges at most (1 GiB: about 9 minutes of one core at the measured rate, inside
   * the Lambda's 15). A busier hour takes several jobs in a row; each later job merges or de-duplicates
   * against the earlier one's outputs, so no duplicate survives across them.
   */
  maxJobBytes?: number;
}

export function makeCompactor(deps: CompactorDeps) {
  const { store, clock, logger } = deps;
  const maxFileBytes = deps.maxFileBytes ?? 256 * 1024 * 1024;
  const closedAfterMs = deps.closedAfterMs ?? 2 * 3_600_000;
  const settleMs = deps.settleMs ?? 3_600_000;
  const sliceEvents = deps.sliceEvents ?? 200_000;
  const cacheBytes = deps.cacheBytes ?? 512 * 1024 * 1024;
  const maxJobBytes = deps.maxJobBytes ?? 1024 * 1024 * 1024;
  const jobLeaseMs = deps.jobLeaseMs ?? 20 * 60_000;
  const { writeOutputs } = makeMerge({ store, maxFileBytes, sliceEvents, cacheBytes });
  const { recover, runJob } = makeJobProtocol({ store, clock, logger, jobLeaseMs, writeOutputs });
  const { closedPartitions, chooseJob } = makeDiscovery({ store, clock, maxFileBytes, closedAfterMs, settleMs, maxJobBytes });

  /** Finishes any interrupted job of the partition, then compacts it when it has more than one small file. */
  async function compactPartition(partition: Partition): Promise<CompactionResult> {
    const prefix = partitionPrefix(partition);
    let objects = await store.list(prefix);
    const recovered = await recover(prefix, objects);
    if (recovered === 'busy') return emptyResult();
    if (recovered === 'recovered') objects = await store.list(prefix);

    const job = chooseJob(objects, clock.now());
    if (!job) return emptyResult();
    return runJob(partition, job);
  }

  /**
   * Compacts all closed hours, job after job until each is done; one partition's failure is logged and
   * does not stop the others. With a deadline (the Lambda's remaining time), no job starts after it: what
   * is left waits for the next run.
   */
  async function run(opts: { deadline?: number } = {}): Promise<CompactionResult & { failed: number; deferred: number }> {
    let total = emptyResult();
    let failed = 0;
    let deferred = 0;
    for (const partition of await closedPartitions()) {
      let jobs = 0;
      try {
        for (;;) {
          if (opts.deadline !== undefined && clock.now() >= opts.deadline) {
            deferred++;
            break;
          }
          const result = await compactPartition(partition);
          if (result.partitions === 0) break;
          total = addResults(total, { ...result, partitions: jobs++ === 0 ? 1 : 0 });
        }
      } catch (err) {
        failed++;
        logger.error('compaction failed; the next run retries it', { partition: partitionPrefix(partition), error: (err as Error).message });
      }
    }
    return { ...total, failed, deferred };
  }

  return { compactPartition, run };
}

export type Compactor = ReturnType<typeof makeCompactor>;
