/**
 * pino-loki (a pino transport speaking Loki's push API in JSON) against a running local server with keys,
 * authenticating with Basic auth (the key as the password), as Grafana Cloud-style Loki clients do.
 */
import { once } from 'node:events';
import { hostname } from 'node:os';
import { pino } from 'pino';
import { pinoLoki } from 'pino-loki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestStack, waitForRows } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const LOKI_KEY = 'loki-push-key-0001';
const ADMIN_KEY = 'loki-admin-key-0001';
const RANGE = { start: Date.now() - 86_400_000, end: Date.now() + 3_600_000 };

describe('Loki push (JSON) from pino-loki', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_API_KEYS: `${LOKI_KEY}:acme:ingest,${ADMIN_KEY}:acme:ingest+query+admin` });
  });
  afterAll(() => stack.cleanup());

  const rows = (sql: string, count: number) => waitForRows(stack.url, sql, count, { range: RANGE, key: ADMIN_KEY });

  it('stores pino lines with labels, structured metadata, level and nanosecond timestamps', async () => {
    const errors: unknown[] = [];
    const transport = pinoLoki({
      host: stack.url,
      basicAuth: { username: 'tenant-id-is-ignored', password: LOKI_KEY },
      labels: { app: 'orders', env: 'test' },
      batching: { interval: 60, maxBufferSize: 1000 }, // everything goes in one push when the stream closes
      silenceErrors: false,
    });
    const origError = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const logger = pino({ level: 'debug' }, transport);
      logger.info({ user: 'ann', meta: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' } }, 'order placed');
      logger.warn({ order: { id: 7 } }, 'payment slow');
      logger.error(new Error('card declined'), 'payment failed');
      transport.end();
      await once(transport, 'close');
    } finally {
      console.error = origError;
    }
    expect(errors).toEqual([]);

    const got = await rows(
      "SELECT level, severity, service, host, message, trace_id, attributes['env'], attributes['user'], attributes['order.id'], attributes['err.message'], ts_inferred, format FROM logs WHERE service = 'orders' ORDER BY severity",
      3,
    );
    expect(got).toEqual([
      ['info', 9, 'orders', hostname(), 'order placed', '4bf92f3577b34da6a3ce929d0e0e4736', 'test', 'ann', null, null, false, 'json'],
      ['warn', 13, 'orders', hostname(), 'payment slow', null, 'test', null, '7', null, false, 'json'],
      ['error', 17, 'orders', hostname(), 'payment failed', null, 'test', null, null, 'card declined', false, 'json'],
    ]);
  });

  it('keeps the nanosecond timestamp of the entry to the microsecond, and text lines go to format detection', async () => {
    const ns = `${Math.floor(Date.now() / 1000) - 10}123456789`;
    const r = await call(`${stack.url}/loki/api/v1/push`, {
      body: { streams: [{ stream: { service_name: 'loki-raw', level: 'debug' }, values: [[ns, 'user=bob action=login took=12ms']] }] },
      headers: { authorization: `Bearer ${LOKI_KEY}` },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('x-sluice-receipt')).toMatch(/^[0-9A-Z]{26}$/);
    const got = await rows("SELECT epoch_us(ts), level, message, attributes FROM logs WHERE service = 'loki-raw'", 1);
    expect(got[0]![0]).toBe(Number(ns.slice(0, -3)));
    expect(got[0]![1]).toBe('debug');
    expect(got[0]![3]).toMatchObject({ service_name: 'loki-raw', level: 'debug' });
  });

  it('answers bad entries with a 400 that says the others were stored, and refuses protobuf and broken bodies', async () => {
    const auth = { authorization: `Bearer ${LOKI_KEY}` };
    const ns = `${Date.now()}000000`;
    const partial = await call(`${stack.url}/loki/api/v1/push`, {
      body: {
        streams: [
          {
            stream: { job: 'loki-partial' },
            values: [
              [ns, 'good line'],
              ['soon', 'bad ts'],
            ],
          },
        ],
      },
      headers: auth,
    });
    expect(partial.status).toBe(400);
    expect(partial.body).toMatchObject({
      accepted: 1,
      rejectedCount: 1,
      message: expect.stringMatching(/1 event\(s\) were rejected and 1 stored.*Unix epoch nanoseconds/),
    });
    expect(await rows("SELECT message FROM logs WHERE service = 'loki-partial'", 1)).toEqual([['good line']]);

    const proto = await call(`${stack.url}/loki/api/v1/push`, {
      method: 'POST',
      raw: new Uint8Array([1, 2, 3]),
      headers: { ...auth, 'content-type': 'application/x-protobuf' },
    });
    expect(proto.status).toBe(415);
    expect(proto.body.message).toMatch(/JSON/);
    const broken = await call(`${stack.url}/loki/api/v1/push`, {
      method: 'POST',
      raw: '{"streams":[',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect((await call(`${stack.url}/loki/api/v1/push`, { body: { streams: [] }, headers: auth })).status).toBe(204);
  });
});
