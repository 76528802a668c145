/**
 * Ingest benchmark (a benchmark, not a test: it reports numbers and never fails on time).
 *
 *   npm run bench:ingest [-- --events 100000 --runs 3 --gzip]
 *
 * Starts local mode in this process on a temporary data directory, posts N NDJSON events in ONE request,
 * and reports: time to the 202 (decode + normalize + durable spool append), and time until every event is
 * stored as Parquet (the request's receipt reads `stored`, so a query counts them).
 *
 * httpIngest() is shared with the benchmark suite (test/bench/run.ts, `npm run bench`), which also posts
 * plain-text and access-log bodies.
 */
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { readLocalConfig } from '../../shared/config/env.js';
import { startLocal } from '../../lambdas/local/start.js';
import { ConsoleLogger } from '../../shared/adapters/local/console-logger.js';
import { tempDir } from '../helpers/tmp.js';
import { appNdjson } from './app-corpus.js';
import { isMain, median } from './lib.js';

export interface HttpRun {
  run: number;
  events: number;
  rawBytes: number;
  ackMs: number;
  storedMs: number;
}

export interface HttpIngestResult {
  runs: HttpRun[];
  events: number;
  rawBytes: number;
  /** medians over the runs */
  ackEventsPerSec: number;
  ackMbPerSec: number;
  storedEventsPerSec: number;
  storedMbPerSec: number;
}

export interface HttpIngestOptions {
  /** the body of run r (1-based); every run's body should hold the same number of events */
  body: (run: number) => string;
  contentType: string;
  runs?: number;
  gzip?: boolean;
}

/**
 * Starts the real local server (loopback, temporary data directory), posts each run's body in one request
 * and measures the time to the 202 and until the receipt reads `stored` (every event in Parquet).
 */
export async function httpIngest({ body, contentType, runs = 3, gzip = false }: HttpIngestOptions): Promise<HttpIngestResult> {
  const { dir, cleanup } = await tempDir('sluice-bench-');
  const config = readLocalConfig({
    PORT: '0',
    SLUICE_DATA_DIR: dir,
    SLUICE_FLUSH_MS: '200',
    SLUICE_MAX_BODY_BYTES: String(256 * 1024 * 1024),
  });
  const stack = await startLocal(config, { logger: new ConsoleLogger('warn') });
  const results: HttpRun[] = [];
  try {
    for (let run = 1; run <= runs; run++) {
      const text = body(run);
      const payload = gzip ? gzipSync(text) : Buffer.from(text);
      const headers: Record<string, string> = { 'content-type': contentType };
      if (gzip) headers['content-encoding'] = 'gzip';
      const t0 = performance.now();
      const res = await fetch(`${stack.url}/v1/logs`, { method: 'POST', headers, body: payload });
      const ack = (await res.json()) as { accepted: number; receipt: string; rejectedCount?: number };
      const ackMs = performance.now() - t0;
      if (res.status !== 202 || !ack.receipt) throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(ack).slice(0, 200)}`);
      while (true) {
        const r = await fetch(`${stack.url}/v1/receipts/${ack.receipt}`);
        const receipt = (await r.json()) as { status: string; reasons?: string[] };
        if (receipt.status === 'stored') break;
        if (receipt.status === 'failed') throw new Error(`receipt ${ack.receipt} failed: ${receipt.reasons?.join('; ')}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      results.push({ run, events: ack.accepted, rawBytes: Buffer.byteLength(text), ackMs, storedMs: performance.now() - t0 });
    }
  } finally {
    await stack.close();
    await cleanup();
  }
  const events = results[0]!.events;
  const rawBytes = results[0]!.rawBytes;
  const ack = median(results.map((r) => r.ackMs)) / 1000;
  const stored = median(results.map((r) => r.storedMs)) / 1000;
  return {
    runs: results,
    events,
    rawBytes,
    ackEventsPerSec: events / ack,
    ackMbPerSec: rawBytes / 1e6 / ack,
    storedEventsPerSec: events / stored,
    storedMbPerSec: rawBytes / 1e6 / stored,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { events: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' }, gzip: { type: 'boolean', default: false } },
  });
  const N = Number(values.events);
  const RUNS = Number(values.runs);
  const out = await httpIngest({ body: (run) => appNdjson(N, run), contentType: 'application/x-ndjson', runs: RUNS, gzip: values.gzip });
  console.log(
    `\nIngest benchmark: ${N} NDJSON events per request (${(out.rawBytes / 1e6).toFixed(1)} MB raw${values.gzip ? ', sent gzip' : ''}), ${RUNS} runs, node ${process.version}`,
  );
  console.log('run  to 202 (ms)  events/s to 202  stored (ms)  events/s end to end');
  for (const r of out.runs) {
    console.log(
      `${String(r.run).padStart(3)}  ${r.ackMs.toFixed(0).padStart(11)}  ${Math.round(N / (r.ackMs / 1000))
        .toString()
        .padStart(15)}  ${r.storedMs.toFixed(0).padStart(11)}  ${Math.round(N / (r.storedMs / 1000))
        .toString()
        .padStart(19)}`,
    );
  }
  console.log(`median: ${Math.round(out.ackEventsPerSec)} events/s to 202; ${Math.round(out.storedEventsPerSec)} events/s stored and queryable\n`);
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
