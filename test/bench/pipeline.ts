/**
 * Ingest pipeline benchmark (reports, never fails): decode → normalize → Parquet encode, no HTTP, one core,
 * beside DuckDB's own NDJSON → ZSTD Parquet conversion of the same file as a reference.
 *
 *   npx tsx test/bench/pipeline.ts [--events 100000]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { decodeLogsBody } from '../../shared/domain/decode-body.js';
import { DEFAULT_EVENT_LIMITS, normalizeJsonObject, normalizeTextLine, type RecordContext } from '../../shared/domain/normalize/record.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { tempDir } from '../helpers/tmp.js';
import { appNdjson } from './app-corpus.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' } } });
const N = Number(values.events);

async function main(): Promise<void> {
  const text = appNdjson(N);
  const mb = Buffer.byteLength(text) / 1e6;
  const ctx: RecordContext = { receipt: '01HZZZZZZZZZZZZZZZZZZZZZZZ', ingestedAtMicros: Date.now() * 1000, defaults: {}, limits: DEFAULT_EVENT_LIMITS };
  const runs: number[] = [];
  let bytes = 0;
  const phases = { decode: 0, normalize: 0, encode: 0 };
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const records = decodeLogsBody(text, 'ndjson');
    const t1 = performance.now();
    const events = records.map((rec) => (rec.kind === 'json' ? normalizeJsonObject(rec.value, rec.index, ctx, rec.raw) : normalizeTextLine((rec as { line: string }).line, rec.index, ctx)));
    const t2 = performance.now();
    bytes = encodeParquet(events).length;
    const t3 = performance.now();
    runs.push(t3 - t0);
    phases.decode = t1 - t0;
    phases.normalize = t2 - t1;
    phases.encode = t3 - t2;
  }
  const ours = [...runs].sort((a, b) => a - b)[1]!;

  const { dir, cleanup } = await tempDir('sluice-bench-pipeline-');
  const file = join(dir, 'in.ndjson');
  writeFileSync(file, text);
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  const duck: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    await conn.run(`COPY (SELECT * FROM read_json('${file}')) TO '${join(dir, `out${r}.parquet`)}' (FORMAT parquet, COMPRESSION zstd)`);
    duck.push(performance.now() - t);
  }
  const reference = [...duck].sort((a, b) => a - b)[1]!;
  conn.closeSync();
  db.closeSync();
  await cleanup();

  console.log(`\n${N} NDJSON events (${mb.toFixed(1)} MB), one core, median of 3`);
  console.log(`Sluice decode → normalize → Parquet: ${ours.toFixed(0)} ms = ${Math.round(N / (ours / 1000))} events/s, ${(mb / (ours / 1000)).toFixed(1)} MB/s (decode ${phases.decode.toFixed(0)} ms, normalize ${phases.normalize.toFixed(0)} ms, encode ${phases.encode.toFixed(0)} ms; ${(bytes / 1e6).toFixed(2)} MB Parquet)`);
  console.log(`DuckDB read_json → ZSTD Parquet (1 thread): ${reference.toFixed(0)} ms = ${Math.round(N / (reference / 1000))} events/s`);
  console.log(`ratio (Sluice / DuckDB): ${(reference / ours).toFixed(2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
