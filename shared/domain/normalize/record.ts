import type { LogEvent } from '../schema.js';
import { eventId } from '../ids.js';
import { textOf } from '../text.js';
import { parseLevel, levelFromSeverityNumber, type LevelInfo } from './level.js';
import { parseTimestampMicros } from './timestamp.js';
import { parseLine } from './text/parse-line.js';

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
    /** zone for timestamps written without one: '+02:00' or an IANA name; default UTC */
    tz?: string | undefined;
  };
  limits: EventLimits;
}

// Field aliases, in priority order, matched against dotted keys of the flattened object.
// pino/bunyan: time, level (10-60), msg, hostname, name; winston: timestamp, level, message; logrus: time,
// level, msg; zap: ts (epoch seconds), level, msg, logger, caller; Log4j JSON: timeMillis or instant,
// level, message, loggerName, thread; ECS: @timestamp, log.level, message, service.name, host.name,
// trace.id; Serilog CLEF: @t, @l, @m, @mt, @x; Serilog JSON: Timestamp, Level, RenderedMessage;
// Datadog: status; structlog: event, timestamp; GELF: short_message, timestamp, level, host.
const TS_KEYS = ['@timestamp', 'timestamp', 'time', 'ts', 'datetime', '@t', 'Timestamp', 'timeMillis', 'eventTime', 'date', 'asctime'];
const LEVEL_KEYS = ['level', 'severity', 'lvl', 'loglevel', 'log.level', 'levelname', 'level_name', 'severity_text', 'severityText', '@l', 'Level', 'status'];
const SEVERITY_NUMBER_KEYS = ['severity_number', 'severityNumber'];
const MESSAGE_KEYS = ['message', 'msg', '@message', '@m', 'Message', 'RenderedMessage', 'short_message', 'text', 'log', '@mt', 'MessageTemplate', 'event'];
const SERVICE_KEYS = ['service', 'service.name', 'service_name', 'serviceName', 'app', 'application', 'app_name', 'name'];
const HOST_KEYS = ['host', 'hostname', 'host.name', 'host.hostname', 'HostName'];
const SOURCE_KEYS = ['source', 'log.file.path', 'logger_source', 'file'];
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

/**
 * JSON text of a value, with anything nested deeper than maxDepth replaced by "…" (flagged): plain
 * JSON.stringify overflows the stack on deeply nested input.
 */
function boundedJson(value: unknown, maxDepth: number, flag: Truncations): string {
  const cut = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (depth >= Math.max(1, maxDepth)) {
      flag.add('depth');
      return '…';
    }
    if (Array.isArray(v)) return v.map((x) => cut(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: cut(x, depth + 1), enumerable: true });
    return out;
  };
  return JSON.stringify(cut(value, 0));
}

/** Flattens nested objects into dotted keys; arrays and too-deep objects become JSON text. */
function flatten(value: Record<string, unknown>, limits: EventLimits, flag: Truncations): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  flattenInto(out, value, '', 1, limits, flag);
  return out;
}

// A top-level function, not a closure made per event: this runs for every JSON event.
function flattenInto(out: Map<string, Leaf>, obj: Record<string, unknown>, prefix: string, depth: number, limits: EventLimits, flag: Truncations): void {
  for (const k in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
    const v = obj[k];
    const key = prefix ? `${prefix}.${k}` : k;
    if (v === undefined) continue;
    if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) out.set(key, boundedJson(v, limits.maxDepth - depth, flag));
      else if (depth >= limits.maxDepth) {
        flag.add('depth');
        out.set(key, boundedJson(v, limits.maxDepth, flag));
      } else flattenInto(out, v as Record<string, unknown>, key, depth + 1, limits, flag);
    } else {
      out.set(key, v as Leaf);
    }
  }
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
  if (typeof raw === 'string')
    return raw
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
  return undefined;
}

function mergeTags(a: string[] | undefined, b: string[] | undefined, limits: EventLimits, flag: Truncations): string[] {
  if (!a?.length && !b?.length) return [];
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
  // The base object becomes the event (no copy: this runs for every event).
  const event = base as LogEvent;
  event.message = message;
  event.attributes = attributes;
  return event;
}

/**
 * A text line becomes an event: its format is detected (JSON, logfmt, syslog, access log, application
 * header) and what the header says fills the schema. A multi-line event (a stack trace) is parsed by its
 * first line; the rest is kept in the message. With detect=false the line is the message, verbatim.
 */
export function normalizeTextLine(text: string, index: number, ctx: RecordContext, detect = true): LogEvent {
  const nl = text.indexOf('\n');
  const head = nl < 0 ? text : text.slice(0, nl).replace(/\r$/, '');
  const tail = nl < 0 ? '' : text.slice(nl);
  if (detect && nl < 0 && head.charCodeAt(0) === 0x7b /* { */) {
    try {
      const obj: unknown = JSON.parse(head);
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) return normalizeJsonObject(obj as Record<string, unknown>, index, ctx, head);
    } catch {
      // not JSON after all: read it as text
    }
  }
  const parsed = detect ? parseLine(head, ctx.ingestedAtMicros, ctx.defaults.tz) : undefined;
  if (parsed?.fields && nl < 0) return normalizeJsonObject(parsed.fields, index, ctx, head, 'logfmt');
  const flag = new Truncations();
  const attributes = limitAttributes(Object.entries(parsed?.attributes ?? {}), ctx.limits, flag);
  return finish(
    {
      ts: parsed?.ts ?? ctx.ingestedAtMicros,
      ingested_at: ctx.ingestedAtMicros,
      level: parsed?.level ?? null,
      severity: parsed?.severity ?? null,
      service: parsed?.service ?? ctx.defaults.service ?? null,
      host: parsed?.host ?? ctx.defaults.host ?? null,
      source: ctx.defaults.source ?? null,
      message: parsed ? parsed.message + tail : text,
      tags: mergeTags(ctx.defaults.tags, undefined, ctx.limits, flag),
      trace_id: attributes['trace_id'] ?? null,
      span_id: attributes['span_id'] ?? null,
      format: parsed?.format ?? 'text',
      event_id: eventId(ctx.receipt, index),
      ts_inferred: parsed?.ts === undefined,
    },
    attributes,
    flag,
    ctx,
  );
}

function limitAttributes(entries: Iterable<[string, Leaf]>, limits: EventLimits, flag: Truncations): Record<string, string> {
  // No prototype: a field named __proto__ is an ordinary attribute, not a prototype change.
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const [k, v] of entries) {
    if (count >= limits.maxAttributes) {
      flag.add('attributes');
      break;
    }
    const key = utf8Truncate(k, 256, flag, 'attribute_key');
    attributes[key] = utf8Truncate(v === null ? 'null' : String(v), limits.maxAttributeValueBytes, flag, 'attribute_value');
    count++;
  }
  return attributes;
}

/**
 * A JSON object becomes an event: well-known fields (by their common aliases) fill the schema's columns,
 * everything else goes into attributes with dotted keys. `raw` is the object's source text, used as the
 * message when the object has no message field (as CloudWatch's @message holds the whole event).
 */
export function normalizeJsonObject(obj: Record<string, unknown>, index: number, ctx: RecordContext, raw?: string, format = 'json'): LogEvent {
  const wrapped = containerLine(obj, index, ctx);
  if (wrapped) return wrapped;
  const flag = new Truncations();
  const tags = parseTags(obj['tags']);
  const fields = flatten(tags ? omit(obj, 'tags') : obj, ctx.limits, flag);

  let ts: number | undefined;
  let tsRaw: Leaf | undefined;
  for (const k of TS_KEYS) {
    const v = fields.get(k);
    if (v === undefined) continue;
    const parsed = parseTimestampMicros(v, ctx.defaults.tz);
    if (parsed !== undefined) {
      ts = parsed;
      fields.delete(k);
      break;
    }
    tsRaw ??= v;
  }

  if (ts === undefined && fields.has('instant.epochSecond')) {
    // Log4j 2 JsonLayout: {"instant": {"epochSecond": 1700000000, "nanoOfSecond": 123456789}}
    const sec = Number(fields.get('instant.epochSecond'));
    const nano = Number(fields.get('instant.nanoOfSecond') ?? 0);
    if (Number.isFinite(sec) && Number.isFinite(nano)) {
      ts = parseTimestampMicros(sec) !== undefined ? Math.round(sec * 1e6) + Math.floor(nano / 1e3) : undefined;
      if (ts !== undefined) {
        fields.delete('instant.epochSecond');
        fields.delete('instant.nanoOfSecond');
      }
    }
  }

  const gelf = typeof obj['short_message'] === 'string' && obj['version'] !== undefined;
  if (gelf) {
    // GELF: additional fields are "_name"; "level" is a syslog severity number.
    for (const [k, v] of [...fields]) {
      if (k.startsWith('_') && k.length > 1 && k !== '_id') {
        fields.delete(k);
        if (!fields.has(k.slice(1))) fields.set(k.slice(1), v);
      }
    }
    fields.delete('version');
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

  // Serilog's compact format leaves @l out for Information.
  if (!level && fields.has('@t') === false && obj['@t'] !== undefined && (obj['@m'] !== undefined || obj['@mt'] !== undefined)) {
    level = { level: 'info', severity: 9 };
  }
  const message = take(fields, MESSAGE_KEYS);
  const service = take(fields, SERVICE_KEYS);
  const host = take(fields, HOST_KEYS);
  const source = take(fields, SOURCE_KEYS);
  const traceId = take(fields, TRACE_KEYS);
  const spanId = take(fields, SPAN_KEYS);

  const attributes = limitAttributes(fields, ctx.limits, flag);
  if (ts === undefined && tsRaw !== undefined && fields.size < ctx.limits.maxAttributes) {
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
      message: typeof message === 'string' ? message : (raw ?? boundedJson(obj, ctx.limits.maxDepth, flag)),
      tags: mergeTags(ctx.defaults.tags, tags, ctx.limits, flag),
      trace_id: textOr(traceId, undefined),
      span_id: textOr(spanId, undefined),
      format: gelf ? 'gelf' : format,
      event_id: eventId(ctx.receipt, index),
      ts_inferred: ts === undefined,
    },
    attributes,
    flag,
    ctx,
  );
}

/**
 * Docker's json-file driver and Kubernetes' CRI logs wrap the application's own line:
 * {"log": "2024-… ERROR …\n", "stream": "stderr", "time": "…"}. The inner line is normalized as text
 * (it may itself be JSON), with the wrapper's time used only when the line has none of its own.
 */
function containerLine(obj: Record<string, unknown>, index: number, ctx: RecordContext): LogEvent | undefined {
  const log = obj['log'];
  if (typeof log !== 'string' || (obj['stream'] === undefined && obj['time'] === undefined) || 'message' in obj || 'msg' in obj) return undefined;
  const event = normalizeTextLine(log.replace(/\r?\n$/, ''), index, ctx);
  if (event.ts_inferred) {
    const ts = parseTimestampMicros(obj['time']);
    if (ts !== undefined) {
      event.ts = ts;
      event.ts_inferred = false;
    }
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'log' || k === 'time' || v === null || typeof v === 'object') continue;
    if (!(k in event.attributes)) event.attributes[k] = textOf(v);
  }
  return event;
}

function omit(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...obj };
  delete copy[key];
  return copy;
}
