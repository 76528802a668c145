/**
 * Compaction: merges the small files of each closed hour into files of up to maxFileBytes, sorted by ts,
 * without duplicate event_ids, then removes the merged inputs.
 *
 * Memory stays bounded however busy the hour: the hour is merged a time slice at a time (slices of about
 * sliceEvents events, planned from the inputs' ts columns), and each output file is written a slice at a
 * time. A duplicate (the same queue message written twice) has the same event_id *and* the same ts, so it
 * always falls in the same slice as its twin: de-duplicating slice by slice is exact.
 *
 * One job, crash-safe at every step:
 *   1. put the manifest `_compaction-<hash>.json` with the inputs and `outputs: null` (the intent);
 *   2. put the outputs `compact-<hash>-<n>.parquet`, one after another, slice by slice;
 *   3. put the manifest again with the list of outputs: the commit point;
 *   4. delete the inputs;
 *   5. delete the manifest.
 * A rerun that finds a committed manifest finishes steps 4–5; one that finds an uncommitted manifest
 * deletes what the job had written and the manifest, and the partition is compacted afresh. No input is
 * deleted before every output is durable, so a query never misses an event; the local engine reads the
 * manifest to see each event once during the swap.
 */
import { COMPACT_PREFIX, isManifestKey, jobHash, manifestName, outputName, outputPrefix, parseManifest, type CompactionManifest } from '../domain/compaction.js';
import { decodeParquet, encodeParquetSlices, readTimestamps, readTimestampsAndIds, rowGroupCount, type RowSelection } from '../domain/parquet.js';
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

export interface CompactionResult {
  partitions: number;
  inputFiles: number;
  outputFiles: number;
  bytesBefore: number;
  bytesAfter: number;
  duplicatesDropped: number;
}

const PARQUET_TYPE = 'application/vnd.apache.parquet';
/** A batch file's name: its batch's first ingest time (objectKeyFor in batch-writer.ts), then its id. */
const BATCH_STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/;
const PARTITION_KEY = /^events\/tenant=([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/([^/]+)$/;
const HOUR_US = 3_600_000_000;
/** The slice planner counts events per bucket of this many microseconds (10 ms: 360,000 per hour). */
const BUCKET_US = 10_000;

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
export function mergeEvents(events: readonly LogEvent[], seen: Set<string> = new Set()): { events: LogEvent[]; duplicates: number } {
  const order = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.ts - b.e.ts || a.i - b.i);
  const out: LogEvent[] = [];
  for (const { e } of order) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    out.push(e);
  }
  return { events: out, duplicates: events.length - out.length };
}

/** One row group of one file, with the range of its ts (the unit the merge reads from). */
interface Unit {
  key: string;
  rowGroup: number;
  rows: number;
  min: number;
  max: number;
  /** rows in ts order (true of every file Sluice writes) */
  sorted: boolean;
}

export interface Slice {
  /** µs, inclusive (-Infinity for the first) */
  from: number;
  /** µs, exclusive (Infinity for the last) */
  to: number;
  /** input events in it (duplicates included) */
  events: number;
}

/** Time slices covering the hour, each holding at most maxEvents events unless one bucket alone holds more. */
export function planSlices(counts: Int32Array, hourStartUs: number, maxEvents: number): Slice[] {
  const slices: Slice[] = [];
  let from = -Infinity;
  let events = 0;
  for (let b = 0; b < counts.length; b++) {
    if (events > 0 && events + counts[b]! > maxEvents) {
      const to = hourStartUs + b * BUCKET_US;
      slices.push({ from, to, events });
      from = to;
      events = 0;
    }
    events += counts[b]!;
  }
  slices.push({ from, to: Infinity, events });
  return slices;
}

/** Consecutive slices grouped into outputs of at most perOutput events each (at least one slice per output). */
export function groupSlices(slices: readonly Slice[], perOutput: number): Slice[][] {
  const groups: Slice[][] = [];
  let current: Slice[] = [];
  let events = 0;
  for (const slice of slices) {
    if (current.length > 0 && events + slice.events > perOutput) {
      groups.push(current);
      current = [];
      events = 0;
    }
    current.push(slice);
    events += slice.events;
  }
  if (current.length > 0) groups.push(current);
  return groups;
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

  const nameOf = (key: string) => key.slice(key.lastIndexOf('/') + 1);
  const isCompacted = (key: string) => nameOf(key).startsWith(COMPACT_PREFIX);
  /** Whether a batch file may still be written again (its name's ingest stamp is younger than settleMs). */
  const unsettled = (key: string, now: number) => {
    const stamp = BATCH_STAMP.exec(nameOf(key));
    return stamp !== null && Date.parse(`${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}Z`) + settleMs > now;
  };
  /**
   * Data files a job may merge: every Parquet file but compacted ones that are already large, and batch
   * files that may still be written again.
   */
  const isInput = (o: ObjectInfo, now: number) => o.key.endsWith('.parquet') && !(isCompacted(o.key) && o.size >= maxFileBytes / 2) && !unsettled(o.key, now);

  async function fetch(key: string): Promise<Uint8Array> {
    const bytes = await store.get(key);
    if (!bytes) throw new Error(`compaction input ${key} is missing`);
    return bytes;
  }

  /** Each row group of the files with its ts range; counts every input event into the hour's buckets. */
  async function survey(keys: readonly string[], hourStartUs: number, counts: Int32Array | undefined): Promise<Unit[]> {
    const units: Unit[] = [];
    for (const key of keys) {
      const bytes = await fetch(key);
      const groups = await rowGroupCount(bytes);
      for (let rowGroup = 0; rowGroup < groups; rowGroup++) {
        const ts = Float64Array.from(readTimestamps(bytes, { rowGroup }));
        if (ts.length === 0) continue;
        let min = Infinity;
        let max = -Infinity;
        let sorted = true;
        for (let i = 0; i < ts.length; i++) {
          const t = ts[i]!;
          if (t < min) min = t;
          if (t > max) max = t;
          if (i > 0 && t < ts[i - 1]!) sorted = false;
          if (counts) counts[Math.min(counts.length - 1, Math.max(0, Math.floor((t - hourStartUs) / BUCKET_US)))]!++;
        }
        units.push({ key, rowGroup, rows: ts.length, min, max, sorted });
      }
    }
    return units.sort((a, b) => a.min - b.min);
  }

  /** The first index whose ts is ≥ t (ts sorted). */
  function lowerBound(ts: Float64Array, t: number): number {
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Hands out the units' rows a slice at a time. Every file Sluice writes is sorted by ts, so a slice's
   * rows of a unit are one run, found by binary search in its ts values and read alone (offset and
   * limit): nothing but the slice is ever decoded into objects, whatever time span a file covers. (A
   * unit that is not sorted is decoded whole each time and filtered: correct, slower.) A unit's ts values
   * (8 bytes an event) are read when the slices reach it and dropped when they pass it; file bytes are
   * kept while a later slice still needs them, up to a budget; past it they are fetched again.
   */
  function cursor<T extends { ts: number }>(units: readonly Unit[], read: (bytes: Uint8Array, selection: RowSelection) => T[]) {
    let next = 0;
    let active: { unit: Unit; ts: Float64Array | undefined }[] = [];
    const cache = new Map<string, Uint8Array>();
    let cached = 0;
    const bytesOf = async (key: string, keep: boolean) => {
      const hit = cache.get(key);
      if (hit) return hit;
      const bytes = await fetch(key);
      if (keep && cached + bytes.byteLength <= cacheBytes) {
        cache.set(key, bytes);
        cached += bytes.byteLength;
      }
      return bytes;
    };
    return async function take(slice: { from: number; to: number }): Promise<T[]> {
      while (next < units.length && units[next]!.min < slice.to) active.push({ unit: units[next++]!, ts: undefined });
      const rows: T[] = [];
      for (const a of active) {
        const { unit } = a;
        if (unit.max < slice.from) continue;
        const bytes = await bytesOf(unit.key, unit.max >= slice.to);
        if (unit.sorted) {
          a.ts ??= Float64Array.from(readTimestamps(bytes, { rowGroup: unit.rowGroup }));
          const from = lowerBound(a.ts, slice.from);
          const to = lowerBound(a.ts, slice.to);
          if (to > from) for (const row of read(bytes, { rowGroup: unit.rowGroup, offset: from, limit: to - from })) rows.push(row);
        } else {
          for (const row of read(bytes, { rowGroup: unit.rowGroup })) if (row.ts >= slice.from && row.ts < slice.to) rows.push(row);
        }
      }
      active = active.filter((a) => a.unit.max >= slice.to);
      const stillNeeded = new Set(active.map((a) => a.unit.key));
      for (const [key, bytes] of cache) {
        if (stillNeeded.has(key)) continue;
        cache.delete(key);
        cached -= bytes.byteLength;
      }
      return rows;
    };
  }

  /**
   * Merges the inputs slice by slice into outputs of about maxFileBytes each, de-duplicated among
   * themselves and against the partition's large compacted files (which are not rewritten).
   */
  async function writeOutputs(prefix: string, hash: string, inputs: readonly ObjectInfo[], references: readonly ObjectInfo[], hourStartUs: number) {
    const counts = new Int32Array(HOUR_US / BUCKET_US);
    const inputUnits = await survey(
      inputs.map((o) => o.key),
      hourStartUs,
      counts,
    );
    const rows = inputUnits.reduce((s, u) => s + u.rows, 0);
    // As many outputs as the input bytes call for, of equal event counts; slices no larger than an output.
    const inputBytes = inputs.reduce((s, o) => s + o.size, 0);
    const perOutput = Math.ceil(rows / Math.max(1, Math.ceil(inputBytes / maxFileBytes)));
    const groups = groupSlices(planSlices(counts, hourStartUs, Math.min(sliceEvents, perOutput)), perOutput);
    const takeEvents = cursor(inputUnits, decodeParquet);
    const referenceUnits = (await survey(references.map((o) => o.key), hourStartUs, undefined)).filter((u) => u.max >= (inputUnits[0]?.min ?? Infinity));
    const takeIds = cursor(referenceUnits, (bytes, selection) => {
      const { ts, ids } = readTimestampsAndIds(bytes, selection);
      return ts.map((t, i) => ({ ts: t, id: ids[i] ?? '' }));
    });

    let duplicates = 0;
    const outputs: string[] = [];
    let bytesAfter = 0;
    for (const group of groups) {
      let written = 0;
      async function* slices(): AsyncGenerator<LogEvent[]> {
        for (const slice of group) {
          const seen = new Set<string>();
          for (const r of await takeIds(slice)) seen.add(r.id);
          const merged = mergeEvents(await takeEvents(slice), seen);
          duplicates += merged.duplicates;
          written += merged.events.length;
          yield merged.events;
        }
      }
      const body = await encodeParquetSlices(slices());
      if (written === 0) continue; // every event of these slices was a duplicate
      const key = `${prefix}${outputName(hash, outputs.length)}`;
      await store.put(key, body, PARQUET_TYPE);
      outputs.push(key);
      bytesAfter += body.byteLength;
    }
    return { outputs, bytesAfter, duplicates };
  }

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

  /**
   * The inputs of one job: all of them when they fit in maxJobBytes; else the earlier compacted files
   * first, then batch files in key (write-time) order, until the budget is spent (at least two files).
   */
  function jobInputs(candidates: readonly ObjectInfo[]): ObjectInfo[] {
    if (candidates.reduce((s, o) => s + o.size, 0) <= maxJobBytes) return [...candidates];
    const ordered = [...candidates].sort((a, b) => Number(isCompacted(b.key)) - Number(isCompacted(a.key)) || (a.key < b.key ? -1 : 1));
    const chosen: ObjectInfo[] = [];
    let bytes = 0;
    for (const o of ordered) {
      if (chosen.length >= 2 && bytes + o.size > maxJobBytes) break;
      chosen.push(o);
      bytes += o.size;
    }
    // Always some new batch file, or the job would be skipped and the hour would never progress.
    const fresh = ordered.find((o) => !isCompacted(o.key));
    if (fresh && chosen.every((o) => isCompacted(o.key))) chosen.push(fresh);
    return chosen;
  }

  /** New batch files, and something to merge them with or to de-duplicate them against. */
  const needsJob = (inputs: number, fresh: boolean, references: number) => fresh && (inputs > 1 || references > 0);

  /** Finishes any interrupted job of the partition, then compacts it when it has more than one small file. */
  async function compactPartition(partition: Partition): Promise<CompactionResult> {
    const prefix = partitionPrefix(partition);
    let objects = await store.list(prefix);
    const recovered = await recover(prefix, objects);
    if (recovered === 'busy') return emptyResult();
    if (recovered === 'recovered') objects = await store.list(prefix);

    const now = clock.now();
    const inputs = jobInputs(objects.filter((o) => isInput(o, now)));
    const chosen = new Set(inputs.map((o) => o.key));
    // Every compacted file the job does not merge is checked for the events the inputs repeat: the large
    // ones, and small ones a capped job left out.
    const references = objects.filter((o) => o.key.endsWith('.parquet') && !chosen.has(o.key) && isCompacted(o.key));
    // Only new batch files start a job: outputs of an earlier job (however small) are not merged again
    // on their own, so a second run over a compacted hour does nothing. One new file is merged alone when
    // the hour has a large compacted file, to drop the events it repeats.
    if (!needsJob(inputs.length, inputs.some((o) => !isCompacted(o.key)), references.length)) return emptyResult();
    const inputKeys = inputs.map((o) => o.key).sort();
    const hash = jobHash(inputKeys);
    const manifestKey = `${prefix}${manifestName(hash)}`;
    const manifest: CompactionManifest = { inputs: inputKeys, outputPrefix: outputPrefix(prefix, hash), outputs: null, startedAt: clock.now() };
    await putManifest(manifestKey, manifest);
    const hourStartUs = Date.UTC(Number(partition.dt.slice(0, 4)), Number(partition.dt.slice(5, 7)) - 1, Number(partition.dt.slice(8, 10)), partition.hour) * 1000;
    const written = await writeOutputs(prefix, hash, inputs, references, hourStartUs);
    if (written.outputs.length === 0) {
      // Every input event was already in a large compacted file: nothing to write, the inputs just go.
      await finish(prefix, manifestKey, manifest);
    } else {
      const committed = { ...manifest, outputs: written.outputs };
      await putManifest(manifestKey, committed);
      await finish(prefix, manifestKey, committed);
    }
    return {
      partitions: 1,
      inputFiles: inputs.length,
      outputFiles: written.outputs.length,
      bytesBefore: inputs.reduce((s, o) => s + o.size, 0),
      bytesAfter: written.bytesAfter,
      duplicatesDropped: written.duplicates,
    };
  }

  /** Every closed hour of every tenant that has something to do (files to merge or a job to finish). */
  async function closedPartitions(): Promise<Partition[]> {
    const now = clock.now();
    const byPartition = new Map<string, { partition: Partition; inputs: number; fresh: boolean; references: number; manifest: boolean }>();
    for (const o of await store.list(EVENTS_PREFIX)) {
      const m = PARTITION_KEY.exec(o.key);
      if (!m) continue;
      const hourStart = Date.parse(`${m[2]}T${m[3]}:00:00Z`);
      if (hourStart + 3_600_000 + closedAfterMs > now) continue;
      const id = `${m[1]}/${m[2]}/${m[3]}`;
      let p = byPartition.get(id);
      if (!p) byPartition.set(id, (p = { partition: { tenant: m[1]!, dt: m[2]!, hour: Number(m[3]) }, inputs: 0, fresh: false, references: 0, manifest: false }));
      if (isManifestKey(o.key)) p.manifest = true;
      else if (isInput(o, now)) {
        p.inputs++;
        if (!isCompacted(m[4]!)) p.fresh = true;
      } else if (o.key.endsWith('.parquet') && !unsettled(o.key, now)) p.references++;
    }
    return [...byPartition.values()].filter((p) => p.manifest || needsJob(p.inputs, p.fresh, p.references)).map((p) => p.partition);
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
          total = add(total, { ...result, partitions: jobs++ === 0 ? 1 : 0 });
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
