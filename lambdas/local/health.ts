/**
 * GET /health in local mode: the ingest path's real state, for a load balancer or an operator.
 *
 *   200 {"status":"ok", "ingest":"accepting", …}          all is well
 *   200 {"status":"degraded", "ingest":"accepting", …}    ingest is durable, but the writer is failing
 *                                                          (events wait in the spool; see writer.lastError)
 *   503 {"status":"degraded", "ingest":"refusing: …", …}  POST ingest answers 503 now (disk below the
 *                                                          reserve, disk not writable, spool backlog over
 *                                                          its limit, shutting down)
 *
 * Nothing here names a path or carries an error message (the route needs no key): reasons are short
 * phrases and error codes.
 */
import type { DiskSpace } from '../../shared/adapters/local/disk-space.js';
import type { SpoolQueue } from '../../shared/adapters/local/spool-queue.js';
import type { WriterStatus } from './writer-loop.js';

export interface HealthSources {
  spool: Pick<SpoolQueue, 'refusal' | 'pendingBytes' | 'oldestPendingAt'>;
  disk: Pick<DiskSpace, 'status'>;
  writer: { status(): WriterStatus };
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function makeHealth({ spool, disk, writer }: HealthSources) {
  return () => {
    const refusal = spool.refusal();
    const w = writer.status();
    const d = disk.status();
    const oldest = spool.oldestPendingAt;
    return {
      statusCode: refusal ? 503 : 200,
      status: refusal || w.failedTries > 0 ? 'degraded' : 'ok',
      ingest: refusal ? `refusing: ${refusal.reason}` : 'accepting',
      // Kept from before /health said more: the spool's unacknowledged bytes.
      pendingBytes: spool.pendingBytes,
      spool: {
        pendingBytes: spool.pendingBytes,
        // 0 after a restart (the backlog's age before it is unknown); null when nothing is pending.
        oldestPendingAgeMs: oldest === undefined ? null : oldest === 0 ? 0 : Math.max(0, Date.now() - oldest),
      },
      disk: {
        freeBytes: d.freeBytes,
        totalBytes: d.totalBytes,
        reserveBytes: d.reserveBytes,
        writable: d.writable,
        ...(d.error ? { error: d.error } : {}),
        checkedAt: iso(d.checkedAt),
      },
      writer: {
        lastSuccessAt: iso(w.lastSuccessAt),
        lastError: w.lastError ? { at: iso(w.lastError.at), reason: w.lastError.reason } : null,
        failedTries: w.failedTries,
        nextRetryAt: iso(w.nextRetryAt),
      },
    };
  };
}
