/**
 * One zone-offset algorithm (shared/domain/normalize/zone.ts) for ingest's configured zones and for the
 * zones Athena prints: right in the hours next to a daylight-saving change, a repeated wall-clock time read
 * as its first occurrence and a skipped one moved forward by the gap.
 */
import { describe, expect, it } from 'vitest';
import { convertValue } from '../../shared/adapters/aws/athena-values.js';
import { cachedZoneCount, isValidZone, wallClockToUtc, zoneOffsetMs } from '../../shared/domain/normalize/zone.js';

const wall = (text: string) => Date.parse(`${text}Z`);
const utc = (text: string, zone: string) => new Date(wallClockToUtc(wall(text), zone)).toISOString();

describe('wallClockToUtc', () => {
  it.each([
    // Europe/Berlin, 2024-03-31: 02:00 CET → 03:00 CEST (01:00Z)
    ['Europe/Berlin', '2024-03-31T00:59:00', '2024-03-30T23:59:00.000Z'],
    ['Europe/Berlin', '2024-03-31T01:30:00', '2024-03-31T00:30:00.000Z'], // the hour before the gap (was read an hour early)
    ['Europe/Berlin', '2024-03-31T02:30:00', '2024-03-31T01:30:00.000Z'], // skipped: 03:30 CEST
    ['Europe/Berlin', '2024-03-31T03:00:00', '2024-03-31T01:00:00.000Z'],
    // Europe/Berlin, 2024-10-27: 03:00 CEST → 02:00 CET (01:00Z), so 02:00–02:59 happens twice
    ['Europe/Berlin', '2024-10-27T01:59:00', '2024-10-26T23:59:00.000Z'],
    ['Europe/Berlin', '2024-10-27T02:30:00', '2024-10-27T00:30:00.000Z'], // twice: the first, CEST (was the second)
    ['Europe/Berlin', '2024-10-27T03:00:00', '2024-10-27T02:00:00.000Z'],
    // America/New_York, 2024-03-10: 02:00 EST → 03:00 EDT (07:00Z)
    ['America/New_York', '2024-03-10T01:59:00', '2024-03-10T06:59:00.000Z'],
    ['America/New_York', '2024-03-10T02:30:00', '2024-03-10T07:30:00.000Z'], // skipped: 03:30 EDT (was 01:30 EST)
    ['America/New_York', '2024-03-10T03:00:00', '2024-03-10T07:00:00.000Z'],
    // America/New_York, 2024-11-03: 02:00 EDT → 01:00 EST (06:00Z), so 01:00–01:59 happens twice
    ['America/New_York', '2024-11-03T01:30:00', '2024-11-03T05:30:00.000Z'], // twice: the first, EDT
    ['America/New_York', '2024-11-03T02:30:00', '2024-11-03T07:30:00.000Z'], // after it (was read an hour early)
    ['America/New_York', '2024-11-03T05:59:00', '2024-11-03T10:59:00.000Z'], // (so was every time up to 05:59)
    // a 30-minute change: Australia/Lord_Howe, 2024-10-06 02:00 → 02:30 (+10:30 → +11)
    ['Australia/Lord_Howe', '2024-10-06T02:15:00', '2024-10-05T15:45:00.000Z'],
    // fixed offsets and UTC
    ['+02:00', '2024-05-01T12:00:00', '2024-05-01T10:00:00.000Z'],
    ['-0330', '2024-05-01T12:00:00', '2024-05-01T15:30:00.000Z'],
    ['UTC', '2024-05-01T12:00:00', '2024-05-01T12:00:00.000Z'],
  ])('%s %s → %s', (zone, local, expected) => {
    expect(utc(local, zone)).toBe(expected);
  });

  it('reads every quarter hour of the change days back as the same wall-clock time, or forward across a gap', () => {
    const readBack = (zone: string) => {
      const f = new Intl.DateTimeFormat('en-CA', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
      });
      return (ms: number) => wall(f.format(ms).replace(', ', 'T'));
    };
    for (const [zone, days] of [
      ['Europe/Berlin', ['2024-03-31', '2024-10-27']],
      ['America/New_York', ['2024-03-10', '2024-11-03']],
    ] as const) {
      const local = readBack(zone);
      for (const day of days) {
        for (let l = wall(`${day}T00:00:00`); l < wall(`${day}T00:00:00`) + 86_400_000; l += 15 * 60_000) {
          const t = wallClockToUtc(l, zone);
          if (local(t) === l) expect(local(t - 3_600_000), `${zone} ${new Date(l).toISOString()} has an earlier occurrence`).not.toBe(l);
          else expect(local(t) - l, `${zone} ${new Date(l).toISOString()} moves forward by the gap`).toBe(3_600_000);
        }
      }
    }
  });

  it('refuses a zone that is not one', () => {
    expect(() => wallClockToUtc(0, 'Mars/Olympus')).toThrow(RangeError);
    expect(zoneOffsetMs('Mars/Olympus', 0)).toBeUndefined();
  });
});

describe('isValidZone', () => {
  it('takes UTC, ±hh:mm, ±hhmm and IANA names, as before', () => {
    for (const zone of ['UTC', 'GMT', 'Etc/UTC', '+02:00', '-0330', 'Europe/Berlin', 'America/New_York']) expect(isValidZone(zone), zone).toBe(true);
    for (const zone of ['Mars/Olympus', 'Z', 'UTC+02:00', '2', '']) expect(isValidZone(zone), zone).toBe(false);
  });

  it('never caches a name that is not a zone (?tz= arrives with every request: the cache must not grow with it)', () => {
    isValidZone('Europe/Paris');
    const before = cachedZoneCount();
    for (let i = 0; i < 500; i++) expect(isValidZone(`Nowhere/Place${i}`)).toBe(false);
    expect(cachedZoneCount()).toBe(before);
    expect(isValidZone('Asia/Tokyo')).toBe(true);
    expect(cachedZoneCount()).toBe(before + 1);
  });
});

describe("Athena's timestamp with time zone", () => {
  it('reads a zone name with the same algorithm: the repeated hour as its first occurrence', () => {
    expect(convertValue('2024-10-27 02:30:00.000 Europe/Berlin', 'timestamp(3) with time zone')).toBe('2024-10-27T00:30:00.000000Z');
    expect(convertValue('2024-11-03 01:30:00.000 America/New_York', 'timestamp(3) with time zone')).toBe('2024-11-03T05:30:00.000000Z');
    expect(convertValue('2024-03-31 01:30:00.000 Europe/Berlin', 'timestamp(3) with time zone')).toBe('2024-03-31T00:30:00.000000Z');
    expect(convertValue('2024-05-01 12:00:00.000 UTC+02:00', 'timestamp(3) with time zone')).toBe('2024-05-01T10:00:00.000000Z');
  });
});
