/**
 * Timestamps at the head of a text line, in the formats real logs use. Each matcher says where the
 * timestamp ends so the rest of the header (level, component) can be read after it.
 */
import { wallClockToUtc } from '../zone.js';

export interface FoundTimestamp {
  /** microseconds since the epoch, UTC */
  micros: number;
  /** index just past the timestamp in the line */
  end: number;
  /** index where the timestamp starts */
  start: number;
  /** the text had no year; it was inferred from the reference time */
  yearInferred?: boolean;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
const MON = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)[a-z]*';
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*';
const FRAC = '(?:[.,:](\\d{1,9}))?';
/** An optional zone, with the space before it only when a zone is really there. */
const ZONE = '(?:\\s?(Z|[+-]\\d{2}(?::?\\d{2})?|UTC|GMT))?';

const MIN_MICROS = 0;
const MAX_MICROS = Date.UTC(2200, 0, 1) * 1000;

interface Parts {
  year?: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  frac?: string;
  zone?: string;
  ampm?: string;
}

function zoneOffsetMinutes(zone: string | undefined): number | undefined {
  if (!zone) return 0;
  const z = zone.trim();
  if (z === 'Z' || z === 'UTC' || z === 'GMT') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(z);
  if (!m) return undefined;
  const h = Number(m[2]);
  const mi = Number(m[3] ?? '0');
  if (h > 23 || mi > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (h * 60 + mi);
}

/**
 * Builds the instant; a missing year is inferred so the result is not in the future (syslog's rule). A time
 * written without a zone is read in `zone` (default UTC).
 */
function toMicros(p: Parts, refMicros: number, zone?: string): number | undefined {
  let hour = p.hour;
  if (p.ampm) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (/^p/i.test(p.ampm) ? 12 : 0);
  }
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > 31 || hour > 23 || p.minute > 59 || p.second > 60) return undefined;
  const offset = zoneOffsetMinutes(p.zone);
  if (offset === undefined) return undefined;
  if (p.year !== undefined) return instantIn(p.year, p, hour, offset, zone);
  const refYear = new Date(Math.floor(refMicros / 1000)).getUTCFullYear();
  const guess = instantIn(refYear, p, hour, offset, zone);
  // More than a day ahead of now means the line is from last year (a December line read in January).
  if (guess !== undefined && guess > refMicros + 86_400_000_000) return instantIn(refYear - 1, p, hour, offset, zone);
  return guess ?? instantIn(refYear - 1, p, hour, offset, zone);
}

// Top-level rather than a closure made per line: this runs for every timestamp read.
function instantIn(year: number, p: Parts, hour: number, offset: number, zone: string | undefined): number | undefined {
  if (year < 1970 || year > 2199) return undefined;
  const wall = Date.UTC(year, p.month - 1, p.day, hour, p.minute, Math.min(p.second, 59));
  if (new Date(wall).getUTCDate() !== p.day) return undefined;
  const ms = p.zone ? wall : wallClockToUtc(wall, zone);
  const fracMicros = p.frac ? Number(p.frac.padEnd(6, '0').slice(0, 6)) : 0;
  const micros = (ms - offset * 60_000) * 1000 + fracMicros;
  return micros >= MIN_MICROS && micros < MAX_MICROS ? micros : undefined;
}

const twoDigitYear = (yy: string) => {
  const n = Number(yy);
  return n < 70 ? 2000 + n : 1900 + n;
};

type Matcher = { re: RegExp; parts: (m: RegExpExecArray) => Parts };

const monthOf = (name: string) => MONTHS[name.slice(0, 3).toLowerCase()] ?? 0;

/** Matchers anchored at a position (sticky regexes), most specific first. */
const MATCHERS: Matcher[] = [
  // 2024-05-01T12:00:00.123Z, 2024-05-01 12:00:00,123 +02:00, 2024/05/01 12:00:00, 2005-06-03-15.42.50.675872
  {
    re: new RegExp(`(\\d{4})([-/.])(\\d{2})\\2(\\d{2})(?:[T ]|-(?=\\d{2}\\.))(\\d{2})[:.](\\d{2})[:.](\\d{2})${FRAC}${ZONE}(?![\\d])`, 'y'),
    parts: (m) => ({ year: +m[1]!, month: +m[3]!, day: +m[4]!, hour: +m[5]!, minute: +m[6]!, second: +m[7]!, frac: m[8], zone: m[9] }),
  },
  // 20171223-22:15:29:606 (HealthApp), 20240501T120000Z
  {
    re: new RegExp(`(\\d{4})(\\d{2})(\\d{2})[-T ](\\d{2}):?(\\d{2}):?(\\d{2})${FRAC}${ZONE}(?![\\d])`, 'y'),
    parts: (m) => ({ year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]!, frac: m[7], zone: m[8] }),
  },
  // 081109 203615 (yyMMdd HHmmss, HDFS)
  {
    re: /(\d{2})(\d{2})(\d{2}) (\d{2})(\d{2})(\d{2})(?!\d)/y,
    parts: (m) => ({ year: twoDigitYear(m[1]!), month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]! }),
  },
  // 17/06/09 20:10:40 (yy/MM/dd, Spark)
  {
    re: new RegExp(`(\\d{2})/(\\d{2})/(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2})${FRAC}(?![\\d/])`, 'y'),
    parts: (m) => ({ year: twoDigitYear(m[1]!), month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]!, frac: m[7] }),
  },
  // 04/29/2024 12:00:00 PM, 29/04/2024 12:00:00 (day first when the first number cannot be a month)
  {
    re: new RegExp(`(\\d{1,2})/(\\d{1,2})/(\\d{4})[ ,:]+(\\d{1,2}):(\\d{2}):(\\d{2})${FRAC}(?:\\s?([AaPp][Mm]))?${ZONE}`, 'y'),
    parts: (m) => {
      const a = +m[1]!;
      const b = +m[2]!;
      const [month, day] = a > 12 ? [b, a] : [a, b];
      return { year: +m[3]!, month, day, hour: +m[4]!, minute: +m[5]!, second: +m[6]!, frac: m[7], ampm: m[8], zone: m[9] };
    },
  },
  // 10/Oct/2000:13:55:36 -0700 (Common Log Format)
  {
    re: new RegExp(`(\\d{1,2})/${MON}/(\\d{4}):(\\d{2}):(\\d{2}):(\\d{2})${FRAC}${ZONE}`, 'y'),
    parts: (m) => ({ year: +m[3]!, month: monthOf(m[2]!), day: +m[1]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]!, frac: m[7], zone: m[8] }),
  },
  // 01-May-2024 12:00:00.123 (Tomcat), 01 May 2024 12:00:00
  {
    re: new RegExp(`(\\d{1,2})[- ]${MON}[- ](\\d{4})[ :](\\d{2}):(\\d{2}):(\\d{2})${FRAC}${ZONE}`, 'y'),
    parts: (m) => ({ year: +m[3]!, month: monthOf(m[2]!), day: +m[1]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]!, frac: m[7], zone: m[8] }),
  },
  // Sun Dec 04 04:47:44 2005, Wed Oct 11 14:32:52.123456 2000 (ctime, Apache error log)
  {
    re: new RegExp(`${DAY},? ${MON} +(\\d{1,2}),? (\\d{2}):(\\d{2}):(\\d{2})${FRAC}${ZONE} (\\d{4})`, 'y'),
    parts: (m) => ({ year: +m[8]!, month: monthOf(m[1]!), day: +m[2]!, hour: +m[3]!, minute: +m[4]!, second: +m[5]!, frac: m[6], zone: m[7] }),
  },
  // Mon, 01 May 2024 12:00:00 GMT (RFC 1123)
  {
    re: new RegExp(`${DAY}, (\\d{1,2}) ${MON} (\\d{4}) (\\d{2}):(\\d{2}):(\\d{2})${FRAC}${ZONE}`, 'y'),
    parts: (m) => ({ year: +m[3]!, month: monthOf(m[2]!), day: +m[1]!, hour: +m[4]!, minute: +m[5]!, second: +m[6]!, frac: m[7], zone: m[8] }),
  },
  // Jun 14 15:16:01, Jun  4 2024 15:16:01, May 01, 2024 12:00:00 PM (syslog without year, and friends)
  {
    re: new RegExp(`(?:${DAY},? )?${MON} +(\\d{1,2}),?(?: (\\d{4}))? (\\d{1,2}):(\\d{2}):(\\d{2})${FRAC}(?:\\s?([AaPp][Mm]))?${ZONE}(?![\\d:])`, 'y'),
    parts: (m) => ({
      year: m[3] ? +m[3] : undefined,
      month: monthOf(m[1]!),
      day: +m[2]!,
      hour: +m[4]!,
      minute: +m[5]!,
      second: +m[6]!,
      frac: m[7],
      ampm: m[8],
      zone: m[9],
    }),
  },
  // 03-17 16:13:38.811 (Android logcat: MM-dd, no year)
  {
    re: new RegExp(`(\\d{2})-(\\d{2}) (\\d{2}):(\\d{2}):(\\d{2})${FRAC}(?![\\d])`, 'y'),
    parts: (m) => ({ month: +m[1]!, day: +m[2]!, hour: +m[3]!, minute: +m[4]!, second: +m[5]!, frac: m[6] }),
  },
  // 10.30 16:49:06 (Proxifier: MM.dd, no year)
  {
    re: /(\d{2})\.(\d{2}) (\d{2}):(\d{2}):(\d{2})(?![\d])/y,
    parts: (m) => ({ month: +m[1]!, day: +m[2]!, hour: +m[3]!, minute: +m[4]!, second: +m[5]! }),
  },
];

const EPOCH_FLOOR = Date.UTC(2000, 0, 1) * 1000;
const EPOCH_RE = /(\d{10}|\d{13}|\d{16}|\d{19})(?:\.(\d{1,9}))?(?![\d.])/y;

/** An epoch number (s, ms, µs, ns) between 2000 and a day after the reference time. */
function epochAt(line: string, pos: number, refMicros: number): FoundTimestamp | undefined {
  EPOCH_RE.lastIndex = pos;
  const m = EPOCH_RE.exec(line);
  if (!m) return undefined;
  const digits = m[1]!;
  const scale = digits.length === 10 ? 1e6 : digits.length === 13 ? 1e3 : digits.length === 16 ? 1 : 1e-3;
  const whole = digits.length === 19 ? Number(digits.slice(0, 16)) : Number(digits) * scale;
  const frac = m[2] && digits.length === 10 ? Number(m[2].padEnd(6, '0').slice(0, 6)) : 0;
  const micros = Math.round(whole + frac);
  if (micros < EPOCH_FLOOR || micros > refMicros + 86_400_000_000) return undefined;
  return { micros, start: pos, end: pos + m[0].length };
}

/** A timestamp starting exactly at pos (after an optional '['), or undefined. */
export function timestampAt(line: string, pos: number, refMicros: number, allowEpoch = false, zone?: string): FoundTimestamp | undefined {
  let p = pos;
  if (line.charCodeAt(p) === 0x5b /* [ */) p++;
  const c = line.charCodeAt(p);
  const isDigit = c >= 48 && c <= 57;
  const isLetter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (!isDigit && !isLetter) return undefined;
  for (const { re, parts } of MATCHERS) {
    re.lastIndex = p;
    const m = re.exec(line);
    if (!m) continue;
    const micros = toMicros(parts(m), refMicros, zone);
    if (micros === undefined) continue;
    let end = p + m[0].length;
    if (line.charCodeAt(pos) === 0x5b && line.charCodeAt(end) === 0x5d) end++;
    return { micros, start: pos, end, yearInferred: parts(m).year === undefined };
  }
  if (allowEpoch && isDigit) {
    const e = epochAt(line, p, refMicros);
    if (e) return { ...e, start: pos, end: line.charCodeAt(pos) === 0x5b && line.charCodeAt(e.end) === 0x5d ? e.end + 1 : e.end };
  }
  return undefined;
}

/**
 * The first timestamp near the head of a line: at the start, or after a few leading tokens (a file name,
 * a dash, a record number), within the first `window` characters.
 */
export function findTimestamp(line: string, refMicros: number, zone?: string, window = 96): FoundTimestamp | undefined {
  // A written date wins over an epoch number: collectors often prefix lines with their own receive time
  // ("- 1131566461 2005.11.09 host Nov 10 00:01:01 …"), while the written one is the event's.
  const limit = Math.min(line.length, window);
  for (const epochs of [false, true]) {
    for (let i = 0; i < limit; i++) {
      if (i > 0) {
        const prev = line.charCodeAt(i - 1);
        // Only at a token boundary: after a space, tab, '[', '(', '|', ',', '=' or '-'.
        if (prev !== 32 && prev !== 91 && prev !== 40 && prev !== 124 && prev !== 44 && prev !== 61 && prev !== 45 && prev !== 9) continue;
      }
      const found = epochs ? epochOnly(line, i, refMicros) : timestampAt(line, i, refMicros, false, zone);
      if (found?.yearInferred) {
        // A year-less date next to an epoch number takes its year from that number.
        for (let j = 0; j < limit; j++) {
          if (j > 0 && line.charCodeAt(j - 1) !== 32) continue;
          const epoch = epochOnly(line, j, refMicros);
          if (epoch) return timestampAt(line, i, epoch.micros + 2 * 86_400_000_000, false, zone) ?? found;
        }
      }
      if (found) return found;
    }
  }
  return undefined;
}

function epochOnly(line: string, pos: number, refMicros: number): FoundTimestamp | undefined {
  const p = line.charCodeAt(pos) === 0x5b ? pos + 1 : pos;
  const e = epochAt(line, p, refMicros);
  if (!e) return undefined;
  return { micros: e.micros, start: pos, end: p !== pos && line.charCodeAt(e.end) === 0x5d ? e.end + 1 : e.end };
}
