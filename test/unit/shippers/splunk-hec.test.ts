import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../shared/domain/errors.js';
import { splitConcatenatedObjects } from '../../../shared/domain/shippers/common.js';
import { decodeHecEvents, decodeHecRaw } from '../../../shared/domain/shippers/splunk-hec.js';

describe('splitConcatenatedObjects', () => {
  it('splits objects with or without separators, minding braces inside strings', () => {
    expect(splitConcatenatedObjects('{"a":"}{"}{"b":{"c":[1,{}]}}\n {"d":"\\"}"}\0{"e":1}')).toEqual({
      objects: ['{"a":"}{"}', '{"b":{"c":[1,{}]}}', '{"d":"\\"}"}', '{"e":1}'],
    });
  });

  it('reports text outside an object and an unclosed object', () => {
    expect(splitConcatenatedObjects('{"a":1} junk')).toMatchObject({
      objects: ['{"a":1}'],
      trailing: { offset: 8, reason: expect.stringMatching(/expected a JSON object at character 9/) },
    });
    expect(splitConcatenatedObjects('{"a":1}{"b":')).toMatchObject({ objects: ['{"a":1}'], trailing: { reason: expect.stringMatching(/not closed/) } });
  });
});

describe('decodeHecEvents', () => {
  it('decodes concatenated events: string and object events, time as string or number, metadata and fields', () => {
    const recs = decodeHecEvents(
      '{"time":"1700000000.123456","host":"web-1","source":"app.log","sourcetype":"_json","index":"main","event":"user login","fields":{"region":"eu","ids":["1","2"]}}' +
        '{"time":1700000001.5,"event":{"message":"from splunk-logging","severity":"warn"}}\n' +
        '{"event":12}',
    );
    expect(recs).toEqual([
      {
        index: 0,
        kind: 'text',
        line: 'user login',
        hints: {
          host: 'web-1',
          source: 'app.log',
          ts: 1700000000123456,
          attributes: { 'splunk.sourcetype': '_json', 'splunk.index': 'main', region: 'eu', ids: '["1","2"]' },
        },
      },
      { index: 1, kind: 'json', value: { message: 'from splunk-logging', severity: 'warn' }, hints: { ts: 1700000001500000 } },
      { index: 2, kind: 'text', line: '12', hints: { parse: false } },
    ]);
  });

  it('applies query-parameter metadata to events that do not name their own', () => {
    const [a, b] = decodeHecEvents('{"event":"a"}{"event":"b","host":"own"}', { host: 'param-host', sourcetype: 'st' });
    expect(a).toMatchObject({ hints: { host: 'param-host', attributes: { 'splunk.sourcetype': 'st' } } });
    expect(b).toMatchObject({ hints: { host: 'own' } });
  });

  it('rejects per event: no event field, a blank one, bad JSON, an unreadable time kept as an attribute', () => {
    const recs = decodeHecEvents('{"time":1}{"event":""}{"event":"ok","time":"yesterday"}{"event":');
    expect(recs.map((r) => r.kind)).toEqual(['error', 'error', 'text', 'error']);
    expect(recs[0]).toMatchObject({ reason: expect.stringMatching(/no "event" field .*code 12/) });
    expect(recs[1]).toMatchObject({ reason: expect.stringMatching(/blank "event" field .*code 13/) });
    expect(recs[2]).toMatchObject({ hints: { attributes: { ts_unparsed: 'yesterday' } } });
    expect(recs[3]).toMatchObject({ reason: expect.stringMatching(/not closed/) });
  });

  it('refuses an empty body and a body with no object at all', () => {
    expect(() => decodeHecEvents('  ')).toThrow(/No data/);
    expect(() => decodeHecEvents('hello')).toThrow(BadRequestError);
    expect(() => decodeHecEvents('hello')).toThrow(/Invalid data format/);
  });
});

describe('decodeHecRaw', () => {
  it('makes one text record per line with the query metadata', () => {
    expect(decodeHecRaw('first\r\n\nsecond\n', { source: 'raw-src', index: 'main' })).toEqual([
      { index: 0, kind: 'text', line: 'first', hints: { source: 'raw-src', attributes: { 'splunk.index': 'main' } } },
      { index: 2, kind: 'text', line: 'second', hints: { source: 'raw-src', attributes: { 'splunk.index': 'main' } } },
    ]);
    expect(decodeHecRaw('only\n')).toEqual([{ index: 0, kind: 'text', line: 'only' }]);
    expect(() => decodeHecRaw('\n\n')).toThrow(/No data/);
  });
});
