import type { LogEvent } from '../schema.js';
import { eventId } from '../ids.js';
import { parseLevel, levelFromSeverityNumber, type LevelInfo } from './level.js';
import { parseTimestampMicros } from './timestamp.js';

/** Limits applied to every event. Exceeding one truncates and flags the event; it never drops it. */
export interface EventLimits {
  maxMessageBytes: number;
  maxAttributes: number;
  maxAttributeValueBytes: number;
  maxDepth: number;
  maxTags: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxMessageBytes: 64 * 1024,
  maxAttributes: 500,
  maxAttributeValueBytes: 8 * 1024,
  maxDepth: 16,
  maxTags: 50,
};

/** Attribute set on an event that was cut to fit the limits; its value lists what was cut. */
export const TRUNCATED_ATTRIBUTE = 'sluice.truncated';

/** Per-request context: who sent it, when, and defaults given as request parameters. */
export interface RecordContext {
  receipt: string;
  ingestedAtMicros: number;
  defaults: {
    service?: string | undefined;
    host?: string | undefined;
    source?: string | undefined;
    tags?: string[] | undefined;
  };
  limits: EventLimits;
}

// Field aliases, in priority order, matched against dotted keys of the flattened object.
const TS_KEYS = ['@timestamp', 'timestamp', 'time', 'ts', 'datetime', '@t', 'Timestamp', 'eventTime'];
const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log.level', 'levelname', 'severity_text', 'severityText', '@l', 'Level'];
const SEVERITY_NUMBER_KEYS = ['severity_number', 'severityNumber'];
const MESSAGE_KEYS = ['message', 'msg', '@message', '@m', 'Message', 'text', 'log'];
const SERVICE_KEYS = ['service', 'service.name', 'service_name', 'serviceName', 'app', 'application'];
const HOST_KEYS = ['host', 'hostname', 'host.name', 'host.hostname'];
const SOURCE_KEYS = ['source', 'log.file.path', 'logger_source'];
const TRACE_KEYS = ['trace_id', 'traceId', 'trace.id', 'traceID', 'dd.trace_id'];
const SPAN_KEYS = ['span_id', 'spanId', 'span.id', 'spanID', 'dd.span_id'];

type Leaf = string | number | boolean | null;

class Truncations {
  readonly what = new Set<string>();
  add(what: string): void {
    this.what.add(what);
  }
}

function utf8Truncate(text: string, maxBytes: number, flag: Truncations, what: string): string {
  // Fast path: a string of N UTF-16 units is at most 3N UTF-8 bytes.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  flag.add(what);
  const buf = Buffer.from(text).subarray(0, maxBytes);
  // Drop a partial multi-byte character at the cut.
  return buf.toString('utf8').replace(/\uFFFD$/, '');
}

/** Flattens nested objects into dotted keys; arrays and too-deep objects become JSON text. */
function flatten(value: Record<string, unknown>, limits: EventLimits, flag: Truncations): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        if (depth >= limits.maxDepth) {
          flag.add('depth');
          out.set(key, JSON.stringify(v));
        } else {
          walk(v as Record<string, unknown>, key, depth + 1);
        }
      } else if (Array.isArray(v)) {
        out.set(key, JSON.stringify(v));
      } else if (v === undefined) {
        continue;
      } else {
        out.set(key, v as Leaf);
      }
    }
  };
  walk(value, '', 1);
  return out;
}

function take(fields: Map<string, Leaf>, keys: readonly string[], accept: (v: Leaf) => boolean = isText): Leaf | undefined {
  for (const k of keys) {
    const v = fields.get(k);
    if (v !== undefined && accept(v)) {
      fields.delete(k);
      return v;
    }
  }
  return undefined;
}

function isText(v: Leaf): boolean {
  return typeof v === 'string' && v.length > 0;
}

function textOr(v: Leaf | undefined, fallback: string | undefined): string | null {
  if (typeof v === 'string' && v.length > 0) return v;
  return fallback ?? null;
}

function parseTags(raw: unknown): string[] | undefined {
  if (Array.isArray(raw)) return raw.filter((t): t is string => typeof t === 'string' && t.length > 0);
  if (typeof raw === 'string') return raw.split(',').map((t) => t.trim()).filter(Boolean);
  return undefined;
}

function mergeTags(a: string[] | undefined, b: string[] | undefined, limits: EventLimits, flag: Truncations): string[] {
  const all = [...new Set([...(a ?? []), ...(b ?? [])])];
  if (all.length > limits.maxTags) {
    flag.add('tags');
    return all.slice(0, limits.maxTags);
  }
  return all;
}

function finish(
  base: Omit<LogEvent, 'attributes' | 'message'> & { message: string },
  attributes: Record<string, string>,
  flag: Truncations,
  ctx: RecordContext,
): LogEvent {
  const message = utf8Truncate(base.message, ctx.limits.maxMessageBytes, flag, 'message');
  if (flag.what.size > 0) attributes[TRUNCATED_ATTRIBUTE] = [...flag.what].sort().join(',');
  return { ...base, message, attributes };
}

/** A plain text line becomes an event whose message is the line (format detection comes later). */
export function normalizeTextLine(line: string, index: number, ctx: RecordContext, _detect = true): LogEvent {
  const flag = new Truncations();
  return finish(
    {
      ts: ctx.ingestedAtMicros,
      ingested_at: ctx.ingestedAtMicros,
      level: null,
      severity: null,
      service: ctx.defaults.service ?? null,
      host: ctx.defaults.host ?? null,
      source: ctx.defaults.source ?? null,
      message: line,
      tags: mergeTags(ctx.defaults.tags, undefined, ctx.limits, flag),
      trace_id: null,
      span_id: null,
      format: 'text',
      event_id: eventId(ctx.receipt, index),
      ts_inferred: true,
    },
    {},
    flag,
    ctx,
  );
}

/**
 * A JSON object becomes an event: well-known fields (by their common aliases) fill the schema's columns,
 * everything else goes into attributes with dotted keys. `raw` is the object's source text, used as the
 * message when the object has no message field (as CloudWatch's @message holds the whole event).
 */
export function normalizeJsonObject(
  obj: Record<string, unknown>,
  index: number,
  ctx: RecordContext,
  raw?: string,
): LogEvent {
  const flag = new Truncations();
  const tags = parseTags(obj['tags']);
  const fields = flatten(tags ? omit(obj, 'tags') : obj, ctx.limits, flag);

  let ts: number | undefined;
  let tsRaw: Leaf | undefined;
  for (const k of TS_KEYS) {
    const v = fields.get(k);
    if (v === undefined) continue;
    const parsed = parseTimestampMicros(v);
    if (parsed !== undefined) {
      ts = parsed;
      fields.delete(k);
      break;
    }
    tsRaw ??= v;
  }

  let level: LevelInfo | undefined;
  const sevNum = take(fields, SEVERITY_NUMBER_KEYS, (v) => typeof v === 'number' && levelFromSeverityNumber(v) !== undefined);
  if (typeof sevNum === 'number') level = levelFromSeverityNumber(sevNum);
  for (const k of LEVEL_KEYS) {
    const v = fields.get(k);
    if (v === undefined) continue;
    const parsed = parseLevel(v);
    if (parsed) {
      // A textual level refines the level; a severity number, when given, stays the more precise one.
      level = level && level.level === parsed.level ? level : parsed;
      fields.delete(k);
      break;
    }
  }

  const message = take(fields, MESSAGE_KEYS);
  const service = take(fields, SERVICE_KEYS);
  const host = take(fields, HOST_KEYS);
  const source = take(fields, SOURCE_KEYS);
  const traceId = take(fields, TRACE_KEYS);
  const spanId = take(fields, SPAN_KEYS);

  // No prototype: a field named __proto__ is an ordinary attribute, not a prototype change.
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const [k, v] of fields) {
    if (count >= ctx.limits.maxAttributes) {
      flag.add('attributes');
      break;
    }
    const key = utf8Truncate(k, 256, flag, 'attribute_key');
    attributes[key] = utf8Truncate(v === null ? 'null' : String(v), ctx.limits.maxAttributeValueBytes, flag, 'attribute_value');
    count++;
  }
  if (ts === undefined && tsRaw !== undefined && count < ctx.limits.maxAttributes) {
    // Keep an unparseable timestamp visible rather than silently replacing it.
    attributes['ts_unparsed'] = String(tsRaw);
  }

  return finish(
    {
      ts: ts ?? ctx.ingestedAtMicros,
      ingested_at: ctx.ingestedAtMicros,
      level: level?.level ?? null,
      severity: level?.severity ?? null,
      service: textOr(service, ctx.defaults.service),
      host: textOr(host, ctx.defaults.host),
      source: textOr(source, ctx.defaults.source),
      message: typeof message === 'string' ? message : (raw ?? JSON.stringify(obj)),
      tags: mergeTags(ctx.defaults.tags, tags, ctx.limits, flag),
      trace_id: textOr(traceId, undefined),
      span_id: textOr(spanId, undefined),
      format: 'json',
      event_id: eventId(ctx.receipt, index),
      ts_inferred: ts === undefined,
    },
    attributes,
    flag,
    ctx,
  );
}

function omit(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}
