/**
 * Tenant isolation and hostile input against the in-process local stack with two tenants. "acme" stores a
 * secret marker; "evil" (with every scope, admin included) tries to read it through the query language,
 * raw SQL, DuckDB's file readers, path characters, forged headers and acme's query token. Zero leaks: the
 * marker never appears in a response to evil. Zero crashes: /health still answers. Every refusal is a 4xx
 * with a message.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '../../shared/domain/api-keys.js';
import { ROUTES } from '../../shared/domain/routes.js';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';

const SECRET = 'ACME-SECRET-7f3a9c';
const ACME = 'acme-key-0123456789';
const EVIL = 'evil-key-0123456789';
const KEYS = `${ACME}:acme:ingest+query+admin,${EVIL}:evil:ingest+query+admin`;

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let dataDir = '';
const bodiesSeen: string[] = [];

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/** A request as evil; every body it gets back is kept to check for leaks at the end. */
async function asEvil(path: string, init: Parameters<typeof call>[1] = {}) {
  const r = await call(`${stack.url}${path}`, { ...init, headers: { ...auth(EVIL), ...(init.headers ?? {}) } });
  bodiesSeen.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  return r;
}

/** 200 with only evil's rows, or a 4xx with a message; never a 5xx. */
function expectSafe(r: { status: number; body: any }, what: string) {
  expect(r.status, `${what}: ${JSON.stringify(r.body).slice(0, 300)}`).toBeLessThan(500);
  if (r.status >= 400) expect(typeof r.body.message, what).toBe('string');
  expect(JSON.stringify(r.body), what).not.toContain(SECRET);
  expect(JSON.stringify(r.body), what).not.toMatch(/root:x:0:0|acme-key|ACME-SECRET/);
}

function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', (e) => (out ? resolve(out) : reject(e)));
  });
}

beforeAll(async () => {
  stack = await startTestStack({ SLUICE_API_KEYS: KEYS, SLUICE_FLUSH_MS: '50' });
  dataDir = stack.deps.dataDir;
  const r = await call(`${stack.url}/v1/logs`, {
    raw: [1, 2, 3].map((n) => JSON.stringify({ level: 'error', msg: `${SECRET} number ${n}`, service: 'vault', secret: SECRET })).join('\n'),
    headers: { ...auth(ACME), 'content-type': 'application/x-ndjson' },
  });
  expect(r.status).toBe(202);
  const e = await call(`${stack.url}/v1/logs`, {
    raw: JSON.stringify({ msg: 'evil own event', level: 'info' }),
    headers: { ...auth(EVIL), 'content-type': 'application/x-ndjson' },
  });
  expect(e.status).toBe(202);
  await eventually(async () => {
    const q = await call(`${stack.url}/v1/query`, { body: { sql: 'SELECT count(*) FROM logs', start: Date.now() - 3600_000 }, headers: auth(ACME) });
    return Number(q.body.rows?.[0]?.[0]) === 3 ? true : undefined;
  }, 15_000);
});

afterAll(async () => {
  // Zero crashes: after everything the server still answers.
  const h = await call(`${stack.url}/health`);
  expect(h.status).toBe(200);
  for (const b of bodiesSeen) expect(b).not.toContain(SECRET);
  await stack.cleanup();
});

describe('attack: query language injection', () => {
  const queries = [
    `filter message like "x' OR 1=1 --"`,
    `filter message = "' OR tenant = 'acme"`,
    `filter message = "\\" OR 1=1 --"`,
    `fields message | filter service = "x') UNION SELECT message FROM logs WHERE tenant='acme' --"`,
    `'; DROP TABLE logs; --`,
    `fields message /* */ | limit 5`,
    `fields tenant, message | filter tenant = "acme"`,
    `filter tenant = "acme" or 1 = 1`,
    `fields read_text("/etc/passwd")`,
    `fields read_csv('/etc/passwd')`,
    `stats count(*) by tenant`,
    `parse message "* *" as a, b | filter a = "'; SELECT 1; --"`,
    `fields message | sort message desc | limit 5; SELECT * FROM information_schema.tables`,
    `filter message like /.*' UNION SELECT * FROM read_parquet('**') --/`,
  ];
  it.each(queries)('%s', async (query) => {
    const r = await asEvil('/v1/query', { body: { query, start: Date.now() - 3600_000 } });
    expectSafe(r, query);
  });
});

describe('attack: raw SQL with the admin scope stays inside its tenant and its table', () => {
  const evilPath = () => `${dataDir}/store/events/tenant=acme`;
  const sqls = () => [
    `SELECT * FROM logs WHERE tenant = 'acme'`,
    `SELECT message FROM logs WHERE tenant = 'evil' OR 1=1`,
    `SELECT message FROM logs -- WHERE tenant = 'evil'`,
    `SELECT message FROM logs /* */ UNION ALL SELECT message FROM logs`,
    `SELECT * FROM information_schema.tables`,
    `SELECT * FROM information_schema.columns`,
    `SELECT * FROM duckdb_tables()`,
    `SELECT * FROM duckdb_views()`,
    `SELECT sql FROM duckdb_views()`,
    `SELECT * FROM sqlite_master`,
    `SELECT * FROM read_parquet('${evilPath()}/**/*.parquet')`,
    `SELECT * FROM read_parquet('**/*.parquet')`,
    `SELECT * FROM 'store/events/tenant=acme/**/*.parquet'`,
    `SELECT * FROM read_csv('/etc/passwd')`,
    `SELECT * FROM read_csv_auto('/etc/passwd')`,
    `SELECT * FROM read_text('/etc/passwd')`,
    `SELECT * FROM read_blob('/etc/passwd')`,
    `SELECT * FROM read_json('${evilPath()}/x.json')`,
    `SELECT * FROM glob('**')`,
    `SELECT * FROM glob('/etc/*')`,
    `SELECT message FROM logs UNION SELECT content FROM read_text('/etc/passwd')`,
    `COPY logs TO '/tmp/sluice-leak.csv'`,
    `COPY (SELECT 1) TO '/tmp/sluice-leak.csv'`,
    `ATTACH '/tmp/sluice-leak.db' AS leak`,
    `PRAGMA database_list`,
    `PRAGMA show_tables`,
    `SET enable_external_access = true`,
    `SET search_path = 'main'`,
    `INSTALL httpfs`,
    `LOAD httpfs`,
    `CREATE TABLE t AS SELECT 1`,
    `DROP VIEW logs`,
    `SELECT 1; SELECT * FROM read_text('/etc/passwd')`,
    `SELECT getenv('HOME')`,
    `SELECT current_setting('temp_directory')`,
    `WITH x AS (SELECT * FROM read_parquet('${evilPath()}/**/*.parquet')) SELECT * FROM x`,
  ];
  it('every attempt is refused with a 4xx or returns only evil rows', async () => {
    for (const sql of sqls()) {
      const r = await asEvil('/v1/query', { body: { sql, start: Date.now() - 3600_000 } });
      expectSafe(r, sql);
      if (r.status === 200) {
        // Whatever a query that was allowed returned, it is evil's own rows only.
        expect(JSON.stringify(r.body.rows ?? [])).not.toContain('vault');
      }
    }
    const { existsSync } = await import('node:fs');
    expect(existsSync('/tmp/sluice-leak.csv')).toBe(false);
    expect(existsSync('/tmp/sluice-leak.db')).toBe(false);
    // The view is still there for acme.
    const ok = await call(`${stack.url}/v1/query`, { body: { sql: 'SELECT count(*) FROM logs', start: Date.now() - 3600_000 }, headers: auth(ACME) });
    expect(Number(ok.body.rows[0][0])).toBe(3);
  });

  it('a tenant in the request body is ignored: tenant and time range come from the key', async () => {
    const r = await asEvil('/v1/query', { body: { sql: 'SELECT count(*) FROM logs', tenant: 'acme', start: Date.now() - 3600_000 } });
    expectSafe(r, 'tenant in body');
    if (r.status === 200) expect(Number(r.body.rows[0][0])).toBe(1);
  });
});

describe('attack: tenant names and path characters', () => {
  it.each(['../acme', 'a/b', 'acme%2F..', 'tenant=acme', 'ACME', '.', '..', 'a\\b', 'a b', ''])('SLUICE_API_KEYS refuses tenant %j', (tenant) => {
    expect(() => parseApiKeys(`some-key-123456:${tenant}:ingest`)).toThrow(/tenant|key:tenant:scope/);
  });

  it('a server configured with such a tenant does not start', async () => {
    await expect(startTestStack({ SLUICE_API_KEYS: 'some-key-123456:../acme:ingest' })).rejects.toThrow(/tenant/);
  });

  const receiptIds = ['..%2F..%2Facme', '..', '%2E%2E', 'tenant=acme', '..%2Ftenant%3Dacme', 'a%00b', '%2F', `${'A'.repeat(300)}`];
  it.each(receiptIds)('GET /v1/receipts/%s is a 4xx', async (id) => {
    const r = await asEvil(`/v1/receipts/${id}`);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expectSafe(r, id);
  });

  it.each(['..%2F..%2Ftmp', 'tenant=acme', '%2E%2E', 'a%2Fb'])('path parameters that reach names (index %s, stream) do not reach paths', async (p) => {
    const bulk = await asEvil(`/${p}/_bulk`, { raw: `{"index":{}}\n{"message":"bulk ${p}"}\n`, headers: { 'content-type': 'application/x-ndjson' } });
    expectSafe(bulk, `bulk ${p}`);
    const proton = await asEvil(`/proton/v1/ingest/streams/${p}`, { body: { columns: ['message'], data: [[`proton ${p}`]] } });
    expectSafe(proton, `proton ${p}`);
    const logs = await asEvil(`/v1/logs?service=${p}&source=${p}&tags=${p}`, {
      raw: `{"msg":"params ${p}"}`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expectSafe(logs, `params ${p}`);
  });

  it('nothing was written outside tenant=evil (and acme’s own data)', async () => {
    const { readdir } = await import('node:fs/promises');
    await new Promise((r) => setTimeout(r, 500));
    const tenants = (await readdir(`${dataDir}/store/events`)).sort();
    expect(tenants).toEqual(['tenant=acme', 'tenant=evil']);
    const q = await call(`${stack.url}/v1/query`, { body: { sql: `SELECT count(*) FROM logs`, start: Date.now() - 3600_000 }, headers: auth(ACME) });
    expect(Number(q.body.rows[0][0])).toBe(3);
  });
});

describe('attack: headers', () => {
  it('headers over 16 KiB get 431 with a message', async () => {
    const port = Number(new URL(stack.url).port);
    const out = await rawHttp(port, `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 431 /);
    expect(out).toMatch(/headers are larger than 16 KiB/);
  });

  it('garbage instead of HTTP gets 400', async () => {
    const port = Number(new URL(stack.url).port);
    const out = await rawHttp(port, `\x00\x01 NOT HTTP\r\n\r\n`);
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('forged X-Forwarded-* and tenant headers are ignored: the key decides the tenant', async () => {
    const forged = {
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-host': 'acme.example',
      'x-forwarded-user': 'acme',
      'x-real-ip': '127.0.0.1',
      'x-tenant': 'acme',
      'x-tenant-id': 'acme',
      'x-sluice-tenant': 'acme',
      'x-scope-orgid': 'acme',
      'x-amzn-oidc-identity': 'acme',
    };
    const w = await asEvil('/v1/logs?tenant=acme', {
      raw: JSON.stringify({ msg: 'FORGED-TENANT', tenant: 'acme' }),
      headers: { ...forged, 'content-type': 'application/x-ndjson' },
    });
    expect(w.status).toBe(202);
    const r = await asEvil('/v1/query', { body: { sql: 'SELECT message FROM logs', start: Date.now() - 3600_000 }, headers: forged });
    expectSafe(r, 'forged query');
    // Evil sees its own forged event once stored; acme never does.
    await eventually(async () => {
      const q = await asEvil('/v1/query', { body: { query: 'filter message = "FORGED-TENANT"', start: Date.now() - 3600_000 } });
      return q.body.rows?.length === 1 ? true : undefined;
    }, 15_000);
    const a = await call(`${stack.url}/v1/query`, {
      body: { query: 'filter message = "FORGED-TENANT"', start: Date.now() - 3600_000 },
      headers: { ...auth(ACME) },
    });
    expect(a.status).toBe(200);
    expect(a.body.rows).toEqual([]);
  });
});

describe('attack: keys and tokens', () => {
  it("another tenant's query token is 404", async () => {
    const a = await call(`${stack.url}/v1/query`, { body: { query: 'fields message', start: Date.now() - 3600_000 }, headers: auth(ACME) });
    expect(a.body.token).toEqual(expect.any(String));
    const r = await asEvil(`/v1/query/${a.body.token}`);
    expect(r.status).toBe(404);
    expectSafe(r, 'token');
    const forged = await asEvil(`/v1/query/${a.body.token.slice(0, -4)}AAAA`);
    expect(forged.status).toBeGreaterThanOrEqual(400);
    expect(forged.status).toBeLessThan(500);
  });

  it('every route without a key is 401; with a wrong key 403; each with a message', async () => {
    for (const route of ROUTES) {
      const path = route.path.replace('{token}', 'abc').replace('{id}', '01ARZ3NDEKTSV4RRFFQ69G5FAV').replace('{index}', 'idx').replace('{stream}', 's');
      const body = route.method === 'POST' ? '{"msg":"x"}' : undefined;
      for (const [headers, want] of [
        [{}, 401],
        [{ authorization: 'Bearer wrong-key-0123456789' }, 403],
        [{ authorization: 'Splunk wrong-key-0123456789' }, 403],
        [{ authorization: `Basic ${Buffer.from(`x:${EVIL}x`).toString('base64')}` }, 403],
      ] as const) {
        const res = await fetch(`${stack.url}${path}`, {
          method: route.method,
          headers: { ...headers, 'content-type': 'application/json' },
          ...(body ? { body } : {}),
        });
        const text = await res.text();
        expect(res.status, `${route.method} ${path} ${JSON.stringify(headers)}`).toBe(want);
        if (route.method !== 'HEAD') expect(JSON.parse(text).message, `${route.method} ${path}`).toMatch(/key/);
        expect(text).not.toContain(SECRET);
      }
    }
  });
});
