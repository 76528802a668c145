/**
 * Disk-full recovery on a real small filesystem: the real server (`npm start`'s entry, a child process)
 * keeps its data directory on a 48 MiB tmpfs that a filler file mostly occupies. Three posters fill the
 * rest and keep posting: ingest is refused with 503 + Retry-After whenever free space is below the
 * reserve, and the writer still turns every acknowledged event into Parquet (the reserve is its room).
 * Then something else fills the disk past the reserve: ingest is refused outright, /health says so with a
 * 503, and the writer still stores everything acknowledged. Deleting the fillers brings ingest back
 * without a restart, and every acknowledged event ends up stored exactly once.
 *
 * Mounting needs root (CI here runs as root); elsewhere the test is skipped with the reason, and
 * disk-full.test.ts covers the same states through injected faults.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, rmdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildServer, type ChildServer } from '../helpers/child-server.js';
import { call, eventually } from '../helpers/local-stack.js';

const MiB = 1024 * 1024;
const FS_BYTES = 48 * MiB;
/** What the filler leaves free: a few MiB above the default reserve (10% of the filesystem, 4.8 MiB). */
const LEFT_FREE = 8 * MiB;
const RESERVE = FS_BYTES / 10;

/** Mounts a tmpfs of FS_BYTES, or says why it cannot. */
async function mountTmpfs(): Promise<{ dir: string; unmount: () => Promise<void> } | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root (run as root, as CI does, to test on a real small filesystem)' };
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FS_BYTES}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    await rmdir(dir);
    return { skip: `mount -t tmpfs was refused here: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}` };
  }
  return {
    dir,
    unmount: async () => {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      await rmdir(dir);
    },
  };
}

async function fill(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(MiB, 7);
    for (let done = 0; done < bytes; done += chunk.length) await fh.write(chunk, 0, Math.min(chunk.length, bytes - done));
  } finally {
    await fh.close();
  }
}

const line = (n: number) =>
  JSON.stringify({
    level: n % 7 === 0 ? 'warn' : 'info',
    service: 'checkout',
    msg: `order ${n} processed for customer ${(n * 7919) % 10007}`,
    run: 'tmpfs',
    n,
  });

async function countStored(url: string): Promise<{ total: number; distinct: number }> {
  const r = await call(`${url}/v1/query`, {
    body: { sql: `SELECT count(*), count(DISTINCT attributes['n']) FROM logs WHERE attributes['run'] = 'tmpfs'`, start: Date.now() - 3600_000 },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return { total: Number(r.body.rows[0][0]), distinct: Number(r.body.rows[0][1]) };
}

/** What the posters were told, over every round of posting. */
interface Ledger {
  next: number;
  acked: Set<number>;
  statuses: { at: number; status: number }[];
  refusal?: { status: number; retryAfter: string | null; body: any };
}

/** Three posters posting 200 events a request until stopped; they keep posting through 503s (as a careless shipper would). */
function startPosters(url: string, ledger: Ledger) {
  let stop = false;
  const poster = async () => {
    while (!stop) {
      const from = ledger.next;
      ledger.next += 200;
      const body = Array.from({ length: 200 }, (_, i) => line(from + i)).join('\n');
      const r = await call(`${url}/v1/logs`, { method: 'POST', raw: body, headers: { 'content-type': 'application/x-ndjson' } });
      ledger.statuses.push({ at: Date.now(), status: r.status });
      if (r.status === 202) for (let i = 0; i < 200; i++) ledger.acked.add(from + i);
      else {
        ledger.refusal ??= { status: r.status, retryAfter: r.headers.get('retry-after'), body: r.body };
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  };
  const running = Promise.all([poster(), poster(), poster()]);
  return async () => {
    stop = true;
    await running;
  };
}

const firstAcceptAfter = (ledger: Ledger, t: number) => ledger.statuses.find((s) => s.at >= t && s.status === 202)?.at;

describe('disk full on a real 48 MiB tmpfs', () => {
  let server: ChildServer | undefined;
  let unmount: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await server?.kill('SIGKILL');
    server = undefined;
    await unmount?.();
    unmount = undefined;
  });

  it('refuses at the reserve, keeps writing, and recovers without a restart once space returns; every acknowledged event stored once', async (ctx) => {
    const mounted = await mountTmpfs();
    if ('skip' in mounted) return ctx.skip(mounted.skip);
    unmount = mounted.unmount;
    let fillers = 0;
    await fill(join(mounted.dir, `filler-${fillers++}.bin`), FS_BYTES - LEFT_FREE);
    const dataDir = join(mounted.dir, 'data');
    server = await startChildServer({ SLUICE_DATA_DIR: dataDir, SLUICE_FLUSH_MS: '200', SLUICE_COMPACT_EVERY_MS: '0' });
    const url = server.url;
    const ledger: Ledger = { next: 0, acked: new Set(), statuses: [] };
    const storedAtLeast = (n: number) => eventually(async () => ((await countStored(url)).distinct >= n ? true : undefined), 10_000, 200);

    // 1. The posters fill what is left until ingest is refused at the reserve (not at a full disk); the
    //    writer has room all along: what was acknowledged is stored while the posters keep posting.
    let stopPosters = startPosters(url, ledger);
    try {
      await eventually(async () => ledger.refusal, 10_000, 20);
      expect(ledger.refusal).toMatchObject({ status: 503, body: { error: 'unavailable' } });
      expect(Number(ledger.refusal!.retryAfter)).toBeGreaterThan(0);
      expect(ledger.refusal!.body.message).toMatch(/below the reserve/);
      await storedAtLeast(ledger.acked.size);
    } finally {
      await stopPosters();
    }

    // 2. Something else fills the disk past the reserve (once the spool has given its space back): ingest
    //    is refused outright, and /health says so with a 503.
    await eventually(async () => ((await call(`${url}/health`)).body.spool.pendingBytes === 0 ? true : undefined), 10_000, 50);
    // Leave half the reserve free; again if the spool gave back its last segment meanwhile.
    const health = await eventually(
      async () => {
        const s = await statfs(mounted.dir);
        await fill(join(mounted.dir, `filler-${fillers++}.bin`), Math.max(0, Math.floor(s.bavail * s.bsize - RESERVE / 2)));
        return await eventually(
          async () => {
            const h = await call(`${url}/health`);
            return h.status === 503 ? h : undefined;
          },
          2_000,
          50,
        );
      },
      8_000,
      0,
    );
    expect(health.body).toMatchObject({ status: 'degraded', ingest: 'refusing: disk below reserve', disk: { writable: true } });
    expect(health.body.disk.freeBytes).toBeLessThan(health.body.disk.reserveBytes);
    const ackedBefore = ledger.acked.size;
    const refusedFrom = ledger.statuses.length;
    stopPosters = startPosters(url, ledger);
    try {
      await eventually(async () => (ledger.statuses.length - refusedFrom >= 30 ? true : undefined), 10_000, 20);
      expect(ledger.acked.size).toBe(ackedBefore);

      // 3. Space returns: ingest accepts again, without a restart, within a bound, while the posters go on.
      const freedAt = Date.now();
      for (let i = 0; i < fillers; i++) await rm(join(mounted.dir, `filler-${i}.bin`));
      const acceptedAt = await eventually(async () => firstAcceptAfter(ledger, freedAt), 10_000, 20);
      await ctx.annotate(`ingest accepted again ${acceptedAt - freedAt} ms after the space returned`);
      expect(acceptedAt - freedAt).toBeLessThan(3_000);
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      await stopPosters();
    }

    // 4. Every acknowledged event is stored, exactly once, and /health is back to ok.
    const acked = ledger.acked.size;
    const stored = await eventually(
      async () => {
        const c = await countStored(url);
        return c.total >= acked ? c : undefined;
      },
      20_000,
      200,
    );
    expect(stored).toEqual({ total: acked, distinct: acked });
    const healthy = await eventually(async () => {
      const h = await call(`${url}/health`);
      return h.status === 200 ? h : undefined;
    }, 5_000);
    expect(healthy.body).toMatchObject({ status: 'ok', ingest: 'accepting' });
  });
});
