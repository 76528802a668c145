/**
 * Node loggers that post JSON to `/v1/logs`: winston's Http transport (single objects and batches as
 * arrays, Bearer auth) and pino-http-send (`{"logs":[…]}` batches, Basic auth).
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { createWriteStream } from 'pino-http-send';
import winston from 'winston';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestStack, waitForRows } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const KEY = 'node-loggers-key-0001';
const ADMIN_KEY = 'node-loggers-admin-0001';
const RANGE = { start: Date.now() - 86_400_000, end: Date.now() + 3_600_000 };

describe('winston and pino-http-send posting to /v1/logs', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_API_KEYS: `${KEY}:acme:ingest,${ADMIN_KEY}:acme:ingest+query+admin` });
  });
  afterAll(() => stack.cleanup());

  const rows = (sql: string, count: number) => waitForRows(stack.url, sql, count, { range: RANGE, key: ADMIN_KEY });

  /** Logs through winston's Http transport; resolves once every request has been answered. */
  async function viaWinston(batch: boolean, write: (logger: winston.Logger) => void, requests: number): Promise<string[]> {
    const { port } = new URL(stack.url);
    const transport = new winston.transports.Http({
      host: '127.0.0.1',
      port: Number(port),
      path: '/v1/logs',
      auth: { bearer: KEY },
      batch,
      batchCount: 3,
      batchInterval: 50,
    });
    // winston's Http transport emits `logged` for a 200 and `warn` for any other status (Sluice answers 202).
    const outcomes: string[] = [];
    const done = new Promise<void>((resolve) => {
      const record = (what: string) => {
        outcomes.push(what);
        if (outcomes.length === requests) resolve();
      };
      transport.on('logged', () => record('200'));
      transport.on('warn', (err: Error) => record(err.message));
    });
    const logger = winston.createLogger({
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
      transports: [transport],
      defaultMeta: { service: 'winston-app' },
    });
    write(logger);
    await done;
    logger.close();
    return outcomes;
  }

  it('stores single objects from winston with level, service, timestamp and metadata', async () => {
    const outcomes = await viaWinston(
      false,
      (logger) => {
        logger.info('user signed in', { user: { id: 7 }, mode: 'single' });
        logger.error('db connection lost', { mode: 'single', retry: 3 });
      },
      2,
    );
    expect(outcomes).toEqual(['Invalid HTTP Status Code: 202', 'Invalid HTTP Status Code: 202']);
    const got = await rows("SELECT level, service, message, attributes, ts_inferred FROM logs WHERE attributes['mode'] = 'single' ORDER BY severity", 2);
    expect(got).toEqual([
      ['info', 'winston-app', 'user signed in', { 'user.id': '7', mode: 'single' }, false],
      ['error', 'winston-app', 'db connection lost', { mode: 'single', retry: '3' }, false],
    ]);
  });

  it('stores winston batches (a JSON array per request)', async () => {
    await viaWinston(
      true,
      (logger) => {
        for (let i = 0; i < 6; i++) logger.warn(`batched ${i}`, { mode: 'batch' });
      },
      2,
    );
    const got = await rows(
      "SELECT count(*), count(DISTINCT message), min(level), max(level) FROM logs WHERE attributes['mode'] = 'batch' HAVING count(*) = 6",
      1,
    );
    expect(got).toEqual([[6, 6, 'warn', 'warn']]);
  });

  it('stores pino-http-send batches ({"logs":[…]}) authenticated with Basic auth', async () => {
    const stream = createWriteStream({ url: `${stack.url}/v1/logs`, username: 'pino', password: KEY, batchSize: 4, timeout: 50, retries: 0 });
    const logger = pino({ base: { service: 'pino-app', hostname: 'pino-host' } }, stream);
    for (let i = 0; i < 5; i++) logger.info({ seq: i, sender: 'pino-http-send' }, `pino line ${i}`);
    logger.error({ sender: 'pino-http-send', err: { message: 'boom' } }, 'pino failure');
    const got = await rows(
      "SELECT level, severity, service, host, message, attributes['seq'] FROM logs WHERE attributes['sender'] = 'pino-http-send' ORDER BY message",
      6,
    );
    expect(got).toEqual([
      ['error', 17, 'pino-app', 'pino-host', 'pino failure', null],
      ...[0, 1, 2, 3, 4].map((i) => ['info', 9, 'pino-app', 'pino-host', `pino line ${i}`, String(i)]),
    ]);
    stream.end();
    await once(stream, 'finish').catch(() => undefined);
  });

  it('answers an empty {"logs":[]} and a wrapper of junk with a clear 400', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const empty = await call(`${stack.url}/v1/logs`, { body: { logs: [] }, headers: auth });
    expect(empty.status).toBe(400);
    expect(empty.body.message).toMatch(/"logs" is an empty array/);
    const junk = await call(`${stack.url}/v1/logs`, { body: { logs: [1, null] }, headers: auth });
    expect(junk.status).toBe(400);
    expect(junk.body.rejected).toEqual([
      { index: 0, reason: 'logs[0] must be a JSON object or a string, got a number' },
      { index: 1, reason: 'logs[1] must be a JSON object or a string, got null' },
    ]);
  });
});
