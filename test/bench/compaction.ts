/**
 * Compaction benchmark (reports, never fails on time).
 *
 *   npm run bench:compaction [-- --events 41667 --files 4,120,600 --runs 5 --slice 200000]
 *
 * One hour of the query benchmark's data (1M events/day → ~41,667 per hour, same generator as
 * test/bench/query.ts) written as F batch files (interleaved in time, as concurrent writer batches are),
 * then compacted. Reports files and bytes before/after, the compaction time, the process's peak RSS while
 * compacting (the compactor holds one time slice of --slice events at a time, so it stays flat as --events
 * grows), and the p50 latency of a one-hour query with the local DuckDB engine before and after.
 */
import { parseArgs } from 'node:util';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import type { Partition } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { makeCompactor } from '../../shared/services/compaction/compactor.js';
import { makeQueryService } from '../../shared/services/query.js';
import { tempDir } from '../helpers/tmp.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '41667' },
    files: { type: 'string', default: '4,120,600' },
    runs: { type: 'string', default: '5' },
    slice: { type: 'string', default: '200000' },
  },
});
const N = Number(values.events);
const RUNS = Number(values.runs);
const HOUR = Date.UTC(2024, 4, 1, 12);
const SERVICES = ['checkout', 'payments', 'search', 'auth', 'inventory', 'email', 'gateway'];
const LEVELS = ['info', 'info', 'info', 'info', 'warn', 'error', 'debug'] as const;
const partition: Partition = { tenant: 'bench', dt: '2024-05-01', hour: 12 };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function event(i: number): LogEvent {
  const ts = (HOUR + Math.floor((i / N) * 3600_000)) * 1000;
  const level = LEVELS[i % LEVELS.length]!;
  return {
    ts,
    ingested_at: ts,
    level,
    severity: 9,
    service: SERVICES[i % SERVICES.length]!,
    host: `ip-10-0-${i % 8}`,
    source: null,
    message: `request ${i} ${level === 'error' ? 'failed' : 'done'}`,
    attributes: { duration_ms: String(i % 997), 'http.status': level === 'error' ? '500' : '200' },
    tags: [],
    trace_id: null,
    span_id: null,
    format: 'json',
    event_id: `e${i}`,
    ts_inferred: false,
  };
}

async function measure(filesPerHour: number): Promise<void> {
  const { dir, cleanup } = await tempDir('sluice-bench-compaction-');
  const store = new FsObjectStore(dir);
  const prefix = partitionPrefix(partition);
  // Batch f holds every F-th event: batches overlap in time, as concurrent writer invocations' do.
  for (let f = 0; f < filesPerHour; f++) {
    const events: LogEvent[] = [];
    for (let i = f; i < N; i += filesPerHour) events.push(event(i));
    await store.put(`${prefix}batch-${String(f).padStart(5, '0')}.parquet`, encodeParquet(events));
  }
  const engine = await DuckDbQueryEngine.open({ store });
  const service = makeQueryService({ engine, clock: { now: () => HOUR + 86_400_000 }, tokenSecret: Buffer.alloc(32), waitBudgetMs: 120_000 });
  const p50 = async () => {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await service.run({
        tenant: 'bench',
        query: 'filter level = "error" | stats count(*) as errors by service, bin(5m)',
        start: HOUR,
        end: HOUR + 3600_000,
        limit: 10_000,
      });
      ms.push(performance.now() - t);
    }
    return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;
  };
  const size = async () => {
    const files = (await store.list(prefix)).filter((o) => o.key.endsWith('.parquet'));
    return { files: files.length, bytes: files.reduce((n, o) => n + o.size, 0) };
  };
  await p50(); // warm up
  const before = { ...(await size()), p50: await p50() };
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const t = performance.now();
  const result = await makeCompactor({ store, clock: { now: () => HOUR + 86_400_000 }, logger: silent, sliceEvents: Number(values.slice) }).run();
  const compactMs = performance.now() - t;
  clearInterval(sampler);
  const after = { ...(await size()), p50: await p50() };
  const mb = (b: number) => (b / 1e6).toFixed(2);
  console.log(
    `${N} events in ${before.files} files, ${mb(before.bytes)} MB → ${after.files} file(s), ${mb(after.bytes)} MB ` +
      `(compacted in ${(compactMs / 1000).toFixed(2)} s, ${result.duplicatesDropped} duplicates, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB, ` +
      `+${((peakRss - rssBefore) / 2 ** 20).toFixed(0)} MiB over the start); ` +
      `one-hour query p50 ${before.p50.toFixed(0)} ms → ${after.p50.toFixed(0)} ms`,
  );
  await engine.close();
  await cleanup();
}

async function main(): Promise<void> {
  for (const f of values.files.split(',').map(Number)) await measure(f);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
