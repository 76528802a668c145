/**
 * Every bad input is a 4xx, at the level the Lambdas see it: arbitrary API Gateway (payload v2) events for
 * every route in ROUTES — query parameters, path parameters, headers in any case, bodies as text or base64
 * (flag and content disagreeing), no authorizer context — go to the same handler factories the Lambdas and
 * local mode run. The query handler runs over the real query service (time range, limit, the compiler for
 * both dialects) and an engine that checks what it is handed: a representable range, and, for the pipeline
 * language, SQL that each engine's own guard accepts (DuckDB's parser, the Trino grammar Athena is checked
 * with). Every reply is below 500 with a JSON message, and nothing reaches the error log.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeIngestHandler } from '../../lambdas/api/ingest.js';
import { makeQueryHandler } from '../../lambdas/api/query.js';
import type { ApiEvent, ApiHandler } from '../../lambdas/runtime/api-gateway.js';
import { prepareSelect } from '../../shared/adapters/aws/trino-sql-guard.js';
import { checkSelect } from '../../shared/adapters/local/duckdb-sql-guard.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { NotFoundError, QueryError } from '../../shared/domain/errors.js';
import { duckDbDialect } from '../../shared/domain/query/dialects/duckdb.js';
import { trinoDialect } from '../../shared/domain/query/dialects/trino.js';
import { ROUTES, routeKeyOf, type Route } from '../../shared/domain/routes.js';
import { EARLIEST_MS, LATEST_MS } from '../../shared/domain/time-range.js';
import type { QueryEngine, ScopedQuery, SqlDialect } from '../../shared/ports/query-engine.js';
import { makeIngestService } from '../../shared/services/ingest.js';
import { makeQueryService } from '../../shared/services/query.js';
import { makeReceiptService } from '../../shared/services/receipts.js';
import {
  PARAM_NAMES,
  anyString,
  otherContentEncodings,
  otherContentTypes,
  paramValue,
  qCommandSane,
  rightContentType,
  shapedBody,
} from '../helpers/fuzz-inputs.js';
import { MemoryLogger } from '../helpers/logger.js';
import { tempDir } from '../helpers/tmp.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 1313);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 150);
const NOW = Date.UTC(2024, 4, 1, 12);
const clock = { now: () => NOW };

let conn: DuckDBConnection;
let instance: DuckDBInstance;
let cleanup: () => Promise<void>;
const logger = new MemoryLogger();
const handlers: { ingest?: ApiHandler; duckdb?: ApiHandler; trino?: ApiHandler } = {};

/** A fault in Sluice, not in the request: the engine turns it into a 500, which fails the property. */
class EngineContractBroken extends Error {}

/**
 * An engine in the given dialect that checks what the query service hands it, and answers with no rows.
 * `check` is the engine's SQL guard; SQL Sluice compiled itself (trusted) must pass it.
 */
function checkingEngine(dialect: SqlDialect, check: (q: ScopedQuery) => Promise<void>): QueryEngine {
  const started = new Map<string, ScopedQuery>();
  const stats = { rows: 0, bytesScanned: 0, elapsedMs: 0 };
  return {
    dialect,
    async start(q) {
      const inRange = (ms: number) => Number.isSafeInteger(ms) && ms >= EARLIEST_MS && ms <= LATEST_MS;
      if (!inRange(q.startMs) || !inRange(q.endMs) || q.startMs >= q.endMs) throw new EngineContractBroken(`range ${q.startMs}..${q.endMs}`);
      if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 10_000) throw new EngineContractBroken(`limit ${q.limit}`);
      try {
        await check(q);
      } catch (err) {
        if (q.trusted) throw new EngineContractBroken(`compiled SQL refused by the ${dialect.name} guard: ${(err as Error).message}\n${q.sql}`);
        throw err;
      }
      const id = `q${started.size}`;
      started.set(id, q);
      return id;
    },
    async status(id) {
      if (!started.has(id)) throw new NotFoundError('no such query');
      return { state: 'succeeded', stats };
    },
    async page(id, token) {
      if (!started.has(id)) throw new NotFoundError('no such query');
      if (token !== undefined && !/^\d{1,9}$/.test(token)) throw new QueryError('nextToken is not valid for this query');
      return { columns: [{ name: 'n', type: 'BIGINT' }], rows: [], stats };
    },
    async cancel() {},
  };
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  const tmp = await tempDir();
  cleanup = tmp.cleanup;
  const receipts = makeReceiptService({ store: new FsObjectStore(tmp.dir), clock });
  const queryHandler = (engine: QueryEngine) =>
    makeQueryHandler({ queries: makeQueryService({ engine, clock, tokenSecret: Buffer.alloc(32, 7), waitBudgetMs: 0 }), receipts, logger });
  handlers.duckdb = queryHandler(
    checkingEngine(duckDbDialect, async (q) => {
      await checkSelect(conn, q.sql, { allowParams: q.trusted });
    }),
  );
  handlers.trino = queryHandler(
    checkingEngine(trinoDialect, async (q) => {
      const prepared = prepareSelect(q.sql, { trusted: q.trusted, limit: q.limit });
      if (prepared.placeholders !== q.params.length) throw new QueryError(`${prepared.placeholders} placeholders, ${q.params.length} values`);
    }),
  );
  handlers.ingest = makeIngestHandler({
    ingest: makeIngestService({ queue: { maxMessageBytes: 256 * 1024, send: async () => {} }, clock }),
    logger,
    maxBodyBytes: 64 * 1024,
  });
});

afterAll(async () => {
  conn?.closeSync();
  instance?.closeSync();
  await cleanup?.();
});

/** A header name as a client might spell it (API Gateway lowercases; a direct invocation may not). */
const headerName = (name: string) =>
  fc.constantFrom(
    name,
    name.toUpperCase(),
    name.replace(/(^|-)(\w)/g, (_m, d: string, c: string) => d + c.toUpperCase()),
  );

/**
 * Events for one route. `wild`: any part may be off (content type and encoding, base64 flag, the authorizer's
 * context). `deep`: a well-formed envelope with the full scopes, so bodies and parameters reach the parsers,
 * the compiler and the engine.
 */
function eventsFor(route: Route, mode: 'wild' | 'deep'): fc.Arbitrary<ApiEvent> {
  const deep = mode === 'deep';
  const full = { tenant: 'acme', scopes: 'ingest query admin' };
  return fc
    .record({
      params: fc.dictionary(
        fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PARAM_NAMES) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }),
        paramValue,
        {
          maxKeys: 4,
        },
      ),
      pathValue: fc.oneof(anyString, fc.constantFrom('..', '../acme', 'a/b', 'logs-2024.05.01', '01J00000000000000000000000')),
      contentType: deep
        ? fc.constant<string | undefined>(rightContentType(route))
        : fc.oneof({ weight: 3, arbitrary: fc.constant<string | undefined>(rightContentType(route)) }, { weight: 1, arbitrary: otherContentTypes }),
      contentTypeName: headerName('content-type'),
      encoding: deep ? fc.constant(undefined) : fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: otherContentEncodings }),
      body: deep
        ? shapedBody(route, true)
        : fc.oneof(
            { weight: 5, arbitrary: shapedBody(route, true) },
            { weight: 2, arbitrary: shapedBody(route) },
            { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
          ),
      base64: deep ? fc.constantFrom('no', 'yes') : fc.constantFrom('no', 'no', 'yes', 'flag-only'),
      noBody: deep ? fc.constant(false) : fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      authorizer: deep
        ? fc.constant<{ tenant: string; scopes: string } | undefined>(full)
        : fc.constantFrom<{ tenant: string; scopes: string } | undefined>(
            full,
            full,
            full,
            full,
            full,
            full,
            full,
            full,
            { tenant: 'acme', scopes: 'query' },
            undefined,
          ),
      userAgent: fc.option(anyString, { nil: undefined }),
    })
    .map((c) => {
      const pathParameters: Record<string, string> = {};
      for (const m of route.path.matchAll(/\{(\w+)\}/g)) pathParameters[m[1]!] = c.pathValue;
      const headers: Record<string, string> = {};
      if (c.contentType !== undefined) headers[c.contentTypeName] = c.contentType;
      if (c.encoding !== undefined) headers['content-encoding'] = c.encoding;
      if (c.userAgent !== undefined) headers['user-agent'] = c.userAgent;
      return {
        version: '2.0',
        routeKey: routeKeyOf(route),
        rawPath: route.path,
        rawQueryString: '',
        headers,
        queryStringParameters: Object.keys(c.params).length > 0 ? c.params : undefined,
        pathParameters,
        body: c.noBody ? undefined : c.base64 === 'yes' ? Buffer.from(c.body).toString('base64') : c.body,
        isBase64Encoded: c.base64 !== 'no',
        requestContext: {
          requestId: 'fuzz',
          http: { method: route.method, path: route.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: c.userAgent ?? '' },
          ...(c.authorizer ? { authorizer: { lambda: { ...c.authorizer, keyId: 'k' } } } : {}),
        },
      } as unknown as ApiEvent;
    });
}

const routes = ROUTES.map((r) => [routeKeyOf(r), r] as const);

describe.each(['wild', 'deep'] as const)('fuzz (%s): API Gateway events for every route come back below 500 with a message', (mode) => {
  it.each(routes)('%s', async (_, route) => {
    const run = async (handler: ApiHandler, event: ApiEvent) => {
      const reply = await handler(event);
      const what = `${JSON.stringify(event).slice(0, 600)} → ${reply.statusCode} ${String(reply.body).slice(0, 300)}`;
      expect(reply.statusCode, what).toBeDefined();
      expect(reply.statusCode!, what).toBeLessThan(500);
      if (reply.statusCode! >= 400) expect(typeof (JSON.parse(reply.body ?? '{}') as { message?: unknown }).message, what).toBe('string');
      expect(
        logger.entries.filter((e) => e.level === 'error').map((e) => JSON.stringify(e.fields).slice(0, 800)),
        what,
      ).toEqual([]);
    };
    await fc.assert(
      fc.asyncProperty(eventsFor(route, mode), async (event) => {
        if (route.target === 'ingest') return run(handlers.ingest!, event);
        await run(handlers.duckdb!, event);
        await run(handlers.trino!, event);
      }),
      { seed: SEED, numRuns: route.target === 'query' && route.method === 'POST' ? RUNS * 4 : RUNS, endOnFailure: true },
    );
  });
});

describe('fuzz: pipelines built from the language’s parts compile to SQL both engines’ guards accept', () => {
  it('any pipeline the language accepts runs; the rest are 400s with the position', async () => {
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(qCommandSane, { minLength: 1, maxLength: 5 }), fc.constantFrom(undefined, 1, 100, 10_000), async (commands, limit) => {
        const body = JSON.stringify({ query: commands.join(' | '), start: '-1d', ...(limit ? { limit } : {}) });
        for (const handler of [handlers.duckdb!, handlers.trino!]) {
          const reply = await handler({
            routeKey: 'POST /v1/query',
            headers: {},
            body,
            isBase64Encoded: false,
            requestContext: { requestId: 'fuzz', authorizer: { lambda: { tenant: 'acme', scopes: 'query', keyId: 'k' } } },
          } as unknown as ApiEvent);
          expect(reply.statusCode, `${body} → ${reply.body}`).toBeLessThan(500);
          if (reply.statusCode === 200) ran++;
        }
      }),
      { seed: SEED, numRuns: RUNS * 4 },
    );
    // Most of them are queries the language answers, so the compiler's output is what was checked.
    expect(ran).toBeGreaterThan(RUNS * 2);
  });
});
