/**
 * Property-based tests: whatever arrives, the normalizer and the body decoder never throw (except the
 * documented whole-body BadRequestError/UnsupportedMediaTypeError), every record becomes an event or a
 * rejection with a reason, events fit the limits, and every event is a valid queue message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLogsBody, type BodyKind } from '../../shared/domain/shippers/logs.js';
import { BadRequestError } from '../../shared/domain/errors.js';
import { DEFAULT_EVENT_LIMITS, normalizeJsonObject, normalizeTextLine, type RecordContext } from '../../shared/domain/normalize/record.js';
import { packMessages, parseMessage } from '../../shared/domain/queue-message.js';
import type { LogEvent } from '../../shared/domain/schema.js';

const ctx: RecordContext = { receipt: 'R', ingestedAtMicros: Date.UTC(2024, 4, 20) * 1000, defaults: {}, limits: DEFAULT_EVENT_LIMITS };

function assertValidEvent(e: LogEvent): void {
  // The writer's own validation accepts it.
  const [body] = packMessages('t', 'R', [JSON.stringify(e)], 4 * 1024 * 1024);
  expect(parseMessage(body!).events).toHaveLength(1);
  expect(Buffer.byteLength(e.message)).toBeLessThanOrEqual(DEFAULT_EVENT_LIMITS.maxMessageBytes);
  expect(Object.keys(e.attributes).length).toBeLessThanOrEqual(DEFAULT_EVENT_LIMITS.maxAttributes + 2);
  expect(Number.isSafeInteger(e.ts)).toBe(true);
}

/** Text that looks like logs often enough to reach the parsers' deeper branches. */
const logish = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .tuple(
      fc.constantFrom(
        '2024-05-01 12:00:00,123 ',
        'Jun 14 15:16:01 ',
        '<13>',
        '<34>1 2003-10-11T22:14:15.003Z ',
        '081109 203615 ',
        '[Sun Dec 04 04:47:44 2005] ',
        '03-17 16:13:38.811 ',
        '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 ',
        'I0514 12:34:56.789012 1 a.go:1] ',
        '',
      ),
      fc.constantFrom('INFO ', '[error] ', 'W ', 'host app[1]: ', '- WARN [x[y]] - ', 'level=warn msg="', '[', '{', ''),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
    )
    .map(([a, b, c]) => a + b + c),
);

describe('normalizer properties', () => {
  it('any text line becomes a valid event', () => {
    fc.assert(
      fc.property(logish, (line) => assertValidEvent(normalizeTextLine(line, 0, ctx))),
      { numRuns: 3000 },
    );
  });

  it('any JSON value that is an object becomes a valid event', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 6 }), { maxKeys: 30 }), (obj) => {
        assertValidEvent(normalizeJsonObject(obj, 0, ctx));
      }),
      { numRuns: 2000 },
    );
  });

  it('a 10,000-key object is cut to the attribute limit and flagged', () => {
    const obj = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]));
    const e = normalizeJsonObject(obj, 0, ctx);
    expect(Object.keys(e.attributes).length).toBe(DEFAULT_EVENT_LIMITS.maxAttributes + 1);
    expect(e.attributes['sluice.truncated']).toContain('attributes');
    assertValidEvent(e);
  });

  it('100-deep nesting is cut at the depth limit and flagged, not dropped', () => {
    let obj: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 100; i++) obj = { n: obj };
    const e = normalizeJsonObject({ msg: 'deep', ...obj }, 0, ctx);
    expect(e.message).toBe('deep');
    expect(e.attributes['sluice.truncated']).toContain('depth');
    assertValidEvent(e);
  });

  it('a 1 MB line is kept, with its message cut to the limit and flagged', () => {
    const e = normalizeTextLine(`2024-05-01 12:00:00 ERROR ${'x'.repeat(1024 * 1024)}`, 0, ctx);
    expect(e.level).toBe('error');
    expect(Buffer.byteLength(e.message)).toBe(DEFAULT_EVENT_LIMITS.maxMessageBytes);
    expect(e.attributes['sluice.truncated']).toBe('message');
  });

  it('NUL bytes and invalid UTF-8 survive as text', () => {
    const text = Buffer.from([0x32, 0x30, 0x00, 0xff, 0xfe, 0x41]).toString('utf8');
    const e = normalizeTextLine(text, 0, ctx);
    expect(e.message).toBe(text);
    assertValidEvent(e);
  });
});

describe('body decoder properties', () => {
  const kinds: BodyKind[] = ['json', 'ndjson', 'text', 'sniff'];

  it('any body either decodes into records (events or reasoned rejections) or is refused as a whole with a reason', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 2000 }),
          fc.json({ maxDepth: 4 }),
          fc.array(fc.json({ maxDepth: 3 }), { maxLength: 20 }).map((a) => a.join('\n')),
        ),
        fc.constantFrom(...kinds),
        (body, kind) => {
          let records;
          try {
            records = decodeLogsBody(body, kind);
          } catch (err) {
            expect(err).toBeInstanceOf(BadRequestError);
            expect((err as Error).message.length).toBeGreaterThan(10);
            return;
          }
          for (const r of records) {
            if (r.kind === 'error') expect(r.reason.length).toBeGreaterThan(5);
            else if (r.kind === 'json') assertValidEvent(normalizeJsonObject(r.value, r.index, ctx, r.raw));
            else assertValidEvent(normalizeTextLine(r.line, r.index, ctx));
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('truncated JSON in NDJSON is a per-line rejection, the other lines are kept', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { minKeys: 1, maxKeys: 5 }), { minLength: 2, maxLength: 20 }),
        fc.nat(),
        (objs, cut) => {
          const lines = objs.map((o) => JSON.stringify(o));
          const broken = cut % lines.length;
          lines[broken] = lines[broken]!.slice(0, Math.max(1, lines[broken]!.length - 1 - (cut % 3)));
          const records = decodeLogsBody(lines.join('\n'), 'ndjson');
          expect(records).toHaveLength(objs.length);
          expect(records.filter((r) => r.kind === 'error').map((r) => r.index)).toEqual([broken]);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('nesting far past the limit', () => {
  it('20,000-deep arrays and objects are cut and flagged, not a crash', () => {
    const deepArray = JSON.parse(`{"msg":"ok","a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`) as Record<string, unknown>;
    const e1 = normalizeJsonObject(deepArray, 0, ctx);
    expect(e1.message).toBe('ok');
    expect(e1.attributes['sluice.truncated']).toContain('depth');
    assertValidEvent(e1);
    const deepObject = JSON.parse(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`) as Record<string, unknown>;
    const e2 = normalizeJsonObject(deepObject, 0, ctx, undefined);
    expect(e2.attributes['sluice.truncated']).toContain('depth');
    assertValidEvent(e2);
  });
});
