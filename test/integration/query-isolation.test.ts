/**
 * One tenant's queries cannot take the server down for the others (issue #13), over HTTP against the local
 * server with its query engine in a child process: a short flood of never-ending queries meets admission
 * (429 + Retry-After) and the time limit while another tenant's ingest gets 202; the engine's memory bound
 * stops a query that DuckDB's own limit does not; results too large for a page are refused, not a 500.
 * The long form with figures is `npm run bench:isolation`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
const KEYS = 'heavy-k1:heavy:ingest+query+admin,probe-k1:probe:ingest+query+admin';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const NEVER_ENDS = [
  'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r',
  'SELECT count(*) FROM logs a, logs b, logs c, logs d, logs e',
];

/** POST /v1/query, then GET its token while it answers 202: the final status, body and Retry-After. */
async function queryToEnd(stack: Stack, key: string, body: Record<string, unknown>) {
  let r = await call(`${stack.url}/v1/query`, { body, headers: auth(key) });
  while (r.status === 202) {
    await new Promise((res) => setTimeout(res, 100));
    r = await call(`${stack.url}/v1/query/${encodeURIComponent(r.body.token as string)}`, { headers: auth(key) });
  }
  return { status: r.status, body: r.body, retryAfter: r.headers.get('retry-after') };
}

async function load(stack: Stack, key: string, events: number) {
  const lines = Array.from({ length: events }, (_, i) => JSON.stringify({ level: 'info', service: 'svc', msg: `event ${i}` }));
  const r = await call(`${stack.url}/v1/logs`, { raw: lines.join('\n'), headers: { ...auth(key), 'content-type': 'application/x-ndjson' } });
  expect(r.status).toBe(202);
  await eventually(async () =>
    (await call(`${stack.url}/v1/receipts/${r.body.receipt}`, { headers: auth(key) })).body.status === 'stored' ? true : undefined,
  );
}

describe('query isolation', () => {
  let stack: Stack;
  const range = { start: Date.now() - 3600_000, end: Date.now() + 3600_000 };

  beforeAll(async () => {
    stack = await startTestStack({
      SLUICE_API_KEYS: KEYS,
      SLUICE_QUERY_WAIT_MS: '200',
      SLUICE_QUERY_TIMEOUT_MS: '1500',
      SLUICE_QUERY_TENANT_CONCURRENCY: '2',
      SLUICE_QUERY_QUEUE: '2',
      SLUICE_QUERY_QUEUE_WAIT_MS: '500',
      SLUICE_QUERY_MEMORY_MB: '400',
      SLUICE_QUERY_PAGE_MB: '1',
    });
    await load(stack, 'heavy-k1', 200);
    await load(stack, 'probe-k1', 10);
  });
  afterAll(() => stack.cleanup());

  it('a flood of never-ending queries: 429s and time-limit errors for its tenant, 202s and answers for the other', async () => {
    let probing = true;
    const probes: number[] = [];
    const probeLoop = (async () => {
      for (let i = 0; probing; i++) {
        const r = await call(`${stack.url}/v1/logs`, { raw: `{"msg":"probe ${i}"}`, headers: { ...auth('probe-k1'), 'content-type': 'application/json' } });
        probes.push(r.status);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    const flood = Array.from({ length: 8 }, (_, i) => queryToEnd(stack, 'heavy-k1', { sql: NEVER_ENDS[i % 2], ...range }));
    const other = await queryToEnd(stack, 'probe-k1', { query: 'stats count(*) as n', ...range });
    const ends = await Promise.all(flood);
    probing = false;
    await probeLoop;

    expect(other.status).toBe(200);
    expect(probes.length).toBeGreaterThanOrEqual(3);
    expect(probes.every((s) => s === 202)).toBe(true);
    // 2 run (the tenant's limit) until their time limit; 2 wait their 500 ms and are refused; 4 are refused at once.
    const outcomes = ends.map((e) => (e.status === 429 ? '429' : `${e.status} ${e.body.error}`));
    expect(outcomes.filter((o) => o === '400 time_limit')).toHaveLength(2);
    expect(outcomes.filter((o) => o === '429')).toHaveLength(6);
    for (const e of ends.filter((x) => x.status === 429)) {
      expect(Number(e.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(e.body).toMatchObject({ error: 'too_many_queries', message: expect.stringMatching(/retry after/) });
    }
    expect(ends.find((e) => e.status === 400)!.body.message).toMatch(/time limit of 1\.5 s/);

    const light = await queryToEnd(stack, 'heavy-k1', { query: 'stats count(*) as n', ...range });
    expect(light).toMatchObject({ status: 200, body: { rows: [[200]] } });
  });

  it('a query past the engine’s memory bound fails with a memory-limit error, and the next query gets a new engine', async () => {
    // One list of 6e7 integers is ~480 MB in a single value: DuckDB's memory_limit does not cover it.
    const r = await queryToEnd(stack, 'heavy-k1', { sql: 'SELECT list_sum(generate_series(1, 60000000)) AS s', ...range });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('memory_limit');
    const after = await queryToEnd(stack, 'probe-k1', { query: 'stats count(*) as n', ...range });
    expect(after.status).toBe(200);
  });

  it('pages a result larger than a page, and refuses a row larger than a page with a 400', async () => {
    const paged = await queryToEnd(stack, 'heavy-k1', { sql: "SELECT repeat('x', 300000) AS s FROM logs LIMIT 5", ...range });
    expect(paged.status).toBe(200);
    expect(paged.body.rows.length).toBeLessThan(5);
    expect(paged.body.nextToken).toEqual(expect.any(String));
    let rows = paged.body.rows.length as number;
    let next = paged.body.nextToken as string | undefined;
    while (next) {
      const page = await call(`${stack.url}/v1/query/${encodeURIComponent(paged.body.token as string)}?nextToken=${encodeURIComponent(next)}`, {
        headers: auth('heavy-k1'),
      });
      expect(page.status).toBe(200);
      rows += page.body.rows.length as number;
      next = page.body.nextToken;
    }
    expect(rows).toBe(5);

    const tooLarge = await queryToEnd(stack, 'heavy-k1', { sql: "SELECT repeat('x', 3000000) AS s FROM logs LIMIT 6", ...range });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.error).toMatch(/result_limit|memory_limit/);
  });
});
