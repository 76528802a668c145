/**
 * Query admission: how many queries run at once, per tenant and in all, a small wait queue in front, and
 * 429 with Retry-After beyond it. It sits in front of any QueryEngine (QueryEngine in, QueryEngine out),
 * so the same fairness holds whatever engine runs the queries; what it counts is the queries this process
 * started and has not yet seen end.
 */
import { TooManyQueriesError } from '../domain/errors.js';
import type { QueryEngine, QueryPage, QueryStatus, ScopedQuery } from '../ports/query-engine.js';

export interface AdmissionLimits {
  /** queries running at once, all tenants together */
  global: number;
  /** queries one tenant runs at once (below `global`, so one tenant never holds every slot) */
  perTenant: number;
  /** queries of one tenant waiting for a slot; one more is refused at once */
  queuePerTenant: number;
  /** queries waiting for a slot, all tenants together */
  queueTotal: number;
  /** the longest a query waits for a slot before it is refused */
  maxWaitMs: number;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class QueryAdmission {
  private running = 0;
  /** when each running query of a tenant took its slot */
  private readonly runningBy = new Map<string, number[]>();
  /** per tenant, first come first served; the map's order is the round-robin order between tenants */
  private readonly waiting = new Map<string, Waiter[]>();
  private waitingTotal = 0;
  /** a moving average of how long a query holds its slot, for Retry-After */
  private avgHoldMs = 1000;

  constructor(readonly limits: AdmissionLimits) {
    if (limits.perTenant < 1 || limits.global < 1) throw new RangeError('admission limits must be at least 1');
  }

  /** Queries running and waiting, in all and for each tenant that has any. */
  snapshot(): { running: number; waiting: number; tenants: Record<string, { running: number; waiting: number }> } {
    const tenants: Record<string, { running: number; waiting: number }> = {};
    for (const [t, since] of this.runningBy) tenants[t] = { running: since.length, waiting: 0 };
    for (const [t, w] of this.waiting) tenants[t] = { running: this.runningOf(t), waiting: w.length };
    return { running: this.running, waiting: this.waitingTotal, tenants };
  }

  /**
   * Resolves with the release of a slot once the tenant may run one more query: at once when a slot is
   * free, else after waiting in the queue. Throws TooManyQueriesError when the queue is full or the wait
   * reached maxWaitMs.
   */
  acquire(tenant: string): Promise<() => void> {
    if (this.canRun(tenant) && !this.waiting.has(tenant)) return Promise.resolve(this.take(tenant));
    const queue = this.waiting.get(tenant) ?? [];
    const { perTenant, global, queuePerTenant, queueTotal, maxWaitMs } = this.limits;
    if (queue.length >= queuePerTenant) {
      return Promise.reject(
        this.refusal(
          tenant,
          `this tenant already runs ${perTenant} ${perTenant === 1 ? 'query' : 'queries'} at once and ${queue.length} more ${queue.length === 1 ? 'is' : 'are'} waiting`,
        ),
      );
    }
    if (this.waitingTotal >= queueTotal) {
      return Promise.reject(this.refusal(tenant, `the server already runs ${global} queries at once and ${this.waitingTotal} more are waiting`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          if (!this.remove(tenant, waiter)) return;
          reject(this.refusal(tenant, `no query slot became free within ${Math.round(maxWaitMs / 100) / 10} s (${perTenant} per tenant, ${global} in all)`));
        }, maxWaitMs),
      };
      waiter.timer.unref?.();
      queue.push(waiter);
      this.waiting.set(tenant, queue);
      this.waitingTotal++;
    });
  }

  private runningOf(tenant: string): number {
    return this.runningBy.get(tenant)?.length ?? 0;
  }

  private canRun(tenant: string): boolean {
    return this.running < this.limits.global && this.runningOf(tenant) < this.limits.perTenant;
  }

  private take(tenant: string): () => void {
    this.running++;
    const since = Date.now();
    this.runningBy.set(tenant, [...(this.runningBy.get(tenant) ?? []), since]);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const left = [...(this.runningBy.get(tenant) ?? [])];
      left.splice(left.indexOf(since), 1);
      if (left.length > 0) this.runningBy.set(tenant, left);
      else this.runningBy.delete(tenant);
      this.avgHoldMs = 0.8 * this.avgHoldMs + 0.2 * (Date.now() - since);
      this.dispatch();
    };
  }

  /** Hands free slots to waiting queries, taking tenants in turn so one tenant's queue cannot starve another's. */
  private dispatch(): void {
    while (this.running < this.limits.global) {
      const tenant = [...this.waiting.keys()].find((t) => this.runningOf(t) < this.limits.perTenant);
      if (tenant === undefined) return;
      const queue = this.waiting.get(tenant)!;
      const waiter = queue.shift()!;
      this.waitingTotal--;
      // Served tenants go to the back of the turn order.
      this.waiting.delete(tenant);
      if (queue.length > 0) this.waiting.set(tenant, queue);
      clearTimeout(waiter.timer);
      waiter.resolve(this.take(tenant));
    }
  }

  private remove(tenant: string, waiter: Waiter): boolean {
    const queue = this.waiting.get(tenant);
    const i = queue?.indexOf(waiter) ?? -1;
    if (!queue || i < 0) return false;
    queue.splice(i, 1);
    this.waitingTotal--;
    if (queue.length === 0) this.waiting.delete(tenant);
    return true;
  }

  /**
   * Roughly when a slot of this tenant will be free: a running query is expected to run about as long
   * again as it has run so far, and at least the recent average; the queries waiting ahead then take
   * their turns at the recent average.
   */
  private refusal(tenant: string, why: string): TooManyQueriesError {
    const now = Date.now();
    const running = this.runningBy.get(tenant) ?? [];
    const soonest = running.length === 0 ? 0 : Math.min(...running.map((since) => Math.max(this.avgHoldMs - (now - since), now - since)));
    const ahead = this.waiting.get(tenant)?.length ?? 0;
    const seconds = Math.min(60, Math.max(1, Math.ceil((soonest + (this.avgHoldMs * ahead) / this.limits.perTenant) / 1000)));
    return new TooManyQueriesError(`too many queries: ${why}; retry after the number of seconds in Retry-After`, seconds);
  }
}

/** Watches a started query until it ends (in any state, or is forgotten), however long that takes. */
async function ended(engine: QueryEngine, id: string): Promise<void> {
  for (;;) {
    if (engine.settled) await engine.settled(id, 60_000);
    else await new Promise((r) => setTimeout(r, 250));
    const status = await engine.status(id).catch(() => undefined);
    if (status?.state !== 'running') return;
  }
}

/** The engine, with every start() admitted first; the slot is held until the query ends. */
export function withAdmission(engine: QueryEngine, admission: QueryAdmission): QueryEngine {
  return {
    dialect: engine.dialect,
    async start(q: ScopedQuery): Promise<string> {
      const release = await admission.acquire(q.tenant);
      let id: string;
      try {
        id = await engine.start(q);
      } catch (err) {
        release();
        throw err;
      }
      void ended(engine, id).finally(release);
      return id;
    },
    status: (id: string): Promise<QueryStatus> => engine.status(id),
    page: (id: string, token: string | undefined, size: number): Promise<QueryPage> => engine.page(id, token, size),
    cancel: (id: string): Promise<void> => engine.cancel(id),
    ...(engine.settled ? { settled: (id: string, ms: number) => engine.settled!(id, ms) } : {}),
    ...(engine.close ? { close: () => engine.close!() } : {}),
  };
}
