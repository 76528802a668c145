/**
 * The compaction job protocol, crash-safe at every step:
 *   1. put the manifest `_compaction-<hash>.json` with the inputs and `outputs: null` (the intent);
 *   2. put the outputs `compact-<hash>-<n>.parquet`, one after another, slice by slice (merge.ts);
 *   3. put the manifest again with the list of outputs: the commit point;
 *   4. delete the inputs;
 *   5. delete the manifest.
 * A rerun that finds a committed manifest finishes steps 4–5; one that finds an uncommitted manifest
 * deletes what the job had written and the manifest, and the partition is compacted afresh. No input is
 * deleted before every output is durable, so a query never misses an event; the local engine reads the
 * manifest to see each event once during the swap. A manifest younger than the job lease belongs to a
 * job another run may still be doing, and its partition is left alone.
 */
import { jobHash, parseManifest, type CompactionManifest } from '../../domain/compaction.js';
import { partitionStartMs, type Partition } from '../../domain/partitioning.js';
import { isManifestKey, manifestKey as manifestKeyOf, outputPrefix, partitionPrefix } from '../../domain/storage-layout.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.js';
import type { Merge } from './merge.js';

export interface CompactionResult {
  partitions: number;
  inputFiles: number;
  outputFiles: number;
  bytesBefore: number;
  bytesAfter: number;
  duplicatesDropped: number;
}

export function emptyResult(): CompactionResult {
  return { partitions: 0, inputFiles: 0, outputFiles: 0, bytesBefore: 0, bytesAfter: 0, duplicatesDropped: 0 };
}

export function addResults(a: CompactionResult, b: CompactionResult): CompactionResult {
  return {
    partitions: a.partitions + b.partitions,
    inputFiles: a.inputFiles + b.inputFiles,
    outputFiles: a.outputFiles + b.outputFiles,
    bytesBefore: a.bytesBefore + b.bytesBefore,
    bytesAfter: a.bytesAfter + b.bytesAfter,
    duplicatesDropped: a.duplicatesDropped + b.duplicatesDropped,
  };
}

/** What the job protocol needs of the compactor's deps (see CompactorDeps for jobLeaseMs). */
export interface JobSettings {
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  jobLeaseMs: number;
  writeOutputs: Merge['writeOutputs'];
}

/** A job's files: the data files it merges, and the compacted files it de-duplicates against. */
export interface JobInputs {
  inputs: readonly ObjectInfo[];
  references: readonly ObjectInfo[];
}

export function makeJobProtocol({ store, clock, logger, jobLeaseMs, writeOutputs }: JobSettings) {
  async function putManifest(key: string, m: CompactionManifest): Promise<void> {
    await store.put(key, new TextEncoder().encode(JSON.stringify(m)), 'application/json');
  }

  /** Steps 4–5: every output is durable, so the inputs can go, then the manifest. */
  async function finish(prefix: string, manifestKey: string, m: CompactionManifest): Promise<void> {
    for (const key of m.inputs) await store.delete(key);
    await store.delete(manifestKey);
    logger.info('compacted', { partition: prefix, inputs: m.inputs.length, outputs: m.outputs?.length });
  }

  /**
   * A job that failed before deleting any input (a full disk while writing its outputs) gives back the
   * space its outputs took now, rather than at the next run: every input is still there, and a reader
   * ignores a job whose outputs are not all listed, so removing them first is safe even if the commit
   * went through. What this cannot remove, the next run's recover() does.
   */
  async function undo(prefix: string, manifestKey: string, m: CompactionManifest): Promise<void> {
    try {
      for (const o of await store.list(m.outputPrefix)) await store.delete(o.key);
      await store.delete(manifestKey);
      logger.warn('a compaction job failed; its outputs were removed and the next run starts it afresh', { partition: prefix });
    } catch (err) {
      logger.warn('a compaction job failed and could not be undone now; the next run does it', { partition: prefix, error: (err as Error).message });
    }
  }

  /**
   * Finishes a committed job, or undoes an uncommitted one (its inputs are all still there). Returns
   * 'busy' when a job of another run may still be under way (its manifest is younger than jobLeaseMs):
   * the partition is left alone this run.
   */
  async function recover(prefix: string, objects: readonly ObjectInfo[]): Promise<'none' | 'recovered' | 'busy'> {
    let state: 'none' | 'recovered' | 'busy' = 'none';
    const existing = new Set(objects.map((o) => o.key));
    for (const manifestKey of objects.filter((o) => isManifestKey(o.key)).map((o) => o.key)) {
      const bytes = await store.get(manifestKey);
      const m = bytes && parseManifest(bytes);
      if (!m || !m.outputPrefix.startsWith(prefix) || !m.inputs.concat(m.outputs ?? []).every((k) => k.startsWith(prefix))) {
        logger.warn('ignoring an unreadable compaction manifest', { key: manifestKey });
        continue;
      }
      if (jobLeaseMs > 0 && clock.now() - (m.startedAt ?? 0) < jobLeaseMs) {
        logger.info('a compaction job of another run is under way; leaving the partition to it', { partition: prefix, manifest: manifestKey });
        return 'busy';
      }
      if (m.outputs) {
        const missing = m.outputs.filter((k) => !existing.has(k));
        if (missing.length > 0) {
          // Never delete inputs whose outputs are not all there: leave it for a person to look at.
          logger.error('a committed compaction lists outputs that do not exist; its inputs are kept', { manifest: manifestKey, missing });
          return 'busy';
        }
        await finish(prefix, manifestKey, m);
      } else {
        for (const o of objects) if (o.key.startsWith(m.outputPrefix)) await store.delete(o.key);
        await store.delete(manifestKey);
        logger.info('undid an interrupted compaction; it starts afresh', { partition: prefix, manifest: manifestKey });
      }
      state = 'recovered';
    }
    return state;
  }

  /** Steps 1–5 for one job of the partition; returns what it merged. */
  async function runJob(partition: Partition, { inputs, references }: JobInputs): Promise<CompactionResult> {
    const prefix = partitionPrefix(partition);
    const inputKeys = inputs.map((o) => o.key).sort();
    const hash = jobHash(inputKeys);
    const manifestKey = manifestKeyOf(prefix, hash);
    const manifest: CompactionManifest = { inputs: inputKeys, outputPrefix: outputPrefix(prefix, hash), outputs: null, startedAt: clock.now() };
    await putManifest(manifestKey, manifest);
    const hourStartUs = partitionStartMs(partition) * 1000;
    let written: Awaited<ReturnType<typeof writeOutputs>>;
    let committed = manifest;
    try {
      written = await writeOutputs(prefix, hash, inputs, references, hourStartUs);
      if (written.outputs.length > 0) {
        committed = { ...manifest, outputs: written.outputs };
        await putManifest(manifestKey, committed);
      }
    } catch (err) {
      await undo(prefix, manifestKey, manifest);
      throw err;
    }
    // With no outputs, every input event was already in a large compacted file: the inputs just go.
    await finish(prefix, manifestKey, committed);
    return {
      partitions: 1,
      inputFiles: inputs.length,
      outputFiles: written.outputs.length,
      bytesBefore: inputs.reduce((s, o) => s + o.size, 0),
      bytesAfter: written.bytesAfter,
      duplicatesDropped: written.duplicates,
    };
  }

  return { recover, runJob };
}

export type JobProtocol = ReturnType<typeof makeJobProtocol>;
