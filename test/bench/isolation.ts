/**
 * Isolation benchmark (issue #13): can one tenant's queries take the server down for everyone?
 *
 * Starts the real local server (`npm start`'s entry, a child process), loads events for two tenants, then
 *   flood    40 heavy queries at once from tenant `heavy` (half a recursive CTE that never ends, half
 *            `SELECT count(*) FROM logs a, logs b, logs c`) while tenant `probe` posts an ingest probe every
 *            200 ms and runs a light query; every probe must get 202 within 2 s, every heavy query must end
 *            with a result, a 429 or a time-limit error within its bound; then a light query of `heavy`
 *   memory   `list_sum(generate_series(1, 3e8))` (one 2.4 GB value: DuckDB's memory_limit does not cover it)
 *   results  11 queries each returning 3 × 100 MB, and one returning 6 × 100 MB
 * and samples the resident memory of the server and of its query worker throughout.
 *
 *   npm run bench:isolation                         # all phases, the server's default limits
 *   npm run bench:isolation -- --only flood         # some phases: flood, memory, results
 *   npm run bench:isolation -- --events 20000 --heavy 40 --env SLUICE_QUERY_TIMEOUT_MS=10000
 *
 * Prints a table and exits non-zero when any bound is missed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { tempDir } from '../helpers/tmp.js';
import { ndjsonBatch } from '../load/ingest-load.js';

const HEAVY_KEY = 'heavy-k3y';
const PROBE_KEY = 'probe-k3y';
const KEYS = `${HEAVY_KEY}:heavy:ingest+query+admin,${PROBE_KEY}:probe:ingest+query+admin`;
export const HEAVY_SQL = {
  recursive: 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r',
  cross: 'SELECT count(*) FROM logs a, logs b, logs c',
};

export interface IsolationOptions {
  events: number;
  heavy: number;
  /** extra server environment (limits) */
  env: Record<string, string>;
  phases: ('flood' | 'memory' | 'results')[];
  /** ingest probe interval */
  probeEveryMs?: number;
}

/** The limits the server runs with (its defaults unless overridden), for the bounds. */
function limitsOf(env: Record<string, string>) {
  const n = (name: string, dflt: number) => Number(env[name] ?? dflt);
  return {
    timeoutMs: n('SLUICE_QUERY_TIMEOUT_MS', 30_000),
    queueWaitMs: n('SLUICE_QUERY_QUEUE_WAIT_MS', 10_000),
    memoryMiB: n('SLUICE_QUERY_MEMORY_MB', 2048),
    killGraceMs: 5_000,
  };
}

interface Sample {
  serverMiB: number;
  workerMiB: number;
}

/** Resident memory (VmRSS) of a process, MiB; 0 once it is gone. */
function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function peakMiB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** The server's query worker processes (not tsx's esbuild service, also a child). */
function workersOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('query-worker')) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/** Samples memory every 50 ms; peaks of the server and of its workers (a killed worker's last sample counts). */
function sampleMemory(server: ChildServer) {
  const pid = server.proc.pid!;
  const peak: Sample = { serverMiB: 0, workerMiB: 0 };
  let peakTotal = 0;
  const workers = new Set<number>();
  const timer = setInterval(() => {
    const s = rssMiB(pid);
    const kids = workersOf(pid);
    kids.forEach((k) => workers.add(k));
    const w = kids.reduce((n, k) => n + rssMiB(k), 0);
    peak.serverMiB = Math.max(peak.serverMiB, s);
    peak.workerMiB = Math.max(peak.workerMiB, w);
    peakTotal = Math.max(peakTotal, s + w);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return { serverMiB: Math.max(peak.serverMiB, peakMiB(pid)), workerMiB: peak.workerMiB, totalMiB: peakTotal, workers: workers.size };
    },
  };
}

async function post(url: string, key: string, body: unknown, timeoutMs = 120_000): Promise<{ status: number; headers: Headers; body: any; ms: number }> {
  const t = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': typeof body === 'string' ? 'application/x-ndjson' : 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed, ms: performance.now() - t };
}

async function get(url: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(120_000) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

type Outcome = 'result' | '429' | 'time limit' | 'memory limit' | 'result limit' | 'other';

interface QueryEnd {
  outcome: Outcome;
  status: number;
  ms: number;
  retryAfter?: string;
  message?: string;
}

/** Runs a query to its end: POST, then GET /v1/query/{token} while it answers 202. */
async function queryToEnd(url: string, key: string, body: Record<string, unknown>): Promise<QueryEnd> {
  const t = performance.now();
  let r: { status: number; body: any; headers?: Headers } = await post(`${url}/v1/query`, key, body);
  while (r.status === 202) {
    await new Promise((res) => setTimeout(res, 250));
    r = await get(`${url}/v1/query/${encodeURIComponent(r.body.token as string)}`, key);
  }
  const ms = Math.round(performance.now() - t);
  const code = (r.body as { error?: string })?.error;
  const outcome: Outcome =
    r.status === 200
      ? 'result'
      : r.status === 429
        ? '429'
        : code === 'time_limit'
          ? 'time limit'
          : code === 'memory_limit'
            ? 'memory limit'
            : code === 'result_limit'
              ? 'result limit'
              : 'other';
  return {
    outcome,
    status: r.status,
    ms,
    ...(r.headers?.get('retry-after') ? { retryAfter: r.headers.get('retry-after')! } : {}),
    ...(outcome !== 'result' ? { message: String((r.body as { message?: string })?.message ?? r.body).slice(0, 160) } : {}),
  };
}

async function load(url: string, key: string, events: number): Promise<void> {
  const per = 1000;
  for (let i = 0; i < events; i += per) {
    const r = await post(`${url}/v1/logs`, key, ndjsonBatch(Math.min(per, events - i), i));
    if (r.status !== 202) throw new Error(`loading: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const until = Date.now() + 120_000;
  for (;;) {
    const r = await post(`${url}/v1/query`, key, { sql: 'SELECT count(*) AS n FROM logs', start: '-1d', end: 'now' });
    if (r.status === 200 && Number(r.body.rows?.[0]?.[0]) >= events) return;
    if (Date.now() > until) throw new Error(`loading: only ${JSON.stringify(r.body.rows)} of ${events} events stored after 120 s`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export interface IsolationReport {
  rows: { check: string; figure: string; bound: string; ok: boolean }[];
  ok: boolean;
}

export async function runIsolation(opts: IsolationOptions): Promise<IsolationReport> {
  const limits = limitsOf(opts.env);
  const tmp = await tempDir();
  const server = await startChildServer({
    SLUICE_DATA_DIR: tmp.dir,
    SLUICE_API_KEYS: KEYS,
    SLUICE_LOG_LEVEL: 'warn',
    SLUICE_FLUSH_MS: '200',
    SLUICE_COMPACT_EVERY_MS: '0',
    ...opts.env,
  });
  const rows: IsolationReport['rows'] = [];
  const check = (name: string, figure: string, bound: string, ok: boolean) => rows.push({ check: name, figure, bound, ok });
  const memory = sampleMemory(server);
  const range = { start: '-1d', end: 'now' };
  try {
    await load(server.url, HEAVY_KEY, opts.events);
    await load(server.url, PROBE_KEY, 100);

    if (opts.phases.includes('flood')) {
      // Ingest probes from the other tenant, all through the flood.
      const probes: { status: number; ms: number }[] = [];
      let probing = true;
      const probeLoop = (async () => {
        let i = 0;
        while (probing) {
          const t = performance.now();
          try {
            const r = await post(`${server.url}/v1/logs`, PROBE_KEY, ndjsonBatch(10, 1_000_000 + i++), 10_000);
            probes.push({ status: r.status, ms: r.ms });
          } catch {
            probes.push({ status: 0, ms: performance.now() - t });
          }
          await new Promise((res) => setTimeout(res, opts.probeEveryMs ?? 200));
        }
      })();
      const floodStart = performance.now();
      const heavy = Array.from({ length: opts.heavy }, (_, i) =>
        queryToEnd(server.url, HEAVY_KEY, { sql: i % 2 === 0 ? HEAVY_SQL.recursive : HEAVY_SQL.cross, ...range }),
      );
      // The other tenant's light query, while the flood runs.
      await new Promise((res) => setTimeout(res, 1000));
      const otherLight = await queryToEnd(server.url, PROBE_KEY, { query: 'stats count(*) as n', ...range });
      const ends = await Promise.all(heavy);
      const floodMs = Math.round(performance.now() - floodStart);
      probing = false;
      await probeLoop;
      const light = await queryToEnd(server.url, HEAVY_KEY, { query: 'stats count(*) as n by level', ...range });

      const ok202 = probes.filter((p) => p.status === 202 && p.ms <= 2000).length;
      const probeMs = probes.map((p) => p.ms);
      check(
        'ingest probes (other tenant) during the flood',
        `${ok202}/${probes.length} × 202 ≤ 2 s; p50 ${Math.round(percentile(probeMs, 50))} ms, p99 ${Math.round(percentile(probeMs, 99))} ms, max ${Math.round(Math.max(...probeMs))} ms`,
        'all 202 within 2 s',
        probes.length > 0 && ok202 === probes.length,
      );
      const admittedBound = limits.queueWaitMs + limits.timeoutMs + limits.killGraceMs + 3_000;
      const refusedBound = limits.queueWaitMs + 3_000;
      const byOutcome = new Map<Outcome, QueryEnd[]>();
      for (const e of ends) byOutcome.set(e.outcome, [...(byOutcome.get(e.outcome) ?? []), e]);
      for (const [outcome, list] of byOutcome) {
        const bound = outcome === '429' ? refusedBound : admittedBound;
        const slowest = Math.max(...list.map((e) => e.ms));
        const extra = outcome === '429' ? `, Retry-After ${[...new Set(list.map((e) => e.retryAfter))].join('/')} s` : '';
        check(
          `heavy queries ending: ${outcome}`,
          `${list.length} of ${ends.length}, slowest ${(slowest / 1000).toFixed(1)} s${extra}${outcome === 'other' ? ` (${list[0]!.status}: ${list[0]!.message})` : ''}`,
          `a result, 429 or time limit, ≤ ${(bound / 1000).toFixed(0)} s`,
          ['result', '429', 'time limit'].includes(outcome) && slowest <= bound,
        );
      }
      check('flood, first query to last end', `${(floodMs / 1000).toFixed(1)} s`, '—', true);
      check(
        'light query of the other tenant during the flood',
        `${otherLight.outcome} in ${otherLight.ms} ms`,
        'a result within 2 s',
        otherLight.outcome === 'result' && otherLight.ms <= 2000,
      );
      check(
        'light query of the flooding tenant right after',
        `${light.outcome} in ${light.ms} ms`,
        'a result within 2 s',
        light.outcome === 'result' && light.ms <= 2000,
      );
    }

    if (opts.phases.includes('memory')) {
      const r = await queryToEnd(server.url, HEAVY_KEY, { sql: 'SELECT list_sum(generate_series(1, 300000000)) AS s', ...range });
      check(
        'list_sum(generate_series(1, 3e8))',
        `${r.outcome === 'result' ? 'result' : `${r.status} ${r.outcome}`} in ${(r.ms / 1000).toFixed(1)} s`,
        'a result or a memory-limit error',
        r.outcome === 'result' || r.outcome === 'memory limit',
      );
      const after = await queryToEnd(server.url, PROBE_KEY, { query: 'stats count(*) as n', ...range });
      check('a light query after it', `${after.outcome} in ${after.ms} ms`, 'a result (a new worker if the old one was stopped)', after.outcome === 'result');
    }

    if (opts.phases.includes('results')) {
      const big = (n: number) => ({ sql: `SELECT repeat('x', 100000000) AS s FROM logs LIMIT ${n}`, ...range });
      const eleven = await Promise.all(Array.from({ length: 11 }, () => queryToEnd(server.url, HEAVY_KEY, big(3))));
      const outcomes = [...new Set(eleven.map((e) => `${e.status} ${e.outcome}`))].join(', ');
      check(
        '11 queries × 3 × 100 MB',
        `${outcomes}; slowest ${(Math.max(...eleven.map((e) => e.ms)) / 1000).toFixed(1)} s`,
        'refused or paged, never a 500',
        eleven.every((e) => e.status < 500 && e.outcome !== 'other'),
      );
      const six = await queryToEnd(server.url, HEAVY_KEY, big(6));
      check(
        '1 query × 6 × 100 MB',
        `${six.status} ${six.outcome}: ${six.message ?? ''}`.slice(0, 140),
        'refused or paged, never a 500',
        six.status < 500 && six.outcome !== 'other',
      );
    }

    const health = await fetch(`${server.url}/health`).then((r) => r.status);
    check('server still up (GET /health)', String(health), '200', health === 200);
  } finally {
    const mem = memory.stop();
    const serverBound = 1024;
    const workerBound = Math.round(limits.memoryMiB * 1.1);
    check('peak RSS: server process', `${mem.serverMiB} MiB`, `≤ ${serverBound} MiB`, mem.serverMiB <= serverBound);
    check(
      `peak RSS: query worker (${mem.workers} process${mem.workers === 1 ? '' : 'es'})`,
      `${mem.workerMiB} MiB`,
      `≤ ${workerBound} MiB (bound ${limits.memoryMiB} + sampling)`,
      mem.workerMiB <= workerBound,
    );
    check('peak RSS: both', `${mem.totalMiB} MiB`, `≤ ${serverBound + workerBound} MiB`, mem.totalMiB <= serverBound + workerBound);
    await server.kill('SIGTERM');
    await tmp.cleanup();
  }
  return { rows, ok: rows.every((r) => r.ok) };
}

export function printReport(report: IsolationReport): void {
  const w = [
    Math.max(...report.rows.map((r) => r.check.length)),
    Math.max(...report.rows.map((r) => r.figure.length)),
    Math.max(...report.rows.map((r) => r.bound.length)),
  ];
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(w[0]!)}  ${b.padEnd(w[1]!)}  ${c.padEnd(w[2]!)}  ${d}`;
  process.stdout.write(`${line('check', 'figure', 'bound', 'ok')}\n${line('-'.repeat(w[0]!), '-'.repeat(w[1]!), '-'.repeat(w[2]!), '--')}\n`);
  for (const r of report.rows) process.stdout.write(`${line(r.check, r.figure, r.bound, r.ok ? 'ok' : 'MISS')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      events: { type: 'string', default: '20000' },
      heavy: { type: 'string', default: '40' },
      env: { type: 'string', multiple: true, default: [] },
    },
  });
  const phases = (values.only ? values.only.split(',') : ['flood', 'memory', 'results']) as IsolationOptions['phases'];
  const env = Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  process.stdout.write(
    `isolation bench: ${values.events} events, ${values.heavy} heavy queries, phases ${phases.join(', ')}${values.env.length ? `, ${values.env.join(' ')}` : ''}\n`,
  );
  const report = await runIsolation({ events: Number(values.events), heavy: Number(values.heavy), env, phases });
  printReport(report);
  process.exit(report.ok ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(2);
  });
}
