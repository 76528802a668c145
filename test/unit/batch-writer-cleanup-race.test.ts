/**
 * A batch that fails for another reason than an outage (an event the encoder refuses) must leave no file
 * under its own keys: the SQS handler then writes its messages one at a time under other keys, and any
 * file left here is a second copy of those events. The puts run putConcurrency at a time, so the cleanup
 * must also cover puts still in flight (and not start new ones) when the failure surfaces.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../shared/domain/parquet.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../shared/domain/parquet.js')>();
  return {
    ...real,
    encodeParquet: (events: readonly { message: string }[]) => {
      if (events.some((e) => e.message === 'CANNOT ENCODE')) throw new Error('Parquet cannot encode this event');
      return real.encodeParquet(events as never);
    },
  };
});

import { makeBatchWriterHandler } from '../../lambdas/writer/batch-writer.js';
import { packMessages } from '../../shared/domain/queue-message.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import { makeBatchWriter } from '../../shared/services/batch-writer.js';
import { makeEvent } from '../helpers/events.js';
import { MemoryLogger } from '../helpers/logger.js';

const HOUR_US = 3_600_000_000;
const t0 = Date.UTC(2024, 4, 1, 0, 0) * 1000;

/** An in-memory store whose puts take a while (S3 latency), so several are in flight at once. */
function slowStore() {
  const objects = new Map<string, Uint8Array>();
  const store: ObjectStore = {
    async put(key, body) {
      await new Promise((r) => setTimeout(r, 20));
      objects.set(key, body);
    },
    async get(key) {
      return objects.get(key);
    },
    async list(prefix) {
      return [...objects.keys()]
        .filter((k) => k.startsWith(prefix))
        .sort()
        .map((key) => ({ key, size: objects.get(key)!.byteLength }));
    },
    async delete(key) {
      objects.delete(key);
    },
  };
  return { store, objects };
}

describe('batch writer: a batch that fails to encode', () => {
  it('leaves none of its files behind, so writing its messages one at a time stores each event once', async () => {
    const { store, objects } = slowStore();
    const writer = makeBatchWriter({ store, clock: { now: () => t0 / 1000 }, logger: new MemoryLogger() });
    // One message per hour (8 partitions, so 8 puts, 4 at a time); the poison one's partition is the 2nd.
    const records = Array.from({ length: 8 }, (_, h) => {
      const e = makeEvent({ ts: t0 + h * HOUR_US, event_id: `ev-${h}`, message: h === 1 ? 'CANNOT ENCODE' : `event ${h}` });
      const [body] = packMessages('acme', `R${h}`, [JSON.stringify(e)], 1 << 20);
      return { messageId: `m${h}`, body: body!, attributes: { ApproximateReceiveCount: '1' } };
    });
    const handler = makeBatchWriterHandler({ writer, logger: new MemoryLogger() });
    const res = await handler({ Records: records } as never);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    await new Promise((r) => setTimeout(r, 500)); // let any put still in flight land
    const files = [...objects.keys()].filter((k) => k.endsWith('.parquet'));
    // 7 good messages, each stored once, under its own one-message key.
    expect(files).toHaveLength(7);
  });
});
