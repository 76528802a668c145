import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../shared/domain/errors.js';
import { hourStartMs, partitionId, partitionOf, partitionsInRange } from '../../shared/domain/partitioning.js';
import { EVENTS_PREFIX, partitionPrefix, tenantPrefix } from '../../shared/domain/storage-layout.js';

const ms = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, milli = 0): number => Date.UTC(y, mo - 1, d, h, mi, s, milli);
const HOUR = 3_600_000;

describe('partitionOf', () => {
  it('puts an event in its UTC date and hour', () => {
    expect(partitionOf('acme', ms(2024, 3, 15, 13, 45, 12) * 1000 + 123)).toEqual({ tenant: 'acme', dt: '2024-03-15', hour: 13 });
  });

  it('starts a new hour exactly on the hour', () => {
    const boundary = ms(2024, 3, 15, 14) * 1000;
    expect(partitionOf('acme', boundary - 1)).toEqual({ tenant: 'acme', dt: '2024-03-15', hour: 13 });
    expect(partitionOf('acme', boundary)).toEqual({ tenant: 'acme', dt: '2024-03-15', hour: 14 });
  });

  it('starts a new day exactly at midnight UTC', () => {
    const midnight = ms(2024, 1, 1) * 1000;
    expect(partitionOf('t', midnight - 1)).toEqual({ tenant: 't', dt: '2023-12-31', hour: 23 });
    expect(partitionOf('t', midnight)).toEqual({ tenant: 't', dt: '2024-01-01', hour: 0 });
  });

  it('handles leap days and the epoch', () => {
    expect(partitionOf('t', ms(2024, 2, 29, 23, 59, 59, 999) * 1000 + 999)).toEqual({ tenant: 't', dt: '2024-02-29', hour: 23 });
    expect(partitionOf('t', 0)).toEqual({ tenant: 't', dt: '1970-01-01', hour: 0 });
  });
});

describe('partitionId', () => {
  it('joins tenant, date and unpadded hour', () => {
    expect(partitionId({ tenant: 'acme', dt: '2024-03-15', hour: 7 })).toBe('acme/2024-03-15/7');
    expect(partitionId({ tenant: 'acme', dt: '2024-03-15', hour: 17 })).toBe('acme/2024-03-15/17');
  });

  it('is distinct for different hours, days and tenants', () => {
    const ids = new Set([
      partitionId({ tenant: 'a', dt: '2024-03-15', hour: 1 }),
      partitionId({ tenant: 'a', dt: '2024-03-15', hour: 11 }),
      partitionId({ tenant: 'a', dt: '2024-03-16', hour: 1 }),
      partitionId({ tenant: 'b', dt: '2024-03-15', hour: 1 }),
    ]);
    expect(ids.size).toBe(4);
  });
});

describe('tenantPrefix and partitionPrefix', () => {
  it('uses the storage layout with a two-digit hour', () => {
    expect(EVENTS_PREFIX).toBe('events/');
    expect(tenantPrefix('acme')).toBe('events/tenant=acme/');
    expect(partitionPrefix({ tenant: 't', dt: '2024-03-15', hour: 7 })).toBe('events/tenant=t/dt=2024-03-15/hour=07/');
    expect(partitionPrefix({ tenant: 'my_team-2', dt: '2024-12-31', hour: 23 })).toBe('events/tenant=my_team-2/dt=2024-12-31/hour=23/');
    expect(partitionPrefix({ tenant: 't', dt: '2024-01-01', hour: 0 })).toBe('events/tenant=t/dt=2024-01-01/hour=00/');
  });

  it('agrees with partitionOf', () => {
    expect(partitionPrefix(partitionOf('acme', ms(2024, 7, 4, 9, 30) * 1000))).toBe('events/tenant=acme/dt=2024-07-04/hour=09/');
  });

  it.each(['', 'Acme', '../etc', 'a/b', '-leading', 'with space', 'x'.repeat(64), 'tenant=x'])('throws BadRequestError for the invalid tenant %j', (tenant) => {
    expect(() => tenantPrefix(tenant)).toThrow(BadRequestError);
    expect(() => partitionPrefix({ tenant, dt: '2024-01-01', hour: 0 })).toThrow(/^invalid tenant id /);
  });

  it('accepts a 63-character tenant', () => {
    const t = 'a'.repeat(63);
    expect(tenantPrefix(t)).toBe(`events/tenant=${t}/`);
  });
});

describe('hourStartMs', () => {
  it('floors microseconds to the start of the hour in milliseconds', () => {
    const start = ms(2024, 3, 15, 13);
    expect(hourStartMs(start * 1000)).toBe(start);
    expect(hourStartMs(start * 1000 + HOUR * 1000 - 1)).toBe(start);
    expect(hourStartMs((start + HOUR) * 1000)).toBe(start + HOUR);
    expect(hourStartMs(ms(2024, 3, 15, 13, 59, 59) * 1000 + 999_999)).toBe(start);
  });
});

describe('partitionsInRange', () => {
  it('returns the single hour for a range inside one hour', () => {
    expect(partitionsInRange('t', ms(2024, 3, 15, 13, 10), ms(2024, 3, 15, 13, 20))).toEqual([{ tenant: 't', dt: '2024-03-15', hour: 13 }]);
  });

  it('includes the start hour even when the range starts mid-hour', () => {
    expect(partitionsInRange('t', ms(2024, 3, 15, 13, 59, 59, 999), ms(2024, 3, 15, 14, 0, 0, 1))).toEqual([
      { tenant: 't', dt: '2024-03-15', hour: 13 },
      { tenant: 't', dt: '2024-03-15', hour: 14 },
    ]);
  });

  it('excludes the hour that starts exactly at the end', () => {
    expect(partitionsInRange('t', ms(2024, 3, 15, 13), ms(2024, 3, 15, 15))).toEqual([
      { tenant: 't', dt: '2024-03-15', hour: 13 },
      { tenant: 't', dt: '2024-03-15', hour: 14 },
    ]);
    expect(partitionsInRange('t', ms(2024, 3, 15, 13), ms(2024, 3, 15, 15) + 1)).toHaveLength(3);
  });

  it('returns one partition for a one-millisecond range at an hour start', () => {
    const h = ms(2024, 3, 15, 13);
    expect(partitionsInRange('t', h, h + 1)).toEqual([{ tenant: 't', dt: '2024-03-15', hour: 13 }]);
  });

  it('crosses midnight into the next date', () => {
    expect(partitionsInRange('acme', ms(2023, 12, 31, 22, 30), ms(2024, 1, 1, 1, 15))).toEqual([
      { tenant: 'acme', dt: '2023-12-31', hour: 22 },
      { tenant: 'acme', dt: '2023-12-31', hour: 23 },
      { tenant: 'acme', dt: '2024-01-01', hour: 0 },
      { tenant: 'acme', dt: '2024-01-01', hour: 1 },
    ]);
  });

  it('covers a whole day with 24 partitions in order', () => {
    const out = partitionsInRange('t', ms(2024, 3, 15), ms(2024, 3, 16));
    expect(out).toHaveLength(24);
    expect(out.map((p) => p.hour)).toEqual([...Array(24).keys()]);
    expect(new Set(out.map((p) => p.dt))).toEqual(new Set(['2024-03-15']));
  });

  it('is empty for an empty, reversed or NaN range', () => {
    const t = ms(2024, 3, 15, 13);
    expect(partitionsInRange('t', t, t)).toEqual([]);
    expect(partitionsInRange('t', t + HOUR, t)).toEqual([]);
    expect(partitionsInRange('t', Number.NaN, t)).toEqual([]);
    expect(partitionsInRange('t', t, Number.NaN)).toEqual([]);
  });

  it('contains the partition of every instant in the range', () => {
    const start = ms(2024, 3, 15, 10, 17);
    const end = ms(2024, 3, 15, 16, 3);
    const ids = new Set(partitionsInRange('t', start, end).map(partitionId));
    for (let t = start; t < end; t += 7 * 60_000) {
      expect(ids.has(partitionId(partitionOf('t', t * 1000)))).toBe(true);
    }
    expect(ids.has(partitionId(partitionOf('t', (end - 1) * 1000)))).toBe(true);
    expect(ids.size).toBe(7);
  });
});
