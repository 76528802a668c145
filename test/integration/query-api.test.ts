/** POST /v1/query and GET /v1/query/{token} over HTTP: wait budget, tokens, paging, scopes, isolation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
const KEYS = [
  'acme-ingest-k1:acme:ingest',
  'acme-query-k1:acme:query',
  'acme-admin-k1:acme:ingest+query+admin',
  'globex-admin-k1:globex:ingest+query+admin',
].join(',');
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('query API', () => {
  let stack: Stack;
  const range = { start: Date.now() - 3600_000, end: Date.now() + 3600_000 };

  beforeAll(async () => {
    // A wait budget of 0: every query answers 202 with a token first, so the polling path is exercised.
    stack = await startTestStack({ SLUICE_API_KEYS: KEYS, SLUICE_QUERY_WAIT_MS: '0' });
    const lines = Array.from({ length: 1500 }, (_, i) =>
      JSON.stringify({ level: i % 3 === 0 ? 'error' : 'info', service: `svc-${i % 4}`, msg: `event ${i}`, n: i }),
    );
    const r = await call(`${stack.url}/v1/logs`, {
      method: 'POST',
      raw: lines.join('\n'),
      headers: { ...auth('acme-ingest-k1'), 'content-type': 'application/x-ndjson' },
    });
    expect(r.status).toBe(202);
    await call(`${stack.url}/v1/logs`, {
      method: 'POST',
      raw: '{"msg":"globex only","level":"error"}',
      headers: { ...auth('globex-admin-k1'), 'content-type': 'application/json' },
    });
    await eventually(async () => {
      const s = await call(`${stack.url}/v1/receipts/${r.body.receipt}`, { headers: auth('acme-ingest-k1') });
      return s.body.status === 'stored' ? true : undefined;
    });
  });
  afterAll(() => stack.cleanup());

  async function finish(key: string, token: string, nextToken?: string) {
    return eventually(async () => {
      const r = await call(`${stack.url}/v1/query/${encodeURIComponent(token)}${nextToken ? `?nextToken=${encodeURIComponent(nextToken)}` : ''}`, {
        headers: auth(key),
      });
      return r.status === 200 ? r : undefined;
    });
  }

  it('answers 202 with a token past the wait budget, then the rows at GET /v1/query/{token}', async () => {
    const started = await call(`${stack.url}/v1/query`, {
      body: { query: 'filter level = "error" | stats count(*) as errors by service | sort service', ...range },
      headers: auth('acme-query-k1'),
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', token: expect.any(String) });
    const done = await finish('acme-query-k1', started.body.token);
    expect(done.body.columns.map((c: { name: string }) => c.name)).toEqual(['service', 'errors']);
    expect(done.body.rows).toEqual(
      [0, 1, 2, 3].map((s) => [`svc-${s}`, Array.from({ length: 1500 }, (_, i) => i).filter((i) => i % 3 === 0 && i % 4 === s).length]),
    );
    expect(done.body.stats).toMatchObject({ rows: 4, rangeHours: 2 });
    expect(done.body.stats.bytesScanned).toBeGreaterThan(0);
    expect(done.body.stats.elapsedMs).toEqual(expect.any(Number));
  });

  it('pages results with nextToken', async () => {
    const started = await call(`${stack.url}/v1/query`, { body: { query: 'fields n | sort n asc', limit: 1400, ...range }, headers: auth('acme-query-k1') });
    const first = await finish('acme-query-k1', started.body.token);
    expect(first.body.rows.length).toBe(1000);
    expect(first.body.nextToken).toEqual(expect.any(String));
    const second = await finish('acme-query-k1', started.body.token, first.body.nextToken);
    expect(second.body.rows.length).toBe(400);
    expect(second.body.nextToken).toBeUndefined();
    expect([...first.body.rows, ...second.body.rows].map((r: string[]) => Number(r[0]))).toEqual(Array.from({ length: 1400 }, (_, i) => i));
  });

  it('binds tokens to the tenant: another tenant gets 404, a forged token gets 404', async () => {
    const started = await call(`${stack.url}/v1/query`, { body: { query: 'stats count(*)', ...range }, headers: auth('acme-admin-k1') });
    await finish('acme-admin-k1', started.body.token);
    const theirs = await call(`${stack.url}/v1/query/${encodeURIComponent(started.body.token)}`, { headers: auth('globex-admin-k1') });
    expect(theirs.status).toBe(404);
    const [body] = (started.body.token as string).split('.');
    const forgedBody = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), tenant: 'globex' })).toString('base64url');
    const forged = await call(`${stack.url}/v1/query/${forgedBody}.${(started.body.token as string).split('.')[1]}`, { headers: auth('globex-admin-k1') });
    expect(forged.status).toBe(404);
    expect((await call(`${stack.url}/v1/query/garbage`, { headers: auth('acme-admin-k1') })).status).toBe(404);
  });

  it('never shows another tenant’s rows through query or sql', async () => {
    for (const body of [{ query: 'stats count(*) as n' }, { sql: 'SELECT count(*) AS n FROM logs' }]) {
      const started = await call(`${stack.url}/v1/query`, { body: { ...body, ...range }, headers: auth('globex-admin-k1') });
      const done = await finish('globex-admin-k1', started.body.token);
      expect(done.body.rows).toEqual([[1]]);
    }
  });

  it('needs the query scope for the language and admin for SQL', async () => {
    expect((await call(`${stack.url}/v1/query`, { body: { query: 'stats count(*)' }, headers: auth('acme-ingest-k1') })).status).toBe(403);
    const sql = await call(`${stack.url}/v1/query`, { body: { sql: 'SELECT 1' }, headers: auth('acme-query-k1') });
    expect(sql.status).toBe(403);
    expect(sql.body.message).toMatch(/admin/);
  });

  it('answers a syntax error with 400, its position and what was expected', async () => {
    const r = await call(`${stack.url}/v1/query`, { body: { query: 'filter level = ' }, headers: auth('acme-query-k1') });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/line 1, column 16: expected a field name, a value, or \(/);
    expect(r.body.position).toEqual({ line: 1, column: 16, offset: 15 });
  });

  it('takes relative times', async () => {
    const started = await call(`${stack.url}/v1/query`, { body: { query: 'stats count(*) as n', start: '-2h', end: 'now' }, headers: auth('acme-query-k1') });
    const done = await finish('acme-query-k1', started.body.token);
    expect(done.body.rows).toEqual([[1500]]);
    expect(done.body.stats.rangeHours).toBe(2);
  });
});
