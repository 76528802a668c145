import { describe, expect, it } from 'vitest';
import { microsToIso, parseEpochMicros, parseIsoMicros, parseTimestampMicros } from '../../shared/domain/normalize/timestamp.js';

/** Microseconds for a UTC wall-clock time (month is 1-based here for readability). */
function utcMicros(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, micros = 0): number {
  return Date.UTC(y, mo - 1, d, h, mi, s) * 1000 + micros;
}

const T_2024_01_02_030405 = utcMicros(2024, 1, 2, 3, 4, 5);

describe('parseIsoMicros', () => {
  it('parses RFC 3339 with Z and a microsecond fraction exactly', () => {
    expect(parseIsoMicros('2024-01-02T03:04:05.123456Z')).toBe(T_2024_01_02_030405 + 123_456);
  });

  it('scales short fractions and truncates (never rounds) fractions beyond microseconds', () => {
    expect(parseIsoMicros('2024-01-02T03:04:05.5Z')).toBe(T_2024_01_02_030405 + 500_000);
    expect(parseIsoMicros('2024-01-02T03:04:05.123Z')).toBe(T_2024_01_02_030405 + 123_000);
    expect(parseIsoMicros('2024-01-02T03:04:05.123456789Z')).toBe(T_2024_01_02_030405 + 123_456);
    expect(parseIsoMicros('2024-01-02T03:04:05.9999999Z')).toBe(T_2024_01_02_030405 + 999_999);
  });

  it('accepts a comma as the decimal separator', () => {
    expect(parseIsoMicros('2024-01-02T03:04:05,25Z')).toBe(T_2024_01_02_030405 + 250_000);
  });

  it('treats a missing offset as UTC', () => {
    expect(parseIsoMicros('2024-01-02T03:04:05')).toBe(T_2024_01_02_030405);
  });

  it('accepts a date alone (midnight UTC) and a time without seconds', () => {
    expect(parseIsoMicros('2024-01-02')).toBe(utcMicros(2024, 1, 2));
    expect(parseIsoMicros('2024-01-02T03:04')).toBe(utcMicros(2024, 1, 2, 3, 4));
  });

  it('accepts a space or lowercase t separator, lowercase z, and a UTC suffix', () => {
    expect(parseIsoMicros('2024-01-02 03:04:05')).toBe(T_2024_01_02_030405);
    expect(parseIsoMicros('2024-01-02t03:04:05z')).toBe(T_2024_01_02_030405);
    expect(parseIsoMicros('2024-01-02 03:04:05 UTC')).toBe(T_2024_01_02_030405);
    expect(parseIsoMicros('2024-01-02 03:04:05.000001 UTC')).toBe(T_2024_01_02_030405 + 1);
  });

  it('applies offsets in every accepted spelling', () => {
    const expected = utcMicros(2024, 1, 2, 1, 4, 5);
    expect(parseIsoMicros('2024-01-02T03:04:05+02:00')).toBe(expected);
    expect(parseIsoMicros('2024-01-02T03:04:05+0200')).toBe(expected);
    expect(parseIsoMicros('2024-01-02T03:04:05+02')).toBe(expected);
    expect(parseIsoMicros('2024-01-02T03:04:05-05:30')).toBe(utcMicros(2024, 1, 2, 8, 34, 5));
    expect(parseIsoMicros('2024-01-02T03:04:05.000007-0530')).toBe(utcMicros(2024, 1, 2, 8, 34, 5, 7));
  });

  it('moves across a date boundary when the offset requires it', () => {
    expect(parseIsoMicros('2024-01-01T01:00:00+02:00')).toBe(utcMicros(2023, 12, 31, 23));
    expect(parseIsoMicros('2023-12-31T22:30:00-01:30')).toBe(utcMicros(2024, 1, 1, 0, 0));
  });

  it('clamps a leap second (:60) to :59', () => {
    expect(parseIsoMicros('2016-12-31T23:59:60Z')).toBe(utcMicros(2016, 12, 31, 23, 59, 59));
  });

  it('trims surrounding whitespace', () => {
    expect(parseIsoMicros('  2024-01-02T03:04:05Z \n')).toBe(T_2024_01_02_030405);
  });

  it('accepts the epoch itself and the last instant before 2200', () => {
    expect(parseIsoMicros('1970-01-01T00:00:00Z')).toBe(0);
    expect(parseIsoMicros('2199-12-31T23:59:59.999999Z')).toBe(Date.UTC(2200, 0, 1) * 1000 - 1);
  });

  it('accepts 29 February only in leap years', () => {
    expect(parseIsoMicros('2024-02-29')).toBe(utcMicros(2024, 2, 29));
    expect(parseIsoMicros('2023-02-29')).toBeUndefined();
    expect(parseIsoMicros('2100-02-29')).toBeUndefined();
    expect(parseIsoMicros('2000-02-29')).toBe(utcMicros(2000, 2, 29));
  });

  it.each([
    ['month 13', '2024-13-01'],
    ['month 0', '2024-00-10'],
    ['day 0', '2024-01-00'],
    ['day 32', '2024-01-32'],
    ['31 April (would roll over)', '2024-04-31'],
    ['30 February', '2024-02-30T00:00:00Z'],
    ['hour 24', '2024-01-02T24:00:00Z'],
    ['minute 60', '2024-01-02T03:60:00Z'],
    ['second 61', '2024-01-02T03:04:61Z'],
    ['offset hour 24', '2024-01-02T03:04:05+24:00'],
    ['offset minutes 60', '2024-01-02T03:04:05+01:60'],
    ['slashes', '2024/01/02 03:04:05'],
    ['hour without minutes', '2024-01-02T03'],
    ['two-digit year', '24-01-02'],
    ['trailing garbage', '2024-01-02T03:04:05Z junk'],
    ['words', 'yesterday'],
    ['empty', ''],
    ['fraction of 10 digits', '2024-01-02T03:04:05.1234567890Z'],
  ])('rejects %s (%s)', (_label, text) => {
    expect(parseIsoMicros(text)).toBeUndefined();
  });

  it('rejects times before 1970 (after applying the offset) and from 2200 on', () => {
    expect(parseIsoMicros('1969-12-31T23:59:59Z')).toBeUndefined();
    expect(parseIsoMicros('1970-01-01T00:30:00+01:00')).toBeUndefined();
    expect(parseIsoMicros('2200-01-01T00:00:00Z')).toBeUndefined();
    expect(parseIsoMicros('9999-12-31')).toBeUndefined();
  });
});

describe('parseEpochMicros', () => {
  const SEC = 1_700_000_000; // 2023-11-14T22:13:20Z

  it('reads values below 1e11 as seconds', () => {
    expect(parseEpochMicros(SEC)).toBe(1_700_000_000_000_000);
    expect(parseEpochMicros(SEC + 0.5)).toBe(1_700_000_000_500_000);
    expect(parseEpochMicros(0)).toBe(0);
    expect(parseEpochMicros(1)).toBe(1_000_000);
  });

  it('reads values from 1e11 below 1e14 as milliseconds', () => {
    expect(parseEpochMicros(1_700_000_000_123)).toBe(1_700_000_000_123_000);
    expect(parseEpochMicros(1e11)).toBe(1e14);
  });

  it('reads values from 1e14 below 1e17 as microseconds', () => {
    expect(parseEpochMicros(1_700_000_000_123_456)).toBe(1_700_000_000_123_456);
    expect(parseEpochMicros(1e14)).toBe(1e14);
  });

  it('reads values from 1e17 on as nanoseconds', () => {
    expect(parseEpochMicros(1e17)).toBe(1e14);
    // Doubles cannot hold every nanosecond; the result is within a microsecond.
    // eslint-disable-next-line no-loss-of-precision -- a nanosecond count past 2^53, as a shipper sends it
    const got = parseEpochMicros(1_700_000_000_123_456_789);
    expect(got).toBeTypeOf('number');
    expect(Math.abs((got as number) - 1_700_000_000_123_456)).toBeLessThanOrEqual(1);
  });

  it('returns whole microseconds', () => {
    // Exactly representable fractions of a microsecond round to the nearest whole one.
    expect(parseEpochMicros(1_700_000_000_123_456.25)).toBe(1_700_000_000_123_456);
    expect(parseEpochMicros(1_700_000_000_123_456.75)).toBe(1_700_000_000_123_457);
    // eslint-disable-next-line no-loss-of-precision -- milliseconds with digits below a microsecond on purpose: the nearest double is the input
    expect(Number.isInteger(parseEpochMicros(1_700_000_000_123.4567))).toBe(true);
    // eslint-disable-next-line no-loss-of-precision -- as above
    expect(parseEpochMicros(1_700_000_000_123.4567)).toBe(1_700_000_000_123_457);
  });

  it('rejects seconds that land at or after 2200 (a mis-read number, not a time)', () => {
    const y2200 = Date.UTC(2200, 0, 1) / 1000;
    expect(parseEpochMicros(y2200 - 1)).toBe((y2200 - 1) * 1e6);
    expect(parseEpochMicros(y2200)).toBeUndefined();
    expect(parseEpochMicros(99_999_999_999)).toBeUndefined();
  });

  it.each([
    ['negative', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('rejects %s', (_label, n) => {
    expect(parseEpochMicros(n)).toBeUndefined();
  });
});

describe('parseTimestampMicros', () => {
  it('parses numbers as epoch values', () => {
    expect(parseTimestampMicros(1_700_000_000)).toBe(1_700_000_000_000_000);
    expect(parseTimestampMicros(1_700_000_000_123)).toBe(1_700_000_000_123_000);
    expect(parseTimestampMicros(-5)).toBeUndefined();
  });

  it('parses epoch digit strings by magnitude', () => {
    expect(parseTimestampMicros('1700000000')).toBe(1_700_000_000_000_000);
    expect(parseTimestampMicros('1700000000.25')).toBe(1_700_000_000_250_000);
    expect(parseTimestampMicros('1700000000123')).toBe(1_700_000_000_123_000);
    expect(parseTimestampMicros('1700000000123456')).toBe(1_700_000_000_123_456);
    expect(parseTimestampMicros('  1700000000  ')).toBe(1_700_000_000_000_000);
  });

  it('keeps nanosecond strings exact to the microsecond', () => {
    expect(parseTimestampMicros('1700000000123456789')).toBe(1_700_000_000_123_456);
    expect(parseTimestampMicros('1700000000999999999')).toBe(1_700_000_000_999_999);
    // 18 digits is still nanoseconds (>= 1e17).
    expect(parseTimestampMicros('170000000012345678')).toBe(170_000_000_012_345);
  });

  it('parses ISO strings', () => {
    expect(parseTimestampMicros('2024-01-02T03:04:05.123456Z')).toBe(T_2024_01_02_030405 + 123_456);
    expect(parseTimestampMicros(' 2024-01-02T03:04:05+02:00 ')).toBe(utcMicros(2024, 1, 2, 1, 4, 5));
  });

  it('rejects digit strings that are neither epoch-sized nor ISO', () => {
    expect(parseTimestampMicros('20240102')).toBeUndefined();
    expect(parseTimestampMicros('12345')).toBeUndefined();
    expect(parseTimestampMicros('12345678901234567890')).toBeUndefined();
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['true', true],
    ['an object', { ts: 1 }],
    ['an array', [1_700_000_000]],
    ['an empty string', ''],
    ['text', 'now'],
  ])('rejects %s', (_label, value) => {
    expect(parseTimestampMicros(value)).toBeUndefined();
  });
});

describe('microsToIso', () => {
  it('formats with exactly six fraction digits and Z', () => {
    expect(microsToIso(1_700_000_000_123_456)).toBe('2023-11-14T22:13:20.123456Z');
    expect(microsToIso(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(microsToIso(1)).toBe('1970-01-01T00:00:00.000001Z');
    expect(microsToIso(999)).toBe('1970-01-01T00:00:00.000999Z');
    expect(microsToIso(1_000)).toBe('1970-01-01T00:00:00.001000Z');
  });

  it('round-trips through parseIsoMicros', () => {
    for (const micros of [0, 1, 999_999, 1_700_000_000_123_456, T_2024_01_02_030405 + 7, Date.UTC(2200, 0, 1) * 1000 - 1]) {
      expect(parseIsoMicros(microsToIso(micros))).toBe(micros);
    }
  });
});

describe('parseIsoMicros before 1970', () => {
  it.each(['0070-01-01T00:00:00Z', '0099-06-01T00:00:00Z', '1969-12-31T23:59:59Z'])('refuses %s rather than reading it as 19xx', (text) => {
    expect(parseIsoMicros(text)).toBeUndefined();
  });
});
