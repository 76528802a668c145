/**
 * Athena returns every value as a string (or nothing, for NULL). These turn them into API values by the
 * column type Athena reports, in the shapes the local engine produces: numbers when they fit a double
 * exactly, booleans, timestamps as ISO 8601 with six fraction digits, maps as objects, arrays as arrays.
 */
import { zoneOffsetMs } from '../../domain/normalize/zone.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** "timestamp(6) with time zone" → "timestamp with time zone", "decimal(10,2)" → "decimal". */
export function baseType(type: string | undefined): string {
  return (type ?? 'varchar')
    .toLowerCase()
    .replace(/\(.*?\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export function convertValue(value: string | undefined, type: string | undefined): Json {
  if (value === undefined) return null;
  switch (baseType(type)) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
    case 'bigint': {
      const n = Number(value);
      return Number.isSafeInteger(n) ? n : value;
    }
    case 'double':
    case 'real':
    case 'float': {
      const n = Number(value);
      // NaN and ±Infinity have no JSON number; keep Athena's spelling.
      return Number.isFinite(n) ? n : value;
    }
    case 'decimal':
      return decimalValue(value);
    case 'boolean':
      return value === 'true' ? true : value === 'false' ? false : value;
    case 'timestamp with time zone':
      return timestampWithZone(value) ?? value;
    case 'timestamp':
      return localTimestamp(value) ?? value;
    case 'array':
    case 'map':
    case 'row':
      return complexValue(value);
    default:
      // varchar, char, date, time, json, uuid, ipaddress, varbinary, interval …: Athena's text as is.
      return value;
  }
}

/** A number when at most 15 significant digits (a double holds those exactly), otherwise the text. */
function decimalValue(value: string): number | string {
  const digits = value.replace(/^[-+]/, '').replace('.', '').replace(/^0+/, '');
  const n = Number(value);
  return Number.isFinite(n) && digits.length <= 15 ? n : value;
}

const TIMESTAMP = /^(-?\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

function parts(text: string): { wallMs: number; date: string; fraction: string } | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac] = m;
  const wall = new Date(0);
  wall.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  wall.setUTCHours(Number(h), Number(mi), Number(s), 0);
  // Exactly six digits: Trino prints the column's precision (3, 6, 9 or 12).
  return { wallMs: wall.getTime(), date: `${y}-${mo}-${d}T${h}:${mi}:${s}`, fraction: (frac ?? '').slice(0, 6).padEnd(6, '0') };
}

/** "2024-05-01 10:00:00.000" → "2024-05-01T10:00:00.000000" (no zone: Trino's zone-less timestamp). */
function localTimestamp(text: string): string | undefined {
  const p = parts(text);
  return p && `${p.date}.${p.fraction}`;
}

/**
 * "2024-05-01 10:00:00.123 UTC", "… +02:00" or "… Europe/Paris" → "2024-05-01T10:00:00.123000Z" (the instant,
 * in UTC). Trino prints a zone's wall clock without its offset, so a time in the hour a zone repeats is
 * ambiguous; zoneOffsetMs reads it as the first occurrence.
 */
function timestampWithZone(text: string): string | undefined {
  const space = text.lastIndexOf(' ');
  if (space < 0) return undefined;
  const p = parts(text.slice(0, space));
  const offsetMs = p && zoneOffsetMs(text.slice(space + 1), p.wallMs);
  if (!p || offsetMs === undefined) return undefined;
  const utc = new Date(p.wallMs - offsetMs);
  if (Number.isNaN(utc.getTime())) return undefined;
  return `${utc.toISOString().slice(0, 19)}.${p.fraction}Z`;
}

/**
 * Athena prints maps and rows as {k=v, k2=v2} and arrays as [a, b], without quoting strings, so the text
 * is ambiguous when a value itself contains ", ", "=" or brackets. Parsed here: split at ", " outside
 * brackets (or everywhere, when brackets in values do not balance); a map piece without "=" belongs to the
 * value before it (a value containing ", "). A value containing ", key=" still splits wrongly: that cannot
 * be told apart from two entries. Inner values stay strings (Athena does not report their types); "null"
 * is null. Text that does not have the shape at all is returned unchanged.
 */
export function complexValue(text: string): Json {
  return nested(text) ?? text;
}

function nested(text: string): Json | undefined {
  if (text === 'null') return null;
  if (text.startsWith('[') && text.endsWith(']')) return arrayValue(text.slice(1, -1));
  if (text.startsWith('{') && text.endsWith('}')) return mapValue(text.slice(1, -1));
  return undefined;
}

function split(inner: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && inner[i + 1] === ' ' && depth === 0) {
      out.push(inner.slice(from, i));
      from = i + 2;
      i++;
    }
    if (depth < 0) break;
  }
  if (depth !== 0) return inner.split(', ');
  out.push(inner.slice(from));
  return out;
}

function element(text: string): Json {
  return text.startsWith('[') || text.startsWith('{') ? (nested(text) ?? text) : text === 'null' ? null : text;
}

function arrayValue(inner: string): Json[] {
  return inner === '' ? [] : split(inner).map(element);
}

function mapValue(inner: string): { [k: string]: Json } | undefined {
  const out: { [k: string]: Json } = Object.create(null) as { [k: string]: Json };
  if (inner === '') return out;
  const entries: [string, string][] = [];
  for (const piece of split(inner)) {
    const eq = piece.indexOf('=');
    if (eq > 0) entries.push([piece.slice(0, eq), piece.slice(eq + 1)]);
    else if (entries.length > 0) entries[entries.length - 1]![1] += `, ${piece}`;
    else return undefined;
  }
  for (const [k, v] of entries) out[k] = element(v);
  return out;
}
