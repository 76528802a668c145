/**
 * A query's time range from what a person or a script sent: `start` and `end` as ISO 8601, epoch numbers,
 * "now" or a relative time ("-15m", "now-2h", "-7d"). Pure: the caller gives the current time.
 *
 * Every value it returns is a whole number of milliseconds inside the times Sluice can store (events are
 * kept from 1970 to 2199, see normalize/timestamp.ts), so what follows — `new Date(ms).toISOString()`,
 * the hours the range touches, the engines' timestamp literals — can never fail on it. Anything else is a
 * BadRequestError that names the parameter and the forms it accepts.
 */
import { BadRequestError } from './errors.js';
import { parseTimestampMicros } from './normalize/timestamp.js';

/** The earliest and latest instants a range may name (ms): the span of event times Sluice stores. */
export const EARLIEST_MS = 0;
export const LATEST_MS = Date.UTC(2200, 0, 1);
/** A time parameter is at most this long (the longest ISO 8601 with nanoseconds and an offset is 35). */
export const MAX_TIME_TEXT = 64;

const UNIT_MS = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 } as const;
const RELATIVE = /^(?:now)?\s*-\s*(\d+)\s*([smhdw])$/i;
const NUMBER = /^-?\d+(?:\.\d+)?$/;
const ISO_LIKE = /^[+-]?\d{4,6}-\d{2}-\d{2}/;

export const TIME_FORMS = 'use ISO 8601 (2024-05-01T12:00:00Z), epoch milliseconds (1714564800000), "now", or a time relative to now (-15m, -2h, -7d, -1w)';

const iso = (ms: number) => new Date(ms).toISOString();
const shown = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value));

function outOfRange(name: string, value: unknown): BadRequestError {
  return new BadRequestError(`${name} ${shown(value)} is outside the times Sluice stores (${iso(EARLIEST_MS)} to ${iso(LATEST_MS)}); ${TIME_FORMS}`);
}

/** One time parameter, in ms since the epoch, within [EARLIEST_MS, LATEST_MS]. */
export function parseTime(value: unknown, name: string, nowMs: number): number {
  if (typeof value !== 'string' && typeof value !== 'number') {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    throw new BadRequestError(`${name} must be a string or a number, not ${kind}; ${TIME_FORMS}`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new BadRequestError(`${name} ${shown(value)} is not a time; ${TIME_FORMS}`);
  let ms: number | undefined;
  if (typeof value === 'string') {
    if (value.length > MAX_TIME_TEXT) throw new BadRequestError(`${name} is longer than ${MAX_TIME_TEXT} characters; ${TIME_FORMS}`);
    const text = value.trim();
    const rel = RELATIVE.exec(text);
    if (rel) {
      // Number() of a long digit string is finite but huge, or Infinity: either way the range check refuses it.
      ms = nowMs - Number(rel[1]) * UNIT_MS[rel[2]!.toLowerCase() as keyof typeof UNIT_MS];
      if (!(ms >= EARLIEST_MS && ms <= LATEST_MS)) throw outOfRange(name, value);
      return Math.floor(ms);
    }
    if (text.toLowerCase() === 'now') ms = nowMs;
  }
  if (ms === undefined) {
    // Digits are an epoch number whichever way they came (JSON number or string).
    const epoch = typeof value === 'number' ? value : NUMBER.test(value.trim()) ? Number(value.trim()) : undefined;
    const micros = parseTimestampMicros(epoch ?? value);
    if (micros === undefined) {
      // A number, or a date that is well-formed but outside the span, says so; anything else is not a time.
      const elsewhere = typeof value === 'string' && ISO_LIKE.test(value.trim()) ? Date.parse(value.trim()) : NaN;
      if (epoch !== undefined || (Number.isFinite(elsewhere) && !(elsewhere >= EARLIEST_MS && elsewhere < LATEST_MS))) throw outOfRange(name, value);
      throw new BadRequestError(`${name} ${shown(value)} is not a time Sluice can read; ${TIME_FORMS}`);
    }
    ms = Math.floor(micros / 1000);
  }
  if (!(ms >= EARLIEST_MS && ms <= LATEST_MS)) throw outOfRange(name, value);
  return ms;
}

export interface TimeRange {
  /** inclusive, ms */
  startMs: number;
  /** exclusive, ms */
  endMs: number;
}

/**
 * The range [start, end): end defaults to now, start to `defaultRangeMs` before end (never before
 * EARLIEST_MS). Refuses a value it cannot represent and a start that is not before the end.
 */
export function parseTimeRange(req: { start?: unknown; end?: unknown }, nowMs: number, defaultRangeMs: number): TimeRange {
  const endMs = req.end === undefined ? Math.min(Math.max(nowMs, EARLIEST_MS), LATEST_MS) : parseTime(req.end, 'end', nowMs);
  const startMs = req.start === undefined ? Math.max(endMs - defaultRangeMs, EARLIEST_MS) : parseTime(req.start, 'start', nowMs);
  if (startMs >= endMs) {
    throw new BadRequestError(`start (${iso(startMs)}) must be before end (${iso(endMs)}): the range is [start, end)`);
  }
  return { startMs, endMs };
}
