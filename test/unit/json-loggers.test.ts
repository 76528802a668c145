/** Real output shapes of popular JSON loggers, mapped onto the schema. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_LIMITS, normalizeJsonObject, type RecordContext } from '../../shared/domain/normalize/record.js';
import { microsToIso } from '../../shared/domain/normalize/timestamp.js';

const ctx: RecordContext = { receipt: 'R', ingestedAtMicros: Date.UTC(2024, 4, 20) * 1000, defaults: {}, limits: DEFAULT_EVENT_LIMITS };
const norm = (obj: Record<string, unknown>) => {
  const e = normalizeJsonObject(obj, 0, ctx);
  return { ...e, ts: e.ts_inferred ? undefined : microsToIso(e.ts) };
};

describe('JSON loggers', () => {
  it('pino', () => {
    expect(norm({ level: 50, time: 1714564800123, pid: 42, hostname: 'web-1', name: 'checkout', msg: 'payment failed', orderId: 'o-1' })).toMatchObject({
      level: 'error',
      severity: 17,
      ts: '2024-05-01T12:00:00.123000Z',
      host: 'web-1',
      service: 'checkout',
      message: 'payment failed',
      attributes: { pid: '42', orderId: 'o-1' },
    });
  });

  it('bunyan', () => {
    expect(norm({ name: 'api', hostname: 'h', pid: 1, level: 40, msg: 'slow', time: '2024-05-01T12:00:00.000Z', v: 0 })).toMatchObject({
      level: 'warn',
      service: 'api',
      ts: '2024-05-01T12:00:00.000000Z',
      message: 'slow',
    });
  });

  it('winston', () => {
    expect(norm({ level: 'warn', message: 'cache miss', timestamp: '2024-05-01T12:00:00.5Z', service: 'user-service' })).toMatchObject({
      level: 'warn',
      message: 'cache miss',
      service: 'user-service',
      ts: '2024-05-01T12:00:00.500000Z',
    });
  });

  it('zap (epoch seconds with a fraction)', () => {
    expect(
      norm({ level: 'error', ts: 1714564800.25, caller: 'main.go:12', msg: 'boom', logger: 'db', stacktrace: 'main.main\n\t/app/main.go:12' }),
    ).toMatchObject({
      level: 'error',
      ts: '2024-05-01T12:00:00.250000Z',
      message: 'boom',
      attributes: { caller: 'main.go:12', logger: 'db' },
    });
  });

  it('logrus', () => {
    expect(norm({ level: 'warning', msg: 'retrying', time: '2024-05-01T14:00:00+02:00', attempt: 3 })).toMatchObject({
      level: 'warn',
      ts: '2024-05-01T12:00:00.000000Z',
      attributes: { attempt: '3' },
    });
  });

  it('Log4j 2 JsonLayout with instant', () => {
    expect(
      norm({
        instant: { epochSecond: 1714564800, nanoOfSecond: 123456789 },
        thread: 'main',
        level: 'ERROR',
        loggerName: 'com.acme.App',
        message: 'failed',
        endOfBatch: false,
      }),
    ).toMatchObject({ level: 'error', ts: '2024-05-01T12:00:00.123456Z', message: 'failed', attributes: { thread: 'main', loggerName: 'com.acme.App' } });
    expect(norm({ timeMillis: 1714564800123, level: 'INFO', message: 'x' }).ts).toBe('2024-05-01T12:00:00.123000Z');
  });

  it('ECS', () => {
    expect(
      norm({
        '@timestamp': '2024-05-01T12:00:00.000Z',
        'log.level': 'info',
        message: 'ok',
        ecs: { version: '1.6.0' },
        service: { name: 'shop' },
        host: { hostname: 'h1' },
        trace: { id: 't1' },
        span: { id: 's1' },
      }),
    ).toMatchObject({ level: 'info', service: 'shop', host: 'h1', trace_id: 't1', span_id: 's1', message: 'ok' });
  });

  it('Serilog compact (CLEF): no @l means Information', () => {
    expect(norm({ '@t': '2024-05-01T12:00:00.0000000Z', '@mt': 'Hello {User}', User: 'bob' })).toMatchObject({
      level: 'info',
      message: 'Hello {User}',
      ts: '2024-05-01T12:00:00.000000Z',
      attributes: { User: 'bob' },
    });
    expect(norm({ '@t': '2024-05-01T12:00:00Z', '@m': 'Hello bob', '@l': 'Warning' }).level).toBe('warn');
  });

  it('GELF', () => {
    expect(
      norm({
        version: '1.1',
        host: 'example.org',
        short_message: 'A short message',
        full_message: 'Backtrace here',
        timestamp: 1714564800.5,
        level: 3,
        _user_id: 9001,
        _some_info: 'foo',
      }),
    ).toMatchObject({
      format: 'gelf',
      level: 'error',
      host: 'example.org',
      message: 'A short message',
      ts: '2024-05-01T12:00:00.500000Z',
      attributes: { full_message: 'Backtrace here', user_id: '9001', some_info: 'foo' },
    });
  });

  it('OpenTelemetry-style severity numbers win over a coarser text', () => {
    expect(norm({ severity_number: 21, level: 'fatal', message: 'x' })).toMatchObject({ level: 'fatal', severity: 21 });
  });
});

describe('container log wrappers', () => {
  it('Docker json-file: the inner line is normalized, the wrapper time fills in when the line has none', () => {
    expect(norm({ log: '2024-05-01 12:00:00,001 ERROR [main] com.acme.App: failed\n', stream: 'stderr', time: '2024-05-01T12:00:00.5Z' })).toMatchObject({
      level: 'error',
      message: 'failed',
      ts: '2024-05-01T12:00:00.001000Z',
      attributes: { stream: 'stderr', logger: 'com.acme.App' },
    });
    expect(norm({ log: 'plain words\n', stream: 'stdout', time: '2024-05-01T12:00:00.5Z' })).toMatchObject({
      message: 'plain words',
      ts: '2024-05-01T12:00:00.500000Z',
    });
    expect(norm({ log: '{"level":"warn","msg":"inner json"}\n', stream: 'stdout', time: '2024-05-01T12:00:00Z' })).toMatchObject({
      level: 'warn',
      message: 'inner json',
    });
  });
});
