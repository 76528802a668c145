/**
 * Ingest pipeline benchmark (reports, never fails): decode → normalize → Parquet encode, no HTTP, one core,
 * beside DuckDB's own NDJSON → ZSTD Parquet conversion of the same file as a reference.
 *
 *   npx tsx test/bench/pipeline.ts [--events 100000]
 *
 * The functions are shared with the benchmark suite (test/bench/run.ts, `npm run bench`).
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { decodeLogsBody, type BodyKind } from '../../shared/domain/shippers/logs.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { tempDir } from '../helpers/tmp.js';
import { appNdjson } from './app-corpus.js';
import { benchContext, isMain, normalizeRecords, median } from './lib.js';

export interface PipelineResult {
  events: number;
  rawBytes: number;
  parquetBytes: number;
  /** median wall time of the runs, ms */
  ms: number;
  eventsPerSec: number;
  mbPerSec: number;
  /** phases of the median run, ms */
  phases: { decode: number; normalize: number; encode: number };
}

/**
 * Sluice's ingest path without HTTP, as the ingest service and the batch writer run it: decode the body
 * (`kind` as its Content-Type would select), normalize every record, encode one ZSTD Parquet file.
 * One core (this thread); the median of `runs`.
 */
export function sluicePipeline(text: string, kind: BodyKind, runs = 3): PipelineResult {
  const runsOut: { total: number; decode: number; normalize: number; encode: number; events: number; bytes: number }[] = [];
  for (let r = 0; r < runs; r++) {
    const now = Date.now();
    const ctx = benchContext(now);
    const t0 = performance.now();
    const records = decodeLogsBody(text, kind, { refMicros: now * 1000 });
    const t1 = performance.now();
    const events = normalizeRecords(records, ctx);
    const t2 = performance.now();
    const bytes = encodeParquet(events).length;
    const t3 = performance.now();
    runsOut.push({ total: t3 - t0, decode: t1 - t0, normalize: t2 - t1, encode: t3 - t2, events: events.length, bytes });
  }
  const mid = [...runsOut].sort((a, b) => a.total - b.total)[Math.floor(runsOut.length / 2)]!;
  const rawBytes = Buffer.byteLength(text);
  return {
    events: mid.events,
    rawBytes,
    parquetBytes: mid.bytes,
    ms: mid.total,
    eventsPerSec: mid.events / (mid.total / 1000),
    mbPerSec: rawBytes / 1e6 / (mid.total / 1000),
    phases: { decode: mid.decode, normalize: mid.normalize, encode: mid.encode },
  };
}

export interface DuckDbReference {
  events: number;
  rawBytes: number;
  parquetBytes: number;
  ms: number;
  eventsPerSec: number;
  mbPerSec: number;
}

/**
 * DuckDB's own NDJSON → ZSTD Parquet conversion of the same text written to a file, with one thread
 * (per-core fairness): `COPY (SELECT * FROM read_json(file)) TO out (FORMAT parquet, COMPRESSION zstd)`.
 * The median of `runs`.
 */
export async function duckdbNdjsonToParquet(text: string, events: number, runs = 3): Promise<DuckDbReference> {
  const { dir, cleanup } = await tempDir('sluice-bench-pipeline-');
  try {
    const file = join(dir, 'in.ndjson');
    writeFileSync(file, text);
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await db.connect();
    const ms: number[] = [];
    let parquetBytes = 0;
    try {
      for (let r = 0; r < runs; r++) {
        const out = join(dir, `out${r}.parquet`);
        const t = performance.now();
        await conn.run(`COPY (SELECT * FROM read_json('${file}')) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
        ms.push(performance.now() - t);
        parquetBytes = statSync(out).size;
      }
    } finally {
      conn.closeSync();
      db.closeSync();
    }
    const m = median(ms);
    const rawBytes = Buffer.byteLength(text);
    return { events, rawBytes, parquetBytes, ms: m, eventsPerSec: events / (m / 1000), mbPerSec: rawBytes / 1e6 / (m / 1000) };
  } finally {
    await cleanup();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' } } });
  const N = Number(values.events);
  const text = appNdjson(N);
  const ours = sluicePipeline(text, 'ndjson', 3);
  const duck = await duckdbNdjsonToParquet(text, N, 3);
  const p = ours.phases;
  console.log(`\n${N} NDJSON events (${(ours.rawBytes / 1e6).toFixed(1)} MB), one core, median of 3`);
  console.log(
    `Sluice decode → normalize → Parquet: ${ours.ms.toFixed(0)} ms = ${Math.round(ours.eventsPerSec)} events/s, ${ours.mbPerSec.toFixed(1)} MB/s (decode ${p.decode.toFixed(0)} ms, normalize ${p.normalize.toFixed(0)} ms, encode ${p.encode.toFixed(0)} ms; ${(ours.parquetBytes / 1e6).toFixed(2)} MB Parquet)`,
  );
  console.log(`DuckDB read_json → ZSTD Parquet (1 thread): ${duck.ms.toFixed(0)} ms = ${Math.round(duck.eventsPerSec)} events/s`);
  console.log(`ratio (Sluice / DuckDB): ${(duck.ms / ours.ms).toFixed(2)}\n`);
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
