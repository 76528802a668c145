/**
 * What compaction has to do: which hours are closed and have work (files to merge, or a job to finish),
 * and which of an hour's files one job merges. A batch file joins a job only once its batch has settled
 * (see CompactorDeps.settleMs); a job's inputs are capped at maxJobBytes, so a busy hour takes several.
 */
import { partitionId, partitionStartMs, type Partition } from '../../domain/partitioning.js';
import { EVENTS_PREFIX, fileName, isCompactedKey, isDataFileKey, isManifestKey, parseBatchFileName, parseEventKey } from '../../domain/storage-layout.js';
import type { Clock } from '../../ports/clock.js';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.js';
import type { JobInputs } from './job.js';

/** What discovery needs of the compactor's deps (see CompactorDeps for each setting). */
export interface DiscoverySettings {
  store: ObjectStore;
  clock: Clock;
  maxFileBytes: number;
  closedAfterMs: number;
  settleMs: number;
  maxJobBytes: number;
}

export function makeDiscovery({ store, clock, maxFileBytes, closedAfterMs, settleMs, maxJobBytes }: DiscoverySettings) {
  /** Whether a batch file may still be written again (its name's ingest stamp is younger than settleMs). */
  const unsettled = (key: string, now: number) => {
    const batch = parseBatchFileName(fileName(key));
    return batch !== undefined && batch.firstIngestMs + settleMs > now;
  };
  /**
   * Data files a job may merge: every Parquet file but compacted ones that are already large, and batch
   * files that may still be written again.
   */
  const isInput = (o: ObjectInfo, now: number) => isDataFileKey(o.key) && !(isCompactedKey(o.key) && o.size >= maxFileBytes / 2) && !unsettled(o.key, now);

  /**
   * The inputs of one job: all of them when they fit in maxJobBytes; else the earlier compacted files
   * first, then batch files in key (write-time) order, until the budget is spent (at least two files).
   */
  function jobInputs(candidates: readonly ObjectInfo[]): ObjectInfo[] {
    if (candidates.reduce((s, o) => s + o.size, 0) <= maxJobBytes) return [...candidates];
    const ordered = [...candidates].sort((a, b) => Number(isCompactedKey(b.key)) - Number(isCompactedKey(a.key)) || (a.key < b.key ? -1 : 1));
    const chosen: ObjectInfo[] = [];
    let bytes = 0;
    for (const o of ordered) {
      if (chosen.length >= 2 && bytes + o.size > maxJobBytes) break;
      chosen.push(o);
      bytes += o.size;
    }
    // Always some new batch file, or the job would be skipped and the hour would never progress.
    const fresh = ordered.find((o) => !isCompactedKey(o.key));
    if (fresh && chosen.every((o) => isCompactedKey(o.key))) chosen.push(fresh);
    return chosen;
  }

  /** New batch files, and something to merge them with or to de-duplicate them against. */
  const needsJob = (inputs: number, fresh: boolean, references: number) => fresh && (inputs > 1 || references > 0);

  /** The next job of a partition whose files are `objects` (listed after any recovery); undefined when there is none. */
  function chooseJob(objects: readonly ObjectInfo[], now: number): JobInputs | undefined {
    const inputs = jobInputs(objects.filter((o) => isInput(o, now)));
    const chosen = new Set(inputs.map((o) => o.key));
    // Every compacted file the job does not merge is checked for the events the inputs repeat: the large
    // ones, and small ones a capped job left out.
    const references = objects.filter((o) => isDataFileKey(o.key) && !chosen.has(o.key) && isCompactedKey(o.key));
    // Only new batch files start a job: outputs of an earlier job (however small) are not merged again
    // on their own, so a second run over a compacted hour does nothing. One new file is merged alone when
    // the hour has a large compacted file, to drop the events it repeats.
    if (
      !needsJob(
        inputs.length,
        inputs.some((o) => !isCompactedKey(o.key)),
        references.length,
      )
    )
      return undefined;
    return { inputs, references };
  }

  /** Every closed hour of every tenant that has something to do (files to merge or a job to finish). */
  async function closedPartitions(): Promise<Partition[]> {
    const now = clock.now();
    const byPartition = new Map<string, { partition: Partition; inputs: number; fresh: boolean; references: number; manifest: boolean }>();
    for (const o of await store.list(EVENTS_PREFIX)) {
      const k = parseEventKey(o.key);
      if (!k) continue;
      const hourStart = partitionStartMs(k.partition);
      if (hourStart + 3_600_000 + closedAfterMs > now) continue;
      const id = partitionId(k.partition);
      let p = byPartition.get(id);
      if (!p) byPartition.set(id, (p = { partition: k.partition, inputs: 0, fresh: false, references: 0, manifest: false }));
      if (isManifestKey(o.key)) p.manifest = true;
      else if (isInput(o, now)) {
        p.inputs++;
        if (!isCompactedKey(o.key)) p.fresh = true;
      } else if (isDataFileKey(o.key) && !unsettled(o.key, now)) p.references++;
    }
    return [...byPartition.values()].filter((p) => p.manifest || needsJob(p.inputs, p.fresh, p.references)).map((p) => p.partition);
  }

  return { closedPartitions, chooseJob };
}
