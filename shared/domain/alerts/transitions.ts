/**
 * What an alert evaluation changes, decided without I/O: which windows are due, the groups a window's
 * result holds and whether each crosses the condition, and which groups start firing, fire again after
 * their cooldown, or resolve. Real-time rules' match and cooldown are here too. The services store the
 * states these return and send the notifications.
 */
import { statsSplit } from '../query/parse.js';
import type { LogEvent } from '../schema.js';
import { textOf } from '../text.js';
import { compare, type AlertRule } from './rules.js';

/** The most windows one tick evaluates for a rule that fell behind; older ones are skipped. */
export const MAX_CATCH_UP_WINDOWS = 60;

export interface GroupState {
  state: 'firing' | 'ok';
  since: number;
  lastNotifiedAt?: number;
  lastValue?: number | null;
}

export interface GroupResult {
  key: string;
  value: number | null;
  firing: boolean;
}

export interface WindowResult {
  start: number;
  end: number;
  groups: GroupResult[];
  samples: string[];
}

/** A group that starts firing (or fires on after its cooldown), or resolves: each is notified. */
export interface GroupChange {
  group: GroupResult;
  firing: boolean;
}

/** When the window that ends at `end` starts: windows are the rule's window length, and may overlap its schedule. */
export function windowStart(rule: AlertRule, end: number): number {
  return end - rule.windowSeconds * 1000;
}

/** The end of the latest window due at `now`: windows end on multiples of the schedule period, `delayMs` behind now. */
export function latestWindowEnd(rule: AlertRule, now: number, delayMs: number): number {
  const period = rule.scheduleSeconds * 1000;
  return Math.floor((now - delayMs) / period) * period;
}

/**
 * The ends of the windows due at `now`, oldest first: the periods after the last one evaluated, so windows
 * neither overlap nor leave gaps. A rule seen for the first time starts with the latest window (no backfill
 * of history); one more than MAX_CATCH_UP_WINDOWS behind skips the oldest (`skipped` says how many).
 */
export function dueWindows(rule: AlertRule, lastWindowEnd: number | undefined, now: number, delayMs: number): { ends: number[]; skipped: number } {
  const period = rule.scheduleSeconds * 1000;
  const latest = latestWindowEnd(rule, now, delayMs);
  let next = lastWindowEnd === undefined ? latest : lastWindowEnd + period;
  let skipped = 0;
  const behind = Math.floor((latest - next) / period) + 1;
  if (behind > MAX_CATCH_UP_WINDOWS) {
    skipped = behind - MAX_CATCH_UP_WINDOWS;
    next += skipped * period;
  }
  const ends: number[] = [];
  for (let end = next; end <= latest; end += period) ends.push(end);
  return { ends, skipped };
}

/** Which result column a condition names: exact, case-insensitive, or count ↔ count(*). */
function columnIndex(columns: string[], name: string): number {
  const exact = columns.indexOf(name);
  if (exact >= 0) return exact;
  const lower = columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
  if (lower >= 0) return lower;
  if (name.toLowerCase() === 'count') return columns.findIndex((c) => c.toLowerCase() === 'count(*)');
  return -1;
}

/**
 * The groups in the result of a rule's query (ruleQuery) over one window, with their values and whether
 * each crosses the condition.
 */
export function windowGroups(rule: AlertRule, columns: string[], rows: unknown[][]): GroupResult[] {
  const hasStats = statsSplit(rule.query ?? '').hasStats;
  const groups: GroupResult[] = [];
  const cond = rule.condition;
  if (cond.kind === 'rows') {
    // With stats (or SQL), rows are the matches; without, the single row is the count.
    const countIdx = columnIndex(columns, 'count');
    const n = hasStats || rule.sql ? rows.length : Number(rows[0]?.[countIdx] ?? 0);
    groups.push({ key: '', value: n, firing: cond.any ? n > 0 : n === 0 });
    return groups;
  }
  const idx = columnIndex(columns, cond.column);
  if (idx < 0) throw new Error(`the condition names ${JSON.stringify(cond.column)}, but the query's columns are ${columns.join(', ')}`);
  // The group key: every other column that is neither an aggregate nor a number.
  const keyIdx = columns
    .map((_, i) => i)
    .filter((i) => i !== idx && !/^(count|sum|avg|min|max|pct|count_distinct)\(/i.test(columns[i]!) && typeof rows[0]?.[i] !== 'number');
  for (const row of rows.length > 0 ? rows : [columns.map(() => null)]) {
    const raw = row[idx];
    const value = raw === null || raw === undefined ? (hasStats ? null : 0) : Number(raw);
    const key = keyIdx.map((i) => `${columns[i]}=${textOf(row[i] ?? '')}`).join(', ');
    groups.push({ key, value, firing: value !== null && Number.isFinite(value) && compare(value, cond.op, cond.value) });
  }
  return groups;
}

/**
 * The group states after one window, and the changes to notify: a group firing anew, or still firing once
 * its cooldown (from its last notification, at `now`) has passed; a group that stops firing, or is absent
 * from this window's results, resolves. The states given are not changed.
 */
export function transition(
  rule: AlertRule,
  groups: Readonly<Record<string, GroupState>>,
  w: WindowResult,
  now: number,
): { groups: Record<string, GroupState>; changes: GroupChange[] } {
  const next: Record<string, GroupState> = { ...groups };
  const changes: GroupChange[] = [];
  const seen = new Set<string>();
  for (const g of w.groups) {
    seen.add(g.key);
    const prev = next[g.key] ?? { state: 'ok', since: w.end };
    if (g.firing) {
      const cooledDown = prev.lastNotifiedAt === undefined || now - prev.lastNotifiedAt >= rule.cooldownSeconds * 1000;
      const state: GroupState = {
        state: 'firing',
        since: prev.state === 'firing' ? prev.since : w.end,
        lastValue: g.value,
        ...(prev.lastNotifiedAt !== undefined ? { lastNotifiedAt: prev.lastNotifiedAt } : {}),
      };
      // Firing anew, or still firing once the cooldown has passed: notify; otherwise stay quiet.
      if (cooledDown) {
        state.lastNotifiedAt = now;
        changes.push({ group: g, firing: true });
      }
      next[g.key] = state;
    } else if (prev.state === 'firing') {
      next[g.key] = { state: 'ok', since: w.end, lastValue: g.value, ...(prev.lastNotifiedAt !== undefined ? { lastNotifiedAt: prev.lastNotifiedAt } : {}) };
      changes.push({ group: g, firing: false });
    }
  }
  // A group that was firing and is absent from this window's results has cleared.
  for (const [key, prev] of Object.entries(next)) {
    if (seen.has(key) || prev.state !== 'firing') continue;
    next[key] = { ...prev, state: 'ok', since: w.end };
    changes.push({ group: { key, value: null, firing: false }, firing: false });
  }
  return { groups: next, changes };
}

/** Does an event match a real-time rule (every given part: level, service, a term, attribute values)? */
export function realtimeMatches(rule: AlertRule, e: LogEvent): boolean {
  const m = rule.match;
  if (!m) return false;
  if (m.level && !(e.level && m.level.includes(e.level))) return false;
  if (m.service && !(e.service && m.service.includes(e.service))) return false;
  if (m.term && !e.message.toLowerCase().includes(m.term.toLowerCase())) return false;
  if (m.attributes) for (const [k, v] of Object.entries(m.attributes)) if (e.attributes[k] !== v) return false;
  return true;
}

/** A real-time rule's cooldown: when it last notified, and the matches seen since then, not yet reported. */
export interface RealtimeCooldown {
  lastNotifiedAt?: number;
  held: number;
}

/**
 * After `hits` matching events at `now`: notify when the cooldown has passed (the notification also counts
 * the matches held until then), otherwise hold them.
 */
export function realtimeTransition(rule: AlertRule, st: RealtimeCooldown, hits: number, now: number): { cooldown: RealtimeCooldown; notify: boolean } {
  const last = st.lastNotifiedAt;
  if (last !== undefined && now - last < rule.cooldownSeconds * 1000) return { cooldown: { lastNotifiedAt: last, held: st.held + hits }, notify: false };
  return { cooldown: { lastNotifiedAt: now, held: 0 }, notify: true };
}
