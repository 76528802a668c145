/**
 * What every shipper decoder shares: the records they return, bounded attribute maps, epoch conversions
 * that keep microsecond precision, and turning JSON values into records. Pure: no I/O.
 */
import { BadRequestError } from '../errors.js';
import type { RecordHints } from '../normalize/hints.js';
import { textOf } from '../text.js';
import { DEFAULT_EVENT_LIMITS, TRUNCATED_ATTRIBUTE } from '../normalize/record.js';

/**
 * One record of a request. `index` is its position in the request (line or element), used in rejections
 * and in the event id. Shipper decoders attach protocol-level facts as `hints`.
 */
export type DecodedRecord =
  | { index: number; kind: 'json'; value: Record<string, unknown>; raw?: string; hints?: RecordHints }
  | { index: number; kind: 'text'; line: string; hints?: RecordHints }
  | {
      index: number;
      kind: 'error';
      reason: string;
      /** The protocol's own code for this rejection, when it has one (Splunk HEC's 12 and 13). */
      code?: number;
    };

// Hints bypass the normalizer's limits (they are merged after it), so decoders bound what they attach.
const MAX_ATTRIBUTES = DEFAULT_EVENT_LIMITS.maxAttributes;
const MAX_VALUE_BYTES = DEFAULT_EVENT_LIMITS.maxAttributeValueBytes;
const MAX_DEPTH = DEFAULT_EVENT_LIMITS.maxDepth;
const MAX_KEY_BYTES = 256;

function cut(text: string, maxBytes: number): string | undefined {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return undefined;
  return Buffer.from(text)
    .subarray(0, maxBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

/**
 * A string→string attribute map with the event limits applied: too many entries, long keys or values and
 * deep nesting are cut, and `sluice.truncated` says what was cut (as the normalizer flags its own cuts).
 */
export class AttributeBag {
  // No prototype: a key named __proto__ is an ordinary attribute.
  private readonly map: Record<string, string> = Object.create(null) as Record<string, string>;
  private count = 0;
  private readonly truncated = new Set<string>();

  /** Sets one attribute; objects are flattened to dotted keys, arrays and deep objects become JSON. */
  set(key: string, value: unknown, depth = 1): void {
    if (value === undefined) return;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      if (depth < MAX_DEPTH) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) this.set(`${key}.${k}`, v, depth + 1);
        return;
      }
      this.truncated.add('depth');
    }
    let text: string;
    if (typeof value === 'string') text = value;
    else if (value === null || typeof value !== 'object') text = textOf(value);
    else {
      const json = boundedJson(value, MAX_DEPTH - depth + 1);
      if (json.cut) this.truncated.add('depth');
      text = json.text;
    }
    if (!(key in this.map)) {
      if (this.count >= MAX_ATTRIBUTES) {
        this.truncated.add('attributes');
        return;
      }
      this.count++;
    }
    const shortKey = cut(key, MAX_KEY_BYTES);
    if (shortKey !== undefined) {
      this.truncated.add('attribute_key');
      key = shortKey;
    }
    const shortValue = cut(text, MAX_VALUE_BYTES);
    if (shortValue !== undefined) {
      this.truncated.add('attribute_value');
      text = shortValue;
    }
    this.map[key] = text;
  }

  /** Every entry of an object, each under its own key. */
  setAll(values: Record<string, unknown> | undefined, prefix = ''): void {
    if (!values) return;
    for (const [k, v] of Object.entries(values)) this.set(prefix + k, v);
  }

  get size(): number {
    return this.count;
  }

  /** The attributes, or undefined when there are none. */
  done(): Record<string, string> | undefined {
    if (this.truncated.size > 0) this.map[TRUNCATED_ATTRIBUTE] = [...this.truncated].sort().join(',');
    return this.count > 0 || this.truncated.size > 0 ? { ...this.map } : undefined;
  }
}

/**
 * JSON text of a value with nesting cut at maxDepth (deeper values become "…"): JSON.stringify recurses,
 * so a hostile 100,000-deep array would otherwise overflow the stack.
 */
export function boundedJson(value: unknown, maxDepth = MAX_DEPTH): { text: string; cut: boolean } {
  let cut = false;
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (depth >= maxDepth) {
      cut = true;
      return '…';
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    // No prototype: a key named __proto__ stays an ordinary key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x, depth + 1);
    return out;
  };
  return { text: JSON.stringify(walk(value, 0)) ?? 'null', cut };
}

const LATEST_MICROS = Date.UTC(2200, 0, 1) * 1000;

function inRange(micros: number | bigint): number | undefined {
  const n = Number(micros);
  return Number.isFinite(n) && n > 0 && n < LATEST_MICROS ? n : undefined;
}

/**
 * Epoch seconds with an optional fraction (GELF, Splunk HEC: `1700000000.123456`), as a number or a
 * string, to microseconds. The decimal text is split rather than multiplied so no float error creeps in.
 */
export function epochSecondsToMicros(value: unknown): number | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    text = String(value);
    if (/e/i.test(text)) return inRange(Math.round(value * 1e6));
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return undefined;
  }
  const m = /^(\d{1,12})(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return inRange(Number(m[1]) * 1e6 + Number(frac));
}

/** Epoch nanoseconds (OTLP, Loki) as a decimal string or a number, to microseconds (truncated). */
export function epochNanosToMicros(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const text = value.trim();
    if (!/^\d{1,20}$/.test(text)) return undefined;
    // Nanosecond strings exceed double precision; BigInt keeps every microsecond.
    return inRange(BigInt(text) / 1000n);
  }
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return inRange(Math.floor(value / 1000));
  return undefined;
}

/** Parses a whole body as JSON or throws a BadRequestError naming the protocol and what to send. */
export function parseJsonBody(text: string, what: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new BadRequestError(`body is empty: send ${what}`);
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new BadRequestError(`body is not valid JSON (${(err as Error).message}); send ${what}`);
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** One JSON value of a list (an array element) as a record: objects are events, strings are lines. */
export function recordFromJsonValue(value: unknown, index: number, where: string): DecodedRecord {
  if (isPlainObject(value)) return { index, kind: 'json', value };
  if (typeof value === 'string') {
    return value.trim() === '' ? { index, kind: 'error', reason: `${where} is an empty string` } : { index, kind: 'text', line: value };
  }
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  return { index, kind: 'error', reason: `${where} must be a JSON object or a string, got ${got}` };
}

/** A short, single-line excerpt of client input for an error message. */
export function excerpt(text: string, max = 60): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** A text value fit to be a column (service, host, source): non-empty and at most 256 characters. */
export function columnText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' ? undefined : text.slice(0, 256);
}

/**
 * Finds the JSON objects of a body of concatenated objects (`{…}{…}`, `{…}\n{…}`, or NUL-separated as GELF
 * over TCP). Returns their texts; text that is not inside an object ends the scan with an error for the rest.
 */
export function splitConcatenatedObjects(body: string): { objects: string[]; trailing?: { offset: number; reason: string } } {
  const objects: string[] = [];
  let i = 0;
  const n = body.length;
  while (i < n) {
    const c = body.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x00) {
      i++;
      continue;
    }
    if (c !== 0x7b /* { */)
      return {
        objects,
        trailing: { offset: i, reason: `expected a JSON object at character ${i + 1}, got ${JSON.stringify(excerpt(body.slice(i, i + 40)))}` },
      };
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < n; i++) {
      const ch = body.charCodeAt(i);
      if (inString) {
        if (ch === 0x5c /* \ */) i++;
        else if (ch === 0x22 /* " */) inString = false;
      } else if (ch === 0x22) inString = true;
      else if (ch === 0x7b || ch === 0x5b) depth++;
      else if (ch === 0x7d || ch === 0x5d) {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
    }
    if (depth !== 0) return { objects, trailing: { offset: start, reason: `the JSON object at character ${start + 1} is not closed (truncated body?)` } };
    objects.push(body.slice(start, i));
  }
  return { objects };
}
