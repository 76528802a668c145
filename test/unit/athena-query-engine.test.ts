/**
 * The Athena adapter against recorded response shapes (test/fixtures/athena): the SQL and parameters it
 * sends, paging, type conversion, throttling and failure paths, and the Trino SQL guard.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AthenaClient,
  AthenaServiceException,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  InternalServerException,
  InvalidRequestException,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
  type GetQueryExecutionCommandOutput,
  type GetQueryResultsCommandOutput,
  type StartQueryExecutionCommandInput,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { AthenaQueryEngine } from '../../shared/adapters/aws/athena-query-engine.js';
import { glueColumns, gluePartitionKeys, logsSelectList, partitionProjectionParameters } from '../../shared/adapters/aws/trino-schema.js';
import { parseTrino, prepareSelect } from '../../shared/adapters/aws/trino-sql-guard.js';
import { NotFoundError, QueryError, SluiceError, UnavailableError } from '../../shared/domain/errors.js';
import { trinoLiteral } from '../../shared/domain/query/dialects/trino.js';
import { EVENT_COLUMNS, PARTITION_COLUMNS } from '../../shared/domain/schema.js';
import type { ScopedQuery } from '../../shared/ports/query-engine.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/athena');
function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as T;
}
const execution = (name: string) => fixture<GetQueryExecutionCommandOutput>(`get-query-execution-${name}`);
const results = (name: string) => fixture<GetQueryResultsCommandOutput>(`get-query-results-${name}`);

const ID = '2f5a7b1c-0d9e-4c3b-8a71-6e2f4d8c9b10';
const athena = mockClient(AthenaClient);
let sleeps: number[];

function engine(opts: { maxRetries?: number; pollMs?: number } = {}) {
  return new AthenaQueryEngine({
    client: new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    workgroup: 'sluice',
    database: 'sluice',
    table: 'events',
    pollMs: opts.pollMs ?? 0,
    maxRetries: opts.maxRetries ?? 3,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

const hourStart = Date.parse('2024-05-01T10:15:00Z');
function query(over: Partial<ScopedQuery> = {}): ScopedQuery {
  return {
    tenant: 'acme',
    startMs: hourStart,
    endMs: hourStart + 3_600_000,
    sql: 'SELECT service, count(*) AS n FROM logs GROUP BY service',
    params: [],
    limit: 100,
    trusted: false,
    ...over,
  };
}

function sent(): StartQueryExecutionCommandInput {
  const calls = athena.commandCalls(StartQueryExecutionCommand);
  expect(calls).toHaveLength(1);
  return calls[0]!.args[0].input;
}

const throttled = () => new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
const throttledQueries = () =>
  new TooManyRequestsException({
    message: 'You have exceeded the limit for the number of queries you can run concurrently',
    $metadata: {},
    Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED',
  });
const throttling = () =>
  new AthenaServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  athena.reset();
  sleeps = [];
  athena.on(StartQueryExecutionCommand).resolves(fixture('start-query-execution'));
});

/** No AWS SDK exception name may reach the caller. */
async function caught(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(SluiceError);
  expect(err!.name).not.toMatch(/Exception$/);
  return err!;
}

describe('AthenaQueryEngine.start', () => {
  it('scopes the query to the tenant and range, with partition predicates and the values as ExecutionParameters', async () => {
    await expect(engine().start(query())).resolves.toBe(ID);

    const input = sent();
    expect(input.WorkGroup).toBe('sluice');
    expect(input.QueryExecutionContext).toEqual({ Database: 'sluice' });
    expect(input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(input.QueryString).toBe(
      [
        'WITH logs AS (',
        `  SELECT ${logsSelectList()}`,
        '  FROM "sluice"."events"',
        `  WHERE "tenant" = 'acme'`,
        '    AND "dt" BETWEEN ? AND ? AND "hour" BETWEEN ? AND ?',
        '    AND "ts" >= ? AND "ts" < ?',
        ')',
        'SELECT service, count(*) AS n FROM logs GROUP BY service',
        'LIMIT 100',
      ].join('\n'),
    );
    expect(input.ExecutionParameters).toEqual([
      "DATE '2024-05-01'",
      "DATE '2024-05-01'",
      '10',
      '11',
      "TIMESTAMP '2024-05-01 10:15:00.000'",
      "TIMESTAMP '2024-05-01 11:15:00.000'",
    ]);
    expect(parseTrino(input.QueryString!)).toEqual({ ok: true });
    expect(athena).toHaveReceivedCommandOnce(StartQueryExecutionCommand);
  });

  it('selects every schema column, timestamps as UTC instants with six fraction digits', () => {
    const list = logsSelectList();
    for (const c of [...EVENT_COLUMNS, ...PARTITION_COLUMNS]) expect(list).toContain(`"${c.name}"`);
    expect(list).toContain(`CAST(with_timezone("ts", 'UTC') AS timestamp(6) with time zone) AS "ts"`);
    expect(list).not.toContain('$path');
  });

  it('over several days, prunes by day and by hour at both ends', async () => {
    await engine().start(query({ startMs: Date.parse('2024-04-29T22:30:00Z'), endMs: Date.parse('2024-05-01T02:00:00Z') }));
    const input = sent();
    expect(input.QueryString).toContain('AND "dt" BETWEEN ? AND ? AND ("dt" > ? OR "hour" >= ?) AND ("dt" < ? OR "hour" <= ?)');
    expect(input.ExecutionParameters).toEqual([
      "DATE '2024-04-29'",
      "DATE '2024-05-01'",
      "DATE '2024-04-29'",
      '22',
      "DATE '2024-05-01'",
      // the range ends at 02:00 exactly, so hour 02 is not read
      '1',
      "TIMESTAMP '2024-04-29 22:30:00.000'",
      "TIMESTAMP '2024-05-01 02:00:00.000'",
    ]);
    expect(parseTrino(input.QueryString!)).toEqual({ ok: true });
  });

  it("binds compiled queries' values after its own, as escaped Trino literals in text order", async () => {
    await engine().start(
      query({
        trusted: true,
        sql: 'SELECT ts, message FROM logs WHERE service = ? AND message LIKE ? AND severity >= ? AND ts_inferred = ? AND trace_id IS DISTINCT FROM ? ORDER BY ts DESC LIMIT 20',
        params: ["o'brien", "%it's%", 17, false, null],
      }),
    );
    const input = sent();
    expect(input.ExecutionParameters!.slice(6)).toEqual(["'o''brien'", "'%it''s%'", '17', 'FALSE', 'NULL']);
    expect(input.QueryString).toMatch(/ORDER BY ts DESC LIMIT 20$/);
    expect(input.QueryString).not.toContain('brien');
  });

  it('quotes strings one way: doubled single quotes inside single quotes', () => {
    expect(trinoLiteral("a'b''c")).toBe("'a''b''''c'");
    expect(trinoLiteral('line\nbreak \\ "x"')).toBe(`'line\nbreak \\ "x"'`);
    expect(trinoLiteral(-2.5)).toBe('-2.5');
    expect(trinoLiteral(true)).toBe('TRUE');
    expect(() => trinoLiteral(Number.NaN)).toThrow(QueryError);
  });

  it('keeps the top-level ORDER BY and caps its LIMIT (a subquery wrapper would lose the order)', async () => {
    await engine().start(
      query({
        sql: "WITH e AS (SELECT * FROM logs WHERE level = 'error')\nSELECT service, count(*) n FROM e GROUP BY 1 ORDER BY n DESC LIMIT 5000;",
        limit: 50,
      }),
    );
    const sql = sent().QueryString!;
    expect(sql).toContain('\n),\n');
    expect(sql.split('\n').slice(7).join('\n')).toBe(
      "     e AS (SELECT * FROM logs WHERE level = 'error')\nSELECT service, count(*) n FROM e GROUP BY 1 ORDER BY n DESC LIMIT 50",
    );
    expect(parseTrino(sql)).toEqual({ ok: true });
  });

  it.each([
    ['SELECT * FROM logs ORDER BY ts OFFSET 10', 'SELECT * FROM logs ORDER BY ts OFFSET 10\nLIMIT 50'],
    ['SELECT * FROM logs ORDER BY ts FETCH FIRST 500 ROWS WITH TIES', 'SELECT * FROM logs ORDER BY ts LIMIT 50'],
    ['SELECT * FROM logs ORDER BY ts LIMIT ALL', 'SELECT * FROM logs ORDER BY ts LIMIT 50'],
    ['SELECT service FROM logs UNION SELECT host FROM logs ORDER BY 1 LIMIT 7', 'SELECT service FROM logs UNION SELECT host FROM logs ORDER BY 1 LIMIT 7'],
    ["SELECT 'a;b' AS x FROM logs; -- done", "SELECT 'a;b' AS x FROM logs\nLIMIT 50"],
  ])('caps the row count of %s', async (sql, sent) => {
    const text = prepareSelect(sql, { trusted: false, limit: 50 }).text;
    expect(text).toBe(sent);
  });

  it('refuses a tenant id that is not one, before anything is sent', async () => {
    await expect(engine().start(query({ tenant: "acme' OR 'x'='x" }))).rejects.toThrow(QueryError);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('refuses mismatched placeholders, parameters on user SQL, values over 1024 characters and empty ranges', async () => {
    await expect(engine().start(query({ trusted: true, sql: 'SELECT * FROM logs WHERE service = ?', params: [] }))).rejects.toThrow(
      /1 placeholders but 0 values/,
    );
    await expect(engine().start(query({ params: ['x'] }))).rejects.toThrow(QueryError);
    await expect(engine().start(query({ trusted: true, sql: 'SELECT * FROM logs WHERE message = ?', params: ['x'.repeat(1100)] }))).rejects.toThrow(
      /at most 1024/,
    );
    await expect(engine().start(query({ endMs: hourStart }))).rejects.toThrow(/time range is empty/);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('reports InvalidRequestException from Athena as a QueryError', async () => {
    athena
      .on(StartQueryExecutionCommand)
      .rejects(new InvalidRequestException({ message: 'line 8:1: mismatched input', $metadata: {}, AthenaErrorCode: 'INVALID_INPUT' }));
    const err = await caught(engine().start(query()));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.message).toBe('Athena refused the query: line 1:1: mismatched input');
  });
});

describe('AthenaQueryEngine.status', () => {
  it.each([
    ['queued', 'running', 0, 35],
    ['running', 'running', 524288, 690],
    ['succeeded', 'succeeded', 48234496, 2834],
  ])('maps %s to %s with bytes scanned and elapsed time', async (fixtureName, state, bytes, elapsed) => {
    athena.on(GetQueryExecutionCommand, { QueryExecutionId: ID }).resolves(execution(fixtureName));
    await expect(engine().status(ID)).resolves.toEqual({ state, stats: { rows: 0, bytesScanned: bytes, elapsedMs: elapsed } });
  });

  it('reports a failure with line numbers of the SQL that was sent, not of the wrapper', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('failed-column'));
    const status = await engine().status(ID);
    expect(status.state).toBe('failed');
    expect(status.error).toBe(
      "the query failed: COLUMN_NOT_FOUND: line 2:8: Column 'servce' cannot be resolved or requester is not authorized to access requested resources",
    );
  });

  it('never shows bucket paths', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('failed-split'));
    const status = await engine().status(ID);
    expect(status.error).toContain('HIVE_CANNOT_OPEN_SPLIT');
    expect(status.error).not.toMatch(/s3:\/\/|tenant=acme/);
  });

  it.each(['failed-scan-cutoff', 'cancelled-scan-cutoff'])('explains the workgroup scan cutoff (%s)', async (name) => {
    athena.on(GetQueryExecutionCommand).resolves(execution(name));
    const status = await engine().status(ID);
    expect(status.state).toBe('failed');
    expect(status.error).toBe(
      'the query scanned more data than this workgroup allows per query (stopped after 10.5 MB); narrow the time range or add filters (service, level, a search term) so it reads less',
    );
    expect(status.stats?.bytesScanned).toBe(10485760);
  });

  it('reports a cancelled query as cancelled', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('cancelled'));
    await expect(engine().status(ID)).resolves.toMatchObject({ state: 'cancelled' });
  });

  it('asks Athena at most once per pollMs about a running query, and again once it may have finished', async () => {
    athena.on(GetQueryExecutionCommand).resolvesOnce(execution('running')).resolves(execution('succeeded'));
    const e = engine({ pollMs: 60_000 });
    await e.status(ID);
    await e.status(ID);
    expect(athena).toHaveReceivedCommandTimes(GetQueryExecutionCommand, 1);
    const fresh = engine({ pollMs: 0 });
    await expect(fresh.status(ID)).resolves.toMatchObject({ state: 'succeeded' });
  });

  it('answers NotFoundError for an id Athena does not know, and for ids that are not ids', async () => {
    athena.on(GetQueryExecutionCommand).rejects(new InvalidRequestException({ message: `QueryExecution ${ID} was not found`, $metadata: {} }));
    expect(await caught(engine().status(ID))).toBeInstanceOf(NotFoundError);
    expect(await caught(engine().status('../../etc/passwd'))).toBeInstanceOf(NotFoundError);
  });
});

describe('AthenaQueryEngine.page', () => {
  beforeEach(() => {
    athena.on(GetQueryExecutionCommand).resolves(execution('succeeded'));
  });

  it('pages with NextToken and skips the header row on the first page only', async () => {
    const token = results('page1').NextToken!;
    athena.on(GetQueryResultsCommand, { QueryExecutionId: ID, NextToken: undefined }).resolves(results('page1'));
    athena.on(GetQueryResultsCommand, { QueryExecutionId: ID, NextToken: token }).resolves(results('page2'));
    const e = engine();

    const first = await e.page(ID, undefined, 2);
    expect(first).toEqual({
      columns: [
        { name: 'service', type: 'varchar' },
        { name: 'n', type: 'bigint' },
      ],
      rows: [
        ['api', 120],
        ['web', 75],
      ],
      nextToken: token,
      stats: { rows: 2, bytesScanned: 48234496, elapsedMs: 2834 },
    });
    // One more row than the page, for the header.
    expect(athena).toHaveReceivedCommandWith(GetQueryResultsCommand, { QueryExecutionId: ID, MaxResults: 3 });

    const second = await e.page(ID, token, 2);
    expect(second.rows).toEqual([
      ['worker', 12],
      ["o'brien", 1],
    ]);
    expect(second.nextToken).toBeUndefined();
    expect(athena).toHaveReceivedCommandWith(GetQueryResultsCommand, { QueryExecutionId: ID, NextToken: token, MaxResults: 2 });
  });

  it('asks for at most 1000 rows a call', async () => {
    athena.on(GetQueryResultsCommand).resolves(results('page2'));
    await engine().page(ID, undefined, 5000);
    expect(athena).toHaveReceivedCommandWith(GetQueryResultsCommand, { MaxResults: 1000 });
  });

  it("converts Athena's strings by column type", async () => {
    athena.on(GetQueryResultsCommand).resolves(results('types'));
    const page = await engine().page(ID, undefined, 10);
    const names = page.columns.map((c) => c.name);
    const rows = page.rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])));
    expect(page.columns.find((c) => c.name === 'ts')?.type).toBe('timestamp with time zone');
    expect(rows[0]).toEqual({
      big: '9007199254740993', // beyond 2^53: kept exact as text
      small: 42,
      ratio: 0.25,
      amount: 12.5,
      huge: '12345678901234567890123456789',
      ok: true,
      message: 'it\'s "quoted", and, commas',
      ts: '2024-05-01T10:00:00.123000Z',
      ts6: '2024-05-01T10:00:00.123456Z',
      ts_offset: '2024-05-01T10:00:00.000000Z',
      ts_zone: '2024-01-15T10:30:00.000000Z',
      local_ts: '2024-05-01T10:00:00.500000',
      day: '2024-05-01',
      attributes: { 'http.status': '200', url: '/a?b=c&d=e', note: 'one, two' },
      tags: ['alpha', 'beta gamma'],
      nested: [['a', 'b'], [], ['c']],
      pair: { service: 'api', count: '3' },
      doc: '{"a":[1,2]}',
    });
    expect(Object.values(rows[1]!)).toEqual(names.map(() => null));
    expect(rows[2]).toEqual({
      big: -17,
      small: -1,
      ratio: 'NaN',
      amount: -0.05,
      huge: 0,
      ok: false,
      message: '',
      ts: '1999-12-31T23:59:59.999999Z',
      ts6: '2024-05-01T00:00:00.000000Z',
      ts_offset: '2024-05-01T06:00:00.000000Z',
      ts_zone: '2024-07-01T10:00:00.000000Z',
      local_ts: '2024-05-01T00:00:00.000000',
      day: '1999-12-31',
      attributes: {},
      tags: [],
      nested: [null],
      pair: { service: null, count: '0' },
      doc: 'null',
    });
  });

  it('refuses to page a query that has not succeeded', async () => {
    athena.on(GetQueryExecutionCommand).resolves(execution('running'));
    const err = await caught(engine().page(ID, undefined, 10));
    expect(err).toBeInstanceOf(QueryError);
    expect(err.message).toMatch(/not finished yet/);
    expect(athena).not.toHaveReceivedCommand(GetQueryResultsCommand);
  });
});

describe('AthenaQueryEngine throttling and errors', () => {
  it('retries TooManyRequestsException with full-jitter exponential backoff, under one request token', async () => {
    athena.on(StartQueryExecutionCommand).rejectsOnce(throttledQueries()).rejectsOnce(throttled()).resolves(fixture('start-query-execution'));
    await expect(engine().start(query())).resolves.toBe(ID);
    const calls = athena.commandCalls(StartQueryExecutionCommand);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.args[0].input.ClientRequestToken)).size).toBe(1);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(0);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('retries ThrottlingException on any call', async () => {
    athena.on(GetQueryExecutionCommand).rejectsOnce(throttling()).resolves(execution('succeeded'));
    athena.on(GetQueryResultsCommand).rejectsOnce(throttling()).rejectsOnce(throttling()).resolves(results('page2'));
    athena.on(StopQueryExecutionCommand).rejectsOnce(throttling()).resolves({});
    const e = engine();
    await expect(e.page(ID, 'token', 10)).resolves.toMatchObject({
      rows: [
        ['worker', 12],
        ["o'brien", 1],
      ],
    });
    await expect(e.cancel(ID)).resolves.toBeUndefined();
    expect(sleeps).toHaveLength(4);
  });

  it('gives up after maxRetries with UnavailableError and a Retry-After', async () => {
    athena.on(StartQueryExecutionCommand).rejects(throttledQueries());
    const err = await caught(engine({ maxRetries: 2 }).start(query()));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toBe('Athena is already running as many queries as this account allows; try again in a few seconds');
    expect((err as UnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((err as Error & { cause?: unknown }).cause).toBeInstanceOf(TooManyRequestsException);
    expect(athena).toHaveReceivedCommandTimes(StartQueryExecutionCommand, 3);
    expect(sleeps).toHaveLength(2);
  });

  it('translates other SDK errors without retrying them', async () => {
    athena.on(GetQueryExecutionCommand).rejects(new InternalServerException({ message: 'Internal error', $metadata: {} }));
    expect(await caught(engine().status(ID))).toBeInstanceOf(UnavailableError);
    athena.on(GetQueryExecutionCommand).rejects(
      new AthenaServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        message: 'User: arn:aws:sts::111122223333:assumed-role/x is not authorized',
        $metadata: {},
      }),
    );
    const denied = await caught(engine().status(ID));
    expect(denied.message).toBe('Athena GetQueryExecution failed: User: <arn> is not authorized');
    expect(sleeps).toEqual([]);
  });
});

describe('AthenaQueryEngine.cancel', () => {
  it('stops the query execution', async () => {
    athena.on(StopQueryExecutionCommand).resolves({});
    await engine().cancel(ID);
    expect(athena).toHaveReceivedCommandExactlyOnceWith(StopQueryExecutionCommand, { QueryExecutionId: ID });
  });
});

describe('Trino SQL guard (user SQL)', () => {
  const check = (sql: string) => prepareSelect(sql, { trusted: false, limit: 100 });

  it.each([
    'SELECT * FROM logs',
    "select ts, message from logs where level = 'error' and message like '%timeout%' order by ts desc",
    "WITH errors AS (SELECT * FROM logs WHERE level = 'error'), by_service AS (SELECT service, count(*) AS n FROM errors GROUP BY service) SELECT * FROM by_service ORDER BY n DESC",
    'SELECT service, n FROM (SELECT service, count(*) AS n FROM logs GROUP BY service) AS t WHERE n > 10',
    "SELECT date_trunc('minute', ts) AS minute, service, count(*), approx_percentile(CAST(attributes['duration_ms'] AS double), 0.95) FROM logs GROUP BY 1, 2 HAVING count(*) > 1",
    'SELECT tag, count(*) FROM logs CROSS JOIN UNNEST(tags) AS t(tag) GROUP BY tag',
    'SELECT service, row_number() OVER (PARTITION BY service ORDER BY ts DESC) AS rn FROM logs',
    "SELECT count(DISTINCT host) FROM logs WHERE ts > from_iso8601_timestamp('2024-05-01T10:00:00Z') AND regexp_like(message, '^GET ')",
    'SELECT * FROM logs a JOIN logs b ON a.trace_id = b.trace_id WHERE a.span_id <> b.span_id',
    'SELECT (SELECT count(*) FROM logs) AS total',
    'TABLE logs',
    'SELECT * FROM "LOGS"',
    'SELECT 1;',
  ])('accepts %s', (sql) => {
    expect(() => check(sql)).not.toThrow();
  });

  it.each([
    ['another table', 'SELECT * FROM events', /unknown table events/],
    ['a schema-qualified table', 'SELECT * FROM sluice.events', /schema- and catalog-qualified/],
    ['a catalog-qualified table', 'SELECT * FROM "awsdatacatalog"."sluice"."events"', /schema- and catalog-qualified/],
    ['information_schema', 'SELECT table_name FROM information_schema.tables', /unknown table/],
    ['a table joined to logs', 'SELECT * FROM logs JOIN secrets ON true', /unknown table secrets/],
    ['a CTE used outside its scope', 'SELECT * FROM (WITH x AS (SELECT * FROM logs) SELECT * FROM x) CROSS JOIN x', /unknown table x/],
    ['a CTE named logs', 'WITH logs AS (SELECT * FROM events) SELECT * FROM logs', /may not be named logs/],
    ['a table function', "SELECT * FROM TABLE(system.query(query => 'SELECT 1'))", /table functions are not allowed/],
    ['a parameter', 'SELECT * FROM logs WHERE service = ?', /parameters/],
    ['a parameter in LIMIT', 'SELECT * FROM logs LIMIT ?', /parameters/],
    ['UNLOAD', "UNLOAD (SELECT * FROM logs) TO 's3://bucket/out/' WITH (format = 'PARQUET')", /only a single SELECT over logs is allowed \(UNLOAD/],
    ['INSERT', 'INSERT INTO events SELECT * FROM logs', /\(INSERT statements are refused\)/],
    ['CREATE TABLE AS', 'CREATE TABLE copy AS SELECT * FROM logs', /\(CREATE/],
    ['DROP', 'DROP TABLE events', /\(DROP/],
    ['ALTER', 'ALTER TABLE events ADD COLUMNS (x string)', /\(ALTER/],
    ['DELETE', 'DELETE FROM events', /\(DELETE/],
    ['MSCK', 'MSCK REPAIR TABLE events', /\(MSCK/],
    ['SHOW', 'SHOW TABLES', /\(SHOW/],
    ['EXPLAIN', 'EXPLAIN SELECT * FROM logs', /\(EXPLAIN/],
    ['a Lambda UDF', "USING EXTERNAL FUNCTION f(x varchar) RETURNS varchar LAMBDA 'fn' SELECT f(message) FROM logs", /USING EXTERNAL FUNCTION/],
    ['several statements', 'SELECT * FROM logs; DROP TABLE events', /send one statement/],
    ['two selects', 'SELECT 1; SELECT 2', /send one statement/],
    ['an inline function', 'WITH FUNCTION f(x bigint) RETURNS bigint RETURN x SELECT f(1)', /inline functions/],
    ['a qualified function', 'SELECT system.builtin.lower(message) FROM logs', /call functions by their plain name/],
    ['a syntax error', 'SELECT * FROM logs WHERE', /SQL syntax error at line 1, column \d+/],
    ['nothing', '  -- just a comment\n', /empty/],
  ])('refuses %s', (_kind, sql, reason) => {
    let err: unknown;
    try {
      check(sql);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(reason);
  });

  it('refuses through start() before calling Athena', async () => {
    await expect(engine().start(query({ sql: 'SELECT * FROM events' }))).rejects.toThrow(QueryError);
    expect(athena).not.toHaveReceivedCommand(StartQueryExecutionCommand);
  });

  it('counts placeholders in compiled SQL instead of refusing them', () => {
    expect(prepareSelect('SELECT * FROM logs WHERE service = ? AND message LIKE ?', { trusted: true, limit: 10 }).placeholders).toBe(2);
  });
});

describe('parseTrino', () => {
  it.each([
    'SELECT * FROM logs WHERE ts >= from_iso8601_timestamp(?) AND element_at(attributes, ?) = ?',
    'SELECT from_unixtime(floor(to_unixtime(ts) / 300) * 300) AS bin, approx_percentile(severity, 0.95) FROM logs GROUP BY 1 ORDER BY 1',
    "SELECT regexp_extract(message, '(\\d+) ms', 1) AS ms FROM logs WHERE regexp_like(message, ?) LIMIT 10",
    "SELECT json_extract_scalar(message, '$.user') FROM logs WHERE contains(tags, 'prod')",
  ])('accepts %s', (sql) => {
    expect(parseTrino(sql)).toEqual({ ok: true });
  });

  it.each(['SELECT FROM logs', 'SELECT * FROM logs WHERE', "SELECT * FROM logs WHERE message = 'unterminated", 'SELECT * FROM logs GROUP service'])(
    'rejects %s',
    (sql) => {
      const result = parseTrino(sql);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors[0]).toMatch(/^line 1:\d+: /);
    },
  );
});

describe('Glue schema', () => {
  it('derives the Glue columns, partition keys and projection from the event schema', () => {
    expect(glueColumns().map((c) => c.name)).toEqual(EVENT_COLUMNS.map((c) => c.name));
    expect(glueColumns().find((c) => c.name === 'attributes')?.type).toBe('map<string,string>');
    expect(glueColumns().find((c) => c.name === 'tags')?.type).toBe('array<string>');
    expect(gluePartitionKeys()).toEqual([
      { name: 'tenant', type: 'string', comment: 'tenant id' },
      { name: 'dt', type: 'date', comment: 'UTC date of ts' },
      { name: 'hour', type: 'int', comment: 'UTC hour of ts, 0-23' },
    ]);
    expect(partitionProjectionParameters('s3://bucket/')).toMatchObject({
      'projection.tenant.type': 'injected',
      'projection.dt.type': 'date',
      'projection.hour.type': 'integer',
      'storage.location.template': 's3://bucket/events/tenant=${tenant}/dt=${dt}/hour=${hour}/',
    });
  });
});
