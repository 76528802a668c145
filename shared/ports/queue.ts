/** The producer side of the ingest queue (SQS in AWS, the on-disk spool locally). */
export interface Queue {
  /** The largest message body, in UTF-8 bytes, that send accepts. */
  readonly maxMessageBytes: number;
  /**
   * Enqueues the bodies. Resolves only when every body is durable (fsynced, or acknowledged by SQS);
   * rejects with UnavailableError when the queue cannot accept them now.
   */
  send(bodies: readonly string[]): Promise<void>;
}

/** A message as the batch writer receives it. */
export interface QueueRecord {
  id: string;
  body: string;
  /** How many times this message has been delivered, including this time. */
  attempt: number;
}
