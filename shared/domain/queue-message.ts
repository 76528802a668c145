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

export const messageSchema = z.object({
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

const LEVEL_SET: ReadonlySet<unknown> = new Set(LEVELS);
const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const isStringOrNull = (v: unknown) => v === null || typeof v === 'string';

/**
 * The fast check of one event against eventSchema: the writer parses every event of every message, and
 * zod's per-field walk cost more than the Parquet encoding. It accepts only what eventSchema accepts
 * (test/unit/queue-message.test.ts checks that on generated messages); anything it refuses goes through
 * zod, which gives the reason.
 */
function isEvent(e: unknown): e is LogEvent {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return false;
  const o = e as Record<string, unknown>;
  if (!isInt(o.ts, 0) || !isInt(o.ingested_at, 0)) return false;
  if (o.level !== null && !LEVEL_SET.has(o.level)) return false;
  if (o.severity !== null && !(isInt(o.severity, 1) && o.severity <= 24)) return false;
  if (!isStringOrNull(o.service) || !isStringOrNull(o.host) || !isStringOrNull(o.source) || !isStringOrNull(o.trace_id) || !isStringOrNull(o.span_id))
    return false;
  if (typeof o.message !== 'string' || typeof o.format !== 'string' || typeof o.event_id !== 'string' || o.event_id.length === 0) return false;
  if (typeof o.ts_inferred !== 'boolean') return false;
  const tags = o.tags;
  if (!Array.isArray(tags)) return false;
  for (const t of tags) if (typeof t !== 'string') return false;
  const attributes = o.attributes;
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes) || Object.getPrototypeOf(attributes) !== Object.prototype)
    return false;
  for (const k in attributes) if (typeof (attributes as Record<string, unknown>)[k] !== 'string') return false;
  return true;
}

/** The fast check of a whole message against messageSchema (see isEvent). */
export function isEventMessage(m: unknown): m is EventMessage {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return false;
  const o = m as Record<string, unknown>;
  if (o.v !== MESSAGE_VERSION || typeof o.tenant !== 'string' || !TENANT_PATTERN.test(o.tenant)) return false;
  if (typeof o.receipt !== 'string' || o.receipt.length === 0 || !isInt(o.part, 0) || !isInt(o.parts, 1)) return false;
  if (!Array.isArray(o.events)) return false;
  for (const e of o.events) if (!isEvent(e)) return false;
  return true;
}

/** Parses and validates a message body; throws with a reason when the body is not a valid message. */
export function parseMessage(body: string): EventMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new Error(`message is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (isEventMessage(raw)) return raw;
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`message is not a valid event message: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`);
  }
  return parsed.data;
}
