import type { Level, LogEvent } from '../schema.js';

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

/** Applies hints to a normalized event (mutates and returns it). */
export function applyHints(event: LogEvent, hints: RecordHints | undefined): LogEvent {
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
  if (hints.attributes) for (const [k, v] of Object.entries(hints.attributes)) event.attributes[k] = v;
  return event;
}
