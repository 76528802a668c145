/**
 * The storage layout round-trips: every key a formatter makes parses back to what made it, and a parser
 * takes only keys of its own shape — whatever it accepts formats back to exactly the same key, so it
 * never reads a foreign or malformed key as one of Sluice's.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PARTITION_COLUMNS } from '../../shared/domain/schema.js';
import { TENANT_PATTERN } from '../../shared/domain/tenant.js';
import {
  ALERTS_PREFIX,
  COMPACT_PREFIX,
  EVENTS_PREFIX,
  MANIFEST_PREFIX,
  PARTITION_LOCATION_TEMPLATE,
  RECEIPTS_PREFIX,
  alertStateKey,
  batchFileKey,
  batchFileName,
  dayPrefix,
  eventKey,
  fileName,
  isCompactedKey,
  isDataFileKey,
  isManifestKey,
  manifestName,
  outputName,
  outputPrefix,
  parseAlertStateKey,
  parseBatchFileName,
  parseDayDir,
  parseEventKey,
  parseHourDir,
  parseManifestName,
  parseOutputName,
  parseReceiptPartKey,
  partitionPrefix,
  receiptPartKey,
  receiptPrefix,
  tenantPrefix,
  type AlertStateKind,
} from '../../shared/domain/storage-layout.js';

const RUNS = { numRuns: 1000 };

const tenant = fc.stringMatching(TENANT_PATTERN);
const dt = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const hour = fc.integer({ min: 0, max: 23 });
const partition = fc.record({ tenant, dt, hour });
/** Any file name: one non-empty path segment. */
const name = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('/'));
const batchId = fc.oneof(fc.stringMatching(/^[0-9a-f]{24}$/), name);
/** µs since epoch (a safe integer: years 1970–2200) */
const micros = fc
  .tuple(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: 0, max: 999 }))
  .map(([d, us]) => d.getTime() * 1000 + us);
const hash = fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), fc.stringMatching(/^[0-9a-f]{1,64}$/));
const n = fc.nat();
const receipt = fc.oneof(fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/), name);
const rule = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/);
const kind = fc.constantFrom<AlertStateKind>('scheduled', 'realtime');

/** Keys that look like Sluice's often enough to matter: segments, valid or slightly off, joined by '/'. */
const segment = fc.oneof(
  fc.constantFrom(
    'events',
    'receipts',
    'alerts',
    'state',
    'realtime',
    'tenant=acme',
    'tenant=Acme',
    'tenant=',
    'tenant=a/b',
    'dt=2024-05-01',
    'dt=2024-02-30',
    'dt=2024-5-01',
    'hour=07',
    'hour=7',
    'hour=24',
    'hour=-1',
    '',
  ),
  fc.constantFrom(
    '0.json',
    '01.json',
    '-1.json',
    '.json',
    'r.json',
    'r.JSON',
    'x.parquet',
    '20240501T101500Z-b.parquet',
    '20240501T241500Z-b.parquet',
    '20240501T101500Z-.parquet',
    'compact-0a-1.parquet',
    'compact-0a-01.parquet',
    'compact-0A-1.parquet',
    'compact--1.parquet',
    '_compaction-0a.json',
    '_compaction-.json',
    '_compaction-0a-b.json',
  ),
  name,
);
const keyish = fc.array(segment, { minLength: 1, maxLength: 7 }).map((s) => s.join('/'));
const nameish = fc.oneof(segment, name);

describe('the storage layout: formats', () => {
  it('puts each kind of object where DESIGN.md says', () => {
    const p = { tenant: 'acme', dt: '2024-05-01', hour: 7 };
    expect(eventKey(p, 'x.parquet')).toBe('events/tenant=acme/dt=2024-05-01/hour=07/x.parquet');
    expect(dayPrefix('acme', '2024-05-01')).toBe('events/tenant=acme/dt=2024-05-01/');
    expect(batchFileKey(p, 'b1', Date.UTC(2024, 4, 1, 10, 15, 0, 999) * 1000 + 999)).toBe(
      'events/tenant=acme/dt=2024-05-01/hour=07/20240501T101500Z-b1.parquet',
    );
    expect(`${partitionPrefix(p)}${manifestName('0123456789abcdef')}`).toBe('events/tenant=acme/dt=2024-05-01/hour=07/_compaction-0123456789abcdef.json');
    expect(`${partitionPrefix(p)}${outputName('0123456789abcdef', 2)}`).toBe('events/tenant=acme/dt=2024-05-01/hour=07/compact-0123456789abcdef-2.parquet');
    expect(outputPrefix(partitionPrefix(p), '0123456789abcdef')).toBe('events/tenant=acme/dt=2024-05-01/hour=07/compact-0123456789abcdef-');
    expect(receiptPrefix('acme', 'R1')).toBe('receipts/tenant=acme/R1/');
    expect(receiptPartKey('acme', 'R1', 3)).toBe('receipts/tenant=acme/R1/3.json');
    expect(alertStateKey('scheduled', 'acme', 'errors')).toBe('alerts/state/tenant=acme/errors.json');
    expect(alertStateKey('realtime', 'acme', 'errors')).toBe('alerts/realtime/tenant=acme/errors.json');
    expect([EVENTS_PREFIX, RECEIPTS_PREFIX, ALERTS_PREFIX, MANIFEST_PREFIX, COMPACT_PREFIX]).toEqual([
      'events/',
      'receipts/',
      'alerts/',
      '_compaction-',
      'compact-',
    ]);
  });

  it("names the partition directories after the table's partition columns, in path order", () => {
    expect(PARTITION_LOCATION_TEMPLATE).toBe('events/tenant=${tenant}/dt=${dt}/hour=${hour}/');
    const columns = [...PARTITION_LOCATION_TEMPLATE.matchAll(/([a-z]+)=\$\{([a-z]+)\}/g)].map((m) => [m[1], m[2]]);
    expect(columns).toEqual(PARTITION_COLUMNS.map((c) => [c.name, c.name]));
  });

  it('refuses an invalid tenant in every key it makes', () => {
    const p = { tenant: 'a/b', dt: '2024-05-01', hour: 7 };
    expect(() => tenantPrefix('a/b')).toThrow(/^invalid tenant id /);
    expect(() => dayPrefix('Acme', '2024-05-01')).toThrow(/^invalid tenant id /);
    expect(() => eventKey(p, 'x.parquet')).toThrow(/^invalid tenant id /);
    expect(() => batchFileKey(p, 'b', 0)).toThrow(/^invalid tenant id /);
    expect(() => receiptPartKey('../x', 'R', 0)).toThrow(/^invalid tenant id /);
    expect(() => alertStateKey('scheduled', '', 'r')).toThrow(/^invalid tenant id /);
  });

  it('tells data files, manifests and compacted files apart by name', () => {
    const prefix = 'events/tenant=acme/dt=2024-05-01/hour=07/';
    expect(isDataFileKey(`${prefix}20240501T101500Z-b.parquet`)).toBe(true);
    expect(isDataFileKey(`${prefix}${manifestName('ab')}`)).toBe(false);
    expect(isManifestKey(`${prefix}${manifestName('ab')}`)).toBe(true);
    expect(isManifestKey(`${prefix}${outputName('ab', 0)}`)).toBe(false);
    expect(isCompactedKey(`${prefix}${outputName('ab', 0)}`)).toBe(true);
    expect(isCompactedKey(outputPrefix(prefix, 'ab'))).toBe(true);
    expect(isCompactedKey(`${prefix}20240501T101500Z-b.parquet`)).toBe(false);
    // Only the file's own name counts: a tenant called "compact-x" holds no compacted files by that alone.
    expect(isCompactedKey('events/tenant=compact-x/dt=2024-05-01/hour=07/a.parquet')).toBe(false);
    expect(fileName(`${prefix}x.parquet`)).toBe('x.parquet');
  });
});

describe('the storage layout: parse(format(x)) is x', () => {
  it('event partitions and the files in them', () => {
    fc.assert(
      fc.property(partition, name, (p, file) => {
        expect(parseEventKey(eventKey(p, file))).toEqual({ partition: p, name: file });
        const [, , day, hh] = partitionPrefix(p).split('/');
        expect(parseDayDir(day!)).toBe(p.dt);
        expect(parseHourDir(hh!)).toBe(p.hour);
        expect(dayPrefix(p.tenant, p.dt)).toBe(`${tenantPrefix(p.tenant)}${day}/`);
        expect(partitionPrefix(p).startsWith(dayPrefix(p.tenant, p.dt))).toBe(true);
      }),
      RUNS,
    );
  });

  it('batch file names, with the first ingest to the second', () => {
    fc.assert(
      fc.property(partition, batchId, micros, (p, id, us) => {
        const key = batchFileKey(p, id, us);
        const parsed = parseEventKey(key);
        expect(parsed?.partition).toEqual(p);
        expect(parseBatchFileName(parsed!.name)).toEqual({ batchId: id, firstIngestMs: Math.floor(us / 1_000_000) * 1000 });
        expect(parsed!.name).toBe(batchFileName(id, us));
        expect(isDataFileKey(key) && !isCompactedKey(key) && !isManifestKey(key)).toBe(true);
      }),
      RUNS,
    );
  });

  it('compaction manifests and outputs', () => {
    fc.assert(
      fc.property(partition, hash, n, (p, h, i) => {
        const prefix = partitionPrefix(p);
        const manifest = parseEventKey(`${prefix}${manifestName(h)}`);
        const output = parseEventKey(`${prefix}${outputName(h, i)}`);
        expect(manifest).toEqual({ partition: p, name: manifestName(h) });
        expect(output).toEqual({ partition: p, name: outputName(h, i) });
        expect(parseManifestName(manifest!.name)).toEqual({ hash: h });
        expect(parseOutputName(output!.name)).toEqual({ hash: h, n: i });
        expect(`${prefix}${outputName(h, i)}`.startsWith(outputPrefix(prefix, h))).toBe(true);
        expect(isManifestKey(`${prefix}${manifestName(h)}`)).toBe(true);
        expect(isCompactedKey(`${prefix}${outputName(h, i)}`) && isDataFileKey(`${prefix}${outputName(h, i)}`)).toBe(true);
      }),
      RUNS,
    );
  });

  it('receipts', () => {
    fc.assert(
      fc.property(tenant, receipt, n, (t, r, part) => {
        const key = receiptPartKey(t, r, part);
        expect(parseReceiptPartKey(key)).toEqual({ tenant: t, receipt: r, part });
        expect(key.startsWith(receiptPrefix(t, r))).toBe(true);
      }),
      RUNS,
    );
  });

  it('alert state', () => {
    fc.assert(
      fc.property(kind, tenant, rule, (k, t, r) => {
        expect(parseAlertStateKey(alertStateKey(k, t, r))).toEqual({ kind: k, tenant: t, rule: r });
      }),
      RUNS,
    );
  });
});

describe('the storage layout: parsers take only their own shape', () => {
  it('whatever a parser accepts formats back to the very same key', () => {
    fc.assert(
      fc.property(keyish, nameish, (key, file) => {
        const e = parseEventKey(key);
        if (e) expect(eventKey(e.partition, e.name)).toBe(key);
        const r = parseReceiptPartKey(key);
        if (r) expect(receiptPartKey(r.tenant, r.receipt, r.part)).toBe(key);
        const a = parseAlertStateKey(key);
        if (a) expect(alertStateKey(a.kind, a.tenant, a.rule)).toBe(key);
        const day = parseDayDir(file);
        if (day !== undefined) expect(`dt=${day}`).toBe(file);
        const hh = parseHourDir(file);
        if (hh !== undefined) expect(partitionPrefix({ tenant: 't', dt: '2024-01-01', hour: hh })).toBe(`events/tenant=t/dt=2024-01-01/${file}/`);
        const b = parseBatchFileName(file);
        if (b) expect(batchFileName(b.batchId, b.firstIngestMs * 1000)).toBe(file);
        const m = parseManifestName(file);
        if (m) expect(manifestName(m.hash)).toBe(file);
        const o = parseOutputName(file);
        if (o) expect(outputName(o.hash, o.n)).toBe(file);
      }),
      { numRuns: 5000 },
    );
  });

  it("rejects each other's keys", () => {
    fc.assert(
      fc.property(partition, name, micros, hash, n, receipt, kind, rule, (p, file, us, h, i, r, k, ru) => {
        const receiptKey = receiptPartKey(p.tenant, r, i);
        const alertKey = alertStateKey(k, p.tenant, ru);
        const eventFile = eventKey(p, file);
        for (const key of [receiptKey, alertKey, partitionPrefix(p), tenantPrefix(p.tenant), dayPrefix(p.tenant, p.dt), `${partitionPrefix(p)}sub/${file}`])
          expect(parseEventKey(key)).toBeUndefined();
        for (const key of [eventFile, alertKey, receiptPrefix(p.tenant, r), `${receiptKey}/x`]) expect(parseReceiptPartKey(key)).toBeUndefined();
        for (const key of [eventFile, receiptKey, `${ALERTS_PREFIX}other/tenant=${p.tenant}/${ru}.json`]) expect(parseAlertStateKey(key)).toBeUndefined();
        for (const other of [manifestName(h), outputName(h, i)]) expect(parseBatchFileName(other)).toBeUndefined();
        for (const other of [batchFileName(file, us), outputName(h, i)]) expect(parseManifestName(other)).toBeUndefined();
        for (const other of [batchFileName(file, us), manifestName(h)]) expect(parseOutputName(other)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it.each([
    'events/tenant=acme/dt=2024-05-01/hour=24/x.parquet',
    'events/tenant=acme/dt=2024-05-01/hour=7/x.parquet',
    'events/tenant=acme/dt=2024-02-30/hour=07/x.parquet',
    'events/tenant=acme/dt=20240501/hour=07/x.parquet',
    'events/tenant=Acme/dt=2024-05-01/hour=07/x.parquet',
    'events/tenant=/dt=2024-05-01/hour=07/x.parquet',
    'events/tenant=acme/hour=07/dt=2024-05-01/x.parquet',
    'events/dt=2024-05-01/hour=07/x.parquet',
    'events/tenant=acme/dt=2024-05-01/hour=07/',
    'other/tenant=acme/dt=2024-05-01/hour=07/x.parquet',
    '/events/tenant=acme/dt=2024-05-01/hour=07/x.parquet',
  ])('an event key of another shape is no partition: %s', (key) => {
    expect(parseEventKey(key)).toBeUndefined();
  });

  it.each([
    '20240501T241500Z-b.parquet',
    '20241301T101500Z-b.parquet',
    '20240501T101500Z-b.json',
    '20240501T101500Z-.parquet',
    '20240501T1015Z-b.parquet',
    'b-20240501T101500Z.parquet',
  ])('a batch file name of another shape has no ingest stamp: %s', (file) => {
    expect(parseBatchFileName(file)).toBeUndefined();
  });
});
