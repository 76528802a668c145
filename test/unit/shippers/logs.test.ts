import { describe, expect, it } from 'vitest';
import { SUPPORTED_LOG_TYPES, bodyKindOf, decodeLogsBody } from '../../../shared/domain/shippers/logs.js';
import { BadRequestError, UnsupportedMediaTypeError } from '../../../shared/domain/errors.js';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to throw');
}

describe('bodyKindOf', () => {
  it.each([
    [undefined, 'sniff'],
    ['', 'sniff'],
    ['application/octet-stream', 'sniff'],
    ['application/x-www-form-urlencoded', 'sniff'],
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['Application/JSON', 'json'],
    ['application/vnd.sluice.logs+json', 'json'],
    ['application/x-ndjson', 'ndjson'],
    ['application/ndjson', 'ndjson'],
    ['application/jsonl', 'ndjson'],
    ['application/x-jsonl', 'ndjson'],
    ['application/jsonlines', 'ndjson'],
    ['application/x-jsonlines', 'ndjson'],
    ['APPLICATION/X-NDJSON; charset=utf-8', 'ndjson'],
    ['text/plain', 'text'],
    ['text/plain; charset=utf-8', 'text'],
    ['  text/plain  ', 'text'],
    ['text/x-log', 'text'],
  ] as const)('%j -> %s', (contentType, kind) => {
    expect(bodyKindOf(contentType)).toBe(kind);
  });

  it.each(['application/xml', 'text/html', 'multipart/form-data; boundary=x', 'image/png', 'text/csv'])(
    'rejects %j with UnsupportedMediaTypeError naming the type and the accepted ones',
    (contentType) => {
      const err = thrown(() => bodyKindOf(contentType));
      expect(err).toBeInstanceOf(UnsupportedMediaTypeError);
      expect(err.name).toBe('UnsupportedMediaTypeError');
      const mediaType = contentType.split(';')[0]!;
      expect(err.message).toBe(`content type ${mediaType} is not accepted here; send ${SUPPORTED_LOG_TYPES}`);
    },
  );
});

describe('decodeLogsBody: empty bodies', () => {
  it.each(['json', 'ndjson', 'text', 'sniff'] as const)('rejects an empty or blank body for %s', (kind) => {
    for (const body of ['', '   ', '\n\n', '\r\n\t ']) {
      const err = thrown(() => decodeLogsBody(body, kind));
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err.message).toBe('body is empty: send at least one event');
    }
  });
});

describe('decodeLogsBody: NDJSON', () => {
  it('decodes each line to an object, keeping its raw text and 0-based line index', () => {
    const body = '{"a":1}\n{"b":"x"}\n';
    expect(decodeLogsBody(body, 'ndjson')).toEqual([
      { index: 0, kind: 'json', value: { a: 1 }, raw: '{"a":1}' },
      { index: 1, kind: 'json', value: { b: 'x' }, raw: '{"b":"x"}' },
    ]);
  });

  it('gives per-line errors for bad lines without losing the good ones, and skips blank lines', () => {
    const body = '{"ok":1}\n\nnot json\n{"ok":2}\n[1,2]\n42\nnull\n"a string"\n""\n';
    const out = decodeLogsBody(body, 'ndjson');
    expect(out.map((r) => [r.index, r.kind])).toEqual([
      [0, 'json'],
      [2, 'error'],
      [3, 'json'],
      [4, 'error'],
      [5, 'error'],
      [6, 'error'],
      [7, 'text'],
      [8, 'error'],
    ]);
    expect(out[1]).toMatchObject({ index: 2, kind: 'error' });
    expect((out[1] as { reason: string }).reason).toMatch(/^line 3 is not valid JSON: /);
    expect(out[2]).toEqual({ index: 3, kind: 'json', value: { ok: 2 }, raw: '{"ok":2}' });
    expect(out[3]).toEqual({ index: 4, kind: 'error', reason: 'line 5 must be a JSON object or a string, got an array' });
    expect(out[4]).toEqual({ index: 5, kind: 'error', reason: 'line 6 must be a JSON object or a string, got a number' });
    expect(out[5]).toEqual({ index: 6, kind: 'error', reason: 'line 7 must be a JSON object or a string, got null' });
    expect(out[6]).toEqual({ index: 7, kind: 'text', line: 'a string' });
    expect(out[7]).toEqual({ index: 8, kind: 'error', reason: 'line 9 is an empty string' });
  });

  it('trims CRLF line endings and surrounding spaces before parsing', () => {
    expect(decodeLogsBody('  {"a":1}  \r\n{"b":2}\r\n', 'ndjson')).toEqual([
      { index: 0, kind: 'json', value: { a: 1 }, raw: '{"a":1}' },
      { index: 1, kind: 'json', value: { b: 2 }, raw: '{"b":2}' },
    ]);
  });

  it('reports a boolean line with its type', () => {
    expect(decodeLogsBody('true', 'ndjson')).toEqual([{ index: 0, kind: 'error', reason: 'line 1 must be a JSON object or a string, got a boolean' }]);
  });
});

describe('decodeLogsBody: JSON', () => {
  it('decodes a single object as record 0 without raw text', () => {
    expect(decodeLogsBody('{"msg":"hi","n":1}', 'json')).toEqual([{ index: 0, kind: 'json', value: { msg: 'hi', n: 1 } }]);
  });

  it('decodes a pretty-printed object spanning lines', () => {
    expect(decodeLogsBody('{\n  "msg": "hi"\n}\n', 'json')).toEqual([{ index: 0, kind: 'json', value: { msg: 'hi' } }]);
  });

  it('decodes an array element by element with per-element errors', () => {
    expect(decodeLogsBody('[{"a":1}, "line", 3, null, [], {"b":2}, "  "]', 'json')).toEqual([
      { index: 0, kind: 'json', value: { a: 1 } },
      { index: 1, kind: 'text', line: 'line' },
      { index: 2, kind: 'error', reason: 'element 2 must be a JSON object or a string, got a number' },
      { index: 3, kind: 'error', reason: 'element 3 must be a JSON object or a string, got null' },
      { index: 4, kind: 'error', reason: 'element 4 must be a JSON object or a string, got an array' },
      { index: 5, kind: 'json', value: { b: 2 } },
      { index: 6, kind: 'error', reason: 'element 6 is an empty string' },
    ]);
  });

  it('rejects an empty array', () => {
    const err = thrown(() => decodeLogsBody('[]', 'json'));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toBe('body is an empty JSON array: nothing to ingest');
  });

  it('turns a scalar document into one error or text record', () => {
    expect(decodeLogsBody('42', 'json')).toEqual([{ index: 0, kind: 'error', reason: 'body must be a JSON object or a string, got a number' }]);
    expect(decodeLogsBody('"just text"', 'json')).toEqual([{ index: 0, kind: 'text', line: 'just text' }]);
  });

  it('accepts NDJSON sent as application/json', () => {
    expect(decodeLogsBody('{"a":1}\n{"b":2}\nbroken\n', 'json')).toEqual([
      { index: 0, kind: 'json', value: { a: 1 }, raw: '{"a":1}' },
      { index: 1, kind: 'json', value: { b: 2 }, raw: '{"b":2}' },
      expect.objectContaining({ index: 2, kind: 'error', reason: expect.stringMatching(/^line 3 is not valid JSON: /) }),
    ]);
  });

  it('rejects a single invalid JSON document with an actionable BadRequestError', () => {
    const err = thrown(() => decodeLogsBody('{"a":1', 'json'));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toMatch(
      /^body is not valid JSON \(.+\); send one JSON object, an array of objects, or NDJSON with content-type application\/x-ndjson$/,
    );
  });

  it('does not treat a broken multi-line body as NDJSON unless its first line starts an object', () => {
    const err = thrown(() => decodeLogsBody('[{"a":1},\n{"b":2}', 'json'));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toMatch(/^body is not valid JSON/);
    const plain = thrown(() => decodeLogsBody('hello\nworld', 'json'));
    expect(plain).toBeInstanceOf(BadRequestError);
  });
});

describe('decodeLogsBody: text', () => {
  it('makes one record per line, indexed by line, skipping blank lines and stripping a trailing CR', () => {
    expect(decodeLogsBody('first\r\n\r\n   \nsecond line\n  indented\t\nlast', 'text')).toEqual([
      { index: 0, kind: 'text', line: 'first' },
      { index: 3, kind: 'text', line: 'second line' },
      { index: 4, kind: 'text', line: '  indented\t' },
      { index: 5, kind: 'text', line: 'last' },
    ]);
  });

  it('keeps JSON-looking lines as text', () => {
    expect(decodeLogsBody('{"a":1}\n', 'text')).toEqual([{ index: 0, kind: 'text', line: '{"a":1}' }]);
  });

  it('only strips a CR at the end of a line', () => {
    expect(decodeLogsBody('a\rb\r\n', 'text')).toEqual([{ index: 0, kind: 'text', line: 'a\rb' }]);
  });
});

describe('decodeLogsBody: sniffing', () => {
  it('decodes a body starting with { or [ as JSON', () => {
    expect(decodeLogsBody('  {"a":1}', 'sniff')).toEqual([{ index: 0, kind: 'json', value: { a: 1 } }]);
    expect(decodeLogsBody('\n[{"a":1},{"b":2}]', 'sniff')).toEqual([
      { index: 0, kind: 'json', value: { a: 1 } },
      { index: 1, kind: 'json', value: { b: 2 } },
    ]);
    expect(decodeLogsBody('{"a":1}\n{"b":2}', 'sniff')).toEqual([
      { index: 0, kind: 'json', value: { a: 1 }, raw: '{"a":1}' },
      { index: 1, kind: 'json', value: { b: 2 }, raw: '{"b":2}' },
    ]);
  });

  it('decodes anything else as text lines', () => {
    expect(decodeLogsBody('Jan 1 host app: started\nJan 1 host app: ready\n', 'sniff')).toEqual([
      { index: 0, kind: 'text', line: 'Jan 1 host app: started' },
      { index: 1, kind: 'text', line: 'Jan 1 host app: ready' },
    ]);
  });
});

describe('decodeLogsBody: sniffing falls back to text', () => {
  it('reads text lines that start with [ or { as text when they are not JSON', () => {
    expect(decodeLogsBody('[INFO] server started\n[WARN] disk low\n', 'sniff')).toEqual([
      { index: 0, kind: 'text', line: '[INFO] server started' },
      { index: 1, kind: 'text', line: '[WARN] disk low' },
    ]);
    expect(decodeLogsBody('{worker-3} job done', 'sniff')).toEqual([{ index: 0, kind: 'text', line: '{worker-3} job done' }]);
  });

  it('still rejects invalid JSON when the type says JSON', () => {
    expect(() => decodeLogsBody('[INFO] server started', 'json')).toThrow(BadRequestError);
  });

  it('ignores a UTF-8 byte-order mark', () => {
    expect(decodeLogsBody('\uFEFF{"a":1}', 'json')).toEqual([{ index: 0, kind: 'json', value: { a: 1 } }]);
    expect(decodeLogsBody('\uFEFF{"a":1}', 'sniff')).toEqual([{ index: 0, kind: 'json', value: { a: 1 } }]);
  });
});
