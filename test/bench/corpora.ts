/**
 * The corpora the benchmark suite reads or generates: the loghub samples (real logs nobody on the team
 * wrote), plain-text lines mixing their formats, and nginx combined access logs. The NDJSON application
 * corpus is in app-corpus.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** /work/shared/corpora/loghub beside the repository, or SLUICE_CORPORA. */
export function loghubRoot(dir?: string): string {
  return resolve(dir ?? process.env['SLUICE_CORPORA'] ?? join(import.meta.dirname, '../../../shared/corpora/loghub'));
}

/** Each loghub system's 2k sample as text, by system name (none when the directory is missing). */
export function loghubSamples(root = loghubRoot()): { name: string; text: string }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .filter((s) => existsSync(join(root, s, `${s}_2k.log`)))
    .map((s) => ({ name: s, text: readFileSync(join(root, s, `${s}_2k.log`), 'utf8') }));
}

/**
 * n plain-text lines of mixed formats: the loghub samples' lines taken round-robin (one line from each
 * system in turn, each system read in order and repeated when exhausted), so a body holds every format.
 * Without the corpora, a built-in set of formats stands in.
 */
export function mixedTextLines(n: number, samples = loghubSamples()): string {
  const systems = samples.map((s) => s.text.split('\n').filter((l) => l.trim() !== ''));
  if (systems.length === 0) systems.push(FALLBACK_LINES);
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const lines = systems[i % systems.length]!;
    out[i] = lines[Math.floor(i / systems.length) % lines.length]!;
  }
  return out.join('\n') + '\n';
}

const FALLBACK_LINES = [
  '2024-05-01 12:00:00,123 INFO org.apache.hadoop.hdfs.DataNode: Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106',
  'May  1 12:00:01 web-1 sshd[24200]: Failed password for invalid user admin from 173.234.31.186 port 38926 ssh2',
  '[Mon May 01 12:00:02 2024] [error] [client 10.0.0.1] File does not exist: /var/www/html/favicon.ico',
  'I0501 12:00:03.123456    2291 controller.go:117] Reconciling deployment default/web',
  'ts=2024-05-01T12:00:04Z level=warn msg="slow query" duration_ms=812 table=orders',
];

const PATHS = [
  '/',
  '/index.html',
  '/api/cart',
  '/api/pay',
  '/api/search?q=shoes&page=2',
  '/api/items/42',
  '/api/items/1337/reviews',
  '/login',
  '/logout',
  '/static/app.3f9a1c.js',
  '/static/app.3f9a1c.css',
  '/images/logo.png',
  '/health',
  '/api/orders',
  '/api/orders/98123',
  '/api/users/me',
  '/favicon.ico',
  '/robots.txt',
];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0',
  'Googlebot/2.1 (+http://www.google.com/bot.html)',
  'kube-probe/1.29',
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A small deterministic PRNG (mulberry32), so every run generates the same corpus. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** [day/Mon/year:hh:mm:ss +0000] for epoch milliseconds (UTC). */
let clfCache = { sec: NaN, text: '' };
export function clfTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec === clfCache.sec) return clfCache.text;
  const d = new Date(sec * 1000);
  const p = (v: number) => String(v).padStart(2, '0');
  const text = `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
  clfCache = { sec, text };
  return text;
}

export interface AccessRecord {
  ip: string;
  user: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  referrer: string;
  agent: string;
  /** seconds, nginx $request_time */
  requestTime: string;
}

/** The i-th access record of a deterministic stream: skewed paths, a few slow endpoints, some errors. */
export function accessRecord(next: () => number): AccessRecord {
  const r = next();
  // Zipf-like popularity: low indexes far more often.
  const path = PATHS[Math.floor(PATHS.length * r * r)]!;
  const slow = path.startsWith('/api/pay') || path.startsWith('/api/search') || path.startsWith('/api/orders');
  const s = next();
  const status = s < 0.01 ? 502 : s < 0.02 ? 500 : s < 0.07 ? 404 : s < 0.09 ? 304 : path === '/api/pay' && s < 0.12 ? 201 : 200;
  const base = path.startsWith('/static') || path.startsWith('/images') ? 0.001 : slow ? 0.08 : 0.012;
  // Long-tailed latency: most requests near the base, a few up to ~40× it.
  const t = next();
  const requestTime = (base * (1 + 40 * t ** 6) + next() * base).toFixed(3);
  return {
    ip: `${10 + Math.floor(next() * 200)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${1 + Math.floor(next() * 254)}`,
    user: next() < 0.1 ? `user${Math.floor(next() * 500)}` : '-',
    method: path === '/api/pay' || path === '/login' ? 'POST' : next() < 0.05 ? 'HEAD' : 'GET',
    path,
    status,
    bytes: status === 304 ? 0 : Math.floor(200 + next() * (path.startsWith('/static') ? 250_000 : 8000)),
    referrer: next() < 0.6 ? 'https://shop.example.com/' : '-',
    agent: AGENTS[Math.floor(next() * AGENTS.length)]!,
    requestTime,
  };
}

/** One nginx "combined" line with $request_time at the end. */
export function accessLine(rec: AccessRecord, ms: number): string {
  return `${rec.ip} - ${rec.user} [${clfTime(ms)}] "${rec.method} ${rec.path} HTTP/1.1" ${rec.status} ${rec.bytes} "${rec.referrer}" "${rec.agent}" ${rec.requestTime}`;
}

/** n nginx combined access-log lines ($request_time appended) over the minute before `endMs`. */
export function accessLogLines(n: number, endMs = Date.now(), seed = 1): string {
  const next = rng(seed);
  const start = endMs - 60_000;
  const out: string[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = accessLine(accessRecord(next), start + Math.floor((i / n) * 60_000));
  return out.join('\n') + '\n';
}
