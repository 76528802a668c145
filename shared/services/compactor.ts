/**
 * Compaction: merges the small files of each closed hour into files of up to maxFileBytes, sorted by ts,
 * without duplicate event_ids, then removes the merged inputs.
 *
 * One job, crash-safe at every step:
 *   1. read the inputs, merge, decide the outputs (names derived from the sorted input keys);
 *   2. put the manifest `_compaction-<hash>.json` (inputs, outputs): the job's intent;
 *   3. put the outputs;
 *   4. delete the inputs;
 *   5. delete the manifest.
 * A rerun that finds a manifest finishes it: outputs all present → delete the inputs that remain; else
 * redo from step 3 (same names, so redoing overwrites). Outputs are durable before any input goes, so a
 * query never misses an event; the local engine reads the manifest to see each event once during the swap.
 */
import {
  COMPACT_PREFIX,
  isManifestKey,
  jobHash,
  manifestName,
  outputName,
  parseManifest,
  type CompactionManifest,
} from '../domain/compaction.js';
import { decodeParquet, encodeParquet, sortByTs } from '../domain/parquet.js';
import { EVENTS_PREFIX, partitionPrefix, type Partition } from '../domain/partitioning.js';
import type { LogEvent } from '../domain/schema.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ObjectInfo, ObjectStore } from '../ports/object-store.js';

export interface CompactorDeps {
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  /** target size of an output file, estimated from the input bytes */
  maxFileBytes?: number;
  /** an hour is compacted once its end is older than this */
  closedAfterMs?: number;
}

export interface CompactionResult {
  partitions: number;
  inputFiles: number;
  outputFiles: number;
  bytesBefore: number;
  bytesAfter: number;
  duplicatesDropped: number;
}

const PARQUET_TYPE = 'application/vnd.apache.parquet';
const PARTITION_KEY = /^events\/tenant=([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)$/;

function emptyResult(): CompactionResult {
  return { partitions: 0, inputFiles: 0, outputFiles: 0, bytesBefore: 0, bytesAfter: 0, duplicatesDropped: 0 };
}

function add(a: CompactionResult, b: CompactionResult): CompactionResult {
  return {
    partitions: a.partitions + b.partitions,
    inputFiles: a.inputFiles + b.inputFiles,
    outputFiles: a.outputFiles + b.outputFiles,
    bytesBefore: a.bytesBefore + b.bytesBefore,
    bytesAfter: a.bytesAfter + b.bytesAfter,
    duplicatesDropped: a.duplicatesDropped + b.duplicatesDropped,
  };
}

/** Sorted by ts; of events sharing an event_id, the earliest (by ts, then input order) is kept. */
export function mergeEvents(events: readonly LogEvent[]): { events: LogEvent[]; duplicates: number } {
  const seen = new Set<string>();
  const out: LogEvent[] = [];
  for (const e of sortByTs(events)) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    out.push(e);
  }
  return { events: out, duplicates: events.length - out.length };
}

export function makeCompactor(deps: CompactorDeps) {
  const { store, clock, logger } = deps;
  const maxFileBytes = deps.maxFileBytes ?? 256 * 1024 * 1024;
  const closedAfterMs = deps.closedAfterMs ?? 2 * 3_600_000;

  const nameOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  /** Data files a job may merge: every Parquet file but compacted ones that are already large. */
  const isInput = (o: ObjectInfo) => o.key.endsWith('.parquet') && !(nameOf(o.key).startsWith(COMPACT_PREFIX) && o.size >= maxFileBytes / 2);

  async function readEvents(keys: readonly string[]): Promise<LogEvent[]> {
    const events: LogEvent[] = [];
    for (const key of keys) {
      const bytes = await store.get(key);
      if (!bytes) throw new Error(`compaction input ${key} is missing`);
      for (const e of decodeParquet(bytes)) events.push(e);
    }
    return events;
  }

  /** Writes the outputs (again, if a crash interrupted them), then removes the inputs and the manifest. */
  async function finish(prefix: string, manifestKey: string, m: CompactionManifest, chunks: LogEvent[][] | undefined): Promise<number> {
    let bytesAfter = 0;
    if (chunks) {
      for (let i = 0; i < m.outputs.length; i++) {
        const body = encodeParquet(chunks[i]!);
        bytesAfter += body.byteLength;
        await store.put(m.outputs[i]!, body, PARQUET_TYPE);
      }
    }
    // Every output is durable from here on: the inputs can go.
    for (const key of m.inputs) await store.delete(key);
    await store.delete(manifestKey);
    logger.info('compacted', { partition: prefix, inputs: m.inputs.length, outputs: m.outputs.length });
    return bytesAfter;
  }

  /** Splits the merged events into chunks of about maxFileBytes each (estimated from the input bytes). */
  function split(events: LogEvent[], inputBytes: number): LogEvent[][] {
    const n = Math.max(1, Math.min(events.length, Math.ceil(inputBytes / maxFileBytes)));
    const per = Math.ceil(events.length / n);
    const chunks: LogEvent[][] = [];
    for (let i = 0; i < n; i++) chunks.push(events.slice(i * per, (i + 1) * per));
    return chunks.filter((c) => c.length > 0);
  }

  /** Finishes any interrupted job of the partition, then compacts it when it has more than one small file. */
  async function compactPartition(partition: Partition): Promise<CompactionResult> {
    const prefix = partitionPrefix(partition);
    let objects = await store.list(prefix);
    const result = emptyResult();
    let recovered = false;

    for (const manifestKey of objects.filter((o) => isManifestKey(o.key)).map((o) => o.key)) {
      const bytes = await store.get(manifestKey);
      const m = bytes && parseManifest(bytes);
      if (!m || !m.inputs.concat(m.outputs).every((k) => k.startsWith(prefix))) {
        logger.warn('ignoring an unreadable compaction manifest', { key: manifestKey });
        continue;
      }
      const existing = new Set(objects.map((o) => o.key));
      if (m.outputs.every((k) => existing.has(k))) {
        await finish(prefix, manifestKey, m, undefined);
      } else {
        // Outputs missing: the inputs are all still there (none is deleted before every output exists).
        const merged = mergeEvents(await readEvents(m.inputs));
        const inputBytes = objects.filter((o) => m.inputs.includes(o.key)).reduce((s, o) => s + o.size, 0);
        const chunks = split(merged.events, inputBytes);
        if (chunks.length !== m.outputs.length) throw new Error(`compaction manifest ${manifestKey} does not match its inputs`);
        await finish(prefix, manifestKey, m, chunks);
      }
      recovered = true;
    }
    if (recovered) objects = await store.list(prefix);

    const inputs = objects.filter(isInput);
    // Only new batch files start a job: outputs of an earlier job (however small) are not merged again
    // on their own, so a second run over a compacted hour does nothing.
    if (inputs.length <= 1 || inputs.every((o) => nameOf(o.key).startsWith(COMPACT_PREFIX))) return result;
    const inputKeys = inputs.map((o) => o.key).sort();
    const hash = jobHash(inputKeys);
    const inputBytes = inputs.reduce((s, o) => s + o.size, 0);
    const merged = mergeEvents(await readEvents(inputKeys));
    const chunks = split(merged.events, inputBytes);
    const manifest: CompactionManifest = { inputs: inputKeys, outputs: chunks.map((_, i) => `${prefix}${outputName(hash, i)}`) };
    const manifestKey = `${prefix}${manifestName(hash)}`;
    await store.put(manifestKey, new TextEncoder().encode(JSON.stringify(manifest)), 'application/json');
    const bytesAfter = await finish(prefix, manifestKey, manifest, chunks);
    return {
      partitions: 1,
      inputFiles: inputs.length,
      outputFiles: chunks.length,
      bytesBefore: inputBytes,
      bytesAfter,
      duplicatesDropped: merged.duplicates,
    };
  }

  /** Every closed hour of every tenant that has something to do (files to merge or a job to finish). */
  async function closedPartitions(): Promise<Partition[]> {
    const now = clock.now();
    const byPartition = new Map<string, { partition: Partition; inputs: number; fresh: boolean; manifest: boolean }>();
    for (const o of await store.list(EVENTS_PREFIX)) {
      const m = PARTITION_KEY.exec(o.key);
      if (!m) continue;
      const hourStart = Date.parse(`${m[2]}T${m[3]}:00:00Z`);
      if (hourStart + 3_600_000 + closedAfterMs > now) continue;
      const id = `${m[1]}/${m[2]}/${m[3]}`;
      let p = byPartition.get(id);
      if (!p) byPartition.set(id, (p = { partition: { tenant: m[1]!, dt: m[2]!, hour: Number(m[3]) }, inputs: 0, fresh: false, manifest: false }));
      if (isManifestKey(o.key)) p.manifest = true;
      else if (isInput(o)) {
        p.inputs++;
        if (!m[4]!.startsWith(COMPACT_PREFIX)) p.fresh = true;
      }
    }
    return [...byPartition.values()].filter((p) => p.manifest || (p.inputs > 1 && p.fresh)).map((p) => p.partition);
  }

  /** Compacts all closed hours; one partition's failure is logged and does not stop the others. */
  async function run(): Promise<CompactionResult & { failed: number }> {
    let total = emptyResult();
    let failed = 0;
    for (const partition of await closedPartitions()) {
      try {
        total = add(total, await compactPartition(partition));
      } catch (err) {
        failed++;
        logger.error('compaction failed; the next run retries it', { partition: partitionPrefix(partition), error: (err as Error).message });
      }
    }
    return { ...total, failed };
  }

  return { compactPartition, run };
}

export type Compactor = ReturnType<typeof makeCompactor>;
