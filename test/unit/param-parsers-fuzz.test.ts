/**
 * Every parameter parser, fuzzed on its own: whatever a request carries, each returns a value or throws one
 * of the errors the one error table maps to a 4xx (with a message a person can act on) — never a TypeError,
 * a RangeError or a hang. The time range has its own properties (time-range.test.ts); the body decoders
 * theirs (shippers/fuzz.test.ts); here are the rest: query-string parameters, headers, path parameters, the
 * credential, the route matcher, query tokens, receipt ids and the request body's Content-Encoding.
 */
import fc from 'fast-check';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { defaultsOf, mediaType, multilineParam, param } from '../../lambdas/api/protocols/request.js';
import { bodyBytes, contentEncoding, type ApiEvent } from '../../lambdas/runtime/api-gateway.js';
import { credentialOf } from '../../shared/domain/api-keys.js';
import { BadRequestError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../shared/domain/errors.js';
import { isReceiptId, newReceiptId, receiptTimeMs } from '../../shared/domain/ids.js';
import { signQueryToken, verifyQueryToken } from '../../shared/domain/query-token.js';
import { ROUTES, matchRoute } from '../../shared/domain/routes.js';
import { isValidIndexName } from '../../shared/domain/shippers/elasticsearch.js';
import { checkStreamName } from '../../shared/domain/shippers/proton.js';
import { anyString, paramValue, PARAM_NAMES } from '../helpers/fuzz-inputs.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 1313);
const RUNS = { seed: SEED, numRuns: 2000 };

/** A request error: one the error table maps to a 4xx, with a message of some substance. */
const REQUEST_ERRORS = [BadRequestError, UnsupportedMediaTypeError, PayloadTooLargeError, NotFoundError];

function valueOrRequestError<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    expect(
      REQUEST_ERRORS.some((E) => err instanceof E),
      String((err as Error)?.stack ?? err),
    ).toBe(true);
    expect((err as Error).message.length).toBeGreaterThan(10);
    return undefined;
  }
}

const eventWith = (over: Partial<ApiEvent>): ApiEvent => ({ headers: {}, requestContext: { requestId: 'r' }, ...over }) as unknown as ApiEvent;
const params = fc.dictionary(fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.string({ maxLength: 6 })), paramValue, { maxKeys: 6 });

describe('query-string parameters', () => {
  it('param, ?service/?host/?source/?tags/?tz (defaultsOf) and ?multiline: a value or a 400', () => {
    fc.assert(
      fc.property(params, (qs) => {
        const event = eventWith({ queryStringParameters: qs });
        for (const name of PARAM_NAMES) {
          const v = valueOrRequestError(() => param(event, name));
          if (v !== undefined) expect(v.length).toBeLessThanOrEqual(256);
        }
        const d = valueOrRequestError(() => defaultsOf(event));
        if (d?.tags) for (const t of d.tags) expect(t).toBe(t.trim());
        const m = valueOrRequestError(() => multilineParam(event));
        // A pattern is linear-time whatever it is: testing it on a hostile line is quick.
        if (m instanceof RegExp) {
          const started = performance.now();
          m.test(`${'a'.repeat(5000)}!`);
          expect(performance.now() - started).toBeLessThan(200);
        }
      }),
      RUNS,
    );
  });

  it('a multiline pattern is refused when it cannot run in linear time, and kept when it can', () => {
    const event = (v: string) => eventWith({ queryStringParameters: { multiline: v } });
    expect(() => multilineParam(event('(a)\\1'))).toThrow(/backreferences or lookaround/);
    expect(() => multilineParam(event('(?<=x)y'))).toThrow(/backreferences or lookaround/);
    expect(() => multilineParam(event('('))).toThrow(/not a regular expression/);
    expect(multilineParam(event('^\\d{4}-'))).toBeInstanceOf(RegExp);
  });
});

describe('headers', () => {
  it('Content-Type (mediaType) and Content-Encoding: a value or a 415, in any spelling', () => {
    fc.assert(
      fc.property(
        fc.option(anyString, { nil: undefined }),
        fc.option(anyString, { nil: undefined }),
        fc.constantFrom('content-type', 'Content-Type'),
        (type, encoding, typeName) => {
          const headers: Record<string, string> = {};
          if (type !== undefined) headers[typeName] = type;
          if (encoding !== undefined) headers['content-encoding'] = encoding;
          const event = eventWith({ headers });
          expect(typeof mediaType(event)).toBe('string');
          const e = valueOrRequestError(() => contentEncoding(event));
          if (e !== undefined) expect(['gzip', 'deflate', 'identity']).toContain(e);
        },
      ),
      RUNS,
    );
  });

  it('the body under every Content-Encoding: the bytes, or a 400 / 413 / 415 — compressed or not, truncated, base64 or not', () => {
    const encodings = fc.constantFrom(undefined, 'gzip', 'x-gzip', 'deflate', 'identity', 'br', 'GZIP', ' deflate ');
    const bodies = fc
      .uint8Array({ maxLength: 300 })
      .chain((bytes) =>
        fc.constantFrom(
          Buffer.from(bytes),
          gzipSync(bytes),
          deflateSync(bytes),
          deflateRawSync(bytes),
          gzipSync(bytes).subarray(0, Math.max(0, bytes.length - 3)),
          gzipSync(Buffer.alloc(20_000, 0x61)),
        ),
      );
    fc.assert(
      fc.property(encodings, bodies, fc.boolean(), (encoding, body, base64) => {
        const event = eventWith({
          headers: encoding === undefined ? {} : { 'content-encoding': encoding },
          body: base64 ? body.toString('base64') : body.toString('latin1'),
          isBase64Encoded: base64,
        });
        const out = valueOrRequestError(() => bodyBytes(event, 2048));
        if (out) expect(out.length).toBeLessThanOrEqual(2048 * 8);
      }),
      RUNS,
    );
  });

  it('Authorization (credentialOf): a key or nothing, whatever the scheme and bytes', () => {
    const schemes = fc.constantFrom('Bearer ', 'bearer ', 'Splunk ', 'ApiKey ', 'Basic ', 'Token ', '', ' ');
    const basic = fc.tuple(anyString, anyString).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(schemes, anyString).map(([s, k]) => s + k),
          basic,
          anyString,
          fc.constant(undefined),
        ),
        (authorization) => {
          const key = credentialOf(authorization);
          if (key !== undefined) expect(typeof key).toBe('string');
        },
      ),
      RUNS,
    );
  });
});

describe('paths and path parameters', () => {
  it('the route matcher: a match, 404 or 405 for any method and path (bad percent-encoding included)', () => {
    const segment = fc.oneof(
      anyString.map((s) => s.replace(/\//g, '')),
      fc.constantFrom('%', '%zz', '%2F', '..', '_bulk', 'v1', 'logs', 'query'),
    );
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'get', 'X'), fc.array(segment, { maxLength: 6 }), (method, segments) => {
        const m = matchRoute(method, `/${segments.join('/')}`);
        expect(['match', 'not-found', 'method-not-allowed']).toContain(m.kind);
        if (m.kind === 'match') for (const v of Object.values(m.params)) expect(typeof v).toBe('string');
      }),
      RUNS,
    );
    expect(ROUTES.length).toBeGreaterThan(10);
  });

  it('{index} and {stream}: a name or a 400', () => {
    fc.assert(
      fc.property(anyString, (name) => {
        expect(typeof isValidIndexName(name)).toBe('boolean');
        valueOrRequestError(() => checkStreamName(name));
      }),
      RUNS,
    );
  });

  it('{id} (receipt ids): recognised or not, and a recognised one has a time', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyString,
          fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(Date.UTC(2200, 0, 1)) }).map((d) => newReceiptId(d.getTime())),
        ),
        (id) => {
          if (isReceiptId(id)) expect(Number.isFinite(receiptTimeMs(id))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('{token} (query tokens): the payload of a valid token, else a 404 that says nothing more', () => {
    const secret = Buffer.alloc(32, 3);
    const valid = signQueryToken({ id: 'q1', tenant: 'acme', start: 0, end: 1, exp: 2e12 }, secret);
    const tokens = fc.oneof(
      anyString,
      fc.constant(valid),
      fc.tuple(fc.nat(valid.length), anyString).map(([i, s]) => valid.slice(0, i) + s + valid.slice(i + 1)),
      fc.tuple(fc.jsonValue(), anyString).map(([p, sig]) => `${Buffer.from(JSON.stringify(p) ?? '').toString('base64url')}.${sig}`),
    );
    fc.assert(
      fc.property(tokens, fc.constantFrom('acme', 'globex'), (token, tenant) => {
        const payload = valueOrRequestError(() => verifyQueryToken(token, tenant, secret, 1e12));
        if (payload) expect(payload.tenant).toBe(tenant);
      }),
      RUNS,
    );
  });
});
