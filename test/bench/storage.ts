/**
 * Storage benchmark (reports, never fails): for each corpus, the raw bytes, `gzip -6` of the raw bytes,
 * and the Parquet bytes Sluice writes for the same lines (normalized, one file, ZSTD).
 *
 *   npx tsx test/bench/storage.ts [--corpora ../shared/corpora/loghub] [--json out.json]
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { decodeLogsBody } from '../../shared/domain/decode-body.js';
import { DEFAULT_EVENT_LIMITS, normalizeTextLine, type RecordContext } from '../../shared/domain/normalize/record.js';
import { encodeParquet } from '../../shared/domain/parquet.js';

const { values } = parseArgs({ options: { corpora: { type: 'string' }, json: { type: 'string' } } });
const root = resolve(values.corpora ?? join(import.meta.dirname, '../../../shared/corpora/loghub'));
const ctx: RecordContext = { receipt: '01HZZZZZZZZZZZZZZZZZZZZZZZ', ingestedAtMicros: Date.now() * 1000, defaults: {}, limits: DEFAULT_EVENT_LIMITS };

export function storageRow(name: string, text: string) {
  const raw = Buffer.byteLength(text);
  const gz = gzipSync(text, { level: 6 }).length;
  const records = decodeLogsBody(text, 'text', { refMicros: ctx.ingestedAtMicros });
  const events = records.map((r) => normalizeTextLine((r as { line: string }).line, r.index, ctx));
  const parquet = encodeParquet(events).length;
  return { corpus: name, events: events.length, rawBytes: raw, gzipBytes: gz, parquetBytes: parquet, parquetToGzip: parquet / gz };
}

const rows = readdirSync(root)
  .sort()
  .filter((s) => existsSync(join(root, s, `${s}_2k.log`)))
  .map((s) => storageRow(s, readFileSync(join(root, s, `${s}_2k.log`), 'utf8')));
console.log('\ncorpus       events   raw bytes   gzip -6   parquet   parquet/gzip');
for (const r of rows) {
  console.log(`${r.corpus.padEnd(10)} ${String(r.events).padStart(8)} ${String(r.rawBytes).padStart(11)} ${String(r.gzipBytes).padStart(9)} ${String(r.parquetBytes).padStart(9)} ${r.parquetToGzip.toFixed(2).padStart(14)}`);
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
