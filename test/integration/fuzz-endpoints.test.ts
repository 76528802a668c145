/**
 * Every bad input is a 4xx: fast-check sends arbitrary requests to every route in ROUTES on a real local
 * server — arbitrary path parameters, query parameters (the ones the handlers read and others), headers
 * (content-type, content-encoding, transfer-encoding, authorization, user-agent) and bodies (bytes, text,
 * JSON of every type, each protocol's shape with wrong values, compressed or not, the query API's fields of
 * every JSON type). Every answer must be below 500 (or a 503 with Retry-After: overload, documented), carry a
 * JSON body with a message when it is an error, and the server must stay healthy and keep ingesting.
 *
 * Seeded and bounded, so it takes seconds and a failure replays: fast-check prints the seed and the path of
 * the failing request. FUZZ_SEED and FUZZ_RUNS search further.
 */
import fc from 'fast-check';
import { request } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, routeKeyOf, type Route } from '../../shared/domain/routes.js';
import {
  mostly,
  otherContentEncodings,
  otherContentTypes,
  pathParam,
  queryString,
  rarely,
  rightContentType,
  shapedBody,
  transferEncodings,
  anyString,
} from '../helpers/fuzz-inputs.js';
import { call, startTestStack } from '../helpers/local-stack.js';

// Seeded and bounded for CI; FUZZ_SEED and FUZZ_RUNS search further (FUZZ_RUNS=2000 takes a few minutes).
const SEED = Number(process.env['FUZZ_SEED'] ?? 1313);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 100);
/** A query takes up to ~100 ms on a busy 2-core machine, and POST /v1/query gets 4 × RUNS. */
const TIMEOUT_MS = 60_000 + RUNS * 4 * 100;
const KEY = 'fuzz-key-0123456789';
const QUERY_ONLY = 'fuzz-query-0123456789';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let port = 0;
/** A real query token, so GET /v1/query/{token} reaches the engine's paging with fuzzed nextTokens. */
let realToken = '';

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request on its own connection, headers exactly as given (fetch would refuse some). */
function send(req: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers: req.headers, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('no answer within 20 s')));
    r.on('error', reject);
    if (req.body !== undefined) r.end(req.body);
    else r.end();
  });
}

// ---------------------------------------------------------------------------------------------------------
// Generators (the request parts are in test/helpers/fuzz-inputs.ts, shared with the handler-level fuzz)

const otherAuthorizations = fc.constantFrom(
  `Bearer ${QUERY_ONLY}`,
  `Splunk ${KEY}`,
  `ApiKey ${KEY}`,
  `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}`,
  undefined,
  'Bearer wrong',
  'Basic ???',
  '',
  'Bearer',
  `Bearer ${KEY} x`,
);

interface Case {
  route: Route;
  request: RawRequest;
}

/**
 * Requests to one route. `wild`: every part may be off (headers, key, encoding, framing, body). `clean`: a
 * valid key, the route's content type, no encoding, so the body, the path and query parameters reach the
 * decoders, the parameter parsers, the query compiler and the engine.
 */
const casesFor = (route: Route, mode: 'wild' | 'clean'): fc.Arbitrary<Case> => {
  const clean = mode === 'clean';
  return fc
    .record({
      token: fc.oneof(fc.constant('REAL'), pathParam),
      other: pathParam,
      query: queryString,
      contentType: clean ? fc.constant(rightContentType(route)) : mostly<string | undefined>(rightContentType(route), otherContentTypes),
      compress: clean ? fc.constant('none') : fc.constantFrom('none', 'none', 'none', 'gzip', 'deflate'),
      contentEncoding: clean
        ? fc.constant('matching' as const)
        : fc.oneof({ weight: 3, arbitrary: fc.constant('matching' as const) }, { weight: 1, arbitrary: otherContentEncodings }),
      transferEncoding: clean ? fc.constant(undefined) : rarely(transferEncodings, 8),
      authorization: clean ? fc.constant(`Bearer ${KEY}`) : mostly<string | undefined>(`Bearer ${KEY}`, otherAuthorizations),
      userAgent: fc.option(
        anyString.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
        { nil: undefined },
      ),
      body: clean
        ? shapedBody(route, true).map((s) => Buffer.from(s))
        : fc.oneof(
            { weight: 6, arbitrary: shapedBody(route).map((s) => Buffer.from(s)) },
            { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
            { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)) },
            { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
          ),
    })
    .map((c): Case => {
      const path = route.path
        .replace('{token}', c.token === 'REAL' ? realToken : c.token)
        .replace('{id}', c.other)
        .replace('{index}', c.other)
        .replace('{stream}', c.other);
      const body = c.compress === 'gzip' ? gzipSync(c.body) : c.compress === 'deflate' ? deflateSync(c.body) : c.body;
      const encoding = c.contentEncoding === 'matching' ? (c.compress === 'none' ? undefined : c.compress) : c.contentEncoding;
      const headers: Record<string, string> = {};
      if (c.authorization !== undefined) headers['authorization'] = c.authorization;
      if (c.contentType !== undefined) headers['content-type'] = c.contentType;
      if (encoding !== undefined) headers['content-encoding'] = encoding;
      if (c.userAgent !== undefined) headers['user-agent'] = c.userAgent;
      const hasBody = route.method === 'POST';
      if (hasBody && c.transferEncoding !== undefined) headers['transfer-encoding'] = c.transferEncoding;
      else if (hasBody) headers['content-length'] = String(body.length);
      return { route, request: { method: route.method, path: `${path}${c.query ? `?${c.query}` : ''}`, headers, body: hasBody ? body : undefined } };
    });
};

// ---------------------------------------------------------------------------------------------------------

function describeCase(c: Case, r?: RawResponse): string {
  const body = c.request.body ? c.request.body.toString('utf8').slice(0, 300) : '';
  return `${c.request.method} ${c.request.path} ${JSON.stringify(c.request.headers)} ${JSON.stringify(body)} → ${r?.status} ${r?.body.toString('utf8').slice(0, 300)}`;
}

/**
 * The answer's contract: below 500, or one of the two documented 5xx — 503 with Retry-After (overload, disk
 * full) and 501 for a transfer coding other than chunked — and an error has a JSON body with a message.
 */
function checkAnswer(c: Case, r: RawResponse): void {
  const what = describeCase(c, r);
  const te = c.request.headers['transfer-encoding'];
  if (r.status === 503) expect(r.headers['retry-after'], what).toBeDefined();
  else if (r.status === 501)
    expect(te !== undefined && te.split(',').some((t) => !['chunked', 'identity', ''].includes(t.trim().toLowerCase())), what).toBe(true);
  else expect(r.status, what).toBeLessThan(500);
  if (r.status >= 400 && c.request.method !== 'HEAD') {
    let body: { message?: unknown } | undefined;
    try {
      body = JSON.parse(r.body.toString('utf8')) as { message?: unknown };
    } catch {
      body = undefined;
    }
    expect(typeof body?.message, what).toBe('string');
    expect(String(body?.message).length, what).toBeGreaterThan(5);
  }
}

/** Statuses seen per route and mode: the generators must reach past the first checks, not only bounce off them. */
const seen = new Map<string, Set<number>>();

async function fuzzRoute(route: Route, mode: 'wild' | 'clean'): Promise<void> {
  const numRuns = route.target === 'query' && route.method === 'POST' ? RUNS * 4 : RUNS;
  await fc.assert(
    fc.asyncProperty(casesFor(route, mode), async (c) => {
      const r = await send(c.request);
      const key = `${mode} ${routeKeyOf(route)}`;
      seen.set(key, (seen.get(key) ?? new Set()).add(r.status));
      checkAnswer(c, r);
    }),
    { seed: SEED, numRuns, endOnFailure: true },
  );
  // Nothing unexpected reached the error log (a 500 is logged there), and the server still serves.
  const internal = stack.logger.entries.filter((e) => e.level === 'error');
  expect(internal.map((e) => `${e.message} ${JSON.stringify(e.fields).slice(0, 400)}`)).toEqual([]);
  const health = await call(`${stack.url}/health`);
  expect(health.status).toBe(200);
}

beforeAll(async () => {
  stack = await startTestStack({
    SLUICE_API_KEYS: `${KEY}:fuzz:ingest+query+admin,${QUERY_ONLY}:fuzz:query`,
    SLUICE_FLUSH_MS: '50',
    SLUICE_QUERY_WAIT_MS: '2000',
  });
  port = Number(new URL(stack.url).port);
  const q = await call(`${stack.url}/v1/query`, { body: { sql: 'SELECT 1 AS one' }, headers: { authorization: `Bearer ${KEY}` } });
  expect(q.status).toBe(200);
  realToken = q.body.token as string;
});

afterAll(async () => {
  await stack?.cleanup();
});

const routes = ROUTES.map((r) => [routeKeyOf(r), r] as const);

describe('fuzz: every route with every part of the request off (headers, key, encodings, framing, body)', () => {
  it.each(routes)('%s', async (_, route) => fuzzRoute(route, 'wild'), TIMEOUT_MS);
});

describe('fuzz: every route with a valid envelope, so bodies and parameters reach the parsers', () => {
  it.each(routes)('%s', async (_, route) => fuzzRoute(route, 'clean'), TIMEOUT_MS);
});

describe('after the fuzzing', () => {
  it('the requests reached past the first checks: every ingest POST route stored something, queries ran, pages were read', () => {
    for (const route of ROUTES.filter((r) => r.method === 'POST')) {
      const statuses = [...(seen.get(`clean ${routeKeyOf(route)}`) ?? [])];
      expect(
        statuses.some((s) => s < 300),
        `${routeKeyOf(route)}: ${statuses.join(',')}`,
      ).toBe(true);
    }
    expect(seen.get('clean GET /v1/query/{token}')?.has(200)).toBe(true);
  });

  it('the server is healthy and still ingests and answers queries', async () => {
    const ok = await call(`${stack.url}/v1/logs`, {
      raw: '{"msg":"still ingesting"}',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
    });
    expect(ok.status).toBe(202);
    const q = await call(`${stack.url}/v1/query`, { body: { query: 'stats count(*)', start: '-1h' }, headers: { authorization: `Bearer ${KEY}` } });
    expect(q.status).toBe(200);
  });
});
