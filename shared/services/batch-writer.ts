/**
 * Queue messages → Parquet objects, split the way Vector's S3 sink is: partition (pure) → encode (pure) →
 * put (I/O). Object keys are derived from the batch's message ids, so a retried batch overwrites its own
 * files instead of adding duplicates. Receipts are written only after every file of the batch is stored.
 *
 * Failures are classified here, once: whatever the object store (events or receipts) throws is an outage
 * and surfaces as UnavailableError — retry the batch, never dead-letter it. Anything else (an undecodable
 * body, an event Parquet cannot encode) is about the messages themselves.
 */
import { UnavailableError } from '../domain/errors.js';
import { batchIdOf } from '../domain/ids.js';
import { encodeParquet } from '../domain/parquet.js';
import { partitionId, partitionOf, type Partition } from '../domain/partitioning.js';
import { parseMessage, type EventMessage } from '../domain/queue-message.js';
import type { ReceiptPart } from '../domain/receipts.js';
import type { LogEvent } from '../domain/schema.js';
import { batchFileKey, receiptPartKey } from '../domain/storage-layout.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { QueueRecord } from '../ports/queue.js';

export interface RecordFailure {
  id: string;
  reason: string;
}

export interface BatchResult {
  /** Object keys written. */
  files: string[];
  events: number;
  /** Messages that can never be written (not decodable); they belong in the dead-letter queue. */
  poisoned: RecordFailure[];
}

interface PartitionGroup {
  partition: Partition;
  events: LogEvent[];
  /** Indexes (into the decoded messages) of the messages with events in this group. */
  messages: Set<number>;
}

/** Groups the events of the messages by tenant, date and hour. Pure. */
export function partitionMessages(messages: readonly EventMessage[]): PartitionGroup[] {
  const groups = new Map<string, PartitionGroup>();
  messages.forEach((m, mi) => {
    for (const e of m.events) {
      const p = partitionOf(m.tenant, e.ts);
      const id = partitionId(p);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { partition: p, events: [], messages: new Set() }));
      g.events.push(e);
      g.messages.add(mi);
    }
  });
  return [...groups.values()];
}

/** Told about events once they are stored (real-time alert rules). Its failures never fail the batch. */
export type StoredEventsObserver = (tenant: string, events: readonly LogEvent[]) => Promise<void>;

export interface BatchWriterDeps {
  store: ObjectStore;
  clock: Clock;
  logger: Logger;
  observers?: readonly StoredEventsObserver[];
  /** How many objects to put at once. */
  putConcurrency?: number;
}

/**
 * The store as the writer sees it: every failure of put/get/list/delete is an UnavailableError (an
 * unclassified adapter error — EACCES, a connection reset, a bucket policy — included), so no store
 * fault can make an acknowledged message look like poison.
 */
export function storeFailuresAreOutages(store: ObjectStore): ObjectStore {
  const guard = async <R>(op: string, key: string, call: () => Promise<R>): Promise<R> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof UnavailableError) throw err;
      throw new UnavailableError(`object store ${op} ${key} failed: ${err instanceof Error ? err.message : String(err)}`, 5, { cause: err });
    }
  };
  return {
    put: (key, body, contentType) => guard('put', key, () => store.put(key, body, contentType)),
    get: (key) => guard('get', key, () => store.get(key)),
    list: (prefix) => guard('list', prefix, () => store.list(prefix)),
    delete: (key) => guard('delete', key, () => store.delete(key)),
  };
}

export function makeBatchWriter({ store: rawStore, clock, logger, putConcurrency = 4, observers = [] }: BatchWriterDeps) {
  const store = storeFailuresAreOutages(rawStore);
  return {
    /**
     * Records that these messages will never be stored (they went to the dead-letter queue), so their
     * receipts answer "failed" with the reason instead of "queued" forever. Undecodable bodies are skipped.
     */
    async markFailed(entries: readonly { body: string; reason: string }[]): Promise<void> {
      const at = new Date(clock.now()).toISOString();
      for (const { body, reason } of entries) {
        let m: EventMessage;
        try {
          m = parseMessage(body);
        } catch {
          continue;
        }
        const part: ReceiptPart = { receipt: m.receipt, part: m.part, parts: m.parts, events: 0, files: [], storedAt: at, failed: reason };
        await store.put(receiptPartKey(m.tenant, m.receipt, m.part), Buffer.from(JSON.stringify(part)), 'application/json');
      }
    },

    /**
     * Writes every decodable message of the batch. Resolves when all files and receipts are stored;
     * rejects with UnavailableError (retry the whole batch, as long as it takes) when the object store
     * fails, and with another error when a message cannot be encoded (find it by writing one at a time).
     */
    async writeBatch(records: readonly QueueRecord[]): Promise<BatchResult> {
      const poisoned: RecordFailure[] = [];
      const decoded: EventMessage[] = [];
      const decodedIds: string[] = [];
      for (const r of records) {
        try {
          decoded.push(parseMessage(r.body));
          decodedIds.push(r.id);
        } catch (err) {
          poisoned.push({ id: r.id, reason: (err as Error).message });
        }
      }
      if (decoded.length === 0) return { files: [], events: 0, poisoned };

      const batchId = batchIdOf(decodedIds);
      let firstIngest = Number.POSITIVE_INFINITY;
      for (const m of decoded) for (const e of m.events) if (e.ingested_at < firstIngest) firstIngest = e.ingested_at;
      const groups = partitionMessages(decoded);
      const filesOfMessage = decoded.map(() => [] as string[]);
      const written: string[] = [];
      const puts = groups.map((g) => {
        const key = batchFileKey(g.partition, batchId, firstIngest);
        for (const mi of g.messages) filesOfMessage[mi]!.push(key);
        return async () => {
          await store.put(key, encodeParquet(g.events), 'application/vnd.apache.parquet');
          written.push(key);
        };
      });
      try {
        await runLimited(puts, putConcurrency);
      } catch (err) {
        // Remove this attempt's files: when the batch is retried in another shape (one message at a time,
        // to find a message that cannot be written), its events must not also stay here under this batch's
        // keys. (runLimited has let every put under way finish first.) After an outage the batch is retried
        // whole, under the same keys: nothing to remove.
        if (!(err instanceof UnavailableError)) await Promise.all(written.map((k) => store.delete(k).catch(() => undefined)));
        throw err;
      }

      const storedAt = new Date(clock.now()).toISOString();
      const receiptPuts = decoded.map((m, mi) => () => {
        const part: ReceiptPart = {
          receipt: m.receipt,
          part: m.part,
          parts: m.parts,
          events: m.events.length,
          files: filesOfMessage[mi]!,
          storedAt,
        };
        return store.put(receiptPartKey(m.tenant, m.receipt, m.part), Buffer.from(JSON.stringify(part)), 'application/json');
      });
      await runLimited(receiptPuts, putConcurrency);

      const events = decoded.reduce((n, m) => n + m.events.length, 0);
      if (observers.length > 0) {
        const byTenant = new Map<string, LogEvent[]>();
        for (const m of decoded) byTenant.set(m.tenant, [...(byTenant.get(m.tenant) ?? []), ...m.events]);
        for (const observe of observers) {
          for (const [tenant, evs] of byTenant) {
            await observe(tenant, evs).catch((err: unknown) => logger.error('an observer of stored events failed', { error: (err as Error).message }));
          }
        }
      }
      logger.debug('batch stored', { batchId, messages: decoded.length, events, files: puts.length });
      return { files: groups.map((g) => batchFileKey(g.partition, batchId, firstIngest)), events, poisoned };
    },
  };
}

export type BatchWriter = ReturnType<typeof makeBatchWriter>;

/** Runs the tasks, `limit` at a time; after a failure starts no new task, waits for those under way, then throws the first error. */
async function runLimited(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < tasks.length) {
      try {
        await tasks[next++]!();
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure) throw failure.err;
}
