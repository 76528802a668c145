import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const KEYS = ['acme-ingest-key:acme:ingest', 'acme-admin-key:acme:ingest+query+admin', 'globex-admin-key:globex:ingest+query+admin'].join(',');

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe('HTTP API with keys', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_API_KEYS: KEYS, SLUICE_MAX_BODY_BYTES: String(64 * 1024) });
  });
  afterAll(() => stack.cleanup());

  const ingest = (body: string | Uint8Array, headers: Record<string, string> = {}, key = 'acme-ingest-key') =>
    call(`${stack.url}/v1/logs`, { method: 'POST', raw: body, headers: { ...auth(key), ...headers } });
  const sql = (q: string, key: string, extra: Record<string, unknown> = {}) =>
    call(`${stack.url}/v1/query`, { body: { sql: q, ...extra }, headers: auth(key) });

  it('accepts NDJSON, keeps the valid events and lists the invalid ones by line', async () => {
    const body = ['{"msg":"one","level":"warn"}', '{broken', '', '42', '{"msg":"two"}'].join('\n');
    const r = await ingest(body, { 'content-type': 'application/x-ndjson' });
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
    expect(r.body.rejected.map((x: { index: number }) => x.index)).toEqual([1, 3]);
    expect(r.body.rejected[0].reason).toMatch(/line 2 is not valid JSON/);
    expect(r.body.rejected[1].reason).toMatch(/must be a JSON object or a string/);
    expect(r.body.receipt).toMatch(/^[0-9A-Z]{26}$/);
  });

  it('accepts a JSON array, a JSON object, and text lines with service/host/tags parameters', async () => {
    expect((await ingest('[{"msg":"a"},{"msg":"b"}]', { 'content-type': 'application/json' })).body.accepted).toBe(2);
    expect((await ingest('{"msg":"c"}', { 'content-type': 'application/json' })).body.accepted).toBe(1);
    const text = await call(`${stack.url}/v1/logs?service=billing&host=h1&tags=x,y`, {
      method: 'POST',
      raw: 'first line\r\nsecond line\n\n',
      headers: { ...auth('acme-ingest-key'), 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(202);
    expect(text.body.accepted).toBe(2);
    const stored = await eventually(async () => {
      const r = await sql("SELECT message, service, host, tags, format FROM logs WHERE service = 'billing' ORDER BY message", 'acme-admin-key');
      return r.body.rows?.length === 2 ? r.body.rows : undefined;
    });
    expect(stored).toEqual([
      ['first line', 'billing', 'h1', ['x', 'y'], 'text'],
      ['second line', 'billing', 'h1', ['x', 'y'], 'text'],
    ]);
  });

  it('joins stack traces, takes ?multiline= and ?tz= per request, and explains bad values', async () => {
    const body = '2024-05-01 12:00:00 ERROR [main] com.acme.Api: failed\njava.lang.IllegalStateException: boom\n\tat com.acme.Api.run(Api.java:1)\n';
    const joined = await call(`${stack.url}/v1/logs?tz=Europe/Berlin&service=mlt`, {
      method: 'POST',
      raw: body,
      headers: { ...auth('acme-ingest-key'), 'content-type': 'text/plain' },
    });
    expect(joined.body.accepted).toBe(1);
    const split = await call(`${stack.url}/v1/logs?multiline=off&service=mlt-off`, {
      method: 'POST',
      raw: body,
      headers: { ...auth('acme-ingest-key'), 'content-type': 'text/plain' },
    });
    expect(split.body.accepted).toBe(3);
    const rows = await eventually(async () => {
      const r = await sql("SELECT ts, level, message FROM logs WHERE service = 'mlt'", 'acme-admin-key', {
        start: '2024-05-01T00:00:00Z',
        end: '2024-05-02T00:00:00Z',
      });
      return r.body.rows?.length === 1 ? r.body.rows : undefined;
    });
    expect(rows[0][0]).toBe('2024-05-01T10:00:00.000000Z');
    expect(rows[0][1]).toBe('error');
    expect(rows[0][2]).toContain('at com.acme.Api.run');
    const badTz = await call(`${stack.url}/v1/logs?tz=Mars/Olympus`, {
      method: 'POST',
      raw: 'x',
      headers: { ...auth('acme-ingest-key'), 'content-type': 'text/plain' },
    });
    expect(badTz.status).toBe(400);
    expect(badTz.body.message).toMatch(/not a time zone/);
    const badRe = await call(`${stack.url}/v1/logs?multiline=(`, {
      method: 'POST',
      raw: 'x',
      headers: { ...auth('acme-ingest-key'), 'content-type': 'text/plain' },
    });
    expect(badRe.status).toBe(400);
    expect(badRe.body.message).toMatch(/multiline is not a regular expression/);
  });

  it('accepts gzip bodies', async () => {
    const r = await ingest(gzipSync('{"msg":"zipped"}\n{"msg":"zipped"}\n'), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(r.status).toBe(202);
    expect(r.body.accepted).toBe(2);
  });

  it.each([
    ['a JSON body that does not parse', '{"msg": ', 'application/json', 400, /not valid JSON/],
    ['an empty body', '', 'application/json', 400, /empty/],
    ['only invalid lines', '{bad\n[1]\n', 'application/x-ndjson', 400, /all 2 events were rejected/],
    ['an unsupported type', '<xml/>', 'application/xml', 415, /not accepted/],
  ])('answers %s with a clear error', async (_name, body, type, status, message) => {
    const r = await ingest(body, { 'content-type': type });
    expect(r.status).toBe(status);
    expect(r.body.message).toMatch(message);
  });

  it('lists the rejected events of a request with none accepted', async () => {
    const r = await ingest('{bad\n', { 'content-type': 'application/x-ndjson' });
    expect(r.status).toBe(400);
    expect(r.body.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/line 1 is not valid JSON/) }]);
  });

  it('answers 400 for a body that is not gzip though it says so', async () => {
    const r = await ingest('plain', { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/decompressed/);
  });

  it('answers 413 for a body over the limit, and for a gzip bomb', async () => {
    const big = await ingest('x'.repeat(70 * 1024), { 'content-type': 'text/plain' });
    expect(big.status).toBe(413);
    expect(big.body.message).toMatch(/exceeds 65536 bytes/);
    const bomb = await ingest(gzipSync(Buffer.alloc(10 * 1024 * 1024, 'a')), { 'content-type': 'text/plain', 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
  });

  it('answers 413 for more events than one request may carry, before doing the work', async () => {
    const r = await ingest(gzipSync('{}\n'.repeat(100_001)), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(r.body.message).toMatch(/more than 100000 events/);
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    const missing = await call(`${stack.url}/v2/nothing`, { headers: auth('acme-admin-key') });
    expect(missing.status).toBe(404);
    const wrong = await call(`${stack.url}/v1/logs`, { method: 'GET', headers: auth('acme-admin-key') });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('answers 401 without a key, 403 for an unknown key and for a missing scope', async () => {
    const none = await call(`${stack.url}/v1/logs`, { method: 'POST', raw: 'x', headers: { 'content-type': 'text/plain' } });
    expect(none.status).toBe(401);
    expect(none.body.message).toMatch(/Authorization: Bearer/);
    const bad = await ingest('x', { 'content-type': 'text/plain' }, 'not-a-real-key');
    expect(bad.status).toBe(403);
    const scope = await sql('SELECT 1', 'acme-ingest-key');
    expect(scope.status).toBe(403);
    expect(scope.body.message).toMatch(/admin/);
  });

  it('never shows one tenant’s events to another tenant’s key', async () => {
    await ingest('{"msg":"acme secret sauce"}', { 'content-type': 'application/json' });
    const g = await call(`${stack.url}/v1/logs`, {
      method: 'POST',
      raw: '{"msg":"globex plans"}',
      headers: { ...auth('globex-admin-key'), 'content-type': 'application/json' },
    });
    expect(g.status).toBe(202);
    await eventually(async () => {
      const r = await sql("SELECT count(*) FROM logs WHERE message = 'globex plans'", 'globex-admin-key');
      return r.body.rows?.[0]?.[0] === 1 ? true : undefined;
    });
    await eventually(async () => {
      const r = await sql("SELECT count(*) FROM logs WHERE message = 'acme secret sauce'", 'acme-admin-key');
      return r.body.rows?.[0]?.[0] === 1 ? true : undefined;
    });
    const seenByGlobex = await sql('SELECT DISTINCT tenant, message FROM logs', 'globex-admin-key');
    expect(seenByGlobex.body.rows).toEqual([['globex', 'globex plans']]);
    // The receipt of an acme request is not visible to globex either.
    const receipt = (await ingest('{"msg":"r"}', { 'content-type': 'application/json' })).body.receipt;
    const theirs = await call(`${stack.url}/v1/receipts/${receipt}`, { headers: auth('globex-admin-key') });
    expect(theirs.body.status).toBe('queued');
    await eventually(async () => {
      const mine = await call(`${stack.url}/v1/receipts/${receipt}`, { headers: auth('acme-ingest-key') });
      return mine.body.status === 'stored' ? mine.body : undefined;
    });
    const stillTheirs = await call(`${stack.url}/v1/receipts/${receipt}`, { headers: auth('globex-admin-key') });
    expect(stillTheirs.body.status).toBe('queued');
    expect(stillTheirs.body.files).toBeUndefined();
  });

  it('reports a receipt as queued, then stored with its files', async () => {
    const r = await ingest('{"msg":"receipt me"}', { 'content-type': 'application/json' });
    const stored = await eventually(async () => {
      const s = await call(`${stack.url}/v1/receipts/${r.body.receipt}`, { headers: auth('acme-ingest-key') });
      return s.body.status === 'stored' ? s.body : undefined;
    });
    expect(stored.events).toBe(1);
    expect(stored.files[0]).toMatch(/^events\/tenant=acme\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/[^/]+\.parquet$/);
    const unknown = await call(`${stack.url}/v1/receipts/not-a-receipt`, { headers: auth('acme-ingest-key') });
    expect(unknown.status).toBe(404);
  });

  it('validates query requests', async () => {
    expect((await sql('SELECT 1', 'acme-admin-key', { start: 'yesterday' })).body.message).toMatch(/start "yesterday" is not a time/);
    expect((await sql('SELECT 1', 'acme-admin-key', { start: '2024-05-02T00:00:00Z', end: '2024-05-01T00:00:00Z' })).status).toBe(400);
    expect((await sql('SELECT 1', 'acme-admin-key', { limit: 0 })).status).toBe(400);
    const unknownField = await call(`${stack.url}/v1/query`, { body: { sql: 'SELECT 1', tenant: 'globex' }, headers: auth('acme-admin-key') });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toMatch(/tenant/);
    const dropped = await sql('DROP TABLE logs', 'acme-admin-key');
    expect(dropped.status).toBe(400);
    expect(dropped.body.error).toBe('query_error');
  });
});

describe('HTTP API in open mode', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.cleanup());

  it('serves /health without a key', async () => {
    const r = await call(`${stack.url}/health`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
  });
});

describe('local mode safety', () => {
  it('refuses open mode (no keys) on an address beyond this machine', async () => {
    await expect(startTestStack({ SLUICE_HOST: '0.0.0.0' })).rejects.toThrow(/not a loopback address.*SLUICE_API_KEYS/);
  });

  it('does not read the body of a request without a valid key', async () => {
    const stack = await startTestStack({ SLUICE_API_KEYS: 'a-valid-key-1:acme:ingest' });
    try {
      const r = await call(`${stack.url}/v1/logs`, {
        method: 'POST',
        raw: 'x'.repeat(100_000),
        headers: { authorization: 'Bearer wrong-key-123', 'content-type': 'text/plain' },
      });
      expect(r.status).toBe(403);
      expect(r.headers.get('connection')).toBe('close');
    } finally {
      await stack.cleanup();
    }
  });
});
