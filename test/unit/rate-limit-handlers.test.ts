/**
 * Per-tenant rate limits at the API (issue 13, finding 7): the ingest and query handlers take one request
 * from the tenant's allowance after checking the key's scope, and beyond it answer 429 with Retry-After
 * (in each ingest protocol's own error shape); another tenant is not affected. The limiter here is the
 * in-memory one; test/integration/moto-rate-limiter.test.ts checks the DynamoDB one across instances.
 */
import { describe, expect, it } from 'vitest';
import { makeIngestHandler } from '../../lambdas/api/ingest.js';
import { makeQueryHandler } from '../../lambdas/api/query.js';
import type { ApiEvent } from '../../lambdas/runtime/api-gateway.js';
import { MemoryRateLimiter } from '../../shared/adapters/local/memory-rate-limiter.js';
import { gcraDecide, rateLimitsSchema } from '../../shared/domain/rate-limits.js';
import type { Queue } from '../../shared/ports/queue.js';
import type { QueryService } from '../../shared/services/query.js';
import type { ReceiptService } from '../../shared/services/receipts.js';
import { makeIngestService } from '../../shared/services/ingest.js';
import { MemoryLogger } from '../helpers/logger.js';

const T0 = Date.UTC(2024, 4, 1, 12);

function event(routeKey: string, tenant: string, body: string, scopes = 'ingest query'): ApiEvent {
  const [method, path] = routeKey.split(' ') as [string, string];
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    body,
    isBase64Encoded: false,
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 't' },
      requestId: 'r',
      routeKey,
      authorizer: { lambda: { tenant, scopes, keyId: 'k' } },
    },
  } as unknown as ApiEvent;
}

function stack(limits: unknown) {
  const time = { now: T0 };
  const sent: string[] = [];
  const queue: Queue = { maxMessageBytes: 256 * 1024, send: async (bodies) => void sent.push(...bodies) };
  const limiter = new MemoryRateLimiter({ limits: rateLimitsSchema.parse(limits), clock: { now: () => time.now } });
  const logger = new MemoryLogger();
  const ingest = makeIngestHandler({ ingest: makeIngestService({ queue, clock: { now: () => time.now } }), logger, maxBodyBytes: 1 << 20, limiter });
  const queries = { run: async () => ({ status: 'complete', rows: [] }) } as unknown as QueryService;
  const query = makeQueryHandler({ queries, receipts: {} as ReceiptService, logger, limiter });
  return { time, sent, ingest, query };
}

describe('per-tenant rate limits at the API', () => {
  it('ingest: the burst is accepted, then 429 with Retry-After; another tenant is unaffected; the allowance refills', async () => {
    const s = stack({ default: { rate: 1, burst: 3 }, tenants: { big: { rate: 50, burst: 50 } } });
    const post = (tenant: string) => s.ingest(event('POST /v1/logs', tenant, '{"msg":"hi"}'));
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post('acme')).statusCode);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const limited = await post('acme');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(limited.body!)).toMatchObject({ error: 'rate_limited', message: expect.stringContaining('acme is over its request rate limit') });
    for (let i = 0; i < 10; i++) expect((await post('big')).statusCode).toBe(202);
    // Refused requests enqueue nothing.
    expect(s.sent).toHaveLength(3 + 10);
    s.time.now += 1000;
    expect((await post('acme')).statusCode).toBe(202);
    expect((await post('acme')).statusCode).toBe(429);
  });

  it("ingest: a shipper's route answers 429 in its own shape (Splunk HEC, Elasticsearch bulk)", async () => {
    const s = stack({ default: { rate: 1, burst: 1 } });
    expect((await s.ingest(event('POST /services/collector/event', 'acme', '{"event":"x"}'))).statusCode).toBe(200);
    const hec = await s.ingest(event('POST /services/collector/event', 'acme', '{"event":"x"}'));
    expect(hec.statusCode).toBe(429);
    expect(hec.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(hec.body!)).toHaveProperty('text');
    const bulk = await s.ingest(event('POST /_bulk', 'acme', '{"index":{}}\n{"msg":"x"}\n'));
    expect(bulk.statusCode).toBe(429);
    expect(bulk.headers?.['x-elastic-product']).toBe('Elasticsearch');
  });

  it('query: 429 with Retry-After beyond the limit; a key without the scope is refused before it uses any', async () => {
    const s = stack({ default: { rate: 0.5, burst: 2 } });
    const ask = (scopes = 'query') => s.query(event('POST /v1/query', 'acme', '{"query":"limit 1"}', scopes));
    expect((await ask()).statusCode).not.toBe(429);
    expect((await ask()).statusCode).not.toBe(429);
    const third = await ask();
    expect(third.statusCode).toBe(429);
    expect(third.headers?.['retry-after']).toBe('2');
  });

  it('GCRA: a bucket of `burst` requests refilled at `rate`', () => {
    const limit = { rate: 10, burst: 3 };
    let tat: number | undefined;
    const at = (ms: number) => {
      const d = gcraDecide(limit, tat, ms * 1000);
      if (d.allowed) tat = d.tat;
      return d.allowed;
    };
    expect([at(0), at(0), at(0), at(0)]).toEqual([true, true, true, false]);
    expect([at(99), at(100), at(100)]).toEqual([false, true, false]);
    expect([at(10_000), at(10_000), at(10_000), at(10_000)]).toEqual([true, true, true, false]);
  });

  it('limits are validated: rate above 0, burst a whole number of at least 1, tenant ids of the safe alphabet', () => {
    expect(rateLimitsSchema.safeParse({ default: { rate: 0, burst: 1 } }).success).toBe(false);
    expect(rateLimitsSchema.safeParse({ default: { rate: 1, burst: 0.5 } }).success).toBe(false);
    expect(rateLimitsSchema.safeParse({ tenants: { '../acme': { rate: 1, burst: 1 } } }).success).toBe(false);
    expect(rateLimitsSchema.safeParse({ defaults: {} }).success).toBe(false);
    expect(rateLimitsSchema.parse({ tenants: { acme: { rate: 5, burst: 10 } } })).toEqual({ tenants: { acme: { rate: 5, burst: 10 } } });
  });
});
