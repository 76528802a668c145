import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../shared/domain/errors.js';
import { anyValueToJs, decodeOtlpLogs, isOtlpLogsRequest, otlpResponse } from '../../../shared/domain/shippers/otlp.js';

const str = (s: string) => ({ stringValue: s });

function request(logRecords: unknown[], resource: unknown[] = [{ key: 'service.name', value: str('checkout') }]) {
  return { resourceLogs: [{ resource: { attributes: resource }, scopeLogs: [{ scope: { name: 'app.logger', version: '2.1' }, logRecords }] }] };
}

describe('decodeOtlpLogs', () => {
  it('maps resource, scope, severity, time, ids and attributes to hints, and a string body to a verbatim message', () => {
    const [rec] = decodeOtlpLogs(
      request(
        [
          {
            timeUnixNano: '1700000000123456789',
            observedTimeUnixNano: '1700000009000000000',
            severityNumber: 17,
            severityText: 'ERROR',
            body: str('level=info payment failed'),
            attributes: [
              { key: 'order.id', value: { intValue: '42' } },
              { key: 'retry', value: { boolValue: true } },
              { key: 'ratio', value: { doubleValue: 0.5 } },
              { key: 'http', value: { kvlistValue: { values: [{ key: 'status', value: { intValue: 500 } }] } } },
              { key: 'tags', value: { arrayValue: { values: [str('a'), str('b')] } } },
            ],
            traceId: '5B8EFFF798038103D269B633813FC60C',
            spanId: 'eee19b7ec3c1b174',
          },
        ],
        [
          { key: 'service.name', value: str('checkout') },
          { key: 'host.name', value: str('web-1') },
          { key: 'deployment.environment', value: str('prod') },
        ],
      ),
    );
    expect(rec).toEqual({
      index: 0,
      kind: 'text',
      line: 'level=info payment failed',
      hints: {
        format: 'otlp',
        parse: false,
        service: 'checkout',
        host: 'web-1',
        ts: 1700000000123456,
        level: 'error',
        severity: 17,
        trace_id: '5b8efff798038103d269b633813fc60c',
        span_id: 'eee19b7ec3c1b174',
        attributes: {
          'deployment.environment': 'prod',
          'otel.scope.name': 'app.logger',
          'otel.scope.version': '2.1',
          'order.id': '42',
          retry: 'true',
          ratio: '0.5',
          'http.status': '500',
          tags: '["a","b"]',
        },
      },
    });
  });

  it('keeps microsecond precision of nanosecond strings and accepts numbers', () => {
    const recs = decodeOtlpLogs(
      request([
        { timeUnixNano: '1700000000999999999', body: str('a') },
        { timeUnixNano: 1700000001000000000, body: str('b') },
      ]),
    );
    expect(recs.map((r) => (r.kind === 'text' ? r.hints?.ts : undefined))).toEqual([1700000000999999, 1700000001000000]);
  });

  it('falls back to observedTimeUnixNano when timeUnixNano is 0 or missing', () => {
    const [a, b] = decodeOtlpLogs(request([{ timeUnixNano: '0', observedTimeUnixNano: '1700000002000000000', body: str('a') }, { body: str('b') }]));
    expect(a!.kind === 'text' && a!.hints?.ts).toBe(1700000002000000);
    expect(b!.kind === 'text' && b!.hints?.ts).toBeUndefined();
  });

  it('turns a kvlist body into a JSON record and other bodies into JSON text', () => {
    const recs = decodeOtlpLogs(
      request([
        {
          body: {
            kvlistValue: {
              values: [
                { key: 'msg', value: str('structured') },
                { key: 'user', value: str('ann') },
              ],
            },
          },
        },
        { body: { intValue: '7' } },
        { body: { arrayValue: { values: [str('x'), { boolValue: false }] } } },
        {},
      ]),
    );
    expect(recs[0]).toMatchObject({ kind: 'json', value: { msg: 'structured', user: 'ann' } });
    expect(recs[1]).toMatchObject({ kind: 'text', line: '7', hints: { parse: false } });
    expect(recs[2]).toMatchObject({ kind: 'text', line: '["x",false]' });
    expect(recs[3]).toMatchObject({ kind: 'text', line: '' });
  });

  it('takes the level from severityText when there is no number, and keeps unknown texts', () => {
    const recs = decodeOtlpLogs(
      request([
        { severityText: 'Warning', body: str('a') },
        { severityText: 'CUSTOM', body: str('b') },
        { severityNumber: 'SEVERITY_NUMBER_DEBUG2', body: str('c') },
      ]),
    );
    expect(recs[0]).toMatchObject({ hints: { level: 'warn', severity: 13 } });
    expect(recs[1]).toMatchObject({ hints: { attributes: { severity_text: 'CUSTOM' } } });
    expect(recs[1]!.kind === 'text' && recs[1]!.hints?.level).toBeUndefined();
    expect(recs[2]).toMatchObject({ hints: { level: 'debug', severity: 6 } });
  });

  it('accepts snake_case field names and base64 ids; drops all-zero ids', () => {
    const [rec, zero] = decodeOtlpLogs({
      resource_logs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'snake' } }] },
          scope_logs: [
            {
              log_records: [
                {
                  time_unix_nano: '1700000000000000000',
                  severity_number: 9,
                  body: { string_value: 'hi' },
                  trace_id: Buffer.from('0123456789abcdef0123456789abcdef', 'hex').toString('base64'),
                },
                { body: { string_value: 'z' }, trace_id: '00000000000000000000000000000000' },
              ],
            },
          ],
        },
      ],
    });
    expect(rec).toMatchObject({
      kind: 'text',
      line: 'hi',
      hints: { service: 'snake', ts: 1700000000000000, level: 'info', trace_id: '0123456789abcdef0123456789abcdef' },
    });
    expect(zero!.kind === 'text' && zero!.hints?.trace_id).toBeUndefined();
  });

  it('numbers records across resources and scopes and rejects the malformed ones by path', () => {
    const recs = decodeOtlpLogs({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: str('a') }, 5] }, 'bad'] }, null, { scopeLogs: [{ logRecords: [{ body: str('b') }] }] }],
    });
    expect(recs.map((r) => [r.index, r.kind])).toEqual([
      [0, 'text'],
      [1, 'error'],
      [2, 'error'],
      [3, 'error'],
      [4, 'text'],
    ]);
    expect(recs[1]).toMatchObject({ reason: expect.stringMatching(/resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[1\] must be a JSON object/) });
  });

  it('refuses a body that is not an export request', () => {
    expect(() => decodeOtlpLogs({ logs: [] })).toThrow(BadRequestError);
    expect(isOtlpLogsRequest({ resourceLogs: [] })).toBe(true);
    expect(isOtlpLogsRequest({ resourceLogs: {} })).toBe(false);
    expect(decodeOtlpLogs({ resourceLogs: [] })).toEqual([]);
  });

  it('keeps int64 values beyond double precision as their exact text', () => {
    expect(anyValueToJs({ intValue: '9007199254740993' })).toBe('9007199254740993');
    expect(anyValueToJs({ intValue: '12' })).toBe(12);
    expect(anyValueToJs('junk')).toBeUndefined();
  });
});

describe('otlpResponse', () => {
  it('is {} on full success and a partial success naming the rejections otherwise', () => {
    expect(otlpResponse(0, [])).toEqual({});
    const r = otlpResponse(
      7,
      Array.from({ length: 7 }, (_, i) => ({ index: i, reason: `r${i}` })),
    );
    expect(r).toEqual({ partialSuccess: { rejectedLogRecords: 7, errorMessage: '7 log record(s) rejected: r0; r1; r2; r3; r4; and 2 more' } });
  });
});
