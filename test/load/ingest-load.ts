/**
 * Load test of the local server (the real `npm start` entry in a child process) with autocannon:
 *
 *   sustained  keep-alive connections post realistic NDJSON batches for N seconds; reports events/s,
 *              p50/p99 acknowledgement latency (time to the 202), non-2xx and errors, the server's peak RSS
 *   overload   many connections posting 1 MiB bodies: the server answers 429 (too many ingest requests at
 *              once) or 503 (spool backlog over its limit) with Retry-After, keeps answering /health, and its
 *              peak RSS stays bounded
 *
 *   npm run test:load                     60 s sustained + 15 s overload
 *   npm run test:load -- 10 5 16 0        10 s sustained (16 connections, unthrottled) + 5 s overload
 * The sustained phase offers 20,000 events/s by default (argument 4), what the writer stores on 2 cores;
 * unthrottled, ingest acknowledges faster than the writer stores until the spool's backlog limit answers 503.
 * A 5-second form runs in `npm test` (test/integration/load-short.test.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { tempDir } from '../helpers/tmp.js';

const LEVELS = ['info', 'info', 'info', 'debug', 'warn', 'error'];
const SERVICES = ['checkout', 'billing', 'search', 'auth', 'gateway'];

/** A shipper-like NDJSON batch; `seed` makes the batches of a pool differ. */
export function ndjsonBatch(events: number, seed = 0): string {
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const level = LEVELS[i % LEVELS.length]!;
    const service = SERVICES[i % SERVICES.length]!;
    lines.push(
      JSON.stringify({
        timestamp: new Date(Date.now() - (events - i) * 10).toISOString(),
        level,
        service,
        host: `ip-10-0-${i % 4}-${(i * 7) % 250}`,
        message: `${level === 'error' ? 'request failed' : 'request handled'} path=/api/v1/orders/${1000 + i} status=${level === 'error' ? 502 : 200}`,
        trace_id: `${seed.toString(16).padStart(8, '0')}${i.toString(16).padStart(24, '0')}`,
        duration_ms: (i * 37) % 900,
        http: { method: i % 3 === 0 ? 'POST' : 'GET', status: level === 'error' ? 502 : 200, user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' },
        user: { id: `u-${(i * 13) % 500}` },
        batch: seed,
      }),
    );
  }
  return lines.join('\n');
}

/** The process's peak resident set (VmHWM) and current RSS, in MiB. */
export function memoryOf(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 'NaN');
  return { peakMiB: Math.round(kb('VmHWM') / 1024), rssMiB: Math.round(kb('VmRSS') / 1024) };
}

export interface SustainedResult {
  seconds: number;
  connections: number;
  eventsPerRequest: number;
  requests: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  peakRssMiB: number;
}

export interface OverloadResult {
  seconds: number;
  connections: number;
  bodyBytes: number;
  statusCounts: Record<string, number>;
  errors: number;
  healthDuring: number[];
  peakRssMiB: number;
}

const HEADERS = { 'content-type': 'application/x-ndjson' };

/** `eventsPerSecond`: offered rate (autocannon's overallRate); unset: as fast as the connections go. */
export async function sustained(
  server: ChildServer,
  opts: { seconds: number; connections?: number; eventsPerRequest?: number; eventsPerSecond?: number },
): Promise<SustainedResult> {
  const connections = opts.connections ?? 8;
  const eventsPerRequest = opts.eventsPerRequest ?? 200;
  const r = await autocannon({
    url: `${server.url}/v1/logs`,
    method: 'POST',
    headers: HEADERS,
    // A pool of distinct batches that each connection cycles through.
    requests: Array.from({ length: 32 }, (_, seed) => ({ body: ndjsonBatch(eventsPerRequest, seed) })),
    connections,
    duration: opts.seconds,
    timeout: 30,
    ...(opts.eventsPerSecond ? { overallRate: Math.max(1, Math.round(opts.eventsPerSecond / eventsPerRequest)) } : {}),
  });
  const ok = r['2xx'];
  return {
    seconds: r.duration,
    connections,
    eventsPerRequest,
    requests: r.requests.total,
    eventsPerSecond: Math.round((ok * eventsPerRequest) / r.duration),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    non2xx: r.non2xx,
    statusCounts: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
    errors: r.errors,
    timeouts: r.timeouts,
    peakRssMiB: memoryOf(server.proc.pid!).peakMiB,
  };
}

export async function overload(server: ChildServer, opts: { seconds: number; connections?: number; bodyBytes?: number }): Promise<OverloadResult> {
  const connections = opts.connections ?? 200;
  // ~1 MiB bodies of realistic events.
  const per = ndjsonBatch(1).length + 1;
  const body = ndjsonBatch(Math.max(1, Math.floor((opts.bodyBytes ?? 1024 * 1024) / per)));
  const healthDuring: number[] = [];
  let stop = false;
  const probe = (async () => {
    while (!stop) {
      try {
        const h = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) });
        healthDuring.push(h.status);
        await h.arrayBuffer();
      } catch {
        healthDuring.push(0);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  })();
  const r = await autocannon({ url: `${server.url}/v1/logs`, method: 'POST', headers: HEADERS, body, connections, duration: opts.seconds, timeout: 30 });
  stop = true;
  await probe;
  return {
    seconds: r.duration,
    connections,
    bodyBytes: Buffer.byteLength(body),
    statusCounts: Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])),
    errors: r.errors,
    healthDuring,
    peakRssMiB: memoryOf(server.proc.pid!).peakMiB,
  };
}

/** Starts a server on a fresh data directory for one load run. */
export async function withServer<T>(env: Record<string, string>, run: (server: ChildServer) => Promise<T>): Promise<T> {
  const tmp = await tempDir();
  const server = await startChildServer({ SLUICE_DATA_DIR: tmp.dir, SLUICE_LOG_LEVEL: 'warn', ...env });
  try {
    return await run(server);
  } finally {
    await server.kill('SIGTERM');
    await tmp.cleanup();
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 60);
  const overloadSeconds = Number(process.argv[3] ?? 15);
  const connections = Number(process.argv[4] ?? 8);
  // The rate the writer keeps up with on 2 cores (Parquet encoding is the bottleneck); 0: unthrottled.
  const rate = Number(process.argv[5] ?? 20_000);
  const s = await withServer({}, (server) => sustained(server, { seconds, connections, ...(rate > 0 ? { eventsPerSecond: rate } : {}) }));
  console.log(`sustained ingest, ${s.seconds} s, ${s.connections} connections, ${s.eventsPerRequest} events per request:`);
  console.log(
    `  ${s.eventsPerSecond} events/s (${s.requests} requests), ack latency p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms; ` +
      `statuses ${JSON.stringify(s.statusCounts)}, errors ${s.errors}, timeouts ${s.timeouts}; server peak RSS ${s.peakRssMiB} MiB`,
  );
  const o = await withServer({}, (server) => overload(server, { seconds: overloadSeconds }));
  console.log(`overload, ${o.seconds} s, ${o.connections} connections posting ${Math.round(o.bodyBytes / 1024)} KiB bodies:`);
  console.log(`  statuses ${JSON.stringify(o.statusCounts)}, connection errors ${o.errors}, peak RSS ${o.peakRssMiB} MiB`);
  console.log(`  /health during overload: ${o.healthDuring.filter((c) => c === 200).length}/${o.healthDuring.length} answered 200`);
  if (s.non2xx > 0 || s.errors > 0) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
