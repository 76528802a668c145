import { NotFoundError } from '../domain/errors.js';
import { isReceiptId, receiptTimeMs } from '../domain/ids.js';
import { receiptStatus, type ReceiptPart, type ReceiptStatus } from '../domain/receipts.js';
import { receiptPrefix } from '../domain/storage-layout.js';
import type { Clock } from '../ports/clock.js';
import type { ObjectStore } from '../ports/object-store.js';

/** A receipt older than this with nothing stored is reported unknown (SQS keeps messages at most 14 days). */
const MAX_QUEUED_MS = 14 * 24 * 3600_000;
const CLOCK_SKEW_MS = 5 * 60_000;

export function makeReceiptService({ store, clock }: { store: ObjectStore; clock: Clock }) {
  return {
    async get(tenant: string, receipt: string): Promise<ReceiptStatus> {
      const unknown = () => new NotFoundError(`no receipt ${JSON.stringify(receipt.slice(0, 40))} for this tenant`);
      if (!isReceiptId(receipt)) throw unknown();
      const acceptedAt = receiptTimeMs(receipt);
      const listed = await store.list(receiptPrefix(tenant, receipt));
      const parts: ReceiptPart[] = [];
      for (const obj of listed) {
        const body = await store.get(obj.key);
        if (body) parts.push(JSON.parse(Buffer.from(body).toString('utf8')) as ReceiptPart);
      }
      const now = clock.now();
      if (parts.length === 0 && (acceptedAt > now + CLOCK_SKEW_MS || acceptedAt < now - MAX_QUEUED_MS)) throw unknown();
      return receiptStatus(receipt, acceptedAt, parts);
    },
  };
}

export type ReceiptService = ReturnType<typeof makeReceiptService>;
