/**
 * Sluice's own protocol, the body of `POST /v1/logs` (NDJSON, JSON, or text lines joined into multi-line
 * events) → records: JSON objects, text lines, or per-record rejections. Whole-body problems (a JSON
 * document that does not parse) throw BadRequestError.
 */
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.js';
import { startsEvent } from '../normalize/text/parse-line.js';
import type { DecodedRecord } from './common.js';

/**
 * How text lines become events. 'auto': when some lines of the body start an event (a timestamp, a
 * syslog header, JSON), a line that does not belongs to the event before it (stack traces, wrapped
 * messages); a body where no line looks like a start is one event per line. A RegExp: a line matching
 * it starts an event (Filebeat's multiline.pattern with negate, Proton's timestamp_regex). 'off': one
 * event per line.
 */
export type Multiline = 'auto' | 'off' | RegExp;

export interface DecodeOptions {
  multiline?: Multiline;
  /** More records than this in one body is refused as a whole (PayloadTooLargeError). */
  maxRecords?: number;
  /** "now" in µs, for reading year-less timestamps while finding event starts */
  refMicros?: number;
}

/** The most lines or characters joined into one event; past it, a new event starts. */
export const MAX_JOINED_LINES = 1000;
export const MAX_JOINED_CHARS = 512 * 1024;

export type BodyKind = 'json' | 'ndjson' | 'text' | 'sniff';

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonl',
  'application/jsonlines',
  'application/x-jsonlines',
]);

export const SUPPORTED_LOG_TYPES = 'application/json, application/x-ndjson (or jsonl), text/plain, or no content type (sniffed)';

/** Which decoder a Content-Type selects. */
export function bodyKindOf(contentType: string | undefined): BodyKind {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === '' || mediaType === 'application/octet-stream' || mediaType === 'application/x-www-form-urlencoded') {
    // curl -d sends form encoding by default; treat it, and no type at all, by looking at the body.
    return 'sniff';
  }
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return 'json';
  if (NDJSON_TYPES.has(mediaType)) return 'ndjson';
  if (mediaType === 'text/plain' || mediaType === 'text/x-log') return 'text';
  throw new UnsupportedMediaTypeError(`content type ${mediaType} is not accepted here; send ${SUPPORTED_LOG_TYPES}`);
}

function lines(body: string): string[] {
  return body.split('\n');
}

function decodeNdjson(body: string): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  const all = lines(body);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.trim();
    if (line === '') continue;
    out.push(fromJsonText(line, i, `line ${i + 1}`));
  }
  return out;
}

function fromJsonText(text: string, index: number, where: string): DecodedRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { index, kind: 'error', reason: `${where} is not valid JSON: ${(err as Error).message}` };
  }
  return fromJsonValue(value, index, where, text);
}

function fromJsonValue(value: unknown, index: number, where: string, raw?: string): DecodedRecord {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return raw === undefined
      ? { index, kind: 'json', value: value as Record<string, unknown> }
      : { index, kind: 'json', value: value as Record<string, unknown>, raw };
  }
  if (typeof value === 'string')
    return value.trim() === '' ? { index, kind: 'error', reason: `${where} is an empty string` } : { index, kind: 'text', line: value };
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  return { index, kind: 'error', reason: `${where} must be a JSON object or a string, got ${got}` };
}

function decodeJson(body: string): DecodedRecord[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    // Many shippers send NDJSON labelled application/json; accept it when it is clearly line-delimited.
    const nonEmpty = lines(body).filter((l) => l.trim() !== '');
    if (nonEmpty.length > 1 && nonEmpty[0]!.trim().startsWith('{')) return decodeNdjson(body);
    throw new BadRequestError(
      `body is not valid JSON (${(err as Error).message}); send one JSON object, an array of objects, or NDJSON with content-type application/x-ndjson`,
    );
  }
  if (Array.isArray(doc)) {
    if (doc.length === 0) throw new BadRequestError('body is an empty JSON array: nothing to ingest');
    return doc.map((v, i) => fromJsonValue(v, i, `element ${i}`));
  }
  return [fromJsonValue(doc, 0, 'body')];
}

/** One event assembled from one or more lines; index is its first line's. */
export interface JoinedLines {
  index: number;
  text: string;
}

/**
 * A streaming multi-line joiner: push lines in order, get back the events they complete. With 'auto' the
 * joiner decides from the first lines it sees (up to `decideAfter`) whether the stream has event starts
 * at all; until then it holds lines back.
 */
export function makeLineJoiner(mode: Multiline = 'auto', refMicros = Date.now() * 1000, decideAfter = 1000) {
  const starts = mode instanceof RegExp ? (l: string) => mode.test(l) : mode === 'auto' ? (l: string) => startsEvent(l, refMicros) : () => true;
  let join: boolean | undefined = mode === 'off' ? false : mode instanceof RegExp ? true : undefined;
  const held: { index: number; line: string }[] = [];
  let current: { index: number; parts: string[]; chars: number } | undefined;
  let index = -1;

  const close = (out: JoinedLines[]) => {
    if (current) out.push({ index: current.index, text: current.parts.join('\n') });
    current = undefined;
  };
  const place = (i: number, line: string, out: JoinedLines[]) => {
    if (!join || !current || starts(line) || current.parts.length >= MAX_JOINED_LINES || current.chars + line.length > MAX_JOINED_CHARS) {
      close(out);
      current = { index: i, parts: [line], chars: line.length };
    } else {
      current.parts.push(line);
      current.chars += line.length + 1;
    }
  };
  const release = (out: JoinedLines[]) => {
    for (const h of held.splice(0)) place(h.index, h.line, out);
  };

  return {
    /** Adds the next line (without its newline); returns the events it completed. */
    push(raw: string): JoinedLines[] {
      index++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      const out: JoinedLines[] = [];
      if (line.trim() === '') return out;
      if (join === undefined) {
        held.push({ index, line });
        if (starts(line)) join = true;
        else if (held.length >= decideAfter) join = false;
        if (join !== undefined) release(out);
        return out;
      }
      place(index, line, out);
      return out;
    },
    /** Ends the stream; returns the events still open. */
    end(): JoinedLines[] {
      const out: JoinedLines[] = [];
      join ??= false;
      release(out);
      close(out);
      return out;
    },
  };
}

function decodeText(body: string, opts: DecodeOptions = {}): DecodedRecord[] {
  const joiner = makeLineJoiner(opts.multiline ?? 'auto', opts.refMicros, Number.POSITIVE_INFINITY);
  const out: DecodedRecord[] = [];
  const add = (events: JoinedLines[]) => {
    for (const e of events) out.push({ index: e.index, kind: 'text', line: e.text });
  };
  for (const line of lines(body)) add(joiner.push(line));
  add(joiner.end());
  return out;
}

/** The most events one request may carry; larger batches are refused with a clear 413. */
export const MAX_RECORDS_PER_REQUEST = 100_000;

function tooMany(max: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the request has more than ${max} events; send at most ${max} per request`);
}

/** Refuses a body with more non-empty lines than allowed, before any per-line work is done. */
function checkLineCount(body: string, max: number): void {
  let count = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    for (let i = start; i < end; i++) {
      const c = body.charCodeAt(i);
      if (c !== 32 && c !== 9 && c !== 13) {
        if (++count > max) throw tooMany(max);
        break;
      }
    }
    start = end + 1;
  }
}

export function decodeLogsBody(input: string, kind: BodyKind, opts: DecodeOptions = {}): DecodedRecord[] {
  // A UTF-8 byte-order mark is not part of the content (Windows tools add one).
  const body = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (body.trim() === '') throw new BadRequestError('body is empty: send at least one event');
  const max = opts.maxRecords ?? MAX_RECORDS_PER_REQUEST;
  checkLineCount(body, max);
  const records = decodeByKind(body, kind, opts);
  if (records.length > max) throw tooMany(max);
  return records;
}

function decodeByKind(body: string, kind: BodyKind, opts: DecodeOptions): DecodedRecord[] {
  switch (kind) {
    case 'json':
      return decodeJson(body);
    case 'ndjson':
      return decodeNdjson(body);
    case 'text':
      return decodeText(body, opts);
    case 'sniff': {
      // Without a declared type, JSON is tried first and text is the fallback: plain log lines often
      // start with '[' or '{' ("[INFO] started").
      const first = body.trimStart()[0];
      if (first === '[' || first === '{') {
        try {
          const records = decodeJson(body);
          if (records.some((r) => r.kind !== 'error')) return records;
        } catch (err) {
          if (!(err instanceof BadRequestError)) throw err;
        }
      }
      return decodeText(body, opts);
    }
  }
}
