/**
 * Time zones: the one place a wall-clock time in a zone becomes an instant. Ingest reads timestamps written
 * without a zone in the zone configured for the source (UTC unless one is); the Athena engine reads the
 * zone Trino prints after a `timestamp with time zone`. A zone is UTC, a fixed offset ("+02:00") or an
 * IANA name ("Europe/Berlin", daylight saving included).
 *
 * Around a daylight-saving change a wall-clock time can occur twice (clocks go back) or not at all (clocks
 * go forward). Like java.time and Temporal's "compatible" rule: a repeated time is read as its first
 * occurrence, and a skipped time is moved forward by the length of the gap (02:30 in a 02:00 → 03:00 gap
 * is 03:30).
 */

/** A fixed offset as a sender configures it: +02:00 or +0200. */
const FIXED = /^([+-])(\d{2}):?(\d{2})$/;
/** A fixed offset as Trino may print it: also after UTC or GMT (UTC+02:00). */
const PRINTED_FIXED = /^(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})$/;
const UTC_NAMES = new Set(['UTC', 'Z', 'GMT', 'Etc/UTC']);
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** How many zones have a cached formatter (tests: invalid names are never kept). */
export const cachedZoneCount = (): number => formatters.size;

/** The formatter that reads an instant's wall clock in an IANA zone, or null when there is no such zone. */
function formatter(zone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      // Not cached: ?tz= comes with every ingest request, and remembering each wrong name would let any
      // sender grow this map without end. Valid zones are a few hundred at most.
      return null;
    }
    formatters.set(zone, f);
  }
  return f;
}

/** Is this a zone a sender may configure (UTC, +02:00 or +0200, an IANA name)? */
export function isValidZone(zone: string): boolean {
  return zone === 'UTC' || FIXED.test(zone) || formatter(zone) !== null;
}

/** How far the zone's wall clock is ahead of UTC at a UTC instant, in ms (whole seconds, as zones are). */
function offsetAtInstant(f: Intl.DateTimeFormat, utcMs: number): number {
  const p = Object.fromEntries(f.formatToParts(utcMs).map((x) => [x.type, x.value]));
  const wall = new Date(0);
  wall.setUTCFullYear(p['era'] === 'BC' ? 1 - Number(p['year']) : Number(p['year']), Number(p['month']) - 1, Number(p['day']));
  wall.setUTCHours(Number(p['hour']), Number(p['minute']), Number(p['second']), 0);
  return wall.getTime() - Math.floor(utcMs / 1000) * 1000;
}

function fixedOffsetMs(m: RegExpExecArray): number {
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/**
 * How far the zone's wall clock is ahead of UTC at a wall-clock time (given as if it were UTC), in ms;
 * undefined when the zone is not one. A repeated time takes the offset of its first occurrence, a skipped
 * one the offset from before the gap (which moves it forward).
 */
export function zoneOffsetMs(zone: string, localAsUtcMs: number): number | undefined {
  if (UTC_NAMES.has(zone)) return 0;
  const fixed = PRINTED_FIXED.exec(zone);
  if (fixed) return fixedOffsetMs(fixed);
  const f = formatter(zone);
  if (!f) return undefined;
  // The offsets a day either side: equal unless the wall-clock time is next to a change (zones change at
  // most once in two days), and then they are the offsets on each side of it.
  const before = offsetAtInstant(f, localAsUtcMs - DAY_MS);
  const after = offsetAtInstant(f, localAsUtcMs + DAY_MS);
  if (before === after) return before;
  // A candidate is real when the instant it gives reads back as this wall-clock time.
  const realBefore = offsetAtInstant(f, localAsUtcMs - before) === before;
  const realAfter = offsetAtInstant(f, localAsUtcMs - after) === after;
  if (realBefore && realAfter) return Math.max(before, after); // twice: the earlier instant has the larger offset
  if (realAfter) return after;
  return before; // only before, or neither (a gap): read with the offset from before the change
}

/**
 * The UTC instant (ms) of a wall-clock time read in `zone`, given as if it were UTC (`localAsUtcMs`); no zone
 * is UTC. Throws RangeError for a zone that is not one (callers check with isValidZone first).
 */
export function wallClockToUtc(localAsUtcMs: number, zone: string | undefined): number {
  if (!zone) return localAsUtcMs;
  const offset = zoneOffsetMs(zone, localAsUtcMs);
  if (offset === undefined) throw new RangeError(`unknown time zone ${JSON.stringify(zone)}`);
  return localAsUtcMs - offset;
}
