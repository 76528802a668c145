/**
 * The merge of one compaction job: the inputs' events, sorted by ts and without duplicate event_ids,
 * written to outputs of about maxFileBytes.
 *
 * Memory stays bounded however busy the hour: the hour is merged a time slice at a time (slices of about
 * sliceEvents events, planned from the inputs' ts columns), and each output file is written a slice at a
 * time. A duplicate (the same queue message written twice) has the same event_id *and* the same ts, so it
 * always falls in the same slice as its twin: de-duplicating slice by slice is exact.
 */
import { decodeParquet, encodeParquetSlices, readTimestamps, readTimestampsAndIds, rowGroupCount, type RowSelection } from '../../domain/parquet.js';
import type { LogEvent } from '../../domain/schema.js';
import { outputKey } from '../../domain/storage-layout.js';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.js';

/** What the merge needs of the compactor's deps (see CompactorDeps for each setting). */
export interface MergeSettings {
  store: ObjectStore;
  maxFileBytes: number;
  sliceEvents: number;
  cacheBytes: number;
}

/** What a job's merge stored: the outputs' keys in order, their total bytes, and the duplicates it dropped. */
export interface MergedOutputs {
  outputs: string[];
  bytesAfter: number;
  duplicates: number;
}

const PARQUET_TYPE = 'application/vnd.apache.parquet';
const HOUR_US = 3_600_000_000;
/** The slice planner counts events per bucket of this many microseconds (10 ms: 360,000 per hour). */
const BUCKET_US = 10_000;

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

export function makeMerge({ store, maxFileBytes, sliceEvents, cacheBytes }: MergeSettings) {
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
  async function writeOutputs(
    prefix: string,
    hash: string,
    inputs: readonly ObjectInfo[],
    references: readonly ObjectInfo[],
    hourStartUs: number,
  ): Promise<MergedOutputs> {
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
    const referenceUnits = (
      await survey(
        references.map((o) => o.key),
        hourStartUs,
        undefined,
      )
    ).filter((u) => u.max >= (inputUnits[0]?.min ?? Infinity));
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
      const key = outputKey(prefix, hash, outputs.length);
      await store.put(key, body, PARQUET_TYPE);
      outputs.push(key);
      bytesAfter += body.byteLength;
    }
    return { outputs, bytesAfter, duplicates };
  }

  return { writeOutputs };
}

export type Merge = ReturnType<typeof makeMerge>;
