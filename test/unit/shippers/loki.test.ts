import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../shared/domain/errors.js';
import { decodeLokiPush } from '../../../shared/domain/shippers/loki.js';

const push = (streams: unknown) => JSON.stringify({ streams });

describe('decodeLokiPush', () => {
  it('maps labels and structured metadata to attributes, and well-known ones to columns', () => {
    const recs = decodeLokiPush(
      push([
        {
          stream: { service_name: 'checkout', job: 'varlogs', hostname: 'web-1', filename: '/var/log/app.log', level: 'warning' },
          values: [
            ['1700000000123456789', 'plain text line'],
            ['1700000000123456790', '{"msg":"json line","user":"ann"}', { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', pod: 'p-1' }],
          ],
        },
      ]),
    );
    const hints = {
      service: 'checkout',
      host: 'web-1',
      source: '/var/log/app.log',
      level: 'warn',
      severity: 13,
    };
    expect(recs[0]).toEqual({
      index: 0,
      kind: 'text',
      line: 'plain text line',
      hints: {
        ts: 1700000000123456,
        ...hints,
        attributes: { service_name: 'checkout', job: 'varlogs', hostname: 'web-1', filename: '/var/log/app.log', level: 'warning' },
      },
    });
    expect(recs[1]).toMatchObject({
      index: 1,
      kind: 'json',
      value: { msg: 'json line', user: 'ann' },
      raw: '{"msg":"json line","user":"ann"}',
      hints: {
        ts: 1700000000123456,
        ...hints,
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        attributes: { pod: 'p-1', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
      },
    });
  });

  it('falls back along the service labels (app, then job) and leaves columns alone without them', () => {
    const recs = decodeLokiPush(
      push([
        { stream: { job: 'api' }, values: [['1700000000000000000', 'a']] },
        { stream: { app: 'web', job: 'x' }, values: [['1700000000000000000', 'b']] },
        { values: [['1700000000000000000', 'c']] },
      ]),
    );
    expect(recs.map((r) => (r.kind !== 'error' ? r.hints?.service : 'error'))).toEqual(['api', 'web', undefined]);
  });

  it('rejects bad entries one by one, numbered across streams', () => {
    const recs = decodeLokiPush(
      push([
        { stream: { job: 'a' }, values: [['1700000000000000000', 'ok'], ['yesterday', 'x'], ['1700000000000000000', 42], ['1700000000000000000']] },
        { stream: 'job=b', values: [] },
        {
          stream: { job: 'c' },
          values: [
            ['1700000000000000000', 'meta', 'not-an-object'],
            ['1700000000000000000', 'ok too'],
          ],
        },
      ]),
    );
    expect(recs.map((r) => [r.index, r.kind])).toEqual([
      [0, 'text'],
      [1, 'error'],
      [2, 'error'],
      [3, 'error'],
      [4, 'error'],
      [5, 'error'],
      [6, 'text'],
    ]);
    expect(recs[1]).toMatchObject({ reason: expect.stringMatching(/streams\[0\]\.values\[1\]: the timestamp must be a string of Unix epoch nanoseconds/) });
    expect(recs[4]).toMatchObject({ reason: expect.stringMatching(/streams\[1\]\.stream must be an object/) });
  });

  it('accepts an empty push (nothing to store) and refuses what is not a push body', () => {
    expect(decodeLokiPush(push([]))).toEqual([]);
    expect(() => decodeLokiPush('{"streams":{}}')).toThrow(BadRequestError);
    expect(() => decodeLokiPush('nope')).toThrow(/not valid JSON.*Loki push JSON/);
  });
});
