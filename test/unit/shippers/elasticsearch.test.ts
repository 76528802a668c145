import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../shared/domain/errors.js';
import { bulkResponse, decodeBulk, esRootInfo, isValidIndexName } from '../../../shared/domain/shippers/elasticsearch.js';

const ndjson = (...lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';

describe('decodeBulk', () => {
  it('pairs index/create actions with their documents and records the index and id as attributes', () => {
    const ops = decodeBulk(
      ndjson({ index: { _index: 'filebeat-8' } }, { message: 'one', 'log.level': 'info' }, { create: { _index: 'logs', _id: 'abc' } }, { msg: 'two' }),
    );
    expect(ops).toEqual([
      {
        action: 'index',
        index: 'filebeat-8',
        id: undefined,
        record: {
          index: 0,
          kind: 'json',
          value: { message: 'one', 'log.level': 'info' },
          raw: '{"message":"one","log.level":"info"}',
          hints: { attributes: { 'es.index': 'filebeat-8' } },
        },
      },
      {
        action: 'create',
        index: 'logs',
        id: 'abc',
        record: { index: 1, kind: 'json', value: { msg: 'two' }, raw: '{"msg":"two"}', hints: { attributes: { 'es.index': 'logs', 'es.id': 'abc' } } },
      },
    ]);
  });

  it('uses the URL index when the action names none; accepts CRLF, blank lines and a missing final newline', () => {
    const ops = decodeBulk('{"index":{}}\r\n\r\n{"m":1}\r\n{"index":{"_index":"other"}}\n{"m":2}', 'from-url');
    expect(ops.map((o) => o.index)).toEqual(['from-url', 'other']);
    expect(ops.every((o) => o.record.kind === 'json')).toBe(true);
  });

  it('fails only the item for a bad document, update, delete or a missing index', () => {
    const ops = decodeBulk(
      ndjson(
        { index: { _index: 'a' } },
        '{broken',
        { update: { _index: 'a', _id: '1' } },
        { doc: {} },
        { delete: { _index: 'a', _id: '2' } },
        { index: {} },
        { m: 1 },
        { index: { _index: 'a' } },
        '[1,2]',
        { index: { _index: 'a' } },
        { ok: true },
      ),
    );
    expect(ops.map((o) => [o.action, o.record.kind])).toEqual([
      ['index', 'error'],
      ['update', 'error'],
      ['delete', 'error'],
      ['index', 'error'],
      ['index', 'error'],
      ['index', 'json'],
    ]);
    const reasons = ops.map((o) => (o.record.kind === 'error' ? o.record.reason : ''));
    expect(reasons[0]).toMatch(/line 2: the document is not valid JSON/);
    expect(reasons[1]).toMatch(/update is not supported/);
    expect(reasons[2]).toMatch(/delete is not supported/);
    expect(reasons[3]).toMatch(/index is missing/);
    expect(reasons[4]).toMatch(/must be a JSON object/);
  });

  it.each([
    ['a line that is not JSON', 'not json\n{"m":1}\n', /line 1 is not a valid bulk action/],
    ['an unknown action', '{"upsert":{}}\n{"m":1}\n', /must be one of index, create, update, delete/],
    ['two actions in one line', '{"index":{},"create":{}}\n{"m":1}\n', /must be one of/],
    ['an action without its document', '{"index":{"_index":"a"}}\n', /has no document line after it/],
    ['an empty body', '\n\n', /no actions/],
  ])('refuses %s with a 400 for the whole request', (_name, body, message) => {
    expect(() => decodeBulk(body)).toThrow(BadRequestError);
    expect(() => decodeBulk(body)).toThrow(message);
  });

  it('validates index names like Elasticsearch', () => {
    expect(isValidIndexName('filebeat-8.11.0-2024.01.01')).toBe(true);
    expect(isValidIndexName('logs-generic-default')).toBe(true);
    for (const bad of ['Upper', '_hidden', '-x', 'a b', 'a/b', 'a*', '', '.', '..', 'x'.repeat(256)]) expect(isValidIndexName(bad)).toBe(false);
    expect(() => decodeBulk('{"index":{}}\n{}\n', 'Bad Index')).toThrow(/index name .* is not valid/);
  });
});

describe('bulkResponse', () => {
  it('answers every item in order: 201 created with the event id, or 400 with an ES error object', () => {
    const ops = decodeBulk(
      ndjson(
        { index: { _index: 'a' } },
        { m: 1 },
        { create: { _index: 'a', _id: 'mine' } },
        { m: 2 },
        { index: { _index: 'a' } },
        'x',
        { index: { _index: 'a' } },
        { m: 3 },
      ),
    );
    const reply = bulkResponse(ops, { receipt: '01HZX3K8G7Q4Z6V8W2J5N9M0PQ', rejected: new Map([[3, 'event is too large']]), tookMs: 3 });
    expect(reply.took).toBe(3);
    expect(reply.errors).toBe(true);
    expect(reply.items[0]).toEqual({
      index: {
        _index: 'a',
        _id: '01HZX3K8G7Q4Z6V8W2J5N9M0PQ-0',
        _version: 1,
        result: 'created',
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: 0,
        _primary_term: 1,
        status: 201,
      },
    });
    expect(reply.items[1]).toMatchObject({ create: { _id: 'mine', status: 201 } });
    expect(reply.items[2]).toMatchObject({
      index: { status: 400, error: { type: 'document_parsing_exception', reason: expect.stringMatching(/not valid JSON/) } },
    });
    expect(reply.items[3]).toMatchObject({ index: { status: 400, error: { reason: 'event is too large' } } });
  });

  it('reports errors:false when every item was stored, and every item failed when nothing was', () => {
    const ops = decodeBulk(ndjson({ index: { _index: 'a' } }, { m: 1 }));
    expect(bulkResponse(ops, { receipt: '01HZX3K8G7Q4Z6V8W2J5N9M0PQ', rejected: new Map(), tookMs: 0 }).errors).toBe(false);
    expect(bulkResponse(ops, { receipt: undefined, rejected: new Map(), tookMs: 0 })).toMatchObject({ errors: true, items: [{ index: { status: 400 } }] });
  });
});

describe('esRootInfo', () => {
  it('reports an 8.x version, as clients pick their dialect from the major version', () => {
    expect(esRootInfo()).toMatchObject({ version: { number: expect.stringMatching(/^8\./), build_flavor: 'default' }, tagline: 'You Know, for Search' });
  });
});
