/**
 * Fault injection against the in-process local stack: the object store failing (ENOSPC/EIO as the adapter
 * reports them, slow writes), the spool failing to write (full disk), and a poison message. Faults are
 * injected on the stack's own adapter instances (the writer and the ingest service hold these objects), so
 * the real writer loop, spool, handlers and HTTP mapping run. The unit tests (writer-loop, spool-queue)
 * cover the mechanisms one by one; this file checks what a client sees end to end.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogEvent } from '../../shared/domain/schema.js';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';

// A poison event: one the writer's Parquet encoder refuses (an event holding POISON), as a real encoding
// failure would; every other event is encoded for real.
vi.mock('../../shared/domain/parquet.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../shared/domain/parquet.js')>();
  return {
    ...real,
    encodeParquet: (events: readonly LogEvent[]) => {
      if (events.some((e) => JSON.stringify(e).includes('POISON'))) throw new Error('cannot encode this event');
      return real.encodeParquet(events);
    },
  };
});

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const ndjson = (from: number, count: number, run: string) =>
  Array.from({ length: count }, (_, i) => JSON.stringify({ level: 'info', msg: `event ${from + i}`, run, n: from + i })).join('\n');

async function post(url: string, body: string) {
  return call(`${url}/v1/logs`, { method: 'POST', raw: body, headers: { 'content-type': 'application/x-ndjson' } });
}

async function countStored(url: string, run: string): Promise<{ total: number; distinct: number }> {
  const r = await call(`${url}/v1/query`, {
    body: { sql: `SELECT count(*), count(DISTINCT attributes['n']) FROM logs WHERE attributes['run'] = '${run}'`, start: Date.now() - 3600_000 },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return { total: Number(r.body.rows[0][0]), distinct: Number(r.body.rows[0][1]) };
}

/** Waits until `acked` events of the run are stored, then checks they stay exactly once. */
async function expectAllStoredOnce(url: string, run: string, acked: number) {
  const stored = await eventually(async () => {
    const c = await countStored(url, run);
    return c.total >= acked ? c : undefined;
  }, 20_000);
  expect(stored).toEqual({ total: acked, distinct: acked });
}

describe('fault injection (in-process local stack)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.cleanup();
    stack = undefined;
  });

  it('object store down (disk full, I/O errors): ingest keeps answering 202, the writer retries, and everything acknowledged is stored once it clears', async () => {
    stack = await startTestStack({ SLUICE_FLUSH_MS: '50' });
    const store = stack.deps.store;
    const realPut = store.put.bind(store);
    // Raw errors as no adapter classified them (FsObjectStore and S3ObjectStore report some faults as
    // UnavailableError; the writer treats every store failure as an outage, classified or not).
    const faults = [
      () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
      () => Object.assign(new Error('ECONNRESET: socket hang up'), { code: 'ECONNRESET' }),
      () => Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' }),
      () => Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }),
    ];
    let failedPuts = 0;
    let fault: (() => Error) | undefined = () => faults[failedPuts % faults.length]!();
    store.put = async (key: string, body: Uint8Array) => {
      if (fault) {
        failedPuts++;
        throw fault();
      }
      return realPut(key, body);
    };

    let acked = 0;
    for (let i = 0; i < 6; i++) {
      const r = await post(stack.url, ndjson(i * 100, 100, 'store-down'));
      expect(r.status).toBe(202);
      acked += r.body.accepted;
      await new Promise((r) => setTimeout(r, 100));
    }
    // More failed tries than the 3 after which a batch failing because of its messages is written one message
    // at a time and dead-lettered: a store failure never counts toward that.
    const failedTries = () => stack!.logger.entries.filter((e) => e.message.startsWith('batch write failed')).length;
    await eventually(async () => (failedTries() >= 4 ? true : undefined));
    expect(stack.deps.spool.pendingBytes).toBeGreaterThan(0);
    expect(await countStored(stack.url, 'store-down')).toEqual({ total: 0, distinct: 0 });

    fault = undefined;
    await expectAllStoredOnce(stack.url, 'store-down', acked);
    // Files and receipts are written just before the spool commits the batch.
    await eventually(async () => (stack!.deps.spool.pendingBytes === 0 ? true : undefined), 5_000);
    // Nothing went to the dead-letter file: an outage is retried, not treated as poison.
    await expect(readFile(join(stack.deps.dataDir, 'spool', 'dead-letter.ndjson'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(stack.logger.entries.some((e) => e.message.startsWith('batch write failed'))).toBe(true);
  });

  it('slow object store: requests are still acknowledged quickly and nothing is lost', async () => {
    stack = await startTestStack({ SLUICE_FLUSH_MS: '50' });
    const store = stack.deps.store;
    const realPut = store.put.bind(store);
    store.put = async (key: string, body: Uint8Array) => {
      await new Promise((r) => setTimeout(r, 400));
      return realPut(key, body);
    };
    let acked = 0;
    let slowest = 0;
    for (let i = 0; i < 8; i++) {
      const t0 = Date.now();
      const r = await post(stack.url, ndjson(i * 50, 50, 'slow'));
      slowest = Math.max(slowest, Date.now() - t0);
      expect(r.status).toBe(202);
      acked += r.body.accepted;
    }
    // The acknowledgement waits for the spool's fsync, not for the object store.
    expect(slowest).toBeLessThan(400);
    await expectAllStoredOnce(stack.url, 'slow', acked);
  });

  it('spool cannot write (disk full): 503 with Retry-After and a clear message, nothing half-acknowledged, and it recovers by itself', async () => {
    stack = await startTestStack({ SLUICE_FLUSH_MS: '50' });
    const acked1 = (await post(stack.url, ndjson(0, 50, 'spool-full'))).body.accepted as number;
    // The spool's open segment file: make its positioned writes fail as a full disk does.
    const spool = stack.deps.spool as unknown as { writer: { writev: (...a: unknown[]) => Promise<unknown> } };
    const fh = spool.writer;
    const realWritev = fh.writev.bind(fh);
    let full = true;
    fh.writev = async (...a: unknown[]) => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28 });
      return realWritev(...a);
    };

    const refused = await post(stack.url, ndjson(1000, 50, 'spool-full'));
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ error: 'unavailable' });
    expect(refused.body.message).toMatch(/cannot write to disk.*ENOSPC/);
    expect(refused.body.receipt).toBeUndefined();

    full = false;
    const r2 = await post(stack.url, ndjson(2000, 50, 'spool-full'));
    expect(r2.status).toBe(202);
    await expectAllStoredOnce(stack.url, 'spool-full', acked1 + (r2.body.accepted as number));
    // The refused request's events were never stored: nothing half-acknowledged.
    const r = await call(`${stack.url}/v1/query`, {
      body: {
        sql: `SELECT count(*) FROM logs WHERE attributes['run'] = 'spool-full' AND CAST(attributes['n'] AS INTEGER) BETWEEN 1000 AND 1999`,
        start: Date.now() - 3600_000,
      },
    });
    expect(Number(r.body.rows[0][0])).toBe(0);
  });

  it('a poison message goes to the dead-letter file with its reason; the other messages of the batch are stored', async () => {
    // A long flush interval: all three requests land in one batch.
    // The event holding POISON is one the Parquet encoder refuses (the vi.mock above): a message the writer
    // can never write, unlike a store failure.
    stack = await startTestStack({ SLUICE_FLUSH_MS: '1500' });
    const good1 = await post(stack.url, ndjson(0, 20, 'poison'));
    const bad = await post(stack.url, JSON.stringify({ level: 'error', msg: 'POISON', run: 'poison-bad', n: 1 }));
    const good2 = await post(stack.url, ndjson(100, 20, 'poison'));
    for (const r of [good1, bad, good2]) expect(r.status).toBe(202);

    await expectAllStoredOnce(stack.url, 'poison', 40);
    const dead = await eventually(async () => {
      const text = await readFile(join(stack!.deps.dataDir, 'spool', 'dead-letter.ndjson'), 'utf8').catch(() => '');
      return text.trim()
        ? text
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
        : undefined;
    }, 20_000);
    expect(dead).toHaveLength(1);
    expect(dead[0].reason).toMatch(/cannot encode this event/);
    expect(dead[0].body).toContain('POISON');
    // The client can see the failure through its receipt.
    const receipt = await eventually(async () => {
      const r = await call(`${stack!.url}/v1/receipts/${bad.body.receipt}`);
      return r.body.status === 'failed' ? r.body : undefined;
    });
    expect(JSON.stringify(receipt)).toMatch(/cannot encode this event/);
  });
});
