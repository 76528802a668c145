import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../shared/domain/schema.js';
import {
  MESSAGE_VERSION,
  MessageTooLargeError,
  isEventMessage,
  maxEventBytesFor,
  messageSchema,
  packMessages,
  parseMessage,
} from '../../shared/domain/queue-message.js';

const TENANT = 'acme';
const RECEIPT = '01HZY3K7Q8V4M2N6P0R5S9T1W3';

function event(i: number, message = `event ${i}`): LogEvent {
  return {
    ts: 1_700_000_000_000_000 + i,
    ingested_at: 1_700_000_001_000_000,
    level: i % 2 === 0 ? 'info' : null,
    severity: i % 2 === 0 ? 9 : null,
    service: 'api',
    host: null,
    source: null,
    message,
    attributes: { i: String(i) },
    tags: ['t'],
    trace_id: null,
    span_id: null,
    format: 'json',
    event_id: `${RECEIPT}-${i.toString(36)}`,
    ts_inferred: false,
  };
}

/** A JSON string of exactly `bytes` UTF-8 bytes (ASCII only). */
function jsonOfBytes(bytes: number, tag: number): string {
  const prefix = `{"n":${tag},"p":"`;
  const s = `${prefix}${'x'.repeat(bytes - prefix.length - 2)}"}`;
  expect(Buffer.byteLength(s)).toBe(bytes);
  return s;
}

function validMessage(over: Record<string, unknown> = {}): string {
  return JSON.stringify({ v: 1, tenant: TENANT, receipt: RECEIPT, part: 0, parts: 1, events: [event(0)], ...over });
}

describe('packMessages', () => {
  it('puts small batches into one message with the envelope fields', () => {
    const events = [event(0), event(1), event(2)];
    const bodies = packMessages(
      TENANT,
      RECEIPT,
      events.map((e) => JSON.stringify(e)),
      256 * 1024,
    );
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toEqual({ v: 1, tenant: TENANT, receipt: RECEIPT, part: 0, parts: 1, events });
    expect(MESSAGE_VERSION).toBe(1);
  });

  it('returns no messages for no events', () => {
    expect(packMessages(TENANT, RECEIPT, [], 1000)).toEqual([]);
  });

  it('fills each message greedily and numbers the parts', () => {
    // Each event costs its bytes + 1 (separator); 200 bytes are reserved for the envelope,
    // so 8 events of 99 bytes fit into 1000 bytes and 20 events make parts of 8, 8 and 4.
    const jsons = Array.from({ length: 20 }, (_, i) => jsonOfBytes(99, i));
    const bodies = packMessages(TENANT, RECEIPT, jsons, 1000);
    expect(bodies).toHaveLength(3);
    const parsed = bodies.map((b) => JSON.parse(b) as { part: number; parts: number; events: { n: number }[] });
    expect(parsed.map((p) => [p.part, p.parts, p.events.length])).toEqual([
      [0, 3, 8],
      [1, 3, 8],
      [2, 3, 4],
    ]);
    expect(parsed.flatMap((p) => p.events.map((e) => e.n))).toEqual([...Array(20).keys()]);
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(1000);
  });

  it('keeps every message within maxBytes in UTF-8 bytes with multi-byte text, and round-trips', () => {
    const texts = ['€uro ✓', '😀 emoji 🚀', 'ascii only', 'ü'.repeat(40), '日本語のログ'.repeat(8), '𝄞'.repeat(30)];
    const events = Array.from({ length: 60 }, (_, i) => event(i, `${texts[i % texts.length]} #${i}`));
    const jsons = events.map((e) => JSON.stringify(e));
    const maxBytes = 2048;
    const bodies = packMessages(TENANT, RECEIPT, jsons, maxBytes);

    expect(bodies.length).toBeGreaterThan(1);
    // Counting UTF-16 units instead of bytes would undercount these bodies.
    expect(bodies.some((b) => Buffer.byteLength(b) > b.length)).toBe(true);
    for (const b of bodies) expect(Buffer.byteLength(b, 'utf8')).toBeLessThanOrEqual(maxBytes);

    const messages = bodies.map(parseMessage);
    expect(messages.map((m) => m.part)).toEqual([...Array(bodies.length).keys()]);
    for (const m of messages) {
      expect(m.parts).toBe(bodies.length);
      expect(m.tenant).toBe(TENANT);
      expect(m.receipt).toBe(RECEIPT);
      expect(m.v).toBe(1);
    }
    expect(messages.flatMap((m) => m.events)).toEqual(events);
  });

  it('would not fit the multi-byte batch if bytes were counted as characters', () => {
    // 50 events of 300 characters but 900 bytes each: a 10 kB limit needs at least 5 messages.
    const jsons = Array.from({ length: 50 }, (_, i) => JSON.stringify(event(i, '€'.repeat(300))));
    const bodies = packMessages(TENANT, RECEIPT, jsons, 10_000);
    const totalBytes = jsons.reduce((n, j) => n + Buffer.byteLength(j), 0);
    expect(bodies.length).toBeGreaterThanOrEqual(Math.ceil(totalBytes / 10_000));
    for (const b of bodies) expect(Buffer.byteLength(b)).toBeLessThanOrEqual(10_000);
    expect(bodies.map(parseMessage).flatMap((m) => m.events.map((e) => e.event_id))).toEqual(
      Array.from({ length: 50 }, (_, i) => `${RECEIPT}-${i.toString(36)}`),
    );
  });

  it('accepts an event of exactly maxEventBytesFor(maxBytes) bytes', () => {
    expect(maxEventBytesFor(1000)).toBe(799);
    const json = jsonOfBytes(799, 0);
    const bodies = packMessages(TENANT, RECEIPT, [json, jsonOfBytes(20, 1)], 1000);
    expect(bodies).toHaveLength(2);
    expect(Buffer.byteLength(bodies[0]!)).toBeLessThanOrEqual(1000);
    expect(JSON.parse(bodies[0]!).events).toEqual([JSON.parse(json)]);
  });

  it('throws MessageTooLargeError for an event one byte over the limit', () => {
    const json = jsonOfBytes(800, 0);
    let err: unknown;
    try {
      packMessages(TENANT, RECEIPT, [jsonOfBytes(20, 1), json], 1000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MessageTooLargeError);
    expect((err as Error).name).toBe('MessageTooLargeError');
    expect((err as Error).message).toBe('event of 801 bytes exceeds the message limit of 1000');
  });

  it('measures the oversize check in bytes, not characters', () => {
    const json = `"${'€'.repeat(266)}"`; // 268 characters, 800 bytes
    expect(json.length).toBeLessThan(799);
    expect(() => packMessages(TENANT, RECEIPT, [json], 1000)).toThrow(MessageTooLargeError);
  });
});

describe('parseMessage', () => {
  it('parses a valid message', () => {
    expect(parseMessage(validMessage())).toEqual({
      v: 1,
      tenant: TENANT,
      receipt: RECEIPT,
      part: 0,
      parts: 1,
      events: [event(0)],
    });
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseMessage('{not json')).toThrow(/^message is not JSON: /);
    expect(() => parseMessage('')).toThrow(/^message is not JSON: /);
  });

  it('rejects a wrong version, naming the field', () => {
    expect(() => parseMessage(validMessage({ v: 2 }))).toThrow(/^message is not a valid event message: v: /);
    expect(() => parseMessage(validMessage({ v: '1' }))).toThrow(/^message is not a valid event message: v: /);
  });

  it.each(['Acme', 'a b', '../x', '', '-x'])('rejects the invalid tenant %j, naming the field', (tenant) => {
    expect(() => parseMessage(validMessage({ tenant }))).toThrow(/^message is not a valid event message: tenant: /);
  });

  it('rejects a missing receipt, bad part numbers and missing events', () => {
    expect(() => parseMessage(validMessage({ receipt: '' }))).toThrow(/: receipt: /);
    expect(() => parseMessage(validMessage({ part: -1 }))).toThrow(/: part: /);
    expect(() => parseMessage(validMessage({ parts: 0 }))).toThrow(/: parts: /);
    expect(() => parseMessage(validMessage({ events: undefined }))).toThrow(/: events: /);
  });

  it('rejects an invalid event with the path to the bad field', () => {
    const bad = { ...event(1), severity: 25 };
    expect(() => parseMessage(validMessage({ events: [event(0), bad] }))).toThrow(/^message is not a valid event message: events\.1\.severity: /);
    const badLevel = { ...event(0), level: 'loud' };
    expect(() => parseMessage(validMessage({ events: [badLevel] }))).toThrow(/: events\.0\.level: /);
    const badAttr = { ...event(0), attributes: { n: 1 } };
    expect(() => parseMessage(validMessage({ events: [badAttr] }))).toThrow(/: events\.0\.attributes\.n: /);
  });

  it('rejects a JSON value that is not an object', () => {
    expect(() => parseMessage('[]')).toThrow(/^message is not a valid event message: /);
    expect(() => parseMessage('null')).toThrow(/^message is not a valid event message: /);
  });
});

describe('the fast message check', () => {
  const valid = () =>
    JSON.parse(
      packMessages(
        TENANT,
        RECEIPT,
        [event(1), event(2, 'two')].map((e) => JSON.stringify(e)),
        1 << 20,
      )[0]!,
    ) as Record<string, unknown>;

  it('accepts a message the writer packed, and hands it over unchanged', () => {
    const m = valid();
    expect(isEventMessage(m)).toBe(true);
    expect(messageSchema.safeParse(m).success).toBe(true);
    expect(parseMessage(JSON.stringify(m))).toEqual(m);
  });

  it('accepts only what the zod schema accepts (generated mutations of a valid message)', () => {
    // Replace one field of the envelope or of an event with an arbitrary JSON value: whenever the fast
    // check says yes, zod must too (the reverse may differ only by zod's reasons, which parseMessage uses).
    const paths: (string | number)[][] = [
      ['v'],
      ['tenant'],
      ['receipt'],
      ['part'],
      ['parts'],
      ['events'],
      ...[
        'ts',
        'ingested_at',
        'level',
        'severity',
        'service',
        'host',
        'source',
        'message',
        'attributes',
        'tags',
        'trace_id',
        'span_id',
        'format',
        'event_id',
        'ts_inferred',
      ].map((k) => ['events', 0, k]),
      ['events', 0, 'attributes', 'a'],
      ['events', 0, 'tags', 0],
      ['events', 1],
    ];
    const value = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom(-1, 0, 1, 1.5, 25, 2 ** 53, -0, '', 'info', 'INFO', 'acme', 'ACME', '../x', null, true, [], {}, { x: 1 }, ['a'], [1]),
    );
    fc.assert(
      fc.property(fc.constantFrom(...paths), value, (path, v) => {
        const m = valid();
        let target: any = m;
        for (const p of path.slice(0, -1)) target = target[p];
        target[path.at(-1)!] = v;
        const roundTripped = JSON.parse(JSON.stringify(m)) as unknown;
        if (isEventMessage(roundTripped)) expect(messageSchema.safeParse(roundTripped).success).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('a refused message still gets zod’s reason', () => {
    const m = valid();
    (m.events as Record<string, unknown>[])[0]!.severity = 99;
    expect(isEventMessage(m)).toBe(false);
    expect(() => parseMessage(JSON.stringify(m))).toThrow(/events\.0\.severity/);
  });
});
