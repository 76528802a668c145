/**
 * Time zones for timestamps written without one. Sluice reads them as UTC unless a zone is configured
 * for the source: a fixed offset ("+02:00") or an IANA name ("Europe/Berlin", daylight saving included).
 */

const FIXED = /^([+-])(\d{2}):?(\d{2})$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Is this a zone Sluice can apply? */
export function isValidZone(zone: string): boolean {
  if (zone === 'UTC' || FIXED.test(zone)) return true;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC, in minutes, at the given UTC instant. */
function offsetAt(zone: string, utcMs: number): number {
  const parts = formatter(zone).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/**
 * The UTC instant (ms) of a wall-clock time read in `zone`, given as if it were UTC (`localAsUtcMs`).
 * For a wall-clock time that occurs twice (the hour after a DST change), the first is taken.
 */
export function wallClockToUtc(localAsUtcMs: number, zone: string | undefined): number {
  if (!zone || zone === 'UTC') return localAsUtcMs;
  const fixed = FIXED.exec(zone);
  if (fixed) return localAsUtcMs - (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60_000;
  const first = localAsUtcMs - offsetAt(zone, localAsUtcMs) * 60_000;
  const second = localAsUtcMs - offsetAt(zone, first) * 60_000;
  return Math.min(first, second);
}
