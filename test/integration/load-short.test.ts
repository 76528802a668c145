/**
 * The short form of the load test (test/load/ingest-load.ts; `npm run test:load` runs it for 60 s): a real
 * load generator against the real server in a child process. Sustained ingest has no errors and no
 * non-2xx; overload is answered with 429 + Retry-After instead of resets; memory stays bounded.
 */
import { describe, expect, it } from 'vitest';
import { overload, sustained, withServer } from '../load/ingest-load.js';

/** Far above what was measured (~600 MiB peak, most of it the writer's 64 MiB batch being encoded), far below the machine. */
const RSS_BOUND_MIB = 1200;

describe('load (short form)', () => {
  it('5 s of sustained NDJSON ingest: every request acknowledged, memory bounded', async () => {
    const r = await withServer({}, (server) => sustained(server, { seconds: 5, connections: 8, eventsPerRequest: 200 }));
    expect(r.requests).toBeGreaterThan(50);
    expect(r).toMatchObject({ non2xx: 0, errors: 0, timeouts: 0 });
    expect(r.peakRssMiB).toBeLessThan(RSS_BOUND_MIB);
  });

  it('overload (200 connections, 1 MiB bodies): 429 with Retry-After, no resets, still healthy, memory bounded', async () => {
    await withServer({}, async (server) => {
      const r = await overload(server, { seconds: 3, connections: 200 });
      expect(r.statusCounts['429'] ?? 0).toBeGreaterThan(0);
      expect(r.statusCounts['202'] ?? 0).toBeGreaterThan(0);
      expect(Object.keys(r.statusCounts).every((s) => ['202', '429', '503'].includes(s))).toBe(true);
      expect(r.errors).toBe(0);
      expect(r.refusal).toMatchObject({ retryAfter: expect.stringMatching(/^[1-9]\d*$/), message: expect.stringMatching(/retry/i) });
      expect(r.peakRssMiB).toBeLessThan(RSS_BOUND_MIB);
      const h = await fetch(`${server.url}/health`);
      expect(h.status).toBe(200);
    });
  });
});
