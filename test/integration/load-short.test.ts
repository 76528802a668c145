/**
 * The short form of the load test (test/load/ingest-load.ts; `npm run test:load` runs it for 60 s): a real
 * load generator against the real server in a child process. Sustained ingest has no errors and no
 * non-2xx; overload is answered with 429 + Retry-After instead of resets; memory stays bounded.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CONCURRENT_INGEST } from '../../lambdas/local/server.js';
import { overload, sustained, withServer } from '../load/ingest-load.js';
import { eventually } from '../helpers/local-stack.js';

/** Far above what was measured (~600 MiB peak, most of it the writer's 64 MiB batch being encoded), far below the machine. */
const RSS_BOUND_MIB = 1200;

describe('load (short form)', () => {
  it('5 s of sustained NDJSON ingest: every request acknowledged, memory bounded', async () => {
    const r = await withServer({}, (server) => sustained(server, { seconds: 5, connections: 8, eventsPerRequest: 200 }));
    expect(r.requests).toBeGreaterThan(50);
    expect(r).toMatchObject({ non2xx: 0, errors: 0, timeouts: 0 });
    expect(r.peakRssMiB).toBeLessThan(RSS_BOUND_MIB);
  });

  it('overload (200 connections, 1 MiB bodies): answered 429, no resets, still healthy, memory bounded', async () => {
    await withServer({}, async (server) => {
      const r = await overload(server, { seconds: 6, connections: 200 });
      expect(r.statusCounts['429'] ?? 0).toBeGreaterThan(0);
      expect(r.statusCounts['202'] ?? 0).toBeGreaterThan(0);
      expect(Object.keys(r.statusCounts).every((s) => ['202', '429', '503'].includes(s))).toBe(true);
      expect(r.errors).toBe(0);
      expect(r.peakRssMiB).toBeLessThan(RSS_BOUND_MIB);
      const h = await fetch(`${server.url}/health`);
      expect(h.status).toBe(200);
    });
  });

  it('the refusal past the in-flight limit: 429, Retry-After and a message, before the body is read', async () => {
    await withServer({}, async (server) => {
      const { port } = new URL(server.url);
      // Uploads that never finish hold every ingest slot, deterministically.
      const held: Socket[] = [];
      for (let i = 0; i < DEFAULT_MAX_CONCURRENT_INGEST; i++) {
        const s = connect(Number(port), '127.0.0.1');
        s.on('error', () => {});
        s.write(`POST /v1/logs HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-ndjson\r\ncontent-length: 1000000\r\n\r\n{"msg":"slow"}\n`);
        held.push(s);
      }
      try {
        const r = await eventually(async () => {
          const res = await fetch(`${server.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"msg":"one more"}' });
          return res.status === 429 ? { retryAfter: res.headers.get('retry-after'), body: await res.json() } : undefined;
        });
        expect(r.retryAfter).toMatch(/^[1-9]\d*$/);
        expect(r.body).toMatchObject({ error: 'too_many_requests', message: expect.stringMatching(/retry/i) });
      } finally {
        for (const s of held) s.destroy();
      }
      // The slots are released: ingest is accepted again.
      await eventually(async () => {
        const res = await fetch(`${server.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"msg":"after"}' });
        return res.status === 202 ? true : undefined;
      });
    });
  });
});
