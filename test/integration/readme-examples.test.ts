/**
 * The ten example queries of docs/query-language.md ("Ten questions, answered"), read from the page itself
 * and run against a local stack holding application JSON logs and nginx access logs sent over HTTP. Each
 * answer is checked against what the generated data says it must be.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const PAGE = readFileSync(fileURLToPath(new URL('../../docs/query-language.md', import.meta.url)), 'utf8');
const EXAMPLES = [...PAGE.matchAll(/```sluice\n([\s\S]*?)\n```/g)].map((m) => m[1]!.trim());

const NOW = Date.now();
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

interface App {
  ts: number;
  service: string;
  host: string;
  level: string;
  msg: string;
  user?: string;
}
interface Access {
  ts: number;
  ip: string;
  path: string;
  status: number;
  seconds: number;
}

const app: App[] = Array.from({ length: 600 }, (_, i) => {
  const ts = NOW - 7_000_000 + i * 11_000;
  const service = ['checkout', 'payments', 'search'][i % 3]!;
  const host = `web-${(i % 3) + 1}`;
  const user = `u${(i * 7) % 37}`;
  if (i % 10 === 0) return { ts, service, host, level: 'error', msg: 'upstream failed: connection refused to db:5432', user };
  if (i % 10 === 1) return { ts, service, host, level: 'error', msg: 'java.lang.IllegalStateException: bad state in cart', user };
  if (i % 10 === 2) return { ts, service, host, level: 'error', msg: 'TimeoutError: search backend too slow', user };
  if (i % 10 === 3) return { ts, service, host, level: 'warn', msg: 'GET /health slow', user };
  if (i % 10 === 4) return { ts, service, host, level: 'warn', msg: 'retrying request', user };
  if (i % 10 === 5) return { ts, service: 'payments', host, level: 'info', msg: `payment captured order=o-${i} amount=${(i % 17) + 0.5}`, user };
  return { ts, service, host, level: 'info', msg: `request done`, user };
});

const access: Access[] = Array.from({ length: 400 }, (_, i) => ({
  ts: NOW - 7_000_000 + i * 17_000,
  ip: `10.0.${i % 3}.${(i * 13) % 9}`,
  path: ['/', '/cart', '/pay', '/search', '/health'][i % 5]!,
  status: i % 23 === 0 ? 502 : i % 7 === 0 ? 404 : 200,
  seconds: Math.round(((i * 37) % 900) + (i % 5 === 2 ? 900 : 0)) / 1000,
}));

function accessLine(a: Access): string {
  const d = new Date(a.ts);
  const two = (n: number) => String(n).padStart(2, '0');
  const stamp = `${two(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
  return `${a.ip} - - [${stamp}] "GET ${a.path} HTTP/1.1" ${a.status} 512 "-" "Mozilla/5.0" ${a.seconds.toFixed(3)}`;
}

const count = <T>(xs: T[], key: (x: T) => string) => xs.reduce((m, x) => m.set(key(x), (m.get(key(x)) ?? 0) + 1), new Map<string, number>());

describe('query language page examples', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
    const appBody = app
      .map((e) => JSON.stringify({ time: new Date(e.ts).toISOString(), level: e.level, service: e.service, host: e.host, msg: e.msg, user: e.user }))
      .join('\n');
    const r1 = await call(`${stack.url}/v1/logs`, { method: 'POST', raw: appBody, headers: { 'content-type': 'application/x-ndjson' } });
    const r2 = await call(`${stack.url}/v1/logs?source=nginx`, {
      method: 'POST',
      raw: access.map(accessLine).join('\n'),
      headers: { 'content-type': 'text/plain' },
    });
    expect([r1.body.accepted, r2.body.accepted]).toEqual([600, 400]);
    await eventually(async () => {
      const q = await call(`${stack.url}/v1/query`, { body: { query: 'stats count(*) as n', start: '-3h' } });
      return q.body.rows?.[0]?.[0] === 1000 ? true : undefined;
    });
  });
  afterAll(() => stack.cleanup());

  const run = async (query: string) => {
    const r = await call(`${stack.url}/v1/query`, { body: { query, start: '-3h', limit: 10_000 } });
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
    const cols: string[] = r.body.columns.map((c: { name: string }) => c.name);
    return r.body.rows.map((row: unknown[]) => Object.fromEntries(cols.map((c, i) => [c, row[i]]))) as Record<string, any>[];
  };

  const checks: ((rows: Record<string, any>[]) => void)[] = [
    (rows) => {
      // Access-log lines count too: their level comes from the status class (5xx is an error).
      expect(rows.reduce((n, r) => n + r.errors, 0)).toBe(app.filter((e) => e.level === 'error').length + access.filter((a) => a.status >= 500).length);
      const bins = rows.map((r) => r['bin(5m)']);
      expect([...bins].sort()).toEqual(bins);
    },
    (rows) => {
      const paths = [...new Set(access.map((a) => a.path))];
      expect(rows.map((r) => r['http.path']).sort()).toEqual(paths.sort());
      expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(access.length);
      expect(rows[0]!['http.path']).toBe('/pay'); // the slow one in the data
      const p95 = rows.map((r) => r.p95_seconds);
      expect([...p95].sort((a, b) => b - a)).toEqual(p95);
    },
    (rows) => {
      const byIp = count(access, (a) => a.ip);
      expect(rows.length).toBe(Math.min(10, byIp.size));
      expect(rows[0]!.requests).toBe(Math.max(...byIp.values()));
    },
    (rows) => {
      const payments = app.filter((e) => e.msg.startsWith('payment captured'));
      expect(rows[0]!.orders).toBe(payments.length);
      expect(rows[0]!.revenue).toBeCloseTo(
        payments.reduce((n, e) => n + Number(/amount=([\d.]+)/.exec(e.msg)![1]), 0),
        6,
      );
    },
    (rows) => {
      expect(rows.reduce((n, r) => n + r.hits, 0)).toBe(app.filter((e) => e.msg.includes('connection refused')).length);
    },
    (rows) => {
      expect(rows.reduce((n, r) => n + r.server_errors, 0)).toBe(access.filter((a) => a.status >= 500).length);
    },
    (rows) => {
      const perHour = new Map<number, Set<string>>();
      for (const e of app) {
        const h = Math.floor(e.ts / 3600_000);
        perHour.set(h, (perHour.get(h) ?? new Set()).add(e.user!));
      }
      expect(rows.map((r) => r.users)).toEqual([...perHour.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s.size));
    },
    (rows) => {
      // Three app hosts, and the access logs (no host) as one more group.
      expect(rows.map((r) => r.host).sort()).toEqual([null, 'web-1', 'web-2', 'web-3'].sort());
    },
    (rows) => {
      expect(Object.fromEntries(rows.map((r) => [r.exception, r.times]))).toEqual({
        'java.lang.IllegalStateException': app.filter((e) => e.msg.includes('IllegalStateException')).length,
        TimeoutError: app.filter((e) => e.msg.startsWith('TimeoutError')).length,
      });
    },
    (rows) => {
      const want = app.filter((e) => ['warn', 'error', 'fatal'].includes(e.level) && !e.msg.includes('/health'));
      const accessProblems = access.filter((a) => a.status >= 400 && a.path !== '/health');
      expect(rows.reduce((n, r) => n + r.problems, 0)).toBe(want.length + accessProblems.length);
    },
  ];

  it('the query language page has ten examples', () => {
    expect(EXAMPLES.length).toBe(10);
  });

  EXAMPLES.forEach((query, i) => {
    it(`example ${i + 1}: ${query.slice(0, 70)}`, async () => {
      const rows = await run(query);
      expect(rows.length).toBeGreaterThan(0);
      checks[i]!(rows);
    });
  });
});
