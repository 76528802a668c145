/**
 * The local query engine in a child process: DuckDbQueryEngine runs in its own Node process, and this
 * adapter speaks to it over IPC. What the child does cannot reach ingest:
 * - its own libuv thread pool: a running DuckDB statement holds a pool thread for as long as it runs, and
 *   in the server's process queries in flight took every thread and the spool's fsync waited behind them;
 * - a lower CPU priority (nice 10): the server's event loop and the writer come first on a busy machine;
 * - its own memory: DuckDB's memory_limit bounds its buffers, not every allocation (a list of 3e8 integers
 *   is one 2.4 GB value), so this side watches the child's resident memory and kills it beyond a bound;
 * - its own failures: a child that dies (or is killed past a query's time limit, or for memory) fails only
 *   the queries it was running, and the next query starts a new one.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { NotFoundError, QueryError, QueryLimitError, UnavailableError } from '../../domain/errors.js';
import { duckDbDialect } from '../../domain/query/dialects/duckdb.js';
import type { QueryEngine, QueryPage, QueryStatus, ScopedQuery } from '../../ports/query-engine.js';

export interface ProcessQueryEngineOptions {
  /** the worker's entry file (it calls serveQueryEngine) */
  entry: string;
  /** node flags for the worker, e.g. ['--import', '<tsx loader>'] */
  execArgv: string[];
  /** the worker's environment (UV_THREADPOOL_SIZE sized for its queries) */
  env: NodeJS.ProcessEnv;
  /** passed to the worker as its one argument, JSON */
  workerOptions: unknown;
  /** a query's time limit; past it and a grace the worker is killed if the query still runs */
  timeoutMs: number;
  /** the worker's resident memory bound in bytes; beyond it the worker is killed (Linux: /proc) */
  maxRssBytes: number;
  /** how long finished queries' statuses are kept (as the worker keeps their results) */
  resultTtlMs: number;
  /** how long the worker may take to start */
  startTimeoutMs?: number;
  /** extra time past the time limit for the worker's own interrupt to work, before the kill */
  killGraceMs?: number;
  /** told when the worker exits or is killed (for the server's log) */
  onExit?: (info: { code: number | null; signal: NodeJS.Signals | null; reason: string | undefined }) => void;
}

type Method = 'start' | 'status' | 'page' | 'cancel';
type ToWorker = { t: 'call'; id: number; method: Method; args: unknown[] } | { t: 'close' };
interface WireError {
  name: string;
  message: string;
  limit?: QueryLimitError['limit'];
}
type FromWorker =
  | { t: 'ready' }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: WireError }
  | { t: 'ended'; execution: string; status: QueryStatus };

interface Tracked {
  /** the worker that ran it: its results live and die with that worker */
  worker: Worker;
  deadline: number;
  status: QueryStatus | undefined;
  endedAt: number | undefined;
  waiters: Set<() => void>;
}

interface Worker {
  proc: ChildProcess;
  ready: Promise<void>;
  calls: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  running: Map<string, Tracked>;
  /** 'ended' messages that arrived before the reply to their start had been handled */
  endedEarly: Map<string, QueryStatus>;
  /** why this side killed it, if it did */
  killedFor?: { reason: 'memory' | 'time'; execution?: string };
}

function errorFrom(e: WireError): Error {
  switch (e.name) {
    case 'QueryLimitError':
      return new QueryLimitError(e.message, e.limit ?? 'time');
    case 'QueryError':
      return new QueryError(e.message);
    case 'NotFoundError':
      return new NotFoundError(e.message);
    case 'UnavailableError':
      return new UnavailableError(e.message, 1);
    default:
      return new Error(e.message);
  }
}

function errorTo(err: unknown): WireError {
  const e = err as Error;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), ...(err instanceof QueryLimitError ? { limit: err.limit } : {}) };
}

/** Resident memory of a process in bytes, or undefined where /proc is not there. */
function residentBytes(pid: number): number | undefined {
  try {
    return Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  } catch {
    return undefined;
  }
}

export class ProcessQueryEngine implements QueryEngine {
  readonly dialect = duckDbDialect;
  private worker: Worker | undefined;
  private readonly executions = new Map<string, Tracked>();
  private nextCall = 1;
  private closed = false;
  private monitor: ReturnType<typeof setInterval> | undefined;
  /** peak resident memory seen of any worker (bytes), for reports */
  peakRssBytes = 0;

  constructor(private readonly opts: ProcessQueryEngineOptions) {}

  /** The worker's pid, once started (tests, benchmarks). */
  get pid(): number | undefined {
    return this.worker?.proc.pid;
  }

  private spawn(): Worker {
    const proc = fork(this.opts.entry, [JSON.stringify(this.opts.workerOptions)], {
      execArgv: this.opts.execArgv,
      env: this.opts.env,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker: Worker = { proc, ready: Promise.resolve(), calls: new Map(), running: new Map(), endedEarly: new Map() };
    worker.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new UnavailableError('the query engine did not start in time; retry', 1));
        proc.kill('SIGKILL');
      }, this.opts.startTimeoutMs ?? 30_000);
      proc.once('message', (m: FromWorker) => {
        clearTimeout(timer);
        if (m.t === 'ready') resolve();
        else reject(new UnavailableError('the query engine did not start; retry', 1));
      });
      proc.once('exit', () => {
        clearTimeout(timer);
        reject(new UnavailableError('the query engine exited while starting; retry', 1));
      });
    });
    worker.ready.catch(() => undefined);
    proc.on('message', (m: FromWorker) => this.onMessage(worker, m));
    proc.on('error', () => undefined);
    proc.once('exit', (code, signal) => this.onExit(worker, code, signal));
    this.monitor ??= setInterval(() => this.watch(), 100);
    this.monitor.unref();
    return worker;
  }

  private onMessage(worker: Worker, m: FromWorker): void {
    if (m.t === 'reply') {
      const call = worker.calls.get(m.id);
      if (!call) return;
      worker.calls.delete(m.id);
      if (m.ok) call.resolve(m.value);
      else call.reject(errorFrom(m.error));
    } else if (m.t === 'ended') {
      const tracked = worker.running.get(m.execution);
      if (!tracked) {
        worker.endedEarly.set(m.execution, m.status);
        return;
      }
      worker.running.delete(m.execution);
      this.end(tracked, m.status);
    }
  }

  private end(tracked: Tracked, status: QueryStatus): void {
    tracked.status = status;
    tracked.endedAt = Date.now();
    for (const w of tracked.waiters) w();
    tracked.waiters.clear();
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.worker === worker) this.worker = undefined;
    const killed = worker.killedFor;
    this.opts.onExit?.({ code, signal, reason: killed?.reason });
    for (const call of worker.calls.values()) call.reject(new UnavailableError('the query engine restarted while answering; retry', 1));
    worker.calls.clear();
    const seconds = Math.round(this.opts.timeoutMs / 100) / 10;
    for (const [id, tracked] of worker.running) {
      let status: QueryStatus;
      if (killed?.reason === 'memory') {
        status = {
          state: 'failed',
          failure: 'memory_limit',
          error: `the query engine went past its memory bound (${Math.round(this.opts.maxRssBytes / 1024 / 1024)} MiB) while this query ran, and was stopped; narrow the time range, add filters or aggregate (if this query is small, another one caused it: retry)`,
        };
      } else if (killed?.reason === 'time' && killed.execution === id) {
        status = {
          state: 'failed',
          failure: 'time_limit',
          error: `the query reached its time limit of ${seconds} s and was stopped; narrow the time range, add filters, or aggregate`,
        };
      } else {
        status = { state: 'failed', failure: 'unavailable', error: 'the query engine restarted while this query ran; retry' };
      }
      this.end(tracked, status);
    }
    worker.running.clear();
  }

  /** Kills the worker when it holds more memory than its bound, or a query outlived its time limit and its interrupt. */
  private watch(): void {
    const worker = this.worker;
    if (!worker || worker.killedFor || worker.proc.pid === undefined) return;
    const rss = residentBytes(worker.proc.pid);
    if (rss !== undefined) {
      this.peakRssBytes = Math.max(this.peakRssBytes, rss);
      if (rss > this.opts.maxRssBytes) {
        worker.killedFor = { reason: 'memory' };
        worker.proc.kill('SIGKILL');
        return;
      }
    }
    const now = Date.now();
    const grace = this.opts.killGraceMs ?? 5_000;
    for (const [id, tracked] of worker.running) {
      if (now > tracked.deadline + grace) {
        worker.killedFor = { reason: 'time', execution: id };
        worker.proc.kill('SIGKILL');
        return;
      }
    }
  }

  private async call<T>(method: Method, args: unknown[]): Promise<{ value: T; worker: Worker }> {
    if (this.closed) throw new Error('the query engine is closed');
    const worker = (this.worker ??= this.spawn());
    await worker.ready;
    const id = this.nextCall++;
    const value = await new Promise<T>((resolve, reject) => {
      worker.calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const message: ToWorker = { t: 'call', id, method, args };
      worker.proc.send(message, (err) => {
        if (!err) return;
        worker.calls.delete(id);
        reject(new UnavailableError('the query engine is not reachable; retry', 1, { cause: err }));
      });
    });
    return { value, worker };
  }

  async start(q: ScopedQuery): Promise<string> {
    this.expire();
    // The time limit counts from when the worker can run the query, not from its start-up.
    if (this.closed) throw new Error('the query engine is closed');
    await (this.worker ??= this.spawn()).ready;
    const deadline = Date.now() + this.opts.timeoutMs;
    const { value: id, worker } = await this.call<string>('start', [q]);
    const tracked: Tracked = { worker, deadline, status: undefined, endedAt: undefined, waiters: new Set() };
    this.executions.set(id, tracked);
    const early = worker.endedEarly.get(id);
    worker.endedEarly.delete(id);
    if (early) this.end(tracked, early);
    else if (worker.proc.exitCode === null && worker.proc.signalCode === null) worker.running.set(id, tracked);
    else this.end(tracked, { state: 'failed', failure: 'unavailable', error: 'the query engine restarted while this query ran; retry' });
    return id;
  }

  private tracked(id: string): Tracked {
    const t = this.executions.get(id);
    if (!t) throw new NotFoundError(`no such query (finished queries are kept for ${Math.round(this.opts.resultTtlMs / 60_000)} minutes)`);
    return t;
  }

  async status(id: string): Promise<QueryStatus> {
    const t = this.tracked(id);
    return t.status ?? { state: 'running' };
  }

  async page(id: string, pageToken: string | undefined, pageSize: number): Promise<QueryPage> {
    const t = this.tracked(id);
    if (t.status?.state !== 'succeeded') throw new QueryError(t.status?.error ?? `the query is ${t.status?.state ?? 'running'}`);
    if (t.worker !== this.worker)
      throw new NotFoundError('the query engine restarted since this query finished, and its results went with it: run the query again');
    return (await this.call<QueryPage>('page', [id, pageToken, pageSize])).value;
  }

  async cancel(id: string): Promise<void> {
    const t = this.tracked(id);
    if (t.status) return;
    await this.call('cancel', [id]);
  }

  async settled(id: string, timeoutMs: number): Promise<void> {
    const t = this.tracked(id);
    if (t.status) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        t.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      t.waiters.add(done);
    });
  }

  private expire(): void {
    const now = Date.now();
    for (const [id, t] of this.executions) {
      if (t.endedAt !== undefined && now - t.endedAt > this.opts.resultTtlMs) this.executions.delete(id);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.monitor) clearInterval(this.monitor);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.proc.once('exit', () => resolve()));
    const message: ToWorker = { t: 'close' };
    worker.proc.send(message, () => undefined);
    const timer = setTimeout(() => worker.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Lowers this process's CPU priority, every thread of it: on Linux a priority belongs to a thread, and
 * threads started later (DuckDB's, from the libuv pool) inherit their creator's.
 */
export async function lowerPriority(nice = 10): Promise<void> {
  // Start the libuv pool first so its threads are among those lowered.
  await Promise.all(Array.from({ length: 4 }, () => import('node:fs/promises').then((fs) => fs.stat('.'))));
  let tids: number[];
  try {
    tids = readdirSync('/proc/self/task').map(Number);
  } catch {
    tids = [0];
  }
  for (const tid of tids) {
    try {
      setPriority(tid, nice);
    } catch {
      // not permitted or gone: leave it
    }
  }
}

/** The worker side: answers calls on `engine` over this process's IPC channel, and says when each query ends. */
export function serveQueryEngine(engine: QueryEngine & { settled(id: string, timeoutMs: number): Promise<void> }, proc: NodeJS.Process): void {
  const send = (m: FromWorker) => proc.send?.(m);
  const watch = async (id: string) => {
    for (;;) {
      await engine.settled(id, 60_000);
      const status = await engine.status(id);
      if (status.state !== 'running') return send({ t: 'ended', execution: id, status });
    }
  };
  proc.on('message', (m: ToWorker) => {
    if (m.t === 'close') {
      void (async () => {
        await engine.close?.();
        proc.disconnect?.();
        proc.exit(0);
      })();
      return;
    }
    void (async () => {
      try {
        let value: unknown;
        switch (m.method) {
          case 'start': {
            const id = await engine.start(m.args[0] as ScopedQuery);
            value = id;
            // Replies are sent before 'ended' (both in order on the channel), so the caller knows the id first.
            setImmediate(() => void watch(id));
            break;
          }
          case 'status':
            value = await engine.status(m.args[0] as string);
            break;
          case 'page':
            value = await engine.page(m.args[0] as string, m.args[1] as string | undefined, m.args[2] as number);
            break;
          case 'cancel':
            value = await engine.cancel(m.args[0] as string);
            break;
        }
        send({ t: 'reply', id: m.id, ok: true, value });
      } catch (err) {
        send({ t: 'reply', id: m.id, ok: false, error: errorTo(err) });
      }
    })();
  });
  // The server went away: nothing will ask for these queries again. Killed, not exited: an orderly exit
  // waits for DuckDB's running statements, which may never end (measured: seconds after the server died).
  proc.on('disconnect', () => proc.kill(proc.pid, 'SIGKILL'));
  send({ t: 'ready' });
}
