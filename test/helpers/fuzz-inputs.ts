/**
 * Arbitrary request parts for the bad-input fuzz tests (test/integration/fuzz-endpoints.test.ts over HTTP,
 * test/unit/handler-fuzz.test.ts over API Gateway events): odd strings and numbers, JSON of every type,
 * each protocol's body shape with odd values, query-language pipelines and SQL, headers and parameters.
 */
import fc from 'fast-check';
import type { Route } from '../../shared/domain/routes.js';

/** Percent-encodes every byte of the UTF-8 form (encodeURIComponent throws on a lone surrogate). */
export const pct = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`))
    .join('');

/** Strings that have broken parsers before, or plausibly could. */
export const oddStrings = fc.constantFrom(
  '',
  ' ',
  '-99999999999999999999999h',
  '-1e400h',
  'now-0s',
  'now',
  'NOW',
  '-0m',
  '-15m',
  '-2h',
  '-7d',
  '-99999d',
  '+15m',
  '2024-05-01T00:00:00Z',
  '2024-02-30T00:00:00Z',
  '1969-12-31T23:59:59Z',
  '+275760-09-13T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2200-01-01T00:00:00Z',
  '0000-01-01',
  '1714521600000',
  '1714521600',
  '99999999999999999999',
  '-1',
  '0',
  '1e400',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  '{}',
  '[]',
  '%',
  '%zz',
  '..',
  '../..',
  '\u0000',
  '\uFFFF',
  '\uD800',
  '😀',
  '(',
  '[',
  '*',
  '\\',
  '(?<',
  '(a+)+$',
  'a'.repeat(300),
  'Europe/Berlin',
  '+99:99',
  'Mars/Olympus',
  'UTC',
  'auto',
  'off',
  'compact',
);
export const anyString = fc.oneof(
  { weight: 3, arbitrary: oddStrings },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

/** JSON values of every type, with numbers that break arithmetic. */
export const hugeNumbers = fc.constantFrom(
  0,
  -0,
  1,
  -1,
  1e308,
  -1e308,
  5e-324,
  2 ** 53 + 1,
  -(2 ** 53) - 1,
  1e21,
  1714521600000,
  1714521600,
  8.64e15,
  8.64e15 + 1,
  0.5,
);
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hugeNumbers },
  { weight: 6, arbitrary: anyString },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

export const pipelines = fc.constantFrom(
  'fields @timestamp, @message | sort @timestamp desc | limit 5',
  'filter level = "error" | stats count(*) by service',
  'stats count(*) by bin(5m)',
  'parse @message "* *" as a, b | filter a = "x"',
  'filter @message like /(a+)+$/',
  'filter @message like /[/',
  'stats count(*) by bin(0m)',
  'stats count(*) by bin(99999999999999999999d)',
  'limit 99999999999999999999',
  'limit -1',
  'fields 1e400',
  'filter x = 99999999999999999999999',
  'sort',
  '|',
  '',
);
export const sqls = fc.constantFrom(
  'SELECT count(*) FROM logs',
  'SELECT * FROM logs LIMIT 99999999999999999999',
  'SELECT 1e400',
  "SELECT 'a' || 1",
  'SELECT 1/0',
  'SELECT range(1, 10)',
  'SUMMARIZE logs',
  'SUMMARIZE SELECT 1',
  'DESCRIBE logs',
  'DESCRIBE SELECT 1',
  'SHOW logs',
  'SHOW TABLES',
  'SHOW ALL TABLES',
  'EXPLAIN SELECT 1',
  'EXPLAIN ANALYZE SELECT 1',
  'FROM logs',
  'PIVOT logs ON level',
  'VALUES (1)',
  'TABLE logs',
  'SELECT current_query()',
  "SELECT CAST('x' AS INTEGER)",
  "SELECT '2024-13-45'::TIMESTAMP",
  'SELECT [1,2,3][99999999999]',
  "SELECT strptime('x', '%Q')",
  'CALL pragma_version()',
  'SELECT',
  ';',
);

/** Mostly the right value, sometimes another: requests get past the first checks often enough to reach the deep parsers. */
export const mostly = <T>(right: T, others: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(right) }, { weight: 1, arbitrary: others });
/** Absent a third of the time. */
export const optional = <T>(a: fc.Arbitrary<T>) => fc.option(a, { freq: 3, nil: undefined });
/** Present one time in `n`. */
export const rarely = <T>(a: fc.Arbitrary<T>, n: number) => fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

export const timeValue = fc.oneof(
  { weight: 3, arbitrary: oddStrings },
  { weight: 2, arbitrary: hugeNumbers },
  // Relative times of every size: a count of any number of digits, times a unit, before now.
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('-', 'now-', 'now - ', '+', ''), fc.stringMatching(/^[1-9]\d{0,29}$/), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'y', 'H', ''))
      .map(([sign, n, unit]) => `${sign}${n}${unit}`),
  },
  { weight: 1, arbitrary: fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.getTime()) },
  { weight: 2, arbitrary: anyJson },
);
/** Pipeline commands built from the language's parts with odd values in every slot (docs/query-language.md). */
export const qField = fc.constantFrom(
  '@timestamp',
  '@message',
  '@logStream',
  '@nosuch',
  'level',
  'service',
  'message',
  'ts',
  'duration_ms',
  'http.status',
  'attributes.x',
  '`user-id`',
  '`a``b`',
  '`',
  'tenant',
  'x'.repeat(300),
  'a.b.c.d.e.f',
);
export const qLiteral = fc.oneof(
  fc.string({ maxLength: 12 }).map((t) => JSON.stringify(t)),
  fc.integer().map(String),
  fc.constantFrom('1e400', '99999999999999999999999', '-0', '0.5', '"\\"', '/a+/', '/[/', '/(?<n>x)/', '/(a+)+$/', '[]', '[1, "a"]', 'null', 'true', '"it\'s"'),
);
export const qOp = fc.constantFrom('=', '!=', '<', '<=', '>', '>=', 'like', '=~', '!~', 'in', 'not in', '+', '*', '/');
export const qFn = fc.constantFrom('strlen', 'tolower', 'toupper', 'abs', 'floor', 'ceil', 'ispresent', 'isempty', 'nosuch');
export const qFieldSane = fc.constantFrom('@timestamp', '@message', 'level', 'service', 'message', 'host', 'duration_ms', 'http.status', '`user-id`', 'a.b');
export const qLiteralSane = fc.oneof(
  fc.string({ maxLength: 12 }).map((t) => JSON.stringify(t)),
  fc.integer({ min: -1000, max: 100_000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => String(d)),
  fc.constantFrom('/a+/', '/^GET /', '/x.*y/'),
);

/** Pipeline commands from these parts: the odd ones to break the parser and compiler, the sane ones to get through. */
function commands(field: fc.Arbitrary<string>, literal: fc.Arbitrary<string>, odd: boolean): fc.Arbitrary<string> {
  const op = odd ? qOp : fc.constantFrom('=', '!=', '<', '>=', 'like', '=~');
  const condition = fc.oneof(
    fc.tuple(field, op, literal).map(([f, o, l]) => `${f} ${o} ${l}`),
    fc.tuple(qFn, field, op, literal).map(([fn, f, o, l]) => `${fn}(${f}) ${o} ${l}`),
    fc.tuple(fc.constantFrom('ispresent', 'isempty'), field).map(([fn, f]) => `not ${fn}(${f})`),
    fc.tuple(field, fc.array(literal, { minLength: 1, maxLength: 3 })).map(([f, ls]) => `${f} in [${ls.join(', ')}]`),
  );
  const agg = fc
    .tuple(
      fc.constantFrom('count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'pct', ...(odd ? ['nosuch'] : [])),
      field,
      fc.constantFrom(...(odd ? ['', ', 101', ', -1', ', 1e400', ', "x"'] : [', 95', ', 50'])),
    )
    .map(([a, f, extra]) => (a === 'count' && f.length % 2 === 0 ? 'count(*)' : `${a}(${f}${a === 'pct' ? extra : ''})`));
  const bins = odd ? ['', '5m', '30s', '1d', '0m', '-5m', '99999999999999999999d', '1y', 'x'] : ['', '5m', '30s', '1h', '1d'];
  return fc.oneof(
    fc.array(field, { minLength: 1, maxLength: 3 }).map((fs) => `fields ${fs.map((f, i) => (i === 1 ? `${f} as renamed` : f)).join(', ')}`),
    fc.array(condition, { minLength: 1, maxLength: 3 }).chain((cs) => fc.constantFrom(' and ', ' or ').map((j) => `filter ${cs.join(j)}`)),
    fc
      .tuple(fc.array(agg, { minLength: 1, maxLength: 2 }), fc.option(field), fc.constantFrom(...bins))
      .map(([aggs, by, bin]) => `stats ${aggs.join(', ')}${by || bin ? ' by ' : ''}${[by, bin ? `bin(${bin})` : ''].filter(Boolean).join(', ')}`),
    fc.tuple(field, fc.constantFrom('asc', 'desc', '', ...(odd ? ['sideways'] : []))).map(([f, d]) => `sort ${f} ${d}`),
    (odd ? fc.oneof(fc.integer(), fc.constantFrom('1e400', '99999999999999999999', '-1', '0', 'x')) : fc.integer({ min: 1, max: 20_000 })).map(
      (n) => `limit ${String(n)}`,
    ),
    fc
      .tuple(
        field,
        fc.constantFrom('"* *" as a, b', '/(?<a>\\d+)/', '"user=* id=*" as user, id', ...(odd ? ['"*" as a', '"no stars" as a', '/(?<a>[/', '/(x)/'] : [])),
      )
      .map(([f, p]) => `parse ${f} ${p}`),
    fc.array(field, { minLength: 1, maxLength: 2 }).map((fs) => `dedup ${fs.join(', ')}`),
    fc.array(fc.oneof(literal, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 3 }).map((ts) => ts.join(' ')),
  );
}
export const qCommand = commands(qField, qLiteral, true);
export const qCommandSane = commands(qFieldSane, qLiteralSane, false);
export const pipelineText = fc.oneof(
  { weight: 2, arbitrary: pipelines },
  { weight: 3, arbitrary: fc.array(qCommand, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(' | ')) },
  { weight: 4, arbitrary: fc.array(qCommandSane, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(' | ')) },
  { weight: 1, arbitrary: fc.array(fc.oneof(pipelines, anyString), { minLength: 1, maxLength: 3 }).map((a) => a.join(' | ')) },
);
/** Start and end that a query would send (so the query reaches the compiler and the engine). */
export const usualTime = fc.constantFrom(undefined, undefined, '-1h', '-7d', 'now', '2024-05-01T00:00:00Z', 1714521600000);

/**
 * A POST /v1/query body. `deep`: a query or SQL with mostly usual range and limit, to reach the compiler
 * and the engine; otherwise any field may be anything.
 */
export const queryBody = (deep: boolean) =>
  fc
    .record({
      text: deep
        ? fc.oneof({ weight: 3, arbitrary: pipelineText.map((query) => ({ query })) }, { weight: 1, arbitrary: sqls.map((sql) => ({ sql })) })
        : fc.oneof(
            { weight: 3, arbitrary: pipelineText.map((query) => ({ query })) },
            { weight: 3, arbitrary: sqls.map((sql) => ({ sql })) },
            { weight: 1, arbitrary: fc.record({ query: anyJson, sql: anyJson }, { requiredKeys: [] }) },
          ),
      start: deep ? mostly<unknown>(undefined, fc.oneof(usualTime, timeValue)) : optional(timeValue),
      end: deep ? mostly<unknown>(undefined, fc.oneof(usualTime, timeValue)) : optional(timeValue),
      limit: deep
        ? mostly<unknown>(undefined, fc.oneof(fc.integer({ min: 1, max: 10_000 }), anyJson))
        : optional(fc.oneof(fc.integer({ min: -5, max: 20_000 }), anyJson)),
      extra: deep ? fc.constant(undefined) : rarely(fc.tuple(fc.constantFrom('tenant', 'x', '__proto__', 'constructor'), anyJson), 8),
    })
    .map(({ text, start, end, limit, extra }) => {
      const o: Record<string, unknown> = { ...text };
      if (start !== undefined) o['start'] = start;
      if (end !== undefined) o['end'] = end;
      if (limit !== undefined) o['limit'] = limit;
      let json = JSON.stringify(o);
      // "__proto__" as a JSON key (JSON.parse makes it an own property; an object literal would not).
      if (extra) json = `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}${JSON.stringify(extra[0])}:${JSON.stringify(extra[1]) ?? 'null'}}`;
      return json;
    });

/** Values that look like what a shipper sends, and some that do not. */
export const fieldValue = fc.oneof(
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: timeValue },
  { weight: 2, arbitrary: anyJson },
);
export const logObject = fc.dictionary(
  fc.constantFrom('message', 'msg', 'level', 'ts', 'time', '@timestamp', 'service', 'tags', 'host', 'trace_id', 'a.b', 'x'),
  fieldValue,
  {
    maxKeys: 5,
  },
);

/** A body shaped like the route's protocol, with arbitrary values in it. */
export function shapedBody(route: Route, deep = false): fc.Arbitrary<string> {
  if (route.target === 'query') return queryBody(deep);
  switch (route.protocol) {
    case 'otlp':
      return fc
        .record({
          resourceLogs: fc.array(
            fc.record({
              resource: fc.record(
                {
                  attributes: fc.array(
                    fc.record({
                      key: fieldValue,
                      value: fc.dictionary(fc.constantFrom('stringValue', 'intValue', 'boolValue', 'arrayValue', 'kvlistValue', 'bytesValue'), fieldValue),
                    }),
                  ),
                },
                { requiredKeys: [] },
              ),
              scopeLogs: fc.array(
                fc.record({
                  logRecords: fc.array(
                    fc.record(
                      {
                        timeUnixNano: timeValue,
                        observedTimeUnixNano: timeValue,
                        severityNumber: fieldValue,
                        severityText: fieldValue,
                        body: fc.dictionary(fc.constantFrom('stringValue', 'intValue', 'kvlistValue'), fieldValue),
                        attributes: anyJson,
                        traceId: fieldValue,
                      },
                      { requiredKeys: [] },
                    ),
                    { maxLength: 3 },
                  ),
                }),
                { maxLength: 2 },
              ),
            }),
            { maxLength: 2 },
          ),
        })
        .map((o) => JSON.stringify(o));
    case 'elasticsearch-bulk':
      return fc
        .array(
          fc.tuple(
            fc.constantFrom('{"index":{}}', '{"create":{"_index":"x"}}', '{"index":{"_index":5}}', '{"delete":{}}', '{"update":{}}', '{}', 'x', ''),
            fc.oneof(logObject, anyJson),
          ),
          { maxLength: 4 },
        )
        .map((pairs) => pairs.map(([a, d]) => `${a}\n${JSON.stringify(d) ?? ''}\n`).join(''));
    case 'splunk-hec-event':
    case 'splunk-hec-raw':
      return fc
        .array(
          fc.oneof(
            fc.record(
              {
                event: fc.oneof(fieldValue, logObject),
                time: timeValue,
                host: fieldValue,
                source: fieldValue,
                sourcetype: fieldValue,
                index: fieldValue,
                fields: anyJson,
              },
              { requiredKeys: [] },
            ),
            logObject,
          ),
          { maxLength: 3 },
        )
        .map((a) => a.map((o) => JSON.stringify(o)).join(''));
    case 'loki':
      return fc
        .record({
          streams: fc.array(
            fc.record(
              {
                stream: fc.dictionary(fc.string({ maxLength: 10 }), fieldValue, { maxKeys: 3 }),
                values: fc.array(fc.oneof(fc.tuple(timeValue, fieldValue), fc.tuple(timeValue, fieldValue, anyJson), fc.array(anyJson, { maxLength: 3 })), {
                  maxLength: 3,
                }),
              },
              { requiredKeys: [] },
            ),
            { maxLength: 2 },
          ),
        })
        .map((o) => JSON.stringify(o));
    case 'gelf':
      return fc
        .record(
          {
            version: mostly('1.1', fieldValue),
            host: fieldValue,
            short_message: fieldValue,
            full_message: fieldValue,
            timestamp: timeValue,
            level: fieldValue,
            _extra: fieldValue,
            _id: fieldValue,
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o));
    case 'proton':
      return fc
        .record(
          {
            columns: fc.array(fc.oneof(fc.constantFrom('message', '_tp_time', 'ts', 'level', 'raw'), anyJson), { maxLength: 3 }),
            data: fc.array(fc.array(fieldValue, { maxLength: 3 }), { maxLength: 3 }),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o));
    default:
      return fc.oneof(
        fc.array(logObject, { maxLength: 4 }).map((a) => a.map((o) => JSON.stringify(o)).join('\n')),
        fc.array(logObject, { maxLength: 4 }).map((a) => JSON.stringify(a)),
        fc
          .array(
            fc.oneof(
              anyString,
              fc.constantFrom('2024-05-01 12:00:00,123 ERROR x', '<34>1 2003-10-11T22:14:15.003Z h a - - - m', '\tat x.y(Z.java:1)', `${'a'.repeat(40)}!`),
            ),
            {
              maxLength: 4,
            },
          )
          .map((a) => a.join('\n')),
      );
  }
}

/** The content type each route's clients send. */
export function rightContentType(route: Route): string {
  if (route.target === 'ingest' && (route.protocol === 'logs' || route.protocol === 'elasticsearch-bulk')) return 'application/x-ndjson';
  return 'application/json';
}

export const otherContentTypes = fc.constantFrom(
  undefined,
  'application/json',
  'application/x-ndjson',
  'text/plain',
  'application/x-protobuf',
  'application/protobuf',
  'application/octet-stream',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'text/plain; charset=latin1',
  'application/vnd.foo+json',
  ';;;',
  'x'.repeat(200),
);
export const otherContentEncodings = fc.constantFrom(
  undefined,
  'gzip',
  'x-gzip',
  'deflate',
  'identity',
  'br',
  'zstd',
  'gzip, gzip',
  'gzip, identity',
  'GZIP',
  ' gzip ',
  'compress',
  '',
);
export const transferEncodings = fc.constantFrom('chunked', 'gzip, chunked', 'deflate, chunked', 'identity, chunked', 'x, chunked', 'chunked, chunked');

export const PARAM_NAMES = [
  'service',
  'host',
  'source',
  'tags',
  'tz',
  'multiline',
  'index',
  'sourcetype',
  'format',
  'nextToken',
  'channel',
  'tenant',
  'stream',
];
export const paramValue = fc.oneof(
  { weight: 3, arbitrary: anyString },
  {
    weight: 1,
    arbitrary: fc.constantFrom('^\\d{4}-', '^(\\S+ )?\\[', '(?=a)', '\\', '[a-', 'a{99999999999}', 'x'.repeat(256), 'x'.repeat(257), ',,,', 'a,b,,c'),
  },
);
export const queryString = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PARAM_NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }),
      paramValue,
      fc.boolean(),
    ),
    { maxLength: 4 },
  )
  .map((pairs) =>
    pairs
      .map(([k, v, encode]) =>
        // Unencoded, the value may carry bytes URL parsing trips on ('%', '%zz'); Node refuses control characters in a path, so those are dropped.
        encode ? `${pct(k)}=${pct(v)}` : `${pct(k)}=${v.replace(/[^\x21-\x7e]/g, '').replace(/#/g, '')}`,
      )
      .join('&'),
  );

export const pathParam = fc.oneof(
  { weight: 3, arbitrary: anyString.filter((s) => s.length > 0).map(pct) },
  { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%2F', '..', '%00', 'a%2Fb', 'logs-2024.05.01', 'events') },
);
