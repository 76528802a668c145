/** Timeplus Proton's ingest API (compact format) over raw HTTP, as Proton's own examples send it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestStack, waitForRows } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const RANGE = { start: Date.now() - 86_400_000, end: Date.now() + 3_600_000 };

describe('Proton ingest', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.cleanup());

  const rows = (sql: string, count: number) => waitForRows(stack.url, sql, count, { range: RANGE });
  const ingest = (stream: string, body: unknown) =>
    call(`${stack.url}/proton/v1/ingest/streams/${encodeURIComponent(stream)}`, {
      method: 'POST',
      raw: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('stores one event per row, with the stream as source and _tp_time as the event time', async () => {
    const t = new Date(Date.now() - 120_000);
    t.setUTCMilliseconds(250);
    const protonTime = t.toISOString().replace('T', ' ').replace('Z', '');
    const r = await ingest('app logs', {
      columns: ['_tp_time', 'level', 'msg', 'service', 'latency_ms'],
      data: [
        [protonTime, 'error', 'upstream timed out', 'gateway', 5012],
        [protonTime, 'info', 'request served', 'gateway', 12],
      ],
    });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ accepted: 2, rejectedCount: 0, receipt: expect.stringMatching(/^[0-9A-Z]{26}$/) });
    const got = await rows("SELECT epoch_ms(ts), level, service, source, message, attributes FROM logs WHERE source = 'app logs' ORDER BY message", 2);
    expect(got).toEqual([
      [t.getTime(), 'info', 'gateway', 'app logs', 'request served', { latency_ms: '12' }],
      [t.getTime(), 'error', 'gateway', 'app logs', 'upstream timed out', { latency_ms: '5012' }],
    ]);
  });

  it('keeps good rows next to bad ones and refuses malformed bodies with a 400', async () => {
    const partial = await ingest('partial', { columns: ['msg'], data: [['ok row'], ['too', 'many']] });
    expect(partial.status).toBe(202);
    expect(partial.body).toMatchObject({ accepted: 1, rejectedCount: 1, rejected: [{ index: 1, reason: 'data[1] has 2 values for 1 columns' }] });

    for (const [body, message] of [
      ['{"columns":["a"]}', /compact format/],
      ['{"columns":["a","a"],"data":[[1,2]]}', /listed twice/],
      ['not json', /not valid JSON/],
      ['{"columns":["a"],"data":[[1,2]]}', /has 2 values for 1 columns/],
    ] as const) {
      const r = await ingest('bad', body);
      expect(r.status).toBe(400);
      expect(r.body.message).toMatch(message);
    }
    const format = await call(`${stack.url}/proton/v1/ingest/streams/s?format=raw`, { method: 'POST', raw: 'x' });
    expect(format.status).toBe(400);
    expect(format.body.message).toMatch(/format=raw is not supported/);
  });
});
