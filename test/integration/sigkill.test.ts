/**
 * An acknowledged event is never lost and never stored twice, even when the process is killed with
 * SIGKILL: before the batch is written, and at random points while batches are being written.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { call, eventually } from '../helpers/local-stack.js';
import { tempDir } from '../helpers/tmp.js';

const ndjson = (from: number, count: number, run: string) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ level: 'info', msg: `event ${from + i}`, run, n: from + i })).join('\n');

async function countStored(url: string, run: string): Promise<{ total: number; distinct: number }> {
  const r = await call(`${url}/v1/query`, {
    body: { sql: `SELECT count(*), count(DISTINCT attributes['n']) FROM logs WHERE attributes['run'] = '${run}'`, start: Date.now() - 3600_000 },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return { total: r.body.rows[0][0], distinct: r.body.rows[0][1] };
}

describe('SIGKILL', () => {
  let server: ChildServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await server?.kill('SIGKILL');
    await cleanup?.();
  });

  it('after 202 and before the flush: every event is there exactly once after a restart', async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    // A flush interval far beyond the test, so the kill certainly comes before any batch is written.
    server = await startChildServer({ SLUICE_DATA_DIR: tmp.dir, SLUICE_FLUSH_MS: '3600000' });
    let acked = 0;
    for (let i = 0; i < 5; i++) {
      const r = await call(`${server.url}/v1/logs`, { method: 'POST', raw: ndjson(i * 400, 400, 'a'), headers: { 'content-type': 'application/x-ndjson' } });
      expect(r.status).toBe(202);
      acked += r.body.accepted;
    }
    expect((await countStored(server.url, 'a')).total).toBe(0);
    await server.kill('SIGKILL');

    server = await startChildServer({ SLUICE_DATA_DIR: tmp.dir, SLUICE_FLUSH_MS: '200' });
    const url = server.url;
    const stored = await eventually(async () => {
      const c = await countStored(url, 'a');
      return c.total >= acked ? c : undefined;
    }, 15_000);
    expect(stored).toEqual({ total: acked, distinct: acked });
    // And it stays exactly once: nothing is replayed a second time.
    await new Promise((r) => setTimeout(r, 800));
    expect(await countStored(url, 'a')).toEqual({ total: acked, distinct: acked });
  });

  it('at random points while writing: acknowledged events survive exactly once', async () => {
    const tmp = await tempDir();
    cleanup = tmp.cleanup;
    const env = { SLUICE_DATA_DIR: tmp.dir, SLUICE_FLUSH_MS: '50', SLUICE_BATCH_BYTES: String(64 * 1024) };
    const acked = new Set<number>();
    let next = 0;
    for (let round = 0; round < 4; round++) {
      server = await startChildServer(env);
      const url = server.url;
      const deadline = Date.now() + 300 + Math.random() * 700;
      const senders = Array.from({ length: 3 }, async () => {
        while (Date.now() < deadline) {
          const from = next;
          next += 50;
          try {
            const r = await call(`${url}/v1/logs`, { method: 'POST', raw: ndjson(from, 50, 'b'), headers: { 'content-type': 'application/x-ndjson' } });
            if (r.status === 202) for (let i = 0; i < 50; i++) acked.add(from + i);
          } catch {
            return; // the server died mid-request: that request was not acknowledged
          }
        }
      });
      // Kill while senders are still posting and the writer is flushing every 50 ms.
      await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() - 100)));
      await server.kill('SIGKILL');
      await Promise.all(senders);
    }
    server = await startChildServer({ ...env, SLUICE_FLUSH_MS: '100' });
    const url = server.url;
    expect(acked.size).toBeGreaterThan(0);
    // Wait until every acknowledged event is queryable (the replayed backlog is written in batches).
    const missingAfter = async (): Promise<number[]> => {
      const listed = await call(`${url}/v1/query`, {
        body: { sql: "SELECT list(DISTINCT CAST(attributes['n'] AS INTEGER)) FROM logs WHERE attributes['run'] = 'b'", start: Date.now() - 3600_000 },
      });
      const present = new Set<number>(listed.body.rows[0][0] ?? []);
      return [...acked].filter((n) => !present.has(n));
    };
    await eventually(async () => ((await missingAfter()).length === 0 ? true : undefined), 20_000).catch(() => undefined);
    expect(await missingAfter()).toEqual([]);
    // Every acknowledged event is there, and nothing is there twice. (Requests cut off by the kill may
    // also have been stored before their 202 was sent; those are stored once too.)
    const stored = await countStored(url, 'b');
    expect(stored.total).toBe(stored.distinct);
  });
});
