import { QueryError } from '../../shared/domain/errors.js';
import type { QueryEngine, QueryPage, ScopedQuery } from '../../shared/ports/query-engine.js';

/** Starts a query, waits for it, and returns all its rows in one page (fails on a failed query). */
export async function runToEnd(
  engine: QueryEngine,
  q: Omit<ScopedQuery, 'params' | 'trusted'> & Partial<Pick<ScopedQuery, 'params' | 'trusted'>>,
): Promise<QueryPage> {
  const id = await engine.start({ params: [], trusted: false, ...q });
  for (;;) {
    const s = await engine.status(id);
    if (s.state === 'succeeded') return engine.page(id, undefined, 1_000_000);
    if (s.state !== 'running') throw new QueryError(s.error ?? s.state);
    await new Promise((r) => setTimeout(r, 5));
  }
}
