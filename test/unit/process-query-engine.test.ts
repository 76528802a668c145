/**
 * ProcessQueryEngine's guarantees, against a stand-in worker (test/helpers/fake-query-worker.cjs): a query
 * that outlives its time limit and the worker's own interrupt gets its worker killed and a time-limit
 * failure; a worker past its memory bound is killed and its queries fail with a memory-limit failure; a
 * worker that dies fails only its running queries; the next query gets a new worker.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessQueryEngine, type ProcessQueryEngineOptions } from '../../shared/adapters/local/process-query-engine.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import type { ScopedQuery } from '../../shared/ports/query-engine.js';

const ENTRY = fileURLToPath(new URL('../helpers/fake-query-worker.cjs', import.meta.url));
const q = (sql: string): ScopedQuery => ({ tenant: 'acme', sql, startMs: 0, endMs: 1, params: [], limit: 10, trusted: false });

describe('ProcessQueryEngine', () => {
  const engines: ProcessQueryEngine[] = [];
  const open = (opts: Partial<ProcessQueryEngineOptions> = {}) => {
    const exits: (string | undefined)[] = [];
    const engine = new ProcessQueryEngine({
      entry: ENTRY,
      execArgv: [],
      env: { PATH: '' },
      workerOptions: {},
      timeoutMs: 300,
      killGraceMs: 200,
      maxRssBytes: 4 * 1024 * 1024 * 1024,
      resultTtlMs: 60_000,
      onExit: ({ reason }) => exits.push(reason),
      ...opts,
    });
    engines.push(engine);
    return { engine, exits };
  };
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close()));
  });

  it('answers through the worker: start, status, settled, page', async () => {
    const { engine } = open();
    const id = await engine.start(q('SELECT 1'));
    await engine.settled(id, 5_000);
    expect(await engine.status(id)).toMatchObject({ state: 'succeeded' });
    expect((await engine.page(id, undefined, 10)).rows).toEqual([[1]]);
    await expect(engine.status('nope')).rejects.toThrow(NotFoundError);
  });

  it('kills a worker whose query outlived its time limit, fails that query with a time-limit failure and the others as unavailable', async () => {
    const { engine, exits } = open();
    const stuck = await engine.start(q('STUCK'));
    const bystander = await engine.start(q('STUCK'));
    const firstPid = engine.pid;
    await engine.settled(stuck, 10_000);
    expect(await engine.status(stuck)).toMatchObject({ state: 'failed', failure: 'time_limit', error: expect.stringMatching(/time limit of 0\.3 s/) });
    // Started a moment later, its own deadline had not passed: it failed because the worker went.
    expect((await engine.status(bystander)).failure).toMatch(/time_limit|unavailable/);
    expect(exits).toEqual(['time']);
    const next = await engine.start(q('SELECT 1'));
    await engine.settled(next, 5_000);
    expect(await engine.status(next)).toMatchObject({ state: 'succeeded' });
    expect(engine.pid).not.toBe(firstPid);
  });

  it('kills a worker past its memory bound and fails its queries with a memory-limit failure', async () => {
    const { engine, exits } = open({ maxRssBytes: 200 * 1024 * 1024, timeoutMs: 60_000 });
    const id = await engine.start(q('ALLOCATE'));
    await engine.settled(id, 10_000);
    expect(await engine.status(id)).toMatchObject({ state: 'failed', failure: 'memory_limit', error: expect.stringMatching(/memory bound \(200 MiB\)/) });
    expect(exits).toEqual(['memory']);
    expect(engine.peakRssBytes).toBeGreaterThan(200 * 1024 * 1024);
  });

  it('a worker that dies fails only the queries it was running; finished results of a gone worker say so', async () => {
    const { engine } = open({ timeoutMs: 60_000 });
    const done = await engine.start(q('SELECT 1'));
    await engine.settled(done, 5_000);
    const crash = await engine.start(q('CRASH'));
    await engine.settled(crash, 5_000);
    expect(await engine.status(crash)).toMatchObject({ state: 'failed', failure: 'unavailable' });
    await expect(engine.page(done, undefined, 10)).rejects.toThrow(/restarted since this query finished/);
  });
});
