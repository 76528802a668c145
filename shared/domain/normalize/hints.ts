import type { Level, LogEvent } from '../schema.js';
import { DEFAULT_EVENT_LIMITS, TRUNCATED_ATTRIBUTE, type EventLimits } from './record.js';

/**
 * What a shipper protocol already says about an event (Loki's timestamp and labels, OTLP's severity and
 * resource, GELF's host). Hints win over what is parsed from the content; attributes are merged.
 */
export interface RecordHints {
  /** microseconds since the epoch */
  ts?: number;
  level?: Level;
  severity?: number;
  service?: string;
  host?: string;
  source?: string;
  attributes?: Record<string, string>;
  tags?: string[];
  trace_id?: string;
  span_id?: string;
  format?: string;
  /** false: the text is the message exactly as sent (an OTLP body); no format detection runs on it. */
  parse?: boolean;
}

/** Applies hints to a normalized event (mutates and returns it), within the same limits as the content. */
export function applyHints(event: LogEvent, hints: RecordHints | undefined, limits: EventLimits = DEFAULT_EVENT_LIMITS): LogEvent {
  if (!hints) return event;
  if (hints.ts !== undefined) {
    event.ts = hints.ts;
    event.ts_inferred = false;
  }
  if (hints.level !== undefined) {
    event.level = hints.level;
    event.severity = hints.severity ?? event.severity;
  } else if (hints.severity !== undefined) {
    event.severity = hints.severity;
  }
  if (hints.service) event.service = hints.service;
  if (hints.host) event.host = hints.host;
  if (hints.source) event.source = hints.source;
  if (hints.trace_id) event.trace_id = hints.trace_id;
  if (hints.span_id) event.span_id = hints.span_id;
  if (hints.format) event.format = hints.format;
  if (hints.tags?.length) event.tags = [...new Set([...event.tags, ...hints.tags])];
  if (hints.attributes) mergeAttributes(event, hints.attributes, limits);
  return event;
}

function mergeAttributes(event: LogEvent, extra: Record<string, string>, limits: EventLimits): void {
  const attrs = event.attributes;
  const cut = new Set((attrs[TRUNCATED_ATTRIBUTE] ?? '').split(',').filter(Boolean));
  let count = Object.keys(attrs).length - (TRUNCATED_ATTRIBUTE in attrs ? 1 : 0);
  for (const [k, raw] of Object.entries(extra)) {
    if (k === TRUNCATED_ATTRIBUTE) {
      for (const w of raw.split(',')) if (w) cut.add(w);
      continue;
    }
    if (!(k in attrs) && count >= limits.maxAttributes) {
      cut.add('attributes');
      continue;
    }
    let v = raw;
    if (Buffer.byteLength(v) > limits.maxAttributeValueBytes) {
      v = Buffer.from(v)
        .subarray(0, limits.maxAttributeValueBytes)
        .toString('utf8')
        .replace(/\uFFFD$/, '');
      cut.add('attribute_value');
    }
    if (!(k in attrs)) count++;
    attrs[k] = v;
  }
  if (cut.size > 0) attrs[TRUNCATED_ATTRIBUTE] = [...cut].sort().join(',');
}
