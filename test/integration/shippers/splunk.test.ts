/**
 * splunk-logging (Splunk's Node HEC client) against a running local server with keys: `Splunk <key>`
 * auth, JSON sent with a form content type, `time` as a string, batches of concatenated objects.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestStack, waitForRows } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
type Callback = (err: Error | null, resp: unknown, body: unknown) => void;
interface SplunkLogger {
  send(context: { message: unknown; severity?: string; metadata?: Record<string, unknown> }, callback?: Callback): void;
  flush(callback?: Callback): void;
  error: (err: Error, context: unknown) => void;
}
const { Logger } = createRequire(import.meta.url)('splunk-logging') as { Logger: new (config: Record<string, unknown>) => SplunkLogger };

const HEC_KEY = 'hec-token-0001';
const ADMIN_KEY = 'hec-admin-key-0001';
const RANGE = { start: Date.now() - 86_400_000, end: Date.now() + 3_600_000 };

describe('Splunk HEC from splunk-logging', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_API_KEYS: `${HEC_KEY}:acme:ingest,${ADMIN_KEY}:acme:ingest+query+admin` });
  });
  afterAll(() => stack.cleanup());

  const rows = (sql: string, count: number) => waitForRows(stack.url, sql, count, { range: RANGE, key: ADMIN_KEY });

  const flushed = (logger: SplunkLogger) => new Promise<unknown>((resolve, reject) => logger.flush((err, _resp, body) => (err ? reject(err) : resolve(body))));

  it('stores a batch of events sent as concatenated objects, with metadata and string times', async () => {
    const logger = new Logger({ token: HEC_KEY, url: stack.url, maxBatchCount: 0 });
    const second = Math.floor(Date.now() / 1000) - 30;
    logger.send({
      message: 'user login failed',
      severity: 'error',
      metadata: { time: `${second}.250`, host: 'web-7', source: 'auth.log', sourcetype: 'auth', index: 'security' },
    });
    logger.send({ message: { action: 'checkout', amount: 12.5 }, severity: 'warn', metadata: { time: `${second}.500`, host: 'web-7' } });
    logger.send({ message: 'third', metadata: { time: second + 0.75, host: 'web-8' } });
    expect(await flushed(logger)).toEqual({ text: 'Success', code: 0 });

    const got = await rows("SELECT epoch_ms(ts), level, host, source, message, attributes FROM logs WHERE host IN ('web-7', 'web-8') ORDER BY ts", 3);
    const at = (ms: number) => second * 1000 + ms;
    expect(got).toEqual([
      [at(250), 'error', 'web-7', 'auth.log', 'user login failed', { 'splunk.sourcetype': 'auth', 'splunk.index': 'security' }],
      // splunk-logging wraps the message as {"message": …, "severity": …}; an object message stays structured.
      [
        at(500),
        'warn',
        'web-7',
        null,
        '{"message":{"action":"checkout","amount":12.5},"severity":"warn"}',
        { 'message.action': 'checkout', 'message.amount': '12.5' },
      ],
      [at(750), 'info', 'web-8', null, 'third', {}],
    ]);
  });

  it('takes the event/1.0, event, collector and raw endpoints, with query-parameter metadata on raw', async () => {
    const headers = { authorization: `Splunk ${HEC_KEY}`, 'content-type': 'application/x-www-form-urlencoded' };
    for (const path of ['/services/collector', '/services/collector/event', '/services/collector/event/1.0']) {
      const r = await call(`${stack.url}${path}`, { method: 'POST', raw: `{"event":"via ${path}","host":"paths"}`, headers });
      expect(r).toMatchObject({ status: 200, body: { text: 'Success', code: 0 } });
    }
    const now = new Date(Date.now() - 60_000);
    const month = now.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
    const stamp = `${month} ${String(now.getUTCDate()).padStart(2, ' ')} ${now.toISOString().slice(11, 19)}`;
    const raw = await call(`${stack.url}/services/collector/raw?host=raw-host&sourcetype=syslog&source=router`, {
      method: 'POST',
      raw: `<13>${stamp} router1 kernel: link up\nsecond raw line\n`,
      headers: { authorization: `Splunk ${HEC_KEY}` },
    });
    expect(raw).toMatchObject({ status: 200, body: { text: 'Success', code: 0 } });
    expect(await rows("SELECT message FROM logs WHERE host = 'paths' ORDER BY message", 3)).toEqual([
      ['via /services/collector'],
      ['via /services/collector/event'],
      ['via /services/collector/event/1.0'],
    ]);
    const rawRows = await rows("SELECT host, source, attributes['splunk.sourcetype'], message FROM logs WHERE source = 'router' ORDER BY message", 2);
    // Query-parameter metadata wins over what the line says (router1), as Splunk's does.
    expect(rawRows).toEqual([
      ['raw-host', 'router', 'syslog', 'link up'],
      ['raw-host', 'router', 'syslog', 'second raw line'],
    ]);
    expect(await call(`${stack.url}/services/collector/health`, { headers })).toMatchObject({ status: 200, body: { code: 17 } });
  });

  it('answers bad payloads with HEC codes the client reports, and keeps valid events next to bad ones', async () => {
    const headers = { authorization: `Splunk ${HEC_KEY}` };
    const none = await call(`${stack.url}/services/collector/event`, { method: 'POST', raw: '{"time":1}', headers });
    expect(none).toMatchObject({ status: 400, body: { code: 12, text: expect.stringMatching(/Event field is required/), error: 'bad_request' } });
    const garbage = await call(`${stack.url}/services/collector/event`, { method: 'POST', raw: 'not json', headers });
    expect(garbage).toMatchObject({ status: 400, body: { code: 6 } });
    const empty = await call(`${stack.url}/services/collector/event`, { method: 'POST', raw: '', headers });
    expect(empty).toMatchObject({ status: 400, body: { code: 5 } });
    const partial = await call(`${stack.url}/services/collector/event`, { method: 'POST', raw: '{"event":"kept-partial"}{"event":""}', headers });
    expect(partial).toMatchObject({ status: 200, body: { text: 'Success', code: 0, rejectedCount: 1, rejected: [{ index: 1 }] } });

    // splunk-logging turns a non-zero code into an Error passed to its error() hook.
    const logger = new Logger({ token: HEC_KEY, url: stack.url });
    (logger as unknown as { eventFormatter: () => string }).eventFormatter = () => '';
    const err = await new Promise<Error>((resolve) => {
      logger.error = (e) => resolve(e);
      logger.send({ message: 'formatted to an empty event' });
    });
    expect(err).toMatchObject({ code: 13, message: expect.stringMatching(/Event field cannot be blank/) });
  });

  it('refuses a wrong token', async () => {
    const logger = new Logger({ token: 'wrong-token-0000', url: stack.url });
    const status = await new Promise<number>((resolve) => logger.send({ message: 'x' }, (_e, resp) => resolve((resp as { statusCode: number }).statusCode)));
    expect(status).toBe(403);
  });
});
