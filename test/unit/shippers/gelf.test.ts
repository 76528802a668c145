import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BadRequestError, PayloadTooLargeError } from '../../../shared/domain/errors.js';
import { decodeGelf, gelfBodyText, sniffCompression } from '../../../shared/domain/shippers/gelf.js';

const msg = {
  version: '1.1',
  host: 'web-1',
  short_message: 'Disk almost full',
  full_message: 'Disk almost full\n/dev/sda1 93%',
  timestamp: 1700000000.123456,
  level: 4,
  _user_id: 42,
  _service: 'billing',
  _trace_id: 'abc123',
  facility: 'kern',
  line: 12,
};

describe('gelfBodyText', () => {
  it('reads plain, gzip and zlib bodies by their magic bytes, whatever the request claimed', () => {
    const text = JSON.stringify(msg);
    expect(sniffCompression(Buffer.from(text))).toBe('none');
    expect(sniffCompression(gzipSync(text))).toBe('gzip');
    expect(sniffCompression(deflateSync(text))).toBe('zlib');
    for (const body of [Buffer.from(text), gzipSync(text), deflateSync(text), deflateSync(text, { level: 1 }), deflateSync(text, { level: 9 })]) {
      expect(gelfBodyText(body, 1 << 20)).toBe(text);
    }
  });

  it('refuses corrupt compressed data, bodies that expand past the limit, and chunked GELF', () => {
    const gz = gzipSync('x'.repeat(10_000));
    expect(() => gelfBodyText(gz.subarray(0, 20), 1 << 20)).toThrow(BadRequestError);
    expect(() => gelfBodyText(gz, 1000)).toThrow(PayloadTooLargeError);
    expect(() => gelfBodyText(Buffer.from([0x1e, 0x0f, 1, 2, 3]), 1000)).toThrow(/chunked GELF is for UDP/);
  });
});

describe('decodeGelf', () => {
  it('maps the GELF fields to hints and additional fields to attributes without their underscore', () => {
    expect(decodeGelf(JSON.stringify(msg))).toEqual([
      {
        index: 0,
        kind: 'text',
        line: 'Disk almost full',
        hints: {
          format: 'gelf',
          parse: false,
          host: 'web-1',
          ts: 1700000000123456,
          level: 'warn',
          severity: 13,
          service: 'billing',
          trace_id: 'abc123',
          attributes: { full_message: 'Disk almost full\n/dev/sda1 93%', user_id: '42', facility: 'kern', line: '12' },
        },
      },
    ]);
  });

  it('maps every syslog level and takes facility as the service when nothing better names it', () => {
    const levels = [0, 1, 2, 3, 4, 5, 6, 7].map((level) => decodeGelf(JSON.stringify({ short_message: 'x', level, facility: 'cron' }))[0]);
    expect(levels.map((r) => r!.kind === 'text' && [r!.hints?.level, r!.hints?.severity])).toEqual([
      ['fatal', 24],
      ['fatal', 23],
      ['fatal', 21],
      ['error', 17],
      ['warn', 13],
      ['info', 10],
      ['info', 9],
      ['debug', 5],
    ]);
    expect(levels[0]).toMatchObject({ hints: { service: 'cron' } });
  });

  it('ignores an empty full_message (gelf-http sends one) and uses full_message when short_message is missing', () => {
    const [a, b] = decodeGelf('{"short_message":"s","full_message":""}\n{"full_message":"only full"}');
    expect(a).toEqual({ index: 0, kind: 'text', line: 's', hints: { format: 'gelf', parse: false } });
    expect(b).toMatchObject({ line: 'only full' });
  });

  it('rejects messages without a short_message and bodies that are not GELF JSON', () => {
    const recs = decodeGelf('{"host":"x"}\0{"short_message":"ok"}\0[1]');
    expect(recs.map((r) => r.kind)).toEqual(['error', 'text', 'error']);
    expect(recs[0]).toMatchObject({ reason: 'message 1 has no short_message' });
    expect(() => decodeGelf('')).toThrow(/body is empty/);
    expect(() => decodeGelf('short message')).toThrow(/not GELF JSON/);
  });
});

describe('decodeGelf with hostile nesting', () => {
  it('cuts a 200,000-deep additional field instead of overflowing the stack', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const [rec] = decodeGelf(`{"short_message":"x","_deep":${deep}}`);
    expect(rec).toMatchObject({ kind: 'text', line: 'x', hints: { attributes: { 'sluice.truncated': 'depth' } } });
  });
});
