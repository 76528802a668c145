import { describe, expect, it } from 'vitest';
import { decodeProtonIngest } from '../../../shared/domain/shippers/proton.js';

describe('decodeProtonIngest', () => {
  it('turns each row into an object of column → value with the stream as source', () => {
    const recs = decodeProtonIngest(
      JSON.stringify({
        columns: ['id', 'msg', '_tp_time'],
        data: [
          [1, 'hello', '2024-05-01 10:00:00.123'],
          [2, 'world', null],
        ],
      }),
      'app_logs',
    );
    expect(recs).toEqual([
      { index: 0, kind: 'json', value: { id: 1, msg: 'hello' }, hints: { source: 'app_logs', ts: Date.UTC(2024, 4, 1, 10, 0, 0, 123) * 1000 } },
      { index: 1, kind: 'json', value: { id: 2, msg: 'world', _tp_time: null }, hints: { source: 'app_logs' } },
    ]);
  });

  it('rejects rows of the wrong shape one by one', () => {
    const recs = decodeProtonIngest('{"columns":["a","b"],"data":[[1,2],[1],"x",[1,2,3]]}', 's');
    expect(recs.map((r) => r.kind)).toEqual(['json', 'error', 'error', 'error']);
    expect(recs[1]).toMatchObject({ reason: 'data[1] has 1 values for 2 columns' });
  });

  it.each([
    ['not JSON', '{', 's', /not valid JSON/],
    ['no columns', '{"data":[[1]]}', 's', /compact format/],
    ['a non-string column', '{"columns":[1],"data":[[1]]}', 's', /column names/],
    ['a duplicate column', '{"columns":["a","a"],"data":[[1,2]]}', 's', /listed twice/],
    ['no rows', '{"columns":["a"],"data":[]}', 's', /"data" is empty/],
    ['a control character in the stream name', '{"columns":["a"],"data":[[1]]}', 'a\nb', /stream name/],
  ])('refuses %s', (_name, body, stream, message) => {
    expect(() => decodeProtonIngest(body, stream)).toThrow(message);
  });
});
