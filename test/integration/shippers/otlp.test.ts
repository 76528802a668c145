/**
 * OpenTelemetry's own SDK and OTLP/HTTP exporter sending to a running local server, on both paths
 * (`/v1/logs`, where exporters point by default, and `/otlp/v1/logs`), plain and gzip.
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack, waitForRows } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const RANGE = { start: Date.now() - 86_400_000, end: Date.now() + 3_600_000 };

describe('OTLP/HTTP JSON from @opentelemetry/exporter-logs-otlp-http', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack.cleanup());

  const rows = (sql: string, count: number) => waitForRows(stack.url, sql, count, { range: RANGE });

  /** Sends records through the SDK; resolves with the exporter's result codes once flushed. */
  async function send(path: string, service: string, gzip: boolean, emit: (logger: ReturnType<LoggerProvider['getLogger']>) => void): Promise<number[]> {
    const exporter = new OTLPLogExporter({ url: `${stack.url}${path}`, ...(gzip ? { compression: 'gzip' } : {}) } as ConstructorParameters<
      typeof OTLPLogExporter
    >[0]);
    const results: number[] = [];
    const recording: LogRecordExporter = {
      export: (logs, done) => exporter.export(logs, (r) => (results.push(r.code), done(r))),
      shutdown: () => exporter.shutdown(),
      forceFlush: () => exporter.forceFlush(),
    };
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'host.name': 'web-1', 'deployment.environment': 'test' }),
      processors: [new BatchLogRecordProcessor({ exporter: recording })],
    });
    emit(provider.getLogger('checkout.payments', '1.4.2'));
    await provider.forceFlush();
    await provider.shutdown();
    return results;
  }

  const second = Math.floor(Date.now() / 1000) - 30;
  const iso = (nanos: string) => `${new Date(second * 1000).toISOString().slice(0, 19)}.${nanos.slice(0, 6)}Z`;

  it.each([
    ['/v1/logs', false],
    ['/otlp/v1/logs', true],
  ])('stores records sent to %s (gzip: %s) with resource, scope, severity, ids and µs time', async (path, gzip) => {
    const service = `otel-${gzip ? 'gz' : 'plain'}`;
    const spanContext = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: TraceFlags.SAMPLED };
    const results = await send(path, service, gzip, (logger) => {
      logger.emit({
        timestamp: [second, 123456789],
        severityNumber: SeverityNumber.ERROR,
        severityText: 'ERROR',
        body: 'payment declined: level=debug is just text here',
        attributes: { 'order.id': 42, 'http.route': '/pay', retry: true },
        context: trace.setSpanContext(context.active(), spanContext),
      });
      logger.emit({ timestamp: [second, 987654321], severityNumber: SeverityNumber.INFO2, body: { msg: 'structured body', user: 'ann' } });
    });
    expect(results).toEqual([0]); // ExportResultCode.SUCCESS

    const got = await rows(
      `SELECT ts, level, severity, service, host, message, attributes, trace_id, span_id, format, ts_inferred FROM logs WHERE service = '${service}' ORDER BY ts`,
      2,
    );
    expect(got).toEqual([
      [
        iso('123456789'),
        'error',
        17,
        service,
        'web-1',
        'payment declined: level=debug is just text here',
        expect.objectContaining({
          'deployment.environment': 'test',
          'otel.scope.name': 'checkout.payments',
          'otel.scope.version': '1.4.2',
          'order.id': '42',
          'http.route': '/pay',
          retry: 'true',
        }),
        '5b8efff798038103d269b633813fc60c',
        'eee19b7ec3c1b174',
        'otlp',
        false,
      ],
      [iso('987654321'), 'info', 10, service, 'web-1', 'structured body', expect.objectContaining({ user: 'ann' }), null, null, 'otlp', false],
    ]);
    expect((got[0]![6] as Record<string, string>)['service.name']).toBeUndefined();
  });

  it('answers partial success for bad records and keeps the good ones', async () => {
    const body = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otel-partial' } }] },
          scopeLogs: [{ logRecords: [{ body: { stringValue: 'kept' } }, 'not a record'] }],
        },
      ],
    };
    const r = await call(`${stack.url}/otlp/v1/logs`, { body });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ partialSuccess: { rejectedLogRecords: 1, errorMessage: expect.stringMatching(/logRecords\[1\] must be a JSON object/) } });
    expect(r.headers.get('x-sluice-receipt')).toMatch(/^[0-9A-Z]{26}$/);
    expect(await rows("SELECT message FROM logs WHERE service = 'otel-partial'", 1)).toEqual([['kept']]);
  });

  it('accepts a gzip-encoded export on /v1/logs', async () => {
    const body = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otel-raw-gzip' } }] },
          scopeLogs: [{ logRecords: [{ timeUnixNano: 1_700_000_000_000_000_000, body: { stringValue: 'zipped' } }] }],
        },
      ],
    };
    const r = await call(`${stack.url}/v1/logs`, {
      method: 'POST',
      raw: gzipSync(JSON.stringify(body)),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(r).toMatchObject({ status: 200, body: {} });
    const got = await eventually(async () => {
      const q = await call(`${stack.url}/v1/query`, {
        body: { sql: "SELECT ts, message FROM logs WHERE service = 'otel-raw-gzip'", start: '2023-11-14T00:00:00Z', end: '2023-11-15T00:00:00Z' },
      });
      return q.body.rows?.length ? q.body.rows : undefined;
    });
    expect(got).toEqual([['2023-11-14T22:13:20.000000Z', 'zipped']]);
  });

  it('answers an empty export with {} and refuses protobuf and non-OTLP bodies clearly', async () => {
    expect(await call(`${stack.url}/otlp/v1/logs`, { body: { resourceLogs: [] } })).toMatchObject({ status: 200, body: {} });
    const proto = await call(`${stack.url}/otlp/v1/logs`, {
      method: 'POST',
      raw: new Uint8Array([10, 0]),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    expect(proto.status).toBe(415);
    expect(proto.body.message).toMatch(/http\/json/);
    const notOtlp = await call(`${stack.url}/otlp/v1/logs`, { body: { logs: [] } });
    expect(notOtlp.status).toBe(400);
    expect(notOtlp.body.message).toMatch(/resourceLogs/);
    const broken = await call(`${stack.url}/otlp/v1/logs`, { method: 'POST', raw: '{"resourceLogs":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.message).toMatch(/not valid JSON/);
    const allBad = await call(`${stack.url}/otlp/v1/logs`, { body: { resourceLogs: [{ scopeLogs: [{ logRecords: [1] }] }] } });
    expect(allBad.status).toBe(400);
  });
});
