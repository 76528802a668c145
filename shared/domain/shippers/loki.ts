/**
 * Loki push API (JSON) → records: `{"streams":[{"stream":{labels},"values":[["<ns>","line",{metadata}?]]}]}`.
 * Labels and structured metadata become attributes under their own names; a few well-known ones also
 * fill columns (see LOKI_COLUMN_LABELS). A line that is a JSON object is decoded as one (pino-loki and
 * most Loki clients ship JSON lines); other lines go to format detection.
 * https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs
 */
import { BadRequestError } from '../errors.js';
import type { RecordHints } from '../normalize/hints.js';
import { parseLevel } from '../normalize/level.js';
import { AttributeBag, boundedJson, columnText, epochNanosToMicros, excerpt, isPlainObject, parseJsonBody, type DecodedRecord } from './common.js';

export const LOKI_EXPECTED = 'Loki push JSON: {"streams":[{"stream":{"job":"app"},"values":[["<unix ns>","line"]]}]}';

/** Labels (or structured metadata) that fill columns, in priority order. They stay in attributes too. */
export const LOKI_COLUMN_LABELS = {
  // Loki's own service_name discovery looks at these, in this order.
  service: ['service_name', 'service', 'app', 'application', 'app_name', 'app_kubernetes_io_name', 'container', 'container_name', 'component', 'job'],
  host: ['host', 'hostname', 'host_name', 'node_name'],
  source: ['filename', 'source'],
  level: ['level', 'detected_level', 'severity', 'lvl'],
  trace_id: ['trace_id', 'traceID', 'traceId'],
  span_id: ['span_id', 'spanID', 'spanId'],
} as const;

function first(maps: Record<string, string>[], keys: readonly string[]): string | undefined {
  for (const k of keys) {
    for (const m of maps) {
      const v = columnText(m[k]);
      if (v) return v;
    }
  }
  return undefined;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!isPlainObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
  }
  return out;
}

function entryRecord(entry: unknown, index: number, where: string, labels: Record<string, string>): DecodedRecord {
  if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3) {
    return { index, kind: 'error', reason: `${where} must be ["<unix epoch in nanoseconds>", "<log line>"] with optional structured metadata` };
  }
  const [tsValue, line, metaValue] = entry as [unknown, unknown, unknown];
  const ts = epochNanosToMicros(tsValue);
  if (ts === undefined)
    return { index, kind: 'error', reason: `${where}: the timestamp must be a string of Unix epoch nanoseconds, got ${excerpt(boundedJson(tsValue, 2).text)}` };
  if (typeof line !== 'string') return { index, kind: 'error', reason: `${where}: the log line must be a string` };
  if (metaValue !== undefined && !isPlainObject(metaValue))
    return { index, kind: 'error', reason: `${where}: structured metadata must be an object of strings` };
  const meta = stringMap(metaValue);

  const hints: RecordHints = { ts };
  const maps = [meta, labels];
  const service = first(maps, LOKI_COLUMN_LABELS.service);
  const host = first(maps, LOKI_COLUMN_LABELS.host);
  const source = first(maps, LOKI_COLUMN_LABELS.source);
  const levelText = first(maps, LOKI_COLUMN_LABELS.level);
  const trace = first(maps, LOKI_COLUMN_LABELS.trace_id);
  const span = first(maps, LOKI_COLUMN_LABELS.span_id);
  const level = levelText ? parseLevel(levelText) : undefined;
  if (service) hints.service = service;
  if (host) hints.host = host;
  if (source) hints.source = source;
  if (level) {
    hints.level = level.level;
    hints.severity = level.severity;
  }
  if (trace) hints.trace_id = trace;
  if (span) hints.span_id = span;
  const bag = new AttributeBag();
  bag.setAll(labels);
  bag.setAll(meta);
  const attributes = bag.done();
  if (attributes) hints.attributes = attributes;

  const trimmed = line.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    try {
      const value: unknown = JSON.parse(trimmed);
      if (isPlainObject(value)) return { index, kind: 'json', value, raw: line, hints };
    } catch {
      // Not JSON after all: it is a text line.
    }
  }
  return { index, kind: 'text', line, hints };
}

/** The entries of a push request, numbered in order across streams (none for an empty push). */
export function decodeLokiPush(body: string): DecodedRecord[] {
  const doc = parseJsonBody(body, LOKI_EXPECTED);
  if (!isPlainObject(doc) || !Array.isArray(doc['streams'])) throw new BadRequestError(`body is not ${LOKI_EXPECTED}`);
  const out: DecodedRecord[] = [];
  let index = 0;
  doc['streams'].forEach((stream: unknown, s: number) => {
    const where = `streams[${s}]`;
    if (!isPlainObject(stream) || !Array.isArray(stream['values'])) {
      out.push({ index: index++, kind: 'error', reason: `${where} must be an object with "stream" (labels) and "values"` });
      return;
    }
    if (stream['stream'] !== undefined && !isPlainObject(stream['stream'])) {
      out.push({ index: index++, kind: 'error', reason: `${where}.stream must be an object of label names to values` });
      return;
    }
    const labels = stringMap(stream['stream']);
    stream['values'].forEach((entry: unknown, v: number) => out.push(entryRecord(entry, index++, `${where}.values[${v}]`, labels)));
  });
  // An empty push is valid (Loki answers 204); the caller stores nothing.
  return out;
}
