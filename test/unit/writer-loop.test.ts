import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { SpoolQueue } from '../../shared/adapters/local/spool-queue.js';
import { packMessages } from '../../shared/domain/queue-message.js';
import { makeBatchWriter } from '../../shared/services/batch-writer.js';
import { makeBatchWriterHandler } from '../../lambdas/writer/batch-writer.js';
import { startWriterLoop } from '../../lambdas/local/writer-loop.js';
import { makeEvent } from '../helpers/events.js';
import { MemoryLogger } from '../helpers/logger.js';
import { eventually } from '../helpers/local-stack.js';
import { tempDir } from '../helpers/tmp.js';

describe('local writer loop', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(() => cleanup());

  async function setup(store: FsObjectStore) {
    const logger = new MemoryLogger();
    const spool = await SpoolQueue.open({ dir: join(dir, 'spool'), logger });
    const handler = makeBatchWriterHandler({ writer: makeBatchWriter({ store, clock: { now: () => Date.now() }, logger }), logger });
    const loop = startWriterLoop({ spool, handler, logger, flushMs: 20, batchBytes: 1 << 20, pollMs: 10 });
    return { spool, loop, logger };
  }

  const message = (receipt: string) => packMessages('acme', receipt, [JSON.stringify(makeEvent({ ts: Date.now() * 1000 }))], 1 << 20);

  it('sets a message that can never be written aside in the dead-letter file, and writes the rest', async () => {
    const store = new FsObjectStore(join(dir, 'store'));
    const { spool, loop } = await setup(store);
    await spool.send([...message('R1'), '{"not":"a message"}', ...message('R2')]);
    await loop.drain(10_000);
    await loop.stop();
    const dead = (await readFile(join(dir, 'spool', 'dead-letter.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(dead.map((d) => d.body)).toEqual(['{"not":"a message"}']);
    expect(dead[0].reason).toMatch(/5 times/);
    expect((await store.list('receipts/tenant=acme/')).length).toBe(2);
    await spool.close();
  });

  it('keeps retrying while the object store fails, then stores everything once it recovers', async () => {
    const store = new FsObjectStore(join(dir, 'store'));
    const realPut = store.put.bind(store);
    let failures = 0;
    store.put = async (key, body) => {
      if (failures < 3) {
        failures++;
        throw new Error('EIO: the disk is unhappy');
      }
      return realPut(key, body);
    };
    const { spool, loop, logger } = await setup(store);
    await spool.send(message('R1'));
    await eventually(async () => ((await store.list('receipts/')).length === 1 ? true : undefined), 10_000);
    expect(failures).toBe(3);
    expect(logger.entries.filter((e) => e.message.startsWith('batch write failed')).length).toBe(3);
    expect(spool.pendingBytes).toBe(0);
    await loop.stop();
    await spool.close();
  });
});
