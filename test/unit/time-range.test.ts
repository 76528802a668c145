/**
 * The query time range (shared/domain/time-range.ts): whatever `start` and `end` are, the answer is a range
 * every later step can represent, or a BadRequestError naming the parameter and the forms it takes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../shared/domain/errors.js';
import { EARLIEST_MS, LATEST_MS, parseTime, parseTimeRange } from '../../shared/domain/time-range.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const DEFAULT = 15 * 60_000;

function refused(fn: () => unknown, name: string, forms = true): string {
  try {
    fn();
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(BadRequestError);
    const message = (err as Error).message;
    expect(message).toContain(name);
    if (forms) expect(message).toMatch(/ISO 8601/);
    return message;
  }
  throw new Error('expected a BadRequestError');
}

/** Values of every JSON type, and the strings and numbers that break date arithmetic. */
const timeish = fc.oneof(
  fc.jsonValue(),
  fc.double(),
  fc.integer(),
  fc.constantFrom(Infinity, -Infinity, NaN, -0, 1e308, -1e308, 5e-324, 8.64e15, 8.64e15 + 1, 2 ** 53, 1e21),
  fc.string(),
  fc.stringMatching(/^(now)?\s*-\s*\d{1,40}\s*[smhdwSMHDWy]?$/),
  fc.stringMatching(/^[+-]?\d{1,6}-\d{1,2}-\d{1,2}(T\d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,12})?)?(Z|[+-]\d{1,2}:?\d{0,2})?)?$/),
  fc.stringMatching(/^-?\d{1,30}(\.\d{0,5})?$/),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
);

describe('parseTimeRange', () => {
  it('regression (issue 13, finding 4): "-99999999999999999999999h" is a 400 naming start, not a RangeError', () => {
    const message = refused(() => parseTimeRange({ start: '-99999999999999999999999h' }, NOW, DEFAULT), 'start');
    expect(message).toContain('1970-01-01T00:00:00.000Z');
    refused(() => parseTimeRange({ end: `-${'9'.repeat(60)}d` }, NOW, DEFAULT), 'end');
  });

  it('property: any start and end give a representable range or a BadRequestError naming the parameter', () => {
    fc.assert(
      fc.property(fc.option(timeish, { nil: undefined }), fc.option(timeish, { nil: undefined }), (start, end) => {
        let range;
        try {
          range = parseTimeRange({ start, end }, NOW, DEFAULT);
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(BadRequestError);
          expect((err as Error).message).toMatch(/^(start|end)\b/);
          return;
        }
        for (const ms of [range.startMs, range.endMs]) {
          expect(Number.isSafeInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(EARLIEST_MS);
          expect(ms).toBeLessThanOrEqual(LATEST_MS);
          expect(() => new Date(ms).toISOString()).not.toThrow();
        }
        expect(range.startMs).toBeLessThan(range.endMs);
      }),
      { seed: 13, numRuns: 5000 },
    );
  });

  it('property: an ISO 8601 time inside the span reads back as itself', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(EARLIEST_MS), max: new Date(LATEST_MS - 1), noInvalidDate: true }), (d) => {
        expect(parseTime(d.toISOString(), 'start', NOW)).toBe(d.getTime());
        // Epoch milliseconds (from 1973 on, where they cannot be mistaken for seconds) too, as a number and as digits.
        if (d.getTime() >= 1e11) {
          expect(parseTime(d.getTime(), 'start', NOW)).toBe(d.getTime());
          expect(parseTime(String(d.getTime()), 'start', NOW)).toBe(d.getTime());
        }
      }),
      { seed: 13, numRuns: 2000 },
    );
  });

  it('property: a relative time is that long before now, or refused when that is before 1970', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), fc.constantFrom(['s', 1e3], ['m', 6e4], ['h', 3.6e6], ['d', 8.64e7], ['w', 6.048e8]), (n, [unit, ms]) => {
        const want = NOW - n * ms;
        if (want >= EARLIEST_MS) expect(parseTime(`-${n}${unit}`, 'start', NOW)).toBe(want);
        else refused(() => parseTime(`-${n}${unit}`, 'start', NOW), 'start');
      }),
      { seed: 13, numRuns: 2000 },
    );
  });

  it('defaults: the last 15 minutes; a default start never falls before 1970', () => {
    expect(parseTimeRange({}, NOW, DEFAULT)).toEqual({ startMs: NOW - DEFAULT, endMs: NOW });
    expect(parseTimeRange({ end: '1970-01-01T00:05:00Z' }, NOW, DEFAULT)).toEqual({ startMs: 0, endMs: 5 * 60_000 });
    expect(parseTimeRange({ start: 'now-1h', end: 'now' }, NOW, DEFAULT)).toEqual({ startMs: NOW - 3_600_000, endMs: NOW });
  });

  it.each([
    [{ start: null }, 'start', /not null/],
    [{ start: true }, 'start', /not a boolean/],
    [{ end: [1] }, 'end', /not an array/],
    [{ end: { t: 1 } }, 'end', /not an object/],
    [{ start: 'yesterday' }, 'start', /is not a time Sluice can read/],
    [{ start: '' }, 'start', /is not a time Sluice can read/],
    [{ start: '2024-02-30T00:00:00Z' }, 'start', /is not a time Sluice can read/],
    [{ start: '1969-12-31T23:59:59Z' }, 'start', /outside the times Sluice stores/],
    [{ end: '+275760-09-13T00:00:00Z' }, 'end', /outside the times Sluice stores/],
    [{ end: '2200-01-01T00:00:01Z' }, 'end', /outside the times Sluice stores/],
    [{ start: -1 }, 'start', /outside the times Sluice stores/],
    [{ start: '-1' }, 'start', /outside the times Sluice stores/],
    [{ start: 1e21 }, 'start', /outside the times Sluice stores/],
    [{ start: '99999999999999999999' }, 'start', /outside the times Sluice stores/],
    [{ start: Infinity }, 'start', /is not a time/],
    [{ start: NaN }, 'start', /is not a time/],
    [{ start: 'x'.repeat(65) }, 'start', /longer than 64/],
    [{ start: '-100000w' }, 'start', /outside the times Sluice stores/],
  ])('refuses %j', (req, name, reason) => {
    expect(refused(() => parseTimeRange(req, NOW, DEFAULT), name)).toMatch(reason);
  });

  it('refuses a start that is not before the end, saying both', () => {
    const message = refused(() => parseTimeRange({ start: 'now', end: '-1h' }, NOW, 1), 'start', false);
    expect(message).toContain('2024-05-01T12:00:00.000Z');
    expect(message).toContain('2024-05-01T11:00:00.000Z');
    refused(() => parseTimeRange({ start: NOW, end: NOW }, NOW, 1), 'start', false);
  });
});
