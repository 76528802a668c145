/**
 * Storage benchmark (reports, never fails): for each corpus, the raw bytes, `gzip -6` of the raw bytes,
 * and the Parquet bytes Sluice writes for the same lines (normalized, one file, ZSTD).
 *
 *   npx tsx test/bench/storage.ts [--corpora ../shared/corpora/loghub] [--json out.json]
 *
 * The functions are shared with the benchmark suite (test/bench/run.ts, `npm run bench`).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { decodeLogsBody, type BodyKind } from '../../shared/domain/shippers/logs.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { loghubRoot, loghubSamples } from './corpora.js';
import { benchContext, isMain, normalizeRecords } from './lib.js';

export interface StorageRow {
  corpus: string;
  events: number;
  rawBytes: number;
  gzipBytes: number;
  parquetBytes: number;
  parquetToGzip: number;
  parquetToRaw: number;
}

/** gzip -6 size of the text (node zlib, level 6). */
export function gzip6(text: string): number {
  return gzipSync(text, { level: 6 }).length;
}

/** A row from sizes already measured (the ingest benchmark encodes the same corpora). */
export function storageRowOf(corpus: string, events: number, rawBytes: number, gzipBytes: number, parquetBytes: number): StorageRow {
  return { corpus, events, rawBytes, gzipBytes, parquetBytes, parquetToGzip: parquetBytes / gzipBytes, parquetToRaw: parquetBytes / rawBytes };
}

/** Decode (as `kind`), normalize and encode `text` as one Parquet file; its size beside raw and gzip -6. */
export function storageRow(name: string, text: string, kind: BodyKind = 'text'): StorageRow {
  const now = Date.now();
  const ctx = benchContext(now);
  const records = decodeLogsBody(text, kind, { refMicros: now * 1000, maxRecords: Number.MAX_SAFE_INTEGER });
  const events = normalizeRecords(records, ctx);
  return storageRowOf(name, events.length, Buffer.byteLength(text), gzip6(text), encodeParquet(events).length);
}

/** One row per loghub sample. */
export function loghubStorageRows(root = loghubRoot()): StorageRow[] {
  return loghubSamples(root).map((s) => storageRow(s.name, s.text, 'text'));
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { corpora: { type: 'string' }, json: { type: 'string' } } });
  const rows = loghubStorageRows(loghubRoot(values.corpora));
  console.log('\ncorpus       events   raw bytes   gzip -6   parquet   parquet/gzip');
  for (const r of rows) {
    console.log(
      `${r.corpus.padEnd(10)} ${String(r.events).padStart(8)} ${String(r.rawBytes).padStart(11)} ${String(r.gzipBytes).padStart(9)} ${String(r.parquetBytes).padStart(9)} ${r.parquetToGzip.toFixed(2).padStart(14)}`,
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
}
