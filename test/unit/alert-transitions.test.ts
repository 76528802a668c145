/**
 * The pure side of alert evaluation (shared/domain/alerts/): which windows are due, the groups of a
 * window's result, firing / cooldown / resolved decisions, real-time cooldowns, and what a notification
 * says. End to end on the local stack: test/integration/alerts-e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { realtimeNotification, windowNotification } from '../../shared/domain/alerts/notification.js';
import { validateRules, type AlertRule } from '../../shared/domain/alerts/rules.js';
import {
  dueWindows,
  MAX_CATCH_UP_WINDOWS,
  realtimeTransition,
  transition,
  windowGroups,
  type GroupState,
  type WindowResult,
} from '../../shared/domain/alerts/transitions.js';
import { makeEvent } from '../helpers/events.js';

const rule = (over: Record<string, unknown> = {}): AlertRule =>
  validateRules({ rules: [{ name: 'r', query: 'stats count(*) as n by service', condition: 'n > 2', cooldown: '5m', channels: ['console'], ...over }] })[0]!;
const MIN = 60_000;
const T = Date.UTC(2024, 4, 1, 10, 0);
const window = (end: number, groups: WindowResult['groups']): WindowResult => ({ start: end - MIN, end, groups, samples: [] });

describe('dueWindows', () => {
  const r = rule();
  it('starts a new rule at the latest window, delay behind now, with no backfill', () => {
    expect(dueWindows(r, undefined, T + 90_000, 60_000)).toEqual({ ends: [T], skipped: 0 });
  });

  it('continues from the last window without gap or overlap, and has nothing before the next period ends', () => {
    expect(dueWindows(r, T, T + 3 * MIN + 59_999, 0)).toEqual({ ends: [T + MIN, T + 2 * MIN, T + 3 * MIN], skipped: 0 });
    expect(dueWindows(r, T, T + MIN - 1, 0)).toEqual({ ends: [], skipped: 0 });
  });

  it('skips the oldest windows of a rule far behind, keeping the latest MAX_CATCH_UP_WINDOWS', () => {
    const { ends, skipped } = dueWindows(r, T, T + 100 * MIN, 0);
    expect(skipped).toBe(100 - MAX_CATCH_UP_WINDOWS);
    expect(ends).toHaveLength(MAX_CATCH_UP_WINDOWS);
    expect(ends.at(-1)).toBe(T + 100 * MIN);
  });
});

describe('windowGroups', () => {
  it('keys groups by their non-numeric columns and compares the condition column', () => {
    expect(
      windowGroups(
        rule(),
        ['service', 'n'],
        [
          ['api', 5],
          ['web', 1],
          [null, 3],
        ],
      ),
    ).toEqual([
      { key: 'service=api', value: 5, firing: true },
      { key: 'service=web', value: 1, firing: false },
      { key: 'service=', value: 3, firing: true },
    ]);
  });

  it('reads count as count(*), and an empty result as no value with stats, zero without', () => {
    expect(windowGroups(rule({ query: 'stats count(*)', condition: 'count > 0' }), ['count(*)'], [])).toEqual([{ key: '', value: null, firing: false }]);
    expect(windowGroups(rule({ query: 'filter level = "error"', condition: 'errors < 1' }), ['errors'], [])).toEqual([{ key: '', value: 0, firing: true }]);
    expect(() => windowGroups(rule({ condition: 'p95 > 1' }), ['service', 'n'], [])).toThrow(/names "p95".*service, n/);
  });

  it('counts rows for a rows condition: the rows themselves with stats or SQL, else the count', () => {
    expect(
      windowGroups(
        rule({ condition: 'any rows' }),
        ['service', 'n'],
        [
          ['a', 1],
          ['b', 2],
        ],
      ),
    ).toEqual([{ key: '', value: 2, firing: true }]);
    expect(windowGroups(rule({ query: 'filter level = "error"', condition: 'no rows' }), ['count'], [[0]])).toEqual([{ key: '', value: 0, firing: true }]);
  });
});

describe('transition', () => {
  const r = rule();
  const firing = { key: 'service=api', value: 5, firing: true };

  it('notifies a group that starts firing, stays quiet in its cooldown, and notifies again after it', () => {
    const first = transition(r, {}, window(T, [firing]), T + 1000);
    expect(first.changes).toEqual([{ group: firing, firing: true }]);
    expect(first.groups['service=api']).toEqual({ state: 'firing', since: T, lastValue: 5, lastNotifiedAt: T + 1000 });

    const quiet = transition(r, first.groups, window(T + MIN, [{ ...firing, value: 7 }]), T + MIN + 1000);
    expect(quiet.changes).toEqual([]);
    expect(quiet.groups['service=api']).toEqual({ state: 'firing', since: T, lastValue: 7, lastNotifiedAt: T + 1000 });

    const again = transition(r, quiet.groups, window(T + 5 * MIN, [firing]), T + 5 * MIN + 1000);
    expect(again.changes).toEqual([{ group: firing, firing: true }]);
    expect(again.groups['service=api']).toMatchObject({ since: T, lastNotifiedAt: T + 5 * MIN + 1000 });
  });

  it('resolves a group once when it stops firing or is absent from the results, and leaves the states given alone', () => {
    const before: Record<string, GroupState> = {
      'service=api': { state: 'firing', since: T, lastValue: 5, lastNotifiedAt: T },
      'service=web': { state: 'firing', since: T, lastValue: 9, lastNotifiedAt: T },
    };
    const copy = structuredClone(before);
    const calm = { key: 'service=api', value: 1, firing: false };
    const t = transition(r, before, window(T + MIN, [calm]), T + MIN);
    expect(t.changes).toEqual([
      { group: calm, firing: false },
      { group: { key: 'service=web', value: null, firing: false }, firing: false },
    ]);
    expect(t.groups).toEqual({
      'service=api': { state: 'ok', since: T + MIN, lastValue: 1, lastNotifiedAt: T },
      'service=web': { state: 'ok', since: T + MIN, lastValue: 9, lastNotifiedAt: T },
    });
    expect(before).toEqual(copy);
    expect(transition(r, t.groups, window(T + 2 * MIN, [calm]), T + 2 * MIN).changes).toEqual([]);
  });
});

describe('realtimeTransition', () => {
  const r = rule({ query: undefined, realtime: true, match: { level: 'error' }, cooldown: '10m' });
  it('notifies, then holds matches during the cooldown, then notifies and reports what it held', () => {
    const first = realtimeTransition(r, { held: 0 }, 3, T);
    expect(first).toEqual({ cooldown: { lastNotifiedAt: T, held: 0 }, notify: true });
    const held = realtimeTransition(r, first.cooldown, 4, T + 9 * MIN);
    expect(held).toEqual({ cooldown: { lastNotifiedAt: T, held: 4 }, notify: false });
    expect(realtimeTransition(r, held.cooldown, 1, T + 10 * MIN)).toEqual({ cooldown: { lastNotifiedAt: T + 10 * MIN, held: 0 }, notify: true });
  });
});

describe('notifications', () => {
  it('says a group resolved by its absence has no value, and links to the query in the UI', () => {
    const n = windowNotification(rule(), window(T, []), { key: 'service=web', value: null, firing: false }, false, 'https://ui.example/search');
    expect(n.subject).toBe('[RESOLVED] r [service=web] (default): n = no value');
    expect(n.text).toContain('Condition: n > 2 (no longer true; value no value)');
    expect(n.text).toContain('Group:     service=web');
    expect(n.text).not.toContain('Sample lines');
    expect(n.alert?.link).toBe(
      `https://ui.example/search?query=stats+count%28*%29+as+n+by+service&start=2024-05-01T09%3A59%3A00.000Z&end=2024-05-01T10%3A00%3A00.000Z`,
    );
    expect(n.attributes).toEqual({ rule: 'r', tenant: 'default', state: 'resolved' });
  });

  it('gives a SQL rule the API call that reproduces it, and cuts the subject to 99 characters', () => {
    const r = rule({
      name: 'x'.repeat(64),
      query: undefined,
      sql: "SELECT count(*) AS n FROM logs WHERE level = 'error'",
      condition: 'errors_in_the_payment_service > 2',
    });
    const n = windowNotification(r, { ...window(T, []), samples: ['a sample'] }, { key: '', value: 3, firing: true }, true);
    expect(n.subject).toHaveLength(99);
    expect(n.text).toContain(
      `Reproduce: POST /v1/query {"sql": "SELECT count(*) AS n FROM logs WHERE level = 'error'", "start": "2024-05-01T09:59:00.000Z", "end": "2024-05-01T10:00:00.000Z"}`,
    );
    expect(n.text).toContain('Sample lines:\n  a sample');
    expect(n.alert).toMatchObject({ state: 'firing', samples: ['a sample'], query: r.sql });
  });

  it('writes real-time sample lines like scheduled ones, and counts what the cooldown held', () => {
    const r = rule({ query: undefined, realtime: true, match: { level: 'error' }, cooldown: '10m' });
    const events = [
      makeEvent({ ts: T * 1000, level: 'error', service: null, message: 'card declined' }),
      makeEvent({ ts: (T + 1000) * 1000, level: 'error', message: 'again' }),
    ];
    const n = realtimeNotification(r, 2, 5, events);
    expect(n.subject).toBe('[FIRING] r (default): 7 matching events');
    expect(n.text).toContain('Also:      5 more matched during the 10-minute cooldown before this');
    expect(n.text).toContain('  2024-05-01T10:00:00.000000Z error -: card declined');
    expect(n.alert).toMatchObject({
      value: 7,
      windowStart: '2024-05-01T10:00:00.000000Z',
      windowEnd: '2024-05-01T10:00:01.000000Z',
      samples: ['card declined', 'again'],
    });
  });
});
