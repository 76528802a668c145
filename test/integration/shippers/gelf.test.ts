/**
 * GELF over HTTP: the gelf-http client (plain JSON; credentials in the URL become Basic auth) and raw
 * requests whose bodies are gzip or zlib whatever Content-Encoding claims.
 */
import { hostname } from 'node:os';
import { createRequire } from 'node:module';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestStack, waitForRows } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
type Send = (message: unknown, callback: (err: Error | null, ok: boolean) => void) => void;
const gelfHttp = createRequire(import.meta.url)('gelf-http') as {
  init(url: string, defaults?: Record<string, unknown>): void;
  warn: Send;
  error: Send;
  info: Send;
};

const GELF_KEY = 'gelf-key-0001';
const ADMIN_KEY = 'gelf-admin-key-0001';
const RANGE = { start: Date.now() - 86_400_000, end: Date.now() + 3_600_000 };

describe('GELF over HTTP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_API_KEYS: `${GELF_KEY}:acme:ingest,${ADMIN_KEY}:acme:ingest+query+admin` });
  });
  afterAll(() => stack.cleanup());

  const rows = (sql: string, count: number) => waitForRows(stack.url, sql, count, { range: RANGE, key: ADMIN_KEY });
  const post = (body: Uint8Array | string, headers: Record<string, string> = {}) =>
    call(`${stack.url}/gelf`, { method: 'POST', raw: body, headers: { authorization: `Bearer ${GELF_KEY}`, ...headers } });

  it('stores messages from gelf-http with level, host, service and additional fields', async () => {
    const { port } = new URL(stack.url);
    gelfHttp.init(`http://graylog:${GELF_KEY}@127.0.0.1:${port}/gelf`, { _service_name: 'payments' });
    const sent = (send: Send, message: unknown) => new Promise<boolean>((resolve, reject) => send(message, (err, ok) => (err ? reject(err) : resolve(ok))));
    expect(await sent(gelfHttp.warn, 'disk almost full')).toBe(true);
    expect(await sent(gelfHttp.error, { short_message: 'charge failed', customer: { id: 42 }, gateway: 'stripe' })).toBe(true);

    const got = await rows(
      "SELECT level, severity, host, service, message, attributes, format, ts_inferred FROM logs WHERE service = 'payments' ORDER BY severity",
      2,
    );
    expect(got).toEqual([
      ['warn', 13, hostname(), 'payments', 'disk almost full', {}, 'gelf', false],
      ['error', 17, hostname(), 'payments', 'charge failed', { customer_id: '42', gateway: 'stripe' }, 'gelf', false],
    ]);
  });

  it.each([
    ['gzip, declared', (t: string) => gzipSync(t), { 'content-encoding': 'gzip' }],
    ['gzip, undeclared', (t: string) => gzipSync(t), {}],
    ['zlib, declared as gzip', (t: string) => deflateSync(t), { 'content-encoding': 'gzip' }],
    ['zlib, undeclared', (t: string) => deflateSync(t), {}],
    ['plain, declared as deflate', (t: string) => Buffer.from(t), { 'content-encoding': 'deflate' }],
  ])('accepts a %s body', async (name, encode, headers) => {
    const timestamp = Math.floor(Date.now() / 1000) - 5 + 0.125;
    const message = { version: '1.1', host: 'gelf-raw', short_message: name, full_message: `${name}\nstack line`, timestamp, level: 6, _request_id: 'r-1' };
    const r = await post(encode(JSON.stringify(message)), headers);
    expect(r.status).toBe(202);
    expect(r.body).toBe('');
    const got = await rows(
      `SELECT epoch_ms(ts), level, attributes['full_message'], attributes['request_id'] FROM logs WHERE host = 'gelf-raw' AND message = '${name}'`,
      1,
    );
    expect(got).toEqual([[timestamp * 1000, 'info', `${name}\nstack line`, 'r-1']]);
  });

  it('answers bad payloads with a clear 400', async () => {
    const noShort = await post(JSON.stringify({ version: '1.1', host: 'x' }));
    expect(noShort.status).toBe(400);
    expect(noShort.body.message).toMatch(/short_message/);
    const text = await post('just a line');
    expect(text.status).toBe(400);
    expect(text.body.message).toMatch(/not GELF JSON/);
    const corrupt = await post(gzipSync('{"short_message":"x"}').subarray(0, 12), { 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.message).toMatch(/could not be decompressed/);
    const chunked = await post(new Uint8Array([0x1e, 0x0f, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1]));
    expect(chunked.status).toBe(400);
    expect(chunked.body.message).toMatch(/UDP only/);
  });
});
