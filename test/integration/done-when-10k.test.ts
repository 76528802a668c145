/**
 * Issue #2's "Done when": the real `npm start` entry point with its default settings, 10,000 NDJSON
 * events posted, and `SELECT count(*) FROM logs` answering 10000 within 5 seconds of the last 202.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { call } from '../helpers/local-stack.js';
import { tempDir } from '../helpers/tmp.js';

describe('local stack with default settings', () => {
  let server: ChildServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await server?.kill('SIGTERM');
    await cleanup?.();
  });

  it('stores 10,000 NDJSON events and counts them within 5 seconds of the last 202', async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    server = await startChildServer({ SLUICE_DATA_DIR: tmp.dir });
    const lines = Array.from({ length: 10_000 }, (_, i) =>
      JSON.stringify({
        ts: new Date().toISOString(),
        level: i % 10 === 0 ? 'error' : 'info',
        service: `svc-${i % 7}`,
        msg: `request ${i} done`,
        duration_ms: i % 500,
      }),
    );
    for (const chunk of [lines.slice(0, 4000), lines.slice(4000, 8000), lines.slice(8000)]) {
      const r = await call(`${server.url}/v1/logs`, { method: 'POST', raw: chunk.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
      expect(r.status).toBe(202);
      expect(r.body.accepted).toBe(chunk.length);
    }
    const lastAck = Date.now();
    let counted: unknown;
    while (Date.now() - lastAck < 5_000) {
      const r = await call(`${server.url}/v1/query`, { body: { sql: 'SELECT count(*), count(DISTINCT event_id) FROM logs' } });
      counted = r.body.rows?.[0];
      if (r.body.rows?.[0]?.[0] === 10_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(counted).toEqual([10_000, 10_000]);
    expect(Date.now() - lastAck).toBeLessThan(5_000);
  });
});
