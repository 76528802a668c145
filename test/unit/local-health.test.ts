import { describe, expect, it } from 'vitest';
import type { DiskStatus } from '../../shared/adapters/local/disk-space.js';
import type { SpoolRefusal } from '../../shared/adapters/local/spool-queue.js';
import { UnavailableError } from '../../shared/domain/errors.js';
import { makeHealth } from '../../lambdas/local/health.js';
import type { WriterStatus } from '../../lambdas/local/writer-loop.js';

function sources(over: { refusal?: SpoolRefusal; writer?: WriterStatus; disk?: Partial<DiskStatus>; pending?: number; oldest?: number } = {}) {
  return {
    spool: { refusal: () => over.refusal, pendingBytes: over.pending ?? 0, oldestPendingAt: over.oldest },
    disk: {
      status: (): DiskStatus => ({ freeBytes: 50e9, totalBytes: 100e9, reserveBytes: 2 ** 30, writable: true, checkedAt: 1_700_000_000_000, ...over.disk }),
    },
    writer: { status: (): WriterStatus => over.writer ?? { failedTries: 0 } },
  };
}
const refusal = (reason: string): SpoolRefusal => ({ reason, error: new UnavailableError('…', 5) });

describe('local /health', () => {
  it('ok: 200, accepting, with the figures', () => {
    const h = makeHealth(sources({ writer: { failedTries: 0, lastSuccessAt: 1_700_000_000_500 } }))();
    expect(h).toEqual({
      statusCode: 200,
      status: 'ok',
      ingest: 'accepting',
      pendingBytes: 0,
      spool: { pendingBytes: 0, oldestPendingAgeMs: null },
      disk: { freeBytes: 50e9, totalBytes: 100e9, reserveBytes: 2 ** 30, writable: true, checkedAt: '2023-11-14T22:13:20.000Z' },
      writer: { lastSuccessAt: '2023-11-14T22:13:20.500Z', lastError: null, failedTries: 0, nextRetryAt: null },
    });
  });

  it.each(['disk below reserve', 'data directory not writable (EROFS)', 'spool backlog over its limit', 'shutting down'])(
    'refusing (%s): 503, degraded, the reason',
    (reason) => {
      const h = makeHealth(sources({ refusal: refusal(reason) }))();
      expect(h).toMatchObject({ statusCode: 503, status: 'degraded', ingest: `refusing: ${reason}` });
    },
  );

  it('the writer failing while ingest is durable: 200 but degraded, with the last error and the next try', () => {
    const now = Date.now();
    const h = makeHealth(
      sources({ pending: 1234, oldest: now - 5000, writer: { failedTries: 3, lastError: { at: now - 100, reason: 'ENOSPC' }, nextRetryAt: now + 700 } }),
    )();
    expect(h).toMatchObject({ statusCode: 200, status: 'degraded', ingest: 'accepting', spool: { pendingBytes: 1234 } });
    expect(h.spool.oldestPendingAgeMs).toBeGreaterThanOrEqual(5000);
    expect(h.writer).toEqual({
      lastSuccessAt: null,
      lastError: { at: new Date(now - 100).toISOString(), reason: 'ENOSPC' },
      failedTries: 3,
      nextRetryAt: new Date(now + 700).toISOString(),
    });
  });

  it('a disk that refuses writes shows its error code', () => {
    const h = makeHealth(sources({ refusal: refusal('data directory not writable (EROFS)'), disk: { writable: false, error: 'EROFS' } }))();
    expect(h.disk).toMatchObject({ writable: false, error: 'EROFS' });
  });
});
