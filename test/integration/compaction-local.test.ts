/** Local mode's background compaction: the timer runs the same handler as the AWS schedule, through the real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestStack } from '../helpers/local-stack.js';

const HOUR_START = Date.UTC(2024, 4, 1, 10);
const N = 30;

describe('local compaction', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_COMPACT_EVERY_MS: '300', SLUICE_COMPACT_SETTLE_MS: '0' });
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  const hourFiles = async () => (await stack.deps.store.list('events/tenant=default/dt=2024-05-01/hour=10/')).map((o) => o.key.split('/').pop()!);

  it('merges the batch files of a closed hour while the server runs, and queries still see every event once', async () => {
    // Three requests, each flushed into its own batch file (SLUICE_FLUSH_MS=200 in the test stack).
    for (let r = 0; r < 3; r++) {
      const body = Array.from({ length: N / 3 }, (_, i) =>
        JSON.stringify({ timestamp: new Date(HOUR_START + (i * 3 + r) * 60_000).toISOString(), message: `m${r}-${i}` }),
      ).join('\n');
      expect((await call(`${stack.url}/v1/logs`, { method: 'POST', raw: body, headers: { 'content-type': 'application/x-ndjson' } })).status).toBe(202);
      await stack.writer.drain();
    }
    const deadline = Date.now() + 15_000;
    let files = await hourFiles();
    while (!(files.length === 1 && files[0]!.startsWith('compact-')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      files = await hourFiles();
    }
    expect(files).toEqual([expect.stringMatching(/^compact-[0-9a-f]{16}-0\.parquet$/)]);
    expect(stack.logger.entries.filter((e) => e.message === 'compacted').length).toBeGreaterThanOrEqual(1);
    const q = await call(`${stack.url}/v1/query`, {
      body: {
        query: 'stats count(*) as n, count_distinct(message) as distinct_messages',
        start: new Date(HOUR_START).toISOString(),
        end: new Date(HOUR_START + 3_600_000).toISOString(),
      },
    });
    expect(q.status).toBe(200);
    expect(q.body.rows).toEqual([[N, N]]);
  });
});
