/**
 * GELF over HTTP → records. Bodies may be plain, gzip or zlib whatever Content-Encoding claims (GELF
 * libraries compress without saying so), so compression is recognised by its magic bytes. One message
 * per request, or several separated by newlines or NUL bytes.
 * https://go2docs.graylog.org/current/getting_in_log_data/gelf.html
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { BadRequestError, PayloadTooLargeError } from '../errors.js';
import type { RecordHints } from '../normalize/hints.js';
import { parseLevel } from '../normalize/level.js';
import { AttributeBag, columnText, epochSecondsToMicros, isPlainObject, splitConcatenatedObjects, type DecodedRecord } from './common.js';

export const GELF_EXPECTED = 'a GELF JSON message such as {"version":"1.1","host":"web-1","short_message":"hello","level":6}';

/** Which compression the bytes carry, by their first two bytes (RFC 1952 and RFC 1950 headers). */
export function sniffCompression(bytes: Uint8Array): 'gzip' | 'zlib' | 'none' {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  // zlib: CM=8 in the low nibble of CMF, and (CMF*256 + FLG) a multiple of 31.
  if (bytes.length >= 2 && (bytes[0]! & 0x0f) === 8 && bytes[0]! >> 4 <= 7 && ((bytes[0]! << 8) | bytes[1]!) % 31 === 0) return 'zlib';
  return 'none';
}

/** The body's text: decompressed when it is gzip or zlib, refusing more than maxBytes of output. */
export function gelfBodyText(bytes: Buffer, maxBytes: number): string {
  if (bytes.length >= 2 && bytes[0] === 0x1e && bytes[1] === 0x0f) {
    throw new BadRequestError('chunked GELF is for UDP only; over HTTP send the whole message in one request');
  }
  const kind = sniffCompression(bytes);
  if (kind === 'none') return bytes.toString('utf8');
  try {
    return (kind === 'gzip' ? gunzipSync : inflateSync)(bytes, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/i.test((err as Error).message)) {
      throw new PayloadTooLargeError(`the decompressed GELF body exceeds the limit of ${maxBytes} bytes`);
    }
    throw new BadRequestError(`the body starts like ${kind} data but could not be decompressed: ${(err as Error).message}`);
  }
}

// Additional fields that fill columns (without their leading underscore), in priority order.
const SERVICE_FIELDS = ['service_name', 'service', 'app', 'application', 'facility'];
const TRACE_FIELDS = ['trace_id', 'traceId'];
const SPAN_FIELDS = ['span_id', 'spanId'];
const STANDARD = new Set(['version', 'host', 'short_message', 'full_message', 'timestamp', 'level']);

function take(fields: Map<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = columnText(fields.get(name));
    if (v) {
      fields.delete(name);
      return v;
    }
  }
  return undefined;
}

function messageRecord(text: string, index: number, where: string): DecodedRecord {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    return { index, kind: 'error', reason: `${where} is not valid JSON: ${(err as Error).message}` };
  }
  if (!isPlainObject(msg)) return { index, kind: 'error', reason: `${where} must be a JSON object: ${GELF_EXPECTED}` };
  const short = [msg['short_message'], msg['full_message'], msg['message']].find((v) => typeof v === 'string' && v.trim() !== '') as string | undefined;
  if (short === undefined) return { index, kind: 'error', reason: `${where} has no short_message` };

  // A GELF message is structured already: its text is the message as sent, not a line to detect.
  const hints: RecordHints = { format: 'gelf', parse: false };
  const host = columnText(msg['host']);
  if (host) hints.host = host;
  const ts = epochSecondsToMicros(msg['timestamp']);
  if (ts !== undefined) hints.ts = ts;
  const level = msg['level'];
  const parsedLevel = typeof level === 'number' ? (Number.isInteger(level) && level >= 0 && level <= 7 ? parseLevel(level) : undefined) : parseLevel(level);
  if (parsedLevel) {
    hints.level = parsedLevel.level;
    hints.severity = parsedLevel.severity;
  }

  // Additional fields lose their underscore; the deprecated unprefixed ones (facility, file, line) are kept.
  const fields = new Map<string, unknown>();
  for (const [k, v] of Object.entries(msg)) {
    if (STANDARD.has(k)) continue;
    const name = k.startsWith('_') ? k.slice(1) : k;
    if (name === '' || name === 'id') continue; // `_id` is reserved by GELF
    fields.set(name, v);
  }
  const service = take(fields, SERVICE_FIELDS);
  const trace = take(fields, TRACE_FIELDS);
  const span = take(fields, SPAN_FIELDS);
  if (service) hints.service = service;
  if (trace) hints.trace_id = trace;
  if (span) hints.span_id = span;

  const bag = new AttributeBag();
  const full = msg['full_message'];
  if (typeof full === 'string' && full.trim() !== '' && full !== short) bag.set('full_message', full);
  if (ts === undefined && msg['timestamp'] !== undefined) bag.set('ts_unparsed', msg['timestamp']);
  if (level !== undefined && !parsedLevel) bag.set('level', level);
  for (const [k, v] of fields) bag.set(k, v);
  const attributes = bag.done();
  if (attributes) hints.attributes = attributes;
  return { index, kind: 'text', line: short, hints };
}

/** The messages of a GELF HTTP body (already decompressed). */
export function decodeGelf(text: string): DecodedRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new BadRequestError(`body is empty: send ${GELF_EXPECTED}`);
  const { objects, trailing } = splitConcatenatedObjects(body);
  if (objects.length === 0) throw new BadRequestError(`body is not GELF JSON (${trailing?.reason ?? 'no message'}); send ${GELF_EXPECTED}`);
  const records = objects.map((o, i) => messageRecord(o, i, objects.length === 1 ? 'the message' : `message ${i + 1}`));
  if (trailing) records.push({ index: records.length, kind: 'error', reason: trailing.reason });
  return records;
}
