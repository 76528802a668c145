/**
 * Receipts say whether an accepted request has been stored, and where. The batch writer writes one small
 * object per message part after the part's events are in files (receiptPartKey in storage-layout.ts).
 */

export interface ReceiptPart {
  receipt: string;
  part: number;
  parts: number;
  events: number;
  files: string[];
  storedAt: string;
  /** Set when the part went to the dead-letter queue instead of storage: why. */
  failed?: string;
}

export interface ReceiptStatus {
  receipt: string;
  status: 'queued' | 'stored' | 'failed';
  /** Why parts failed, when status is failed. */
  reasons?: string[];
  acceptedAt: string;
  /** Present once at least one part is stored. */
  events?: number;
  partsStored?: number;
  parts?: number;
  files?: string[];
  storedAt?: string;
}

/** Combines the stored parts of a receipt into its status. Pure. */
export function receiptStatus(receipt: string, acceptedAtMs: number, parts: readonly ReceiptPart[]): ReceiptStatus {
  const acceptedAt = new Date(acceptedAtMs).toISOString();
  if (parts.length === 0) return { receipt, status: 'queued', acceptedAt };
  const total = parts[0]!.parts;
  const distinct = new Map(parts.map((p) => [p.part, p]));
  const done = distinct.size >= total;
  const failures = [...distinct.values()].filter((p) => p.failed !== undefined).map((p) => `part ${p.part}: ${p.failed}`);
  return {
    receipt,
    status: failures.length > 0 ? 'failed' : done ? 'stored' : 'queued',
    ...(failures.length > 0 ? { reasons: failures } : {}),
    acceptedAt,
    events: [...distinct.values()].reduce((n, p) => n + p.events, 0),
    partsStored: distinct.size,
    parts: total,
    files: [...new Set([...distinct.values()].flatMap((p) => p.files))].sort(),
    storedAt: [...distinct.values()]
      .map((p) => p.storedAt)
      .sort()
      .at(-1)!,
  };
}
