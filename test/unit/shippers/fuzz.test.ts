/**
 * Property tests over every shipper decoder: whatever arrives becomes records (events or per-record
 * rejections) or a clear whole-request error; nothing else is ever thrown.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../../../shared/domain/shippers/common.js';
import { BadRequestError, PayloadTooLargeError } from '../../../shared/domain/errors.js';
import { decodeBulk } from '../../../shared/domain/shippers/elasticsearch.js';
import { decodeGelf, gelfBodyText } from '../../../shared/domain/shippers/gelf.js';
import { decodeLokiPush } from '../../../shared/domain/shippers/loki.js';
import { decodeOtlpLogs } from '../../../shared/domain/shippers/otlp.js';
import { decodeProtonIngest } from '../../../shared/domain/shippers/proton.js';
import { decodeHecEvents, decodeHecRaw } from '../../../shared/domain/shippers/splunk-hec.js';
import { SyslogStreamFramer } from '../../../shared/domain/shippers/syslog.js';

const RUNS = { numRuns: 300 };

function recordsOrClearError(fn: () => DecodedRecord[]): void {
  let records: DecodedRecord[];
  try {
    records = fn();
  } catch (err) {
    expect(err instanceof BadRequestError || err instanceof PayloadTooLargeError, String(err)).toBe(true);
    expect((err as Error).message.length).toBeGreaterThan(10);
    return;
  }
  for (const r of records) {
    expect(['json', 'text', 'error']).toContain(r.kind);
    if (r.kind === 'error') expect(r.reason.length).toBeGreaterThan(5);
    else for (const v of Object.values(r.hints?.attributes ?? {})) expect(typeof v).toBe('string');
  }
}

/** Text that is JSON-ish often enough to get past the first checks. */
const jsonish = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
);
const wrapped = (key: string) => fc.jsonValue().map((v) => JSON.stringify({ [key]: v }));

describe('shipper decoders never throw anything but a clear request error', () => {
  it('OTLP', () => {
    const record = fc.record(
      {
        timeUnixNano: fc.oneof(fc.string(), fc.nat(), fc.constant('1700000000000000000')),
        body: fc.jsonValue(),
        attributes: fc.jsonValue(),
        severityNumber: fc.jsonValue(),
        traceId: fc.string(),
      },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(
      fc.jsonValue(),
      fc.record({
        resourceLogs: fc.array(
          fc.record({
            resource: fc.jsonValue(),
            scopeLogs: fc.array(fc.record({ scope: fc.jsonValue(), logRecords: fc.array(fc.oneof(record, fc.jsonValue())) })),
          }),
        ),
      }),
    );
    fc.assert(
      fc.property(doc, (d) => recordsOrClearError(() => decodeOtlpLogs(d))),
      RUNS,
    );
  });

  it('Elasticsearch bulk', () => {
    const line = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constantFrom('{"index":{}}', '{"create":{"_index":"a"}}', '{"delete":{"_index":"a"}}', '{"update":{}}'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.option(fc.string(), { nil: undefined }), (lines, index) =>
        recordsOrClearError(() => decodeBulk(lines.join('\n'), index).map((o) => o.record)),
      ),
      RUNS,
    );
  });

  it('Splunk HEC', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(jsonish, wrapped('event')), { maxLength: 6 }), (parts) => recordsOrClearError(() => decodeHecEvents(parts.join('')))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (body) => recordsOrClearError(() => decodeHecRaw(body))),
      RUNS,
    );
  });

  it('Loki', () => {
    const entry = fc.oneof(
      fc.jsonValue(),
      fc.tuple(fc.oneof(fc.string(), fc.constant('1700000000000000000')), fc.jsonValue()),
      fc.tuple(fc.constant('1700000000000000000'), fc.string(), fc.jsonValue()),
    );
    const doc = fc.oneof(
      jsonish,
      fc.array(fc.record({ stream: fc.jsonValue(), values: fc.array(entry) }, { requiredKeys: [] })).map((streams) => JSON.stringify({ streams })),
    );
    fc.assert(
      fc.property(doc, (body) => recordsOrClearError(() => decodeLokiPush(body))),
      RUNS,
    );
  });

  it('GELF, compressed or not', () => {
    const msg = fc.oneof(
      jsonish,
      fc
        .record(
          { short_message: fc.jsonValue(), timestamp: fc.jsonValue(), level: fc.jsonValue(), host: fc.jsonValue(), _x: fc.jsonValue() },
          { requiredKeys: [] },
        )
        .map((m) => JSON.stringify(m)),
    );
    const body = fc.oneof(
      msg.map((m) => Buffer.from(m)),
      msg.map((m) => gzipSync(m)),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from([0x1f, 0x8b]), b])),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from([0x78, 0x9c]), b])),
    );
    fc.assert(
      fc.property(body, (b) => recordsOrClearError(() => decodeGelf(gelfBodyText(b, 4096)))),
      RUNS,
    );
  });

  it('Proton', () => {
    const doc = fc.oneof(
      jsonish,
      fc.record({ columns: fc.jsonValue(), data: fc.jsonValue() }).map((d) => JSON.stringify(d)),
      fc.record({ columns: fc.array(fc.string()), data: fc.array(fc.array(fc.jsonValue())) }).map((d) => JSON.stringify(d)),
    );
    fc.assert(
      fc.property(doc, fc.string(), (body, stream) => recordsOrClearError(() => decodeProtonIngest(body, stream))),
      RUNS,
    );
  });

  it('syslog framing: any bytes, split anywhere, yield frames within the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 8 }), (chunks) => {
        const framer = new SyslogStreamFramer(64);
        const frames = [...chunks.flatMap((c) => framer.push(Buffer.from(c))), ...framer.end()];
        for (const f of frames) expect(Buffer.byteLength(f.text)).toBeLessThanOrEqual(64 * 3);
      }),
      RUNS,
    );
  });
});
