/**
 * Timestamp parsing to microseconds since the epoch (UTC). Parsing is done by hand rather than with
 * Date.parse so sub-millisecond precision survives and no engine-specific formats are accepted silently.
 */
import { wallClockToUtc } from './zone.js';

// Accept roughly 1970 .. 2200; anything else is far more likely a mis-read number than a real event time.
const MIN_MICROS = 0;
const MAX_MICROS = Date.UTC(2200, 0, 1) * 1000;

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?)?$/;

function inRange(micros: number): number | undefined {
  return Number.isFinite(micros) && micros >= MIN_MICROS && micros < MAX_MICROS ? Math.round(micros) : undefined;
}

/** ISO 8601 / RFC 3339 with any fraction precision and offset; no offset means UTC, or `zone` if given. */
export function parseIsoMicros(text: string, zone?: string): number | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', offset] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  // Date.UTC maps years 0-99 to 1900-1999; anything before 1970 is out of range anyway.
  if (Number(y) < 1970) return undefined;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(Number(y), month - 1, day, hour, minute, Math.min(second, 59));
  // Date.UTC silently rolls 2024-02-31 over to March: refuse that.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  if (!offset) ms = wallClockToUtc(ms, zone);
  if (offset && offset !== 'Z' && offset !== 'z' && offset !== 'UTC') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return undefined;
    ms -= sign * (offH * 60 + offM) * 60_000;
  }
  const fracMicros = frac ? Math.floor(Number(frac.padEnd(6, '0').slice(0, 6))) : 0;
  return inRange(ms * 1000 + fracMicros);
}

/**
 * Epoch numbers in seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude
 * (the same rule Vector and Loki use): below 1e11 seconds, below 1e14 ms, below 1e17 µs, else ns.
 */
export function parseEpochMicros(value: number): number | undefined {
  if (!Number.isFinite(value) || value < 0) return undefined;
  if (value < 1e11) return inRange(value * 1e6);
  if (value < 1e14) return inRange(value * 1e3);
  if (value < 1e17) return inRange(value);
  return inRange(value / 1e3);
}

const EPOCH_TEXT_RE = /^\d{9,19}(?:\.\d+)?$/;

/** A timestamp from a JSON value: a number (epoch) or a string (ISO 8601, or epoch digits). */
export function parseTimestampMicros(value: unknown, zone?: string): number | undefined {
  if (typeof value === 'number') return parseEpochMicros(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (EPOCH_TEXT_RE.test(text)) {
    // Nanosecond strings exceed double precision; keep the microsecond part exactly.
    const [int = '', frac] = text.split('.');
    if (int.length >= 18 && !frac) return inRange(Number(int.slice(0, int.length - 3)));
    return parseEpochMicros(Number(text));
  }
  return parseIsoMicros(text, zone);
}

/** Microseconds since the epoch as an ISO 8601 string with microsecond precision. */
export function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  const base = new Date(ms).toISOString(); // 2024-01-02T03:04:05.678Z
  return `${base.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}
