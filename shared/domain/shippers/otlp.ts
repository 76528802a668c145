/**
 * OTLP/HTTP JSON logs (ExportLogsServiceRequest) → records. Field names are accepted in lowerCamelCase (the
 * OTLP/JSON form) and in the proto's snake_case; 64-bit integers as numbers or strings; ids as hex (or
 * base64, as generic protobuf JSON encoders write bytes).
 * https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
 */
import { BadRequestError } from '../errors.js';
import type { RecordHints } from '../normalize/hints.js';
import { levelFromSeverityNumber, parseLevel } from '../normalize/level.js';
import { AttributeBag, boundedJson, columnText, epochNanosToMicros, isPlainObject, type DecodedRecord } from './common.js';

export const OTLP_EXPECTED = 'an OTLP/HTTP JSON ExportLogsServiceRequest ({"resourceLogs":[…]})';

type Json = Record<string, unknown>;

/** camelCase or snake_case field of a protobuf JSON object. */
function field(obj: Json, camel: string): unknown {
  if (camel in obj) return obj[camel];
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return obj[snake];
}

function list(obj: Json, camel: string): unknown[] {
  const v = field(obj, camel);
  return Array.isArray(v) ? v : [];
}

/** True when a parsed JSON body is an OTLP logs export request. */
export function isOtlpLogsRequest(doc: unknown): boolean {
  return isPlainObject(doc) && (Array.isArray(doc['resourceLogs']) || Array.isArray(doc['resource_logs']));
}

/** An AnyValue as a plain JS value: kvlists become objects, arrays arrays, int64 strings stay exact. */
export function anyValueToJs(value: unknown, depth = 0): unknown {
  if (!isPlainObject(value) || depth > 32) return undefined;
  const s = field(value, 'stringValue');
  if (typeof s === 'string') return s;
  const b = field(value, 'boolValue');
  if (typeof b === 'boolean') return b;
  const i = field(value, 'intValue');
  if (typeof i === 'number') return i;
  if (typeof i === 'string' && /^-?\d+$/.test(i)) {
    const n = Number(i);
    return Number.isSafeInteger(n) ? n : i;
  }
  const d = field(value, 'doubleValue');
  if (typeof d === 'number') return d;
  if (typeof d === 'string' && d.trim() !== '' && !Number.isNaN(Number(d))) return Number(d);
  const bytes = field(value, 'bytesValue');
  if (typeof bytes === 'string') return bytes;
  const arr = field(value, 'arrayValue');
  if (isPlainObject(arr)) return list(arr, 'values').map((v) => anyValueToJs(v, depth + 1));
  const kv = field(value, 'kvlistValue');
  if (isPlainObject(kv)) return keyValuesToObject(list(kv, 'values'), depth + 1);
  return undefined;
}

function keyValuesToObject(items: unknown[], depth = 0): Json {
  const out: Json = Object.create(null) as Json;
  for (const item of items) {
    if (!isPlainObject(item) || typeof item['key'] !== 'string') continue;
    out[item['key']] = anyValueToJs(item['value'], depth);
  }
  return out;
}

const HEX_RE = /^[0-9a-fA-F]+$/;

/** A trace or span id as lowercase hex; all-zero (invalid) ids are dropped. */
function idOf(value: unknown, bytes: number): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let hex: string | undefined;
  if (value.length === bytes * 2 && HEX_RE.test(value)) hex = value.toLowerCase();
  else if (/^[A-Za-z0-9+/_-]+=*$/.test(value)) {
    const buf = Buffer.from(value, 'base64');
    if (buf.length === bytes) hex = buf.toString('hex');
  }
  return hex && !/^0+$/.test(hex) ? hex : undefined;
}

const SEVERITY_NAMES: Record<string, number> = Object.fromEntries(
  ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((name, i) =>
    ['', '2', '3', '4'].map((suffix, j) => [`SEVERITY_NUMBER_${name}${suffix}`, i * 4 + j + 1]),
  ),
);

function severityNumberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return /^\d+$/.test(value) ? Number(value) : SEVERITY_NAMES[value];
  return undefined;
}

interface ResourceFacts {
  service?: string;
  host?: string;
  attributes: Json;
}

function resourceFacts(resource: unknown): ResourceFacts {
  const attrs = isPlainObject(resource) ? keyValuesToObject(list(resource, 'attributes')) : {};
  const { ['service.name']: service, ['host.name']: host, ...rest } = attrs;
  const facts: ResourceFacts = { attributes: rest };
  const s = columnText(service);
  const h = columnText(host);
  if (s) facts.service = s;
  if (h) facts.host = h;
  return facts;
}

function scopeAttributes(scope: unknown): Json {
  if (!isPlainObject(scope)) return {};
  const out: Json = keyValuesToObject(list(scope, 'attributes'));
  const name = field(scope, 'name');
  const version = field(scope, 'version');
  if (typeof name === 'string' && name !== '') out['otel.scope.name'] = name;
  if (typeof version === 'string' && version !== '') out['otel.scope.version'] = version;
  return out;
}

function logRecord(rec: unknown, index: number, where: string, resource: ResourceFacts, scope: Json): DecodedRecord {
  if (!isPlainObject(rec)) return { index, kind: 'error', reason: `${where} must be a JSON object (an OTLP LogRecord)` };
  const hints: RecordHints = { format: 'otlp' };
  if (resource.service) hints.service = resource.service;
  if (resource.host) hints.host = resource.host;

  const ts = epochNanosToMicros(field(rec, 'timeUnixNano')) ?? epochNanosToMicros(field(rec, 'observedTimeUnixNano'));
  if (ts !== undefined) hints.ts = ts;

  const bag = new AttributeBag();
  bag.setAll(resource.attributes);
  bag.setAll(scope);
  bag.setAll(keyValuesToObject(list(rec, 'attributes')));

  const severityText = field(rec, 'severityText');
  const byNumber = levelFromSeverityNumber(severityNumberOf(field(rec, 'severityNumber')) ?? 0);
  const byText = typeof severityText === 'string' ? parseLevel(severityText) : undefined;
  const level = byNumber ?? byText;
  if (level) {
    hints.level = level.level;
    hints.severity = level.severity;
  }
  if (typeof severityText === 'string' && severityText !== '' && !byText) bag.set('severity_text', severityText);

  const trace = idOf(field(rec, 'traceId'), 16);
  const span = idOf(field(rec, 'spanId'), 8);
  if (trace) hints.trace_id = trace;
  if (span) hints.span_id = span;
  const eventName = field(rec, 'eventName');
  if (typeof eventName === 'string' && eventName !== '') bag.set('event.name', eventName);

  const attributes = bag.done();
  if (attributes) hints.attributes = attributes;

  const body = anyValueToJs(field(rec, 'body'));
  if (isPlainObject(body)) return { index, kind: 'json', value: { ...body }, hints };
  // A string body is the message exactly as the application logged it: no format detection.
  hints.parse = false;
  const line = typeof body === 'string' ? body : body === undefined ? (typeof eventName === 'string' ? eventName : '') : boundedJson(body).text;
  return { index, kind: 'text', line, hints };
}

/** The log records of an export request, numbered in order across resources and scopes. */
export function decodeOtlpLogs(doc: unknown): DecodedRecord[] {
  if (!isOtlpLogsRequest(doc)) throw new BadRequestError(`body is not ${OTLP_EXPECTED}`);
  const out: DecodedRecord[] = [];
  let index = 0;
  list(doc as Json, 'resourceLogs').forEach((rl, r) => {
    if (!isPlainObject(rl)) {
      out.push({ index: index++, kind: 'error', reason: `resourceLogs[${r}] must be a JSON object` });
      return;
    }
    const resource = resourceFacts(field(rl, 'resource'));
    list(rl, 'scopeLogs').forEach((sl, s) => {
      if (!isPlainObject(sl)) {
        out.push({ index: index++, kind: 'error', reason: `resourceLogs[${r}].scopeLogs[${s}] must be a JSON object` });
        return;
      }
      const scope = scopeAttributes(field(sl, 'scope'));
      list(sl, 'logRecords').forEach((rec, l) => {
        out.push(logRecord(rec, index++, `resourceLogs[${r}].scopeLogs[${s}].logRecords[${l}]`, resource, scope));
      });
    });
  });
  return out;
}

/** The ExportLogsServiceResponse for an accepted request: `{}`, or a partial success naming the rejections. */
export function otlpResponse(rejectedCount: number, reasons: readonly { index: number; reason: string }[]): Record<string, unknown> {
  if (rejectedCount === 0) return {};
  const shown = reasons
    .slice(0, 5)
    .map((r) => r.reason)
    .join('; ');
  const more = rejectedCount > 5 ? `; and ${rejectedCount - 5} more` : '';
  return { partialSuccess: { rejectedLogRecords: rejectedCount, errorMessage: `${rejectedCount} log record(s) rejected: ${shown}${more}` } };
}
