import type { Level } from '../schema.js';

/** The OpenTelemetry severity number each level starts at. */
export const LEVEL_SEVERITY: Record<Level, number> = {
  trace: 1,
  debug: 5,
  info: 9,
  warn: 13,
  error: 17,
  fatal: 21,
};

const LEVEL_WORDS: Record<string, Level> = {
  trace: 'trace',
  trc: 'trace',
  finest: 'trace',
  finer: 'trace',
  verbose: 'trace',
  t: 'trace',
  debug: 'debug',
  dbg: 'debug',
  fine: 'debug',
  d: 'debug',
  info: 'info',
  information: 'info',
  informational: 'info',
  inf: 'info',
  i: 'info',
  notice: 'info',
  log: 'info',
  warn: 'warn',
  warning: 'warn',
  wrn: 'warn',
  w: 'warn',
  error: 'error',
  err: 'error',
  e: 'error',
  severe: 'error',
  eror: 'error',
  fatal: 'fatal',
  crit: 'fatal',
  critical: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
  emergency: 'fatal',
  panic: 'fatal',
  f: 'fatal',
};

// Syslog severities 0-7 (RFC 5424 table 2), used by GELF and syslog.
const SYSLOG_SEVERITY: Level[] = ['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'];
// Severity numbers within a level for syslog's finer distinctions (emerg is worse than crit).
const SYSLOG_OTEL: number[] = [24, 23, 21, 17, 13, 10, 9, 5];

export interface LevelInfo {
  level: Level;
  severity: number;
}

export function levelFromSeverityNumber(n: number): LevelInfo | undefined {
  if (!Number.isInteger(n) || n < 1 || n > 24) return undefined;
  const level: Level = n <= 4 ? 'trace' : n <= 8 ? 'debug' : n <= 12 ? 'info' : n <= 16 ? 'warn' : n <= 20 ? 'error' : 'fatal';
  return { level, severity: n };
}

/**
 * A level from a field value: a word in any common spelling, a pino/bunyan number (10..60),
 * or a syslog severity (0..7).
 */
export function parseLevel(value: unknown): LevelInfo | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 7) {
      return { level: SYSLOG_SEVERITY[value]!, severity: SYSLOG_OTEL[value]! };
    }
    if (value >= 10 && value <= 60 && value % 10 === 0) {
      const level = (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const)[value / 10 - 1]!;
      return { level, severity: LEVEL_SEVERITY[level] };
    }
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (/^\d+$/.test(word)) return parseLevel(Number(word));
  // Own properties only: 'constructor' or '__proto__' must not resolve through the prototype.
  const level = Object.hasOwn(LEVEL_WORDS, word) ? LEVEL_WORDS[word] : undefined;
  return level ? { level, severity: LEVEL_SEVERITY[level] } : undefined;
}
