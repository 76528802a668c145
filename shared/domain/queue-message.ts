/**
 * The queue message that carries normalized events from the ingest handler to the batch writer.
 * One request becomes one or more messages (parts), each under the queue's size limit.
 */
import * as z from 'zod';
import { LEVELS, type LogEvent } from './schema.js';
import { TENANT_PATTERN } from './tenant.js';

export const MESSAGE_VERSION = 1;

const eventSchema = z.object({
  ts: z.number().int().nonnegative(),
  ingested_at: z.number().int().nonnegative(),
  level: z.enum(LEVELS).nullable(),
  severity: z.number().int().min(1).max(24).nullable(),
  service: z.string().nullable(),
  host: z.string().nullable(),
  source: z.string().nullable(),
  message: z.string(),
  attributes: z.record(z.string(), z.string()),
  tags: z.array(z.string()),
  trace_id: z.string().nullable(),
  span_id: z.string().nullable(),
  format: z.string(),
  event_id: z.string().min(1),
  ts_inferred: z.boolean(),
});

const messageSchema = z.object({
  v: z.literal(MESSAGE_VERSION),
  tenant: z.string().regex(TENANT_PATTERN),
  receipt: z.string().min(1),
  part: z.number().int().nonnegative(),
  parts: z.number().int().positive(),
  events: z.array(eventSchema),
});

export interface EventMessage {
  v: typeof MESSAGE_VERSION;
  tenant: string;
  receipt: string;
  part: number;
  parts: number;
  events: LogEvent[];
}

export class MessageTooLargeError extends Error {
  override name = 'MessageTooLargeError';
}

/** Bytes of a message that are not events: the header below plus part numbers and brackets. */
const ENVELOPE_OVERHEAD = 200;

function envelopeBytes(tenant: string, receipt: string): number {
  return Buffer.byteLength(header(tenant, receipt)) + 64;
}

function header(tenant: string, receipt: string): string {
  return `{"v":${MESSAGE_VERSION},"tenant":${JSON.stringify(tenant)},"receipt":${JSON.stringify(receipt)}`;
}

/**
 * Packs already-serialized events into message bodies of at most maxBytes each (UTF-8), preserving order.
 * `eventJson[i]` must be JSON.stringify of an event; the caller rejects events larger than one message.
 */
export function packMessages(tenant: string, receipt: string, eventJson: readonly string[], maxBytes: number): string[] {
  const overhead = Math.max(ENVELOPE_OVERHEAD, envelopeBytes(tenant, receipt));
  const groups: string[][] = [];
  let current: string[] = [];
  let size = overhead;
  for (const json of eventJson) {
    const bytes = Buffer.byteLength(json) + 1;
    if (bytes + overhead > maxBytes) throw new MessageTooLargeError(`event of ${bytes} bytes exceeds the message limit of ${maxBytes}`);
    if (size + bytes > maxBytes && current.length > 0) {
      groups.push(current);
      current = [];
      size = overhead;
    }
    current.push(json);
    size += bytes;
  }
  if (current.length > 0) groups.push(current);
  const head = header(tenant, receipt);
  return groups.map((g, part) => `${head},"part":${part},"parts":${groups.length},"events":[${g.join(',')}]}`);
}

export function maxEventBytesFor(maxMessageBytes: number): number {
  return maxMessageBytes - ENVELOPE_OVERHEAD - 1;
}

/** Parses and validates a message body; throws with a reason when the body is not a valid message. */
export function parseMessage(body: string): EventMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new Error(`message is not JSON: ${(err as Error).message}`);
  }
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`message is not a valid event message: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`);
  }
  return parsed.data as EventMessage;
}
