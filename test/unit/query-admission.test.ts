import { describe, expect, it } from 'vitest';
import { QueryError, QueryLimitError, TooManyQueriesError, UnavailableError } from '../../shared/domain/errors.js';
import { duckDbDialect } from '../../shared/domain/query/dialects/duckdb.js';
import type { QueryEngine, QueryStatus, ScopedQuery } from '../../shared/ports/query-engine.js';
import { QueryAdmission, withAdmission, type AdmissionLimits } from '../../shared/services/query-admission.js';
import { makeQueryService } from '../../shared/services/query.js';
import { errorResponse } from '../../lambdas/runtime/api-gateway.js';
import { MemoryLogger } from '../helpers/logger.js';

/** An engine whose queries run until the test ends them. */
class ManualEngine implements QueryEngine {
  readonly dialect = duckDbDialect;
  readonly started: ScopedQuery[] = [];
  private readonly runs = new Map<string, { status: QueryStatus; done: Promise<void>; end: (s: QueryStatus) => void }>();
  refuse: Error | undefined;

  async start(q: ScopedQuery): Promise<string> {
    if (this.refuse) throw this.refuse;
    const id = `q${this.started.length}`;
    this.started.push(q);
    let end!: (s: QueryStatus) => void;
    const run = {
      status: { state: 'running' } as QueryStatus,
      done: new Promise<void>((r) => (end = (s) => ((run.status = s), r()))),
      end: (s: QueryStatus) => end(s),
    };
    this.runs.set(id, run);
    return id;
  }
  end(id: string, status: QueryStatus = { state: 'succeeded', stats: { rows: 0, bytesScanned: 0, elapsedMs: 1 } }): void {
    this.runs.get(id)!.end(status);
  }
  async status(id: string): Promise<QueryStatus> {
    return this.runs.get(id)!.status;
  }
  async page() {
    return { columns: [], rows: [], stats: { rows: 0, bytesScanned: 0, elapsedMs: 1 } };
  }
  async cancel(): Promise<void> {}
  async settled(id: string, timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.runs.get(id)!.done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }
}

const LIMITS: AdmissionLimits = { global: 3, perTenant: 2, queuePerTenant: 2, queueTotal: 8, maxWaitMs: 60_000 };
const q = (tenant: string): ScopedQuery => ({ tenant, startMs: 0, endMs: 1, sql: 'SELECT 1', params: [], limit: 10, trusted: false });
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('query admission', () => {
  it('runs a tenant’s queries up to its limit, queues the next ones, and refuses beyond the queue with 429 + Retry-After', async () => {
    const engine = new ManualEngine();
    const admitted = withAdmission(engine, new QueryAdmission(LIMITS));
    const a1 = await admitted.start(q('a'));
    await admitted.start(q('a'));
    const queued = [admitted.start(q('a')), admitted.start(q('a'))];
    await tick();
    expect(engine.started).toHaveLength(2);
    const refused = await admitted.start(q('a')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TooManyQueriesError);
    expect((refused as TooManyQueriesError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    const reply = errorResponse(refused, new MemoryLogger());
    expect(reply.statusCode).toBe(429);
    expect(reply.headers?.['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(reply.body!)).toMatchObject({
      error: 'too_many_queries',
      message: expect.stringMatching(/already runs 2 queries at once and 2 more are waiting/),
    });

    // A finished query hands its slot to the first one waiting.
    engine.end(a1);
    await queued[0];
    expect(engine.started).toHaveLength(3);
  });

  it('another tenant is not held up by one tenant’s flood', async () => {
    const engine = new ManualEngine();
    const admitted = withAdmission(engine, new QueryAdmission(LIMITS));
    const flood = Array.from({ length: 10 }, () => admitted.start(q('noisy')).catch((e: unknown) => e));
    await tick();
    expect(engine.started.map((s) => s.tenant)).toEqual(['noisy', 'noisy']);
    await admitted.start(q('quiet'));
    expect(engine.started.map((s) => s.tenant)).toEqual(['noisy', 'noisy', 'quiet']);
    const refused = (await Promise.all(flood.slice(4))).filter((r) => r instanceof TooManyQueriesError);
    expect(refused).toHaveLength(6);
  });

  it('hands free slots to waiting tenants in turn, so one tenant’s queue cannot starve another’s', async () => {
    const engine = new ManualEngine();
    const admitted = withAdmission(engine, new QueryAdmission({ ...LIMITS, global: 1, perTenant: 1 }));
    const first = await admitted.start(q('a'));
    const waiting = [admitted.start(q('a')), admitted.start(q('a')), admitted.start(q('b'))];
    await tick();
    engine.end(first);
    await tick();
    engine.end('q1');
    await tick();
    expect(engine.started.map((s) => s.tenant)).toEqual(['a', 'a', 'b']);
    engine.end('q2');
    await Promise.all(waiting);
    expect(engine.started.map((s) => s.tenant)).toEqual(['a', 'a', 'b', 'a']);
  });

  it('refuses a query that waited its longest', async () => {
    const engine = new ManualEngine();
    const admitted = withAdmission(engine, new QueryAdmission({ ...LIMITS, perTenant: 1, maxWaitMs: 30 }));
    await admitted.start(q('a'));
    const err = await admitted.start(q('a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyQueriesError);
    expect((err as Error).message).toMatch(/no query slot became free/);
  });

  it('frees the slot of a query the engine refused at start', async () => {
    const engine = new ManualEngine();
    const admission = new QueryAdmission({ ...LIMITS, perTenant: 1 });
    const admitted = withAdmission(engine, admission);
    engine.refuse = new QueryError('only a single SELECT');
    await expect(admitted.start(q('a'))).rejects.toThrow(/single SELECT/);
    engine.refuse = undefined;
    await admitted.start(q('a'));
    expect(admission.snapshot()).toMatchObject({ running: 1, waiting: 0 });
  });

  it('the query service reports a time limit, a memory bound, a result cap and a restarted engine as such, not as bad SQL', async () => {
    const engine = new ManualEngine();
    const service = makeQueryService({ engine, clock: { now: () => Date.now() }, tokenSecret: Buffer.alloc(32, 1), waitBudgetMs: 5_000 });
    const cases: [QueryStatus['failure'], unknown, number, string][] = [
      ['time_limit', QueryLimitError, 400, 'time_limit'],
      ['memory_limit', QueryLimitError, 400, 'memory_limit'],
      ['result_limit', QueryLimitError, 400, 'result_limit'],
      ['unavailable', UnavailableError, 503, 'unavailable'],
      [undefined, QueryError, 400, 'query_error'],
    ];
    for (const [failure, type, status, code] of cases) {
      const pending = service.run({ tenant: 't', sql: 'SELECT 1' }).catch((e: unknown) => e);
      await tick();
      engine.end(`q${engine.started.length - 1}`, { state: 'failed', error: `failed: ${failure ?? 'syntax'}`, ...(failure ? { failure } : {}) });
      const err = await pending;
      expect(err).toBeInstanceOf(type);
      const reply = errorResponse(err, new MemoryLogger());
      expect(reply.statusCode).toBe(status);
      expect(JSON.parse(reply.body!).error).toBe(code);
    }
  });
});
