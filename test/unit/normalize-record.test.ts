import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EVENT_LIMITS,
  TRUNCATED_ATTRIBUTE,
  normalizeJsonObject,
  normalizeTextLine,
  type EventLimits,
  type RecordContext,
} from '../../shared/domain/normalize/record.js';

const RECEIPT = '01HZY3K7Q8V4M2N6P0R5S9T1W3';
const INGESTED = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000; // 2024-05-01T12:00:00Z

function ctx(over: { defaults?: RecordContext['defaults']; limits?: Partial<EventLimits> } = {}): RecordContext {
  return {
    receipt: RECEIPT,
    ingestedAtMicros: INGESTED,
    defaults: over.defaults ?? {},
    limits: { ...DEFAULT_EVENT_LIMITS, ...over.limits },
  };
}

function nest(levels: number, leaf: unknown = 1): Record<string, unknown> {
  let v: unknown = leaf;
  for (let i = 0; i < levels; i++) v = { k: v };
  return v as Record<string, unknown>;
}

describe('DEFAULT_EVENT_LIMITS', () => {
  it('has the documented values', () => {
    expect(DEFAULT_EVENT_LIMITS).toEqual({
      maxMessageBytes: 65536,
      maxAttributes: 500,
      maxAttributeValueBytes: 8192,
      maxDepth: 16,
      maxTags: 50,
    });
    expect(TRUNCATED_ATTRIBUTE).toBe('sluice.truncated');
  });
});

describe('normalizeJsonObject: columns from well-known fields', () => {
  it('maps a typical structured log line onto the schema', () => {
    const event = normalizeJsonObject(
      {
        '@timestamp': '2024-01-02T03:04:05.123456Z',
        level: 'WARN',
        msg: 'disk low',
        service: 'api',
        hostname: 'web-1',
        source: '/var/log/app.log',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: '00f067aa0ba902b7',
        user: { id: 42, name: 'ann' },
        ok: true,
        nothing: null,
        list: [1, 'a', { b: 2 }],
      },
      3,
      ctx(),
    );
    expect(event).toEqual({
      ts: Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123_456,
      ingested_at: INGESTED,
      level: 'warn',
      severity: 13,
      service: 'api',
      host: 'web-1',
      source: '/var/log/app.log',
      message: 'disk low',
      attributes: {
        'user.id': '42',
        'user.name': 'ann',
        ok: 'true',
        nothing: 'null',
        list: '[1,"a",{"b":2}]',
      },
      tags: [],
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      format: 'json',
      event_id: `${RECEIPT}-3`,
      ts_inferred: false,
    });
  });

  it('finds aliases that are nested objects through their dotted keys', () => {
    const event = normalizeJsonObject(
      {
        service: { name: 'checkout' },
        host: { name: 'h1' },
        log: { level: 'error', file: { path: '/var/log/c.log' } },
        dd: { trace_id: 't-1', span_id: 's-1' },
        message: 'm',
      },
      0,
      ctx(),
    );
    expect(event.service).toBe('checkout');
    expect(event.host).toBe('h1');
    expect(event.source).toBe('/var/log/c.log');
    expect(event.level).toBe('error');
    expect(event.severity).toBe(17);
    expect(event.trace_id).toBe('t-1');
    expect(event.span_id).toBe('s-1');
    expect(event.attributes).toEqual({});
  });

  it.each([
    ['message', { message: 'x' }],
    ['msg', { msg: 'x' }],
    ['@message', { '@message': 'x' }],
    ['@m', { '@m': 'x' }],
    ['Message', { Message: 'x' }],
    ['text', { text: 'x' }],
    ['log', { log: 'x' }],
  ])('takes the message from %s', (_key, obj) => {
    const event = normalizeJsonObject(obj, 0, ctx());
    expect(event.message).toBe('x');
    expect(event.attributes).toEqual({});
  });

  it('uses the first message alias in priority order and keeps the others as attributes', () => {
    const event = normalizeJsonObject({ msg: 'second', message: 'first', text: 'third' }, 0, ctx());
    expect(event.message).toBe('first');
    expect(event.attributes).toEqual({ msg: 'second', text: 'third' });
  });

  it('skips an empty or non-string message field', () => {
    const a = normalizeJsonObject({ message: '', msg: 'real' }, 0, ctx());
    expect(a.message).toBe('real');
    expect(a.attributes).toEqual({ message: '' });
    const obj = { message: 42, code: 'E1' };
    const b = normalizeJsonObject(obj, 0, ctx());
    expect(b.message).toBe('{"message":42,"code":"E1"}');
    expect(b.attributes).toEqual({ message: '42', code: 'E1' });
  });

  it.each([
    ['service.name', { 'service.name': 'a' }],
    ['service_name', { service_name: 'a' }],
    ['serviceName', { serviceName: 'a' }],
    ['app', { app: 'a' }],
    ['application', { application: 'a' }],
  ])('takes the service from %s', (_key, obj) => {
    const event = normalizeJsonObject({ ...obj, msg: 'm' }, 0, ctx());
    expect(event.service).toBe('a');
    expect(event.attributes).toEqual({});
  });

  it('prefers service over app and leaves the loser in attributes', () => {
    const event = normalizeJsonObject({ app: 'second', service: 'first', msg: 'm' }, 0, ctx());
    expect(event.service).toBe('first');
    expect(event.attributes).toEqual({ app: 'second' });
  });

  it.each([
    ['host', { host: 'h' }],
    ['hostname', { hostname: 'h' }],
    ['host.hostname', { host: { hostname: 'h' } }],
  ])('takes the host from %s', (_key, obj) => {
    expect(normalizeJsonObject({ ...obj, msg: 'm' }, 0, ctx()).host).toBe('h');
  });

  it('takes trace and span ids from camelCase aliases and leaves non-string ids as attributes', () => {
    const a = normalizeJsonObject({ traceId: 'abc', spanID: 'def', msg: 'm' }, 0, ctx());
    expect(a.trace_id).toBe('abc');
    expect(a.span_id).toBe('def');
    const b = normalizeJsonObject({ trace_id: 12345, msg: 'm' }, 0, ctx());
    expect(b.trace_id).toBeNull();
    expect(b.attributes).toEqual({ trace_id: '12345' });
  });

  it('leaves service, host, source, trace and span null when absent and no defaults exist', () => {
    const event = normalizeJsonObject({ msg: 'm' }, 0, ctx());
    expect([event.service, event.host, event.source, event.trace_id, event.span_id]).toEqual([null, null, null, null, null]);
    expect([event.level, event.severity]).toEqual([null, null]);
  });
});

describe('normalizeJsonObject: timestamps', () => {
  it.each(['@timestamp', 'timestamp', 'time', 'ts', 'datetime', '@t', 'Timestamp', 'eventTime'])('takes the time from %s', (key) => {
    const event = normalizeJsonObject({ [key]: '2024-01-02T03:04:05Z', msg: 'm' }, 0, ctx());
    expect(event.ts).toBe(Date.UTC(2024, 0, 2, 3, 4, 5) * 1000);
    expect(event.ts_inferred).toBe(false);
    expect(event.attributes).toEqual({});
  });

  it('reads epoch numbers by magnitude', () => {
    expect(normalizeJsonObject({ ts: 1_700_000_000 }, 0, ctx()).ts).toBe(1_700_000_000_000_000);
    expect(normalizeJsonObject({ time: 1_700_000_000_123 }, 0, ctx()).ts).toBe(1_700_000_000_123_000);
    expect(normalizeJsonObject({ ts: '1700000000123456789' }, 0, ctx()).ts).toBe(1_700_000_000_123_456);
  });

  it('uses the highest-priority alias and keeps a lower-priority one as an attribute', () => {
    const event = normalizeJsonObject({ time: '2020-01-01T00:00:00Z', timestamp: '2024-01-02T00:00:00Z' }, 0, ctx());
    expect(event.ts).toBe(Date.UTC(2024, 0, 2) * 1000);
    expect(event.attributes).toEqual({ time: '2020-01-01T00:00:00Z' });
  });

  it('falls through an unparseable alias to a parseable one without reporting ts_unparsed', () => {
    const event = normalizeJsonObject({ timestamp: 'garbage', ts: 1_700_000_000, msg: 'm' }, 0, ctx());
    expect(event.ts).toBe(1_700_000_000_000_000);
    expect(event.ts_inferred).toBe(false);
    expect(event.attributes).toEqual({ timestamp: 'garbage' });
  });

  it('keeps an unparseable time in ts_unparsed, uses the ingest time and sets ts_inferred', () => {
    const event = normalizeJsonObject({ time: 'yesterday at noon', msg: 'm' }, 0, ctx());
    expect(event.ts).toBe(INGESTED);
    expect(event.ts_inferred).toBe(true);
    expect(event.attributes).toEqual({ time: 'yesterday at noon', ts_unparsed: 'yesterday at noon' });
  });

  it('reports the first unparseable alias in ts_unparsed when several fail', () => {
    const event = normalizeJsonObject({ ts: 'bad-2', timestamp: 'bad-1', msg: 'm' }, 0, ctx());
    expect(event.ts_inferred).toBe(true);
    expect(event.attributes['ts_unparsed']).toBe('bad-1');
  });

  it('reports a non-string unparseable time as text', () => {
    const event = normalizeJsonObject({ ts: -5, msg: 'm' }, 0, ctx());
    expect(event.ts).toBe(INGESTED);
    expect(event.attributes).toEqual({ ts: '-5', ts_unparsed: '-5' });
  });

  it('uses the ingest time without ts_unparsed when there is no time field at all', () => {
    const event = normalizeJsonObject({ msg: 'm' }, 0, ctx());
    expect(event.ts).toBe(INGESTED);
    expect(event.ingested_at).toBe(INGESTED);
    expect(event.ts_inferred).toBe(true);
    expect(event.attributes).toEqual({});
  });
});

describe('normalizeJsonObject: levels', () => {
  it.each(['level', 'severity', 'lvl', 'loglevel', 'levelname', 'severity_text', 'severityText', '@l', 'Level'])('takes the level from %s', (key) => {
    const event = normalizeJsonObject({ [key]: 'Error', msg: 'm' }, 0, ctx());
    expect(event.level).toBe('error');
    expect(event.severity).toBe(17);
    expect(event.attributes).toEqual({});
  });

  it('reads pino numeric levels', () => {
    const event = normalizeJsonObject({ level: 30, msg: 'm' }, 0, ctx());
    expect([event.level, event.severity]).toEqual(['info', 9]);
  });

  it('keeps an unrecognised level as an attribute and moves on to the next alias', () => {
    const a = normalizeJsonObject({ level: 'chatty', msg: 'm' }, 0, ctx());
    expect([a.level, a.severity]).toEqual([null, null]);
    expect(a.attributes).toEqual({ level: 'chatty' });
    const b = normalizeJsonObject({ level: 'chatty', lvl: 'warn', msg: 'm' }, 0, ctx());
    expect(b.level).toBe('warn');
    expect(b.attributes).toEqual({ level: 'chatty' });
  });

  it('takes level and severity from an OpenTelemetry severity number', () => {
    const event = normalizeJsonObject({ severityNumber: 10, msg: 'm' }, 0, ctx());
    expect([event.level, event.severity]).toEqual(['info', 10]);
    expect(event.attributes).toEqual({});
  });

  it('keeps the precise severity number when the text level agrees with it', () => {
    const event = normalizeJsonObject({ severity_number: 19, severity_text: 'ERROR', msg: 'm' }, 0, ctx());
    expect([event.level, event.severity]).toEqual(['error', 19]);
    expect(event.attributes).toEqual({});
  });

  it('lets the text level win when it disagrees with the severity number', () => {
    const event = normalizeJsonObject({ severity_number: 9, level: 'error', msg: 'm' }, 0, ctx());
    expect([event.level, event.severity]).toEqual(['error', 17]);
  });

  it('ignores an out-of-range severity number, keeping it as an attribute', () => {
    const event = normalizeJsonObject({ severity_number: 30, msg: 'm' }, 0, ctx());
    expect([event.level, event.severity]).toEqual([null, null]);
    expect(event.attributes).toEqual({ severity_number: '30' });
  });
});

describe('normalizeJsonObject: message fallback', () => {
  it('uses the raw source text verbatim when there is no message field', () => {
    const raw = '{ "user": "ann",  "action": "login" }';
    const event = normalizeJsonObject({ user: 'ann', action: 'login' }, 0, ctx(), raw);
    expect(event.message).toBe(raw);
    expect(event.attributes).toEqual({ user: 'ann', action: 'login' });
  });

  it('uses compact JSON of the whole object when no raw text is given', () => {
    const event = normalizeJsonObject({ user: 'ann', n: [1, 2], tags: ['x'] }, 0, ctx());
    expect(event.message).toBe('{"user":"ann","n":[1,2],"tags":["x"]}');
  });

  it('prefers a message field over the raw text', () => {
    const event = normalizeJsonObject({ msg: 'hello' }, 0, ctx(), '{"msg":"hello"}');
    expect(event.message).toBe('hello');
  });
});

describe('normalizeJsonObject: flattening', () => {
  it('flattens nested objects into dotted keys and stringifies leaves', () => {
    const event = normalizeJsonObject({ http: { request: { method: 'GET', bytes: 512 }, status: 200, ok: false }, ratio: 1.5, empty: {} }, 0, ctx());
    expect(event.attributes).toEqual({
      'http.request.method': 'GET',
      'http.request.bytes': '512',
      'http.status': '200',
      'http.ok': 'false',
      ratio: '1.5',
    });
  });

  it('turns arrays into JSON text rather than flattening them', () => {
    const event = normalizeJsonObject({ ids: [1, 2, 3], objs: [{ a: 1 }], none: [] }, 0, ctx());
    expect(event.attributes).toEqual({ ids: '[1,2,3]', objs: '[{"a":1}]', none: '[]' });
  });

  it('skips undefined values', () => {
    const event = normalizeJsonObject({ a: undefined, b: 'x', c: { d: undefined } }, 0, ctx());
    expect(event.attributes).toEqual({ b: 'x' });
  });

  it('flattens up to maxDepth levels of keys and stringifies deeper objects, flagging depth', () => {
    const event = normalizeJsonObject({ a: { b: { c: 1 } }, x: { y: 2 } }, 0, ctx({ limits: { maxDepth: 2 } }));
    expect(event.attributes).toEqual({ 'a.b': '{"c":1}', 'x.y': '2', [TRUNCATED_ATTRIBUTE]: 'depth' });
  });

  it('allows exactly 16 levels by default and truncates the 17th', () => {
    const key16 = Array(16).fill('k').join('.');
    const ok = normalizeJsonObject(nest(16), 0, ctx());
    expect(ok.attributes).toEqual({ [key16]: '1' });
    const deep = normalizeJsonObject(nest(17), 0, ctx());
    expect(deep.attributes).toEqual({ [key16]: '{"k":1}', [TRUNCATED_ATTRIBUTE]: 'depth' });
  });

  it('does not modify the input object', () => {
    const obj = { tags: ['a'], msg: 'm', nested: { level: 'x' }, ts: 'bad' };
    const copy = structuredClone(obj);
    normalizeJsonObject(obj, 0, ctx());
    expect(obj).toEqual(copy);
  });
});

describe('normalizeJsonObject: limits', () => {
  it('keeps exactly maxAttributes attributes without flagging', () => {
    const event = normalizeJsonObject({ a: '1', b: '2', c: '3' }, 0, ctx({ limits: { maxAttributes: 3 } }));
    expect(event.attributes).toEqual({ a: '1', b: '2', c: '3' });
  });

  it('keeps the first maxAttributes attributes in order and flags the rest', () => {
    const event = normalizeJsonObject({ a: '1', b: '2', c: '3', d: '4' }, 0, ctx({ limits: { maxAttributes: 3 } }));
    expect(event.attributes).toEqual({ a: '1', b: '2', c: '3', [TRUNCATED_ATTRIBUTE]: 'attributes' });
  });

  it('does not add ts_unparsed when the attribute budget is used up', () => {
    const event = normalizeJsonObject({ time: 'bad', a: '1' }, 0, ctx({ limits: { maxAttributes: 1 } }));
    expect(event.ts_inferred).toBe(true);
    expect(event.attributes).toEqual({ time: 'bad', [TRUNCATED_ATTRIBUTE]: 'attributes' });
  });

  it('truncates long attribute values to maxAttributeValueBytes', () => {
    const limits = { maxAttributeValueBytes: 10 };
    const exact = normalizeJsonObject({ v: 'x'.repeat(10) }, 0, ctx({ limits }));
    expect(exact.attributes).toEqual({ v: 'x'.repeat(10) });
    const long = normalizeJsonObject({ v: 'x'.repeat(11), w: 'short' }, 0, ctx({ limits }));
    expect(long.attributes).toEqual({ v: 'x'.repeat(10), w: 'short', [TRUNCATED_ATTRIBUTE]: 'attribute_value' });
  });

  it('measures values in UTF-8 bytes and never splits a character', () => {
    const event = normalizeJsonObject({ v: 'é'.repeat(6) }, 0, ctx({ limits: { maxAttributeValueBytes: 5 } }));
    expect(event.attributes['v']).toBe('éé');
    expect(event.attributes[TRUNCATED_ATTRIBUTE]).toBe('attribute_value');
    const fits = normalizeJsonObject({ v: 'éé' }, 0, ctx({ limits: { maxAttributeValueBytes: 4 } }));
    expect(fits.attributes).toEqual({ v: 'éé' });
  });

  it('truncates attribute keys to 256 bytes', () => {
    const event = normalizeJsonObject({ ['k'.repeat(300)]: 'v' }, 0, ctx());
    expect(event.attributes).toEqual({ ['k'.repeat(256)]: 'v', [TRUNCATED_ATTRIBUTE]: 'attribute_key' });
  });

  it('truncates the message to maxMessageBytes', () => {
    const event = normalizeJsonObject({ msg: 'hello world!' }, 0, ctx({ limits: { maxMessageBytes: 8 } }));
    expect(event.message).toBe('hello wo');
    expect(event.attributes).toEqual({ [TRUNCATED_ATTRIBUTE]: 'message' });
  });

  it('does not flag a message of exactly maxMessageBytes bytes', () => {
    const event = normalizeJsonObject({ msg: 'abcdef' }, 0, ctx({ limits: { maxMessageBytes: 6 } }));
    expect(event.message).toBe('abcdef');
    expect(event.attributes).toEqual({});
  });

  it('drops a partial multi-byte character at the message cut', () => {
    const event = normalizeJsonObject({ msg: 'ab😀cd' }, 0, ctx({ limits: { maxMessageBytes: 5 } }));
    expect(event.message).toBe('ab');
    const whole = normalizeJsonObject({ msg: 'ab😀cd' }, 0, ctx({ limits: { maxMessageBytes: 6 } }));
    expect(whole.message).toBe('ab😀');
  });

  it('truncates the raw-text fallback message too', () => {
    const event = normalizeJsonObject({ a: 'x' }, 0, ctx({ limits: { maxMessageBytes: 4 } }), '{"a":"x"}');
    expect(event.message).toBe('{"a"');
    expect(event.attributes).toEqual({ a: 'x', [TRUNCATED_ATTRIBUTE]: 'message' });
  });

  it('lists every kind of truncation, sorted and comma-separated', () => {
    const event = normalizeJsonObject(
      { msg: 'too long a message', v: 'xxxxxxxx', deep: { a: { b: 1 } }, tags: ['t1', 't2'] },
      0,
      ctx({ limits: { maxMessageBytes: 3, maxAttributeValueBytes: 4, maxDepth: 2, maxTags: 1 } }),
    );
    expect(event.attributes[TRUNCATED_ATTRIBUTE]).toBe('attribute_value,depth,message,tags');
    expect(event.message).toBe('too');
    expect(event.tags).toEqual(['t1']);
  });
});

describe('normalizeJsonObject: tags', () => {
  it('takes tags from an array, dropping non-strings and empty strings', () => {
    const event = normalizeJsonObject({ tags: ['a', 1, '', null, 'b'], msg: 'm' }, 0, ctx());
    expect(event.tags).toEqual(['a', 'b']);
    expect(event.attributes).toEqual({});
  });

  it('takes tags from a comma-separated string, trimming each', () => {
    const event = normalizeJsonObject({ tags: ' a, b ,,c ', msg: 'm' }, 0, ctx());
    expect(event.tags).toEqual(['a', 'b', 'c']);
    expect(event.attributes).toEqual({});
  });

  it('merges default tags first and removes duplicates', () => {
    const event = normalizeJsonObject({ tags: ['b', 'c', 'b'], msg: 'm' }, 0, ctx({ defaults: { tags: ['a', 'b'] } }));
    expect(event.tags).toEqual(['a', 'b', 'c']);
  });

  it('keeps a tags field of another type as an attribute', () => {
    const event = normalizeJsonObject({ tags: 5, msg: 'm' }, 0, ctx({ defaults: { tags: ['d'] } }));
    expect(event.tags).toEqual(['d']);
    expect(event.attributes).toEqual({ tags: '5' });
  });

  it('keeps at most maxTags tags and flags the cut', () => {
    const exact = normalizeJsonObject({ tags: ['c'], msg: 'm' }, 0, ctx({ defaults: { tags: ['a', 'b'] }, limits: { maxTags: 3 } }));
    expect(exact.tags).toEqual(['a', 'b', 'c']);
    expect(exact.attributes).toEqual({});
    const over = normalizeJsonObject({ tags: ['c', 'd'], msg: 'm' }, 0, ctx({ defaults: { tags: ['a', 'b'] }, limits: { maxTags: 3 } }));
    expect(over.tags).toEqual(['a', 'b', 'c']);
    expect(over.attributes).toEqual({ [TRUNCATED_ATTRIBUTE]: 'tags' });
  });
});

describe('normalizeJsonObject: defaults from the request context', () => {
  const defaults = { service: 'def-svc', host: 'def-host', source: 'def-src', tags: ['d'] };

  it('fills service, host, source and tags from defaults when the record has none', () => {
    const event = normalizeJsonObject({ msg: 'm' }, 0, ctx({ defaults }));
    expect([event.service, event.host, event.source, event.tags]).toEqual(['def-svc', 'def-host', 'def-src', ['d']]);
  });

  it('lets the record override the defaults', () => {
    const event = normalizeJsonObject({ msg: 'm', service: 's', host: 'h', source: 'src' }, 0, ctx({ defaults }));
    expect([event.service, event.host, event.source]).toEqual(['s', 'h', 'src']);
  });

  it('falls back to the default when the record value is an empty string or not text', () => {
    const event = normalizeJsonObject({ msg: 'm', service: '', host: 7 }, 0, ctx({ defaults }));
    expect(event.service).toBe('def-svc');
    expect(event.host).toBe('def-host');
    expect(event.attributes).toEqual({ service: '', host: '7' });
  });
});

describe('normalizeJsonObject: event ids', () => {
  it('derives the event id from the receipt and the base-36 index', () => {
    expect(normalizeJsonObject({ msg: 'm' }, 0, ctx()).event_id).toBe(`${RECEIPT}-0`);
    expect(normalizeJsonObject({ msg: 'm' }, 35, ctx()).event_id).toBe(`${RECEIPT}-z`);
    expect(normalizeJsonObject({ msg: 'm' }, 36, ctx()).event_id).toBe(`${RECEIPT}-10`);
    expect(normalizeJsonObject({ msg: 'm' }, 1295, ctx()).event_id).toBe(`${RECEIPT}-zz`);
  });

  it('gives the same id for the same receipt and index regardless of content', () => {
    const a = normalizeJsonObject({ msg: 'a' }, 7, ctx());
    const b = normalizeJsonObject({ msg: 'b' }, 7, ctx());
    const c = normalizeJsonObject({ msg: 'a' }, 7, { ...ctx(), receipt: 'OTHER' });
    expect(a.event_id).toBe(b.event_id);
    expect(c.event_id).toBe('OTHER-7');
  });
});

describe('normalizeTextLine', () => {
  it('makes an event whose message is the line and whose time is the ingest time', () => {
    expect(normalizeTextLine('GET /health 200', 12, ctx())).toEqual({
      ts: INGESTED,
      ingested_at: INGESTED,
      level: null,
      severity: null,
      service: null,
      host: null,
      source: null,
      message: 'GET /health 200',
      attributes: {},
      tags: [],
      trace_id: null,
      span_id: null,
      format: 'text',
      event_id: `${RECEIPT}-c`,
      ts_inferred: true,
    });
  });

  it('applies the request defaults', () => {
    const event = normalizeTextLine('x', 0, ctx({ defaults: { service: 's', host: 'h', source: 'f.log', tags: ['a', 'a', 'b'] } }));
    expect([event.service, event.host, event.source, event.tags]).toEqual(['s', 'h', 'f.log', ['a', 'b']]);
  });

  it('truncates a long line and flags it', () => {
    const event = normalizeTextLine('0123456789', 0, ctx({ limits: { maxMessageBytes: 4 } }));
    expect(event.message).toBe('0123');
    expect(event.attributes).toEqual({ [TRUNCATED_ATTRIBUTE]: 'message' });
  });

  it('truncates default tags beyond maxTags and flags it', () => {
    const event = normalizeTextLine('x', 0, ctx({ defaults: { tags: ['a', 'b', 'c'] }, limits: { maxTags: 2 } }));
    expect(event.tags).toEqual(['a', 'b']);
    expect(event.attributes).toEqual({ [TRUNCATED_ATTRIBUTE]: 'tags' });
  });
});

describe('normalizeJsonObject with hostile keys', () => {
  it('keeps a field named __proto__ as an ordinary attribute and a level "constructor" as no level', () => {
    const obj = JSON.parse('{"msg":"x","__proto__":{"polluted":"yes"},"level":"constructor"}') as Record<string, unknown>;
    const event = normalizeJsonObject(obj, 0, {
      receipt: RECEIPT,
      ingestedAtMicros: INGESTED,
      defaults: {},
      limits: DEFAULT_EVENT_LIMITS,
    });
    expect(event.level).toBeNull();
    expect(event.attributes['__proto__.polluted']).toBe('yes');
    expect(event.attributes['level']).toBe('constructor');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.parse(JSON.stringify(event)).attributes).toEqual({ '__proto__.polluted': 'yes', level: 'constructor' });
  });
});

describe('applyHints within the limits', () => {
  it('keeps hint attributes within the attribute count and value size, and merges truncation flags', async () => {
    const { applyHints } = await import('../../shared/domain/normalize/hints.js');
    const limits = { ...DEFAULT_EVENT_LIMITS, maxAttributes: 3, maxAttributeValueBytes: 4 };
    const event = normalizeJsonObject({ msg: 'x', a: '1', b: '2' }, 0, { receipt: RECEIPT, ingestedAtMicros: INGESTED, defaults: {}, limits });
    applyHints(event, { attributes: { c: '123456', d: 'dropped', [TRUNCATED_ATTRIBUTE]: 'depth' } }, limits);
    expect(event.attributes).toEqual({ a: '1', b: '2', c: '1234', [TRUNCATED_ATTRIBUTE]: 'attribute_value,attributes,depth' });
  });
});
