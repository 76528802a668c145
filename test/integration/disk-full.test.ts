/**
 * Disk full and read-only, injected through the in-process stack's own adapters, so it runs anywhere (the
 * same story on a real 48 MiB tmpfs is disk-full-tmpfs.test.ts, which needs root): statfs answers through
 * the stack's DiskSpace, and every write of a file handle (the spool's segments, the store's files, the
 * probe) fails with the error a full or read-only filesystem gives. The real spool, writer loop, batch
 * writer, HTTP mapping and /health run. Also /health's states.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;
type Method = (...args: unknown[]) => Promise<unknown>;

const GiB = 1024 * 1024 * 1024;

const ndjson = (from: number, count: number, run: string) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ level: 'info', msg: `event ${from + i}`, run, n: from + i })).join('\n');

const post = (url: string, body: string) => call(`${url}/v1/logs`, { method: 'POST', raw: body, headers: { 'content-type': 'application/x-ndjson' } });

async function countStored(url: string, run: string): Promise<{ total: number; distinct: number }> {
  const r = await call(`${url}/v1/query`, {
    body: { sql: `SELECT count(*), count(DISTINCT attributes['n']) FROM logs WHERE attributes['run'] = '${run}'`, start: Date.now() - 3600_000 },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return { total: Number(r.body.rows[0][0]), distinct: Number(r.body.rows[0][1]) };
}

/**
 * A filesystem fault on the stack: `full` (statfs answers 0 free bytes, writes fail with ENOSPC) or
 * `read-only` (writes and truncates fail with EROFS, as does the probe write). Writes are failed on the
 * FileHandle prototype, which every handle shares; restore() puts everything back.
 */
async function injectDiskFaults(stack: Stack) {
  const probe = await open(join(stack.deps.dataDir, 'handle-probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as Record<'writev' | 'writeFile' | 'truncate', Method>;
  await probe.close();
  const real = { writev: proto.writev, writeFile: proto.writeFile, truncate: proto.truncate };
  const fs = stack.deps.disk.fs;
  const realFs = { statfs: fs.statfs, probe: fs.probe };
  let fault: 'full' | 'read-only' | undefined;
  const error = () =>
    fault === 'full'
      ? Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 })
      : Object.assign(new Error('EROFS: read-only file system, write'), { code: 'EROFS', errno: -30 });
  const failing = (method: Method, when: (f: typeof fault) => boolean): Method =>
    function (this: unknown, ...args: unknown[]) {
      return fault && when(fault) ? Promise.reject(error()) : method.apply(this, args);
    };
  proto.writev = failing(real.writev, () => true);
  proto.writeFile = failing(real.writeFile, () => true);
  proto.truncate = failing(real.truncate, (f) => f === 'read-only'); // cutting a file short frees space
  fs.statfs = async (path) => {
    const s = await realFs.statfs(path);
    return fault === 'full' ? { ...s, bavail: 0 } : s;
  };
  fs.probe = async (dir) => {
    if (fault) throw error();
    return realFs.probe(dir);
  };
  return {
    set: (f: typeof fault) => (fault = f),
    restore: () => {
      fault = undefined;
      Object.assign(proto, real);
      Object.assign(fs, realFs);
    },
  };
}

async function health(url: string) {
  const r = await call(`${url}/health`);
  return { status: r.status, body: r.body };
}

describe('disk faults injected through the adapters', () => {
  let stack: Stack | undefined;
  let restore: (() => void) | undefined;
  afterEach(async () => {
    restore?.();
    restore = undefined;
    await stack?.cleanup();
    stack = undefined;
  });

  it('disk full (ENOSPC): 503 + Retry-After, /health says why; when space returns the writer retries at once, ingest accepts again, every acknowledged event stored once', async () => {
    // A flush interval long enough that the first request is still in the spool when the disk fills.
    stack = await startTestStack({ SLUICE_FLUSH_MS: '300' });
    const { url } = stack;
    const disk = await injectDiskFaults(stack);
    restore = disk.restore;
    const first = await post(url, ndjson(0, 100, 'full'));
    expect(first.status).toBe(202);
    disk.set('full');

    // The spool's own write fails first, then the reserve refuses without trying.
    const refused = [await post(url, ndjson(1000, 100, 'full')), await post(url, ndjson(2000, 100, 'full'))];
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body.error).toBe('unavailable');
      expect(r.body.receipt).toBeUndefined();
    }
    expect(refused[0]!.body.message).toMatch(/cannot write to disk: ENOSPC|below the reserve/);
    expect(refused[1]!.body.message).toMatch(/free disk space \(0\.0 MiB\) is below the reserve kept for writing stored events/);

    // The writer fails too (its Parquet file cannot be written) and backs off: 200, 400, 800, 1600 ms…
    const failing = await eventually(
      async () => {
        const h = await health(url);
        return h.body.writer.failedTries >= 4 ? h : undefined;
      },
      10_000,
      20,
    );
    expect(failing.status).toBe(503);
    expect(failing.body).toMatchObject({
      status: 'degraded',
      ingest: 'refusing: disk below reserve',
      disk: { freeBytes: 0, writable: true },
      writer: { lastError: { reason: 'ENOSPC' }, lastSuccessAt: null },
    });
    expect(failing.body.spool.pendingBytes).toBeGreaterThan(0);

    // Space returns. The writer does not sleep out its backoff: it retries as soon as DiskSpace sees room.
    const nextRetryAt = Date.parse(failing.body.writer.nextRetryAt as string);
    const clearedAt = Date.now();
    disk.set(undefined);
    const accepted = await eventually(
      async () => {
        const r = await post(url, ndjson(3000, 100, 'full'));
        return r.status === 202 ? { r, at: Date.now() } : undefined;
      },
      5_000,
      20,
    );
    expect(accepted.at - clearedAt).toBeLessThan(2_000);
    await eventually(async () => ((await health(url)).body.spool.pendingBytes === 0 ? true : undefined), 10_000, 20);
    const storedAt = Date.now();
    expect(storedAt).toBeLessThan(nextRetryAt);

    const stored = await eventually(async () => {
      const c = await countStored(url, 'full');
      return c.total >= 200 ? c : undefined;
    }, 10_000);
    expect(stored).toEqual({ total: 200, distinct: 200 }); // the first and the last request; nothing refused
    const after = await health(url);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: 'ok', ingest: 'accepting', writer: { failedTries: 0 } });
  });

  it('read-only filesystem (EROFS): the same clear 503 and the same recovery, without a restart', async () => {
    stack = await startTestStack({ SLUICE_FLUSH_MS: '300' });
    const { url } = stack;
    const disk = await injectDiskFaults(stack);
    restore = disk.restore;
    expect((await post(url, ndjson(0, 100, 'ro'))).status).toBe(202);
    disk.set('read-only');

    const refused = [await post(url, ndjson(1000, 100, 'ro')), await post(url, ndjson(2000, 100, 'ro'))];
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body.receipt).toBeUndefined();
    }
    expect(refused[0]!.body.message).toMatch(/cannot write to disk: EROFS/);
    expect(refused[1]!.body.message).toBe('the data directory cannot be written (EROFS); ingest resumes by itself once it can');
    const h = await eventually(async () => {
      const x = await health(url);
      return x.body.writer.lastError ? x : undefined;
    }, 10_000);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({
      status: 'degraded',
      ingest: 'refusing: data directory not writable (EROFS)',
      disk: { writable: false, error: 'EROFS' },
      writer: { lastError: { reason: 'EROFS' } },
    });
    // Probes keep failing while the filesystem is read-only: still refused a while later.
    await new Promise((r) => setTimeout(r, 600));
    expect((await post(url, ndjson(2500, 10, 'ro'))).status).toBe(503);

    const clearedAt = Date.now();
    disk.set(undefined);
    const accepted = await eventually(
      async () => {
        const r = await post(url, ndjson(3000, 100, 'ro'));
        return r.status === 202 ? Date.now() : undefined;
      },
      5_000,
      20,
    );
    expect(accepted - clearedAt).toBeLessThan(2_000);
    const stored = await eventually(async () => {
      const c = await countStored(url, 'ro');
      return c.total >= 200 ? c : undefined;
    }, 10_000);
    expect(stored).toEqual({ total: 200, distinct: 200 });
    await eventually(async () => ((await health(url)).status === 200 ? true : undefined), 5_000);
    expect((await health(url)).body).toMatchObject({ status: 'ok', ingest: 'accepting', disk: { writable: true } });
  });
});

describe('/health', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.cleanup();
    stack = undefined;
  });

  it('healthy: 200 ok, accepting, with the spool, disk and writer figures, and no path', async () => {
    stack = await startTestStack({ SLUICE_FLUSH_MS: '50' });
    expect((await post(stack.url, ndjson(0, 10, 'h'))).status).toBe(202);
    await eventually(async () => ((await health(stack!.url)).body.writer.lastSuccessAt ? true : undefined));
    const h = await health(stack.url);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: 'ok',
      ingest: 'accepting',
      pendingBytes: 0,
      spool: { pendingBytes: 0, oldestPendingAgeMs: null },
      disk: { writable: true, reserveBytes: expect.any(Number), freeBytes: expect.any(Number), totalBytes: expect.any(Number) },
      writer: { lastError: null, failedTries: 0, nextRetryAt: null },
    });
    expect(h.body.disk.reserveBytes).toBeLessThanOrEqual(GiB);
    expect(Date.parse(h.body.writer.lastSuccessAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(JSON.stringify(h.body)).not.toContain(stack.deps.dataDir);
  });

  it('the writer failing while ingest is still durable: 200 (keep sending) but degraded, with the reason', async () => {
    stack = await startTestStack({ SLUICE_FLUSH_MS: '50' });
    const store = stack.deps.store;
    const realPut = store.put.bind(store);
    let failing = true;
    store.put = async (key, body) => {
      if (failing) throw Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' });
      return realPut(key, body);
    };
    expect((await post(stack.url, ndjson(0, 10, 'w'))).status).toBe(202);
    const h = await eventually(async () => {
      const x = await health(stack!.url);
      return x.body.writer.failedTries > 0 ? x : undefined;
    });
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'degraded', ingest: 'accepting', writer: { lastError: { reason: 'EACCES' } } });
    expect(h.body.spool.pendingBytes).toBeGreaterThan(0);
    expect(h.body.spool.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
    expect((await post(stack.url, ndjson(10, 10, 'w'))).status).toBe(202);
    failing = false;
    await eventually(async () => ((await health(stack!.url)).body.status === 'ok' ? true : undefined), 15_000);
  });

  it('a disk below the reserve: 503 refusing, and back to 200 with room, without a restart', async () => {
    stack = await startTestStack();
    const fs = stack.deps.disk.fs;
    const realStatfs = fs.statfs;
    fs.statfs = async (path) => ({ ...(await realStatfs(path)), bavail: 1 });
    await stack.deps.disk.refresh();
    const h = await health(stack.url);
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'degraded', ingest: 'refusing: disk below reserve', disk: { writable: true } });
    expect(h.body.disk.freeBytes).toBeLessThan(h.body.disk.reserveBytes);
    const r = await post(stack.url, ndjson(0, 1, 'r'));
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('5');
    fs.statfs = realStatfs;
    await stack.deps.disk.refresh();
    expect(await health(stack.url)).toMatchObject({ status: 200, body: { status: 'ok', ingest: 'accepting' } });
    expect((await post(stack.url, ndjson(0, 1, 'r'))).status).toBe(202);
  });
});
