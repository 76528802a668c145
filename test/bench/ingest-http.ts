/**
 * Ingest benchmark (a benchmark, not a test: it reports numbers and never fails on time).
 *
 *   npm run bench:ingest [-- --events 100000 --runs 3]
 *
 * Starts local mode in this process on a temporary data directory, posts N NDJSON events in ONE request,
 * and reports: time to the 202 (decode + normalize + durable spool append), and time until every event is
 * stored as Parquet and counted by a query (end to end).
 */
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { readLocalConfig } from '../../shared/config/env.js';
import { startLocal } from '../../lambdas/local/start.js';
import { ConsoleLogger } from '../../shared/adapters/local/console-logger.js';
import { tempDir } from '../helpers/tmp.js';
import { appNdjson } from './app-corpus.js';

const { values } = parseArgs({
  options: { events: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' }, gzip: { type: 'boolean', default: false } },
});
const N = Number(values.events);
const RUNS = Number(values.runs);


async function main(): Promise<void> {
  const { dir, cleanup } = await tempDir('sluice-bench-');
  const config = readLocalConfig({
    PORT: '0',
    SLUICE_DATA_DIR: dir,
    SLUICE_FLUSH_MS: '200',
    SLUICE_MAX_BODY_BYTES: String(256 * 1024 * 1024),
  });
  const stack = await startLocal(config, { logger: new ConsoleLogger('warn') });
  const results: { run: number; mb: number; ackMs: number; storedMs: number }[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const text = appNdjson(N, run);
      const body = values.gzip ? gzipSync(text) : Buffer.from(text);
      const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' };
      if (values.gzip) headers['content-encoding'] = 'gzip';
      const t0 = performance.now();
      const res = await fetch(`${stack.url}/v1/logs`, { method: 'POST', headers, body });
      const ack = (await res.json()) as { accepted: number };
      const ackMs = performance.now() - t0;
      if (res.status !== 202 || ack.accepted !== N) throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(ack).slice(0, 200)}`);
      const want = N * run;
      while (true) {
        const q = await fetch(`${stack.url}/v1/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sql: 'SELECT count(*) FROM logs', start: Date.now() - 3600_000 }),
        });
        const r = (await q.json()) as { rows: number[][] };
        if (r.rows[0]![0] === want) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      results.push({ run, mb: Buffer.byteLength(text) / 1e6, ackMs, storedMs: performance.now() - t0 });
    }
  } finally {
    await stack.close();
    await cleanup();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\nIngest benchmark: ${N} NDJSON events per request (${results[0]!.mb.toFixed(1)} MB raw${values.gzip ? ', sent gzip' : ''}), ${RUNS} runs, node ${process.version}`);
  console.log('run  to 202 (ms)  events/s to 202  stored+queryable (ms)  events/s end to end');
  for (const r of results) {
    console.log(
      `${String(r.run).padStart(3)}  ${r.ackMs.toFixed(0).padStart(11)}  ${Math.round(N / (r.ackMs / 1000)).toString().padStart(15)}  ${r.storedMs.toFixed(0).padStart(21)}  ${Math.round(N / (r.storedMs / 1000)).toString().padStart(19)}`,
    );
  }
  const ack = median(results.map((r) => r.ackMs));
  const stored = median(results.map((r) => r.storedMs));
  console.log(`median: ${Math.round(N / (ack / 1000))} events/s to 202; ${Math.round(N / (stored / 1000))} events/s stored and queryable\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
