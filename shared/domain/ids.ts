import { createHash } from 'node:crypto';
import { decodeTime, isValid, monotonicFactory } from 'ulidx';

const nextUlid = monotonicFactory();

/** A receipt id: a ULID, so it sorts by time and tells when the request was accepted. */
export function newReceiptId(nowMs: number): string {
  return nextUlid(nowMs);
}

export function isReceiptId(value: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(value) && isValid(value);
}

export function receiptTimeMs(receipt: string): number {
  return decodeTime(receipt);
}

/** Event ids are derived from the receipt and the event's position in the request: stable across retries. */
export function eventId(receipt: string, index: number): string {
  return `${receipt}-${index.toString(36)}`;
}

/** A deterministic id for a set of queue messages, so a retried batch writes the same object keys. */
export function batchIdOf(messageIds: readonly string[]): string {
  const h = createHash('sha256');
  for (const id of [...messageIds].sort()) h.update(id).update('\n');
  return h.digest('hex').slice(0, 24);
}
