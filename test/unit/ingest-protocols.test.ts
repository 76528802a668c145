/** lambdas/api/ingest.ts: every ingest route of ROUTES reaches its protocol; HEC codes come from typed errors. */
import { describe, expect, it } from 'vitest';
import { makeIngestHandler } from '../../lambdas/api/ingest.js';
import type { ApiEvent } from '../../lambdas/runtime/api-gateway.js';
import { ROUTES, routeKeyOf } from '../../shared/domain/routes.js';
import { makeIngestService } from '../../shared/services/ingest.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const handler = makeIngestHandler({
  ingest: makeIngestService({ queue: { maxMessageBytes: 256 * 1024, send: async () => {} }, clock: { now: () => Date.UTC(2024, 4, 1) } }),
  logger,
  maxBodyBytes: 1024 * 1024,
});

function request(routeKey: string, body: string): ApiEvent {
  return {
    routeKey,
    headers: {},
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'r', authorizer: { lambda: { tenant: 'acme', scopes: 'ingest', keyId: 'k' } } },
  } as unknown as ApiEvent;
}

describe('ingest dispatch', () => {
  it('serves every ingest route of ROUTES (none falls through to 404)', async () => {
    const ingestRoutes = ROUTES.filter((r) => r.target === 'ingest');
    expect(ingestRoutes.length).toBeGreaterThan(10);
    for (const route of ingestRoutes) {
      const reply = await handler(request(routeKeyOf(route), ''));
      expect(reply.statusCode, routeKeyOf(route)).not.toBe(404);
    }
  });

  it('answers 404 for a route key that is not an ingest route', async () => {
    expect((await handler(request('POST /v1/query', '{}'))).statusCode).toBe(404);
  });
});

describe('Splunk HEC error codes', () => {
  const hec = async (body: string) => JSON.parse((await handler(request('POST /services/collector/event', body))).body!) as { code: number };

  it('takes the code from the refusal, not from words in the message', async () => {
    expect((await hec('')).code).toBe(5);
    expect((await hec('not json')).code).toBe(6);
    expect((await hec('{"time":1}')).code).toBe(12);
    expect((await hec('{"event":" "}')).code).toBe(13);
    // The event's own text says "No data", but the request is invalid data (6), not empty (5).
    expect((await hec('{"event": No data}')).code).toBe(6);
    // Several events, all rejected: no single event's code speaks for the request.
    expect((await hec('{"time":1}{"time":2}')).code).toBe(6);
  });
});
