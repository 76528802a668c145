/**
 * Local query benchmark (reports, never fails on time).
 *
 *   npm run bench:query [-- --events 1000000 --runs 5 --cache]
 *
 * Writes N events spread over one day (4 Parquet files per hour, as the batch writer would before
 * compaction): three in four are application JSON events from seven services, one in four an nginx
 * combined access line (with $request_time) normalized as Sluice stores it. Then measures, with the local
 * DuckDB engine, the p50 (after one warm-up) of the standard queries and the share of the bytes each reads.
 *
 * The functions are shared with the benchmark suite (test/bench/run.ts, `npm run bench`), which caches the
 * generated day under .sluice-bench/ keyed by size, so reruns reuse it (`--cache` here does the same).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { partitionOf } from '../../shared/domain/partitioning.js';
import { partitionPrefix } from '../../shared/domain/storage-layout.js';
import type { Level, LogEvent } from '../../shared/domain/schema.js';
import { makeQueryService } from '../../shared/services/query.js';
import { tempDir } from '../helpers/tmp.js';
import { accessLine, accessRecord, rng } from './corpora.js';
import { benchDir, isMain, median } from './lib.js';

export const QUERY_DAY = Date.UTC(2024, 4, 1);
const FILES_PER_HOUR = 4;
/** Bump when the generator changes: cached datasets of another version are rebuilt. */
const DATASET_VERSION = 2;
const TENANT = 'bench';
const SERVICES = ['checkout', 'payments', 'search', 'auth', 'inventory', 'email', 'gateway'];
const SEVERITY: Record<Level, number> = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 };
const MESSAGES = {
  info: ['request completed', 'cache hit for key', 'user session refreshed', 'order placed', 'job finished'],
  debug: ['entering handler', 'cache lookup', 'sql: select * from items where id = ?'],
  warn: ['slow response from upstream', 'retrying request', 'deprecated endpoint called'],
  error: ['upstream request failed: timeout after 5000ms', 'payment declined by provider', 'database deadlock detected, rolling back'],
};

const APP_HOSTS = Array.from({ length: 1000 }, (_, i) => `ip-10-0-${i % 8}-${(i * 7) % 250}`);
const WEB_HOSTS = ['web-0', 'web-1', 'web-2'];

/** The i-th event of the day: deterministic, at tsMicros. Object literals of one shape (generating 10M matters). */
function dayEvent(i: number, tsMicros: number, next: () => number): LogEvent {
  const eventId = `01HX${i.toString(36).padStart(12, '0')}`;
  if (i % 4 === 3) {
    const rec = accessRecord(next);
    const level: Level = rec.status >= 500 ? 'error' : rec.status >= 400 ? 'warn' : 'info';
    // The attributes Sluice's access-log parser stores for this line, in its order.
    const attributes: Record<string, string> = { 'client.ip': rec.ip };
    if (rec.user !== '-') attributes['user'] = rec.user;
    attributes['http.method'] = rec.method;
    attributes['http.path'] = rec.path;
    attributes['http.version'] = 'HTTP/1.1';
    attributes['http.status'] = String(rec.status);
    attributes['http.bytes'] = String(rec.bytes);
    if (rec.referrer !== '-') attributes['http.referrer'] = rec.referrer;
    attributes['http.user_agent'] = rec.agent;
    attributes['http.request_time'] = rec.requestTime;
    return {
      ts: tsMicros,
      ingested_at: tsMicros + 2_000_000,
      level,
      severity: SEVERITY[level],
      service: 'nginx',
      host: WEB_HOSTS[i % 3]!,
      source: null,
      message: accessLine(rec, Math.floor(tsMicros / 1000)),
      attributes,
      tags: [],
      trace_id: null,
      span_id: null,
      format: 'combined',
      event_id: eventId,
      ts_inferred: false,
    };
  }
  const r = next();
  const drawn: Exclude<Level, 'trace' | 'fatal'> = r < 0.7 ? 'info' : r < 0.8 ? 'debug' : r < 0.92 ? 'warn' : 'error';
  const texts = MESSAGES[drawn];
  // One event in ~2,000 carries the term the free-text query looks for.
  const refused = i % 1999 === 0;
  const level = refused ? 'error' : drawn;
  return {
    ts: tsMicros,
    ingested_at: tsMicros + 2_000_000,
    level,
    severity: SEVERITY[level],
    service: SERVICES[i % SERVICES.length]!,
    host: APP_HOSTS[i % 1000]!,
    source: null,
    message: refused ? `dial tcp 10.0.3.${i % 250}:5432: connect: connection refused` : `${texts[i % texts.length]} id=${(i * 2654435761) % 1e9}`,
    attributes: {
      duration_ms: String(Math.floor(next() * 1200)),
      'http.status': level === 'error' ? '500' : '200',
      request_id: `req-${i.toString(36)}`,
      user_id: `u${(i * 13) % 5000}`,
    },
    tags: [],
    trace_id: null,
    span_id: null,
    format: 'json',
    event_id: eventId,
    ts_inferred: false,
  };
}

export interface QueryDataset {
  dir: string;
  events: number;
  files: number;
  bytes: number;
  /** seconds spent generating it (when cached: by the run that generated it) */
  generatedSec: number;
  cached: boolean;
}

/**
 * Writes the files of n events over QUERY_DAY whose index (0-95) is `part` modulo `parts` into dir
 * (FsObjectStore layout), one encodeParquet per file. File k holds events k·perFile… of the day, each file
 * from its own random stream, so any split of the files writes the same dataset.
 */
export async function writeQueryFiles(dir: string, n: number, part = 0, parts = 1, onFile?: (events: number) => void): Promise<void> {
  const store = new FsObjectStore(dir);
  const perFile = Math.ceil(n / (24 * FILES_PER_HOUR));
  for (let file = part; file < 24 * FILES_PER_HOUR; file += parts) {
    const h = Math.floor(file / FILES_PER_HOUR);
    const f = file % FILES_PER_HOUR;
    const next = rng(7 + file);
    const events: LogEvent[] = [];
    for (let k = 0, i = file * perFile; k < perFile && i < n; k++, i++) {
      const ts = (QUERY_DAY + h * 3600_000 + Math.floor(((f * perFile + k) / (perFile * FILES_PER_HOUR)) * 3600_000)) * 1000;
      events.push(dayEvent(i, ts, next));
    }
    if (events.length === 0) continue;
    await store.put(`${partitionPrefix(partitionOf(TENANT, events[0]!.ts))}f${f}.parquet`, encodeParquet(events));
    onFile?.(events.length);
  }
}

/**
 * Writes the dataset of n events into dir, split over `processes` node processes (this script with
 * --generate-part, under the same tsx loader) when more than one; one process: in this one.
 */
export async function writeQueryDataset(
  dir: string,
  n: number,
  onProgress?: (done: number) => void,
  processes = Math.min(2, availableParallelism()),
): Promise<Omit<QueryDataset, 'cached'>> {
  const t0 = performance.now();
  let done = 0;
  const onFile = (events: number) => onProgress?.((done += events));
  if (processes <= 1 || n < 200_000) {
    await writeQueryFiles(dir, n, 0, 1, onFile);
  } else {
    await Promise.all(
      Array.from({ length: processes }, (_, part) => {
        const child = spawn(
          process.execPath,
          [...process.execArgv, fileURLToPath(import.meta.url), '--generate-part', `${part}/${processes}`, '--events', String(n), '--dir', dir],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        let buf = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buf += chunk.toString();
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.startsWith('@@file ')) onFile(Number(line.slice(7)));
          }
        });
        return new Promise<void>((resolve, reject) => {
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`query dataset part ${part}/${processes} exited with ${code}`))));
        });
      }),
    );
  }
  const files = await new FsObjectStore(dir).list('events/');
  const events = files.length === 0 ? 0 : n;
  return { dir, events, files: files.length, bytes: files.reduce((s, o) => s + o.size, 0), generatedSec: (performance.now() - t0) / 1000 };
}

/**
 * The dataset of n events under <benchDir>/query-<n>-v<version>/, generated once and reused (its
 * generation time is kept with it and reported).
 */
export async function cachedQueryDataset(n: number, onProgress?: (done: number) => void): Promise<QueryDataset> {
  const dir = join(benchDir(), `query-${n}-v${DATASET_VERSION}`);
  const marker = join(dir, 'dataset.json');
  if (existsSync(marker)) {
    const meta = JSON.parse(readFileSync(marker, 'utf8')) as Omit<QueryDataset, 'cached' | 'dir'>;
    return { ...meta, dir, cached: true };
  }
  // A directory without the marker is an interrupted generation: start over.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const ds = await writeQueryDataset(dir, n, onProgress);
  writeFileSync(marker, JSON.stringify({ events: ds.events, files: ds.files, bytes: ds.bytes, generatedSec: ds.generatedSec }));
  return { ...ds, cached: false };
}

export interface StandardQuery {
  id: string;
  title: string;
  query: string;
  /** offsets from the day's start, ms */
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;
/** The five standard queries (README's query language), each over the whole day but the last. */
export const STANDARD_QUERIES: StandardQuery[] = [
  { id: 'count-by-level', title: 'count by level, whole day', query: 'stats count(*) as n by level', start: 0, end: DAY_MS },
  {
    id: 'errors-by-service-5m',
    title: 'errors by service per 5 min',
    query: 'filter level = "error" | stats count(*) as errors by service, bin(5m)',
    start: 0,
    end: DAY_MS,
  },
  {
    id: 'top-paths-p95',
    title: 'top 10 paths by p95 latency',
    query: 'filter format = "combined" | stats count(*) as requests, pct(http.request_time, 95) as p95_seconds by http.path | sort p95_seconds desc | limit 10',
    start: 0,
    end: DAY_MS,
  },
  { id: 'text-search', title: 'free-text "connection refused"', query: '"connection refused" | limit 100', start: 0, end: DAY_MS },
  {
    id: 'one-hour-window',
    title: 'one hour (12:00-13:00): errors by service',
    query: 'filter level = "error" | stats count(*) as errors by service',
    start: 12 * 3600_000,
    end: 13 * 3600_000,
  },
];

export interface QueryTiming {
  id: string;
  title: string;
  p50Ms: number;
  minMs: number;
  runs: number;
  rows: number;
  filesScanned: number;
  bytesScanned: number;
  /** bytesScanned / the dataset's bytes */
  bytesShare: number;
}

/** One warm-up, then `runs` timed runs of each query through the query service and the local engine. */
export async function runStandardQueries(ds: { dir: string; bytes: number }, runs = 5, queries = STANDARD_QUERIES): Promise<QueryTiming[]> {
  const engine = await DuckDbQueryEngine.open({ store: new FsObjectStore(ds.dir) });
  const service = makeQueryService({ engine, clock: { now: () => QUERY_DAY + 2 * DAY_MS }, tokenSecret: Buffer.alloc(32), waitBudgetMs: 600_000 });
  const out: QueryTiming[] = [];
  try {
    for (const q of queries) {
      const req = { tenant: TENANT, query: q.query, start: QUERY_DAY + q.start, end: QUERY_DAY + q.end, limit: 10_000 };
      await service.run(req);
      const ms: number[] = [];
      let last;
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        last = await service.run(req);
        ms.push(performance.now() - t);
      }
      if (last?.status !== 'complete') throw new Error(`${q.id} did not complete`);
      out.push({
        id: q.id,
        title: q.title,
        p50Ms: median(ms),
        minMs: Math.min(...ms),
        runs,
        rows: last.stats.rows,
        filesScanned: last.stats.filesScanned ?? 0,
        bytesScanned: last.stats.bytesScanned,
        bytesShare: last.stats.bytesScanned / ds.bytes,
      });
    }
  } finally {
    await engine.close();
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '5' },
      cache: { type: 'boolean', default: false },
      // internal: one process's share of writeQueryDataset
      'generate-part': { type: 'string' },
      dir: { type: 'string' },
    },
  });
  const N = Number(values.events);
  if (values['generate-part']) {
    const [part, parts] = values['generate-part'].split('/').map(Number) as [number, number];
    await writeQueryFiles(values.dir!, N, part, parts, (events) => process.stdout.write(`@@file ${events}\n`));
    return;
  }
  const RUNS = Number(values.runs);
  const tmp = values.cache ? undefined : await tempDir('sluice-bench-query-');
  try {
    const ds = tmp ? { ...(await writeQueryDataset(tmp.dir, N)), cached: false } : await cachedQueryDataset(N);
    console.log(
      `\n${ds.cached ? 'reused' : 'wrote'} ${ds.events} events in ${ds.files} files (${(ds.bytes / 1e6).toFixed(1)} MB)${ds.cached ? ` from ${ds.dir}` : ` in ${ds.generatedSec.toFixed(1)} s`}`,
    );
    const extra: StandardQuery = {
      id: 'by-service-5m',
      title: 'count by service, bin(5m), whole day',
      query: 'stats count(*) as n by service, bin(5m)',
      start: 0,
      end: DAY_MS,
    };
    for (const t of await runStandardQueries(ds, RUNS, [...STANDARD_QUERIES, extra])) {
      console.log(
        `${t.title.padEnd(44)} p50 ${t.p50Ms.toFixed(0).padStart(6)} ms (min ${t.minMs.toFixed(0)} ms), ${t.rows} rows, read ${t.filesScanned}/${ds.files} files, ${(100 * t.bytesShare).toFixed(1)}% of the bytes`,
      );
    }
    console.log('');
  } finally {
    await tmp?.cleanup();
  }
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
