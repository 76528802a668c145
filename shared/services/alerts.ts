/**
 * Scheduled alert evaluation. Every tick (a minute in AWS, a timer locally) picks the rules that are due and
 * evaluates each over consecutive windows that neither overlap nor leave gaps, lagging "now" by a delay so
 * late batches are counted. Per rule, its state (the last window evaluated, each group's firing state and
 * last notification) lives in a versioned store and is written with compare-and-swap; notifications go
 * through an outbox in that state, so a restart, a retry or two concurrent runs neither re-fire nor miss.
 */
import { compare, channelName, type AlertRule, type Channel } from '../domain/alerts/rules.js';
import { statsSplit } from '../domain/query/parse.js';
import { alertStateKey } from '../domain/storage-layout.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Notification, Notifier } from '../ports/notifier.js';
import type { VersionedStore } from '../ports/versioned-store.js';
import type { QueryAnswer, QueryRequest } from './query.js';

/** The most windows one tick evaluates for a rule that fell behind; older ones are skipped and logged. */
export const MAX_CATCH_UP_WINDOWS = 60;

export interface GroupState {
  state: 'firing' | 'ok';
  since: number;
  lastNotifiedAt?: number;
  lastValue?: number | null;
}

export interface RuleState {
  /** bumped on every write, so no two states are ever identical (compare-and-swap stays sound) */
  rev?: number;
  /** end (ms) of the last window evaluated */
  lastWindowEnd?: number;
  groups: Record<string, GroupState>;
  /** notifications decided but not yet sent (sent, then removed with another compare-and-swap) */
  outbox: { channel: string; notification: Notification }[];
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

export interface AlertQueries {
  run(req: QueryRequest): Promise<QueryAnswer>;
  results(tenant: string, token: string, nextToken?: string): Promise<QueryAnswer>;
}

export interface AlertEvaluatorDeps {
  rules: readonly AlertRule[];
  queries: AlertQueries;
  state: VersionedStore;
  /** the notifier for a channel, or undefined when it is not configured here */
  notifierFor: (channel: Channel) => Notifier | undefined;
  clock: Clock;
  logger: Logger;
  /** how far behind now windows end, so late-arriving batches are counted */
  delayMs?: number;
  /** a UI that takes ?query=&start=&end= (for links in notifications) */
  uiUrl?: string;
  sleep?: (ms: number) => Promise<void>;
}

export const stateKey = (rule: AlertRule) => alertStateKey('scheduled', rule.tenant, rule.name);

const iso = (ms: number) => new Date(ms).toISOString();

/** The query a rule runs for its condition, with its level and tag filters in front. */
export function ruleQuery(rule: AlertRule): { query?: string; sql?: string } {
  if (rule.sql) return { sql: rule.sql };
  const filters: string[] = [];
  if (rule.levels) filters.push(`filter level in [${rule.levels.map((l) => JSON.stringify(l)).join(', ')}]`);
  if (rule.tags) filters.push(`filter ${rule.tags.map((t) => `tag(${JSON.stringify(t)})`).join(' or ')}`);
  const body = rule.query!;
  const stats = statsSplit(body);
  // Without stats, the rule counts the matching events (one group).
  const counted = stats.hasStats ? body : `${body} | stats count(*) as count`;
  return { query: [...filters, counted].join(' | ') };
}

function samplesQuery(rule: AlertRule): string | undefined {
  if (rule.sql) return undefined;
  const filters: string[] = [];
  if (rule.levels) filters.push(`filter level in [${rule.levels.map((l) => JSON.stringify(l)).join(', ')}]`);
  if (rule.tags) filters.push(`filter ${rule.tags.map((t) => `tag(${JSON.stringify(t)})`).join(' or ')}`);
  const before = statsSplit(rule.query!).before;
  return [...filters, ...(before ? [before] : []), 'fields @timestamp, level, service, @message', 'sort @timestamp desc', 'limit 5'].join(' | ');
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

export function makeAlertEvaluator(deps: AlertEvaluatorDeps) {
  const { queries, state, clock, logger } = deps;
  const delayMs = deps.delayMs ?? 60_000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));

  async function runToEnd(req: QueryRequest): Promise<Extract<QueryAnswer, { status: 'complete' }>> {
    let answer = await queries.run(req);
    const until = clock.now() + 120_000;
    let pause = 200;
    while (answer.status === 'running') {
      if (clock.now() > until) throw new Error('the query did not finish within 2 minutes');
      await sleep(pause);
      pause = Math.min(pause * 2, 2000);
      answer = await queries.results(req.tenant, answer.token);
    }
    return answer;
  }

  /** Runs a rule over one window; the groups with their values, and whether each crosses the condition. */
  async function evaluateWindow(rule: AlertRule, end: number): Promise<WindowResult> {
    const start = end - rule.windowSeconds * 1000;
    const answer = await runToEnd({ tenant: rule.tenant, ...ruleQuery(rule), start, end, limit: 10_000 });
    const columns = answer.columns.map((c) => c.name);
    const groups: GroupResult[] = [];
    const cond = rule.condition;
    if (cond.kind === 'rows') {
      // With stats (or SQL), rows are the matches; without, the single row is the count.
      const countIdx = columnIndex(columns, 'count');
      const n = statsSplit(rule.query ?? '').hasStats || rule.sql ? answer.rows.length : Number(answer.rows[0]?.[countIdx] ?? 0);
      groups.push({ key: '', value: n, firing: cond.any ? n > 0 : n === 0 });
    } else {
      const idx = columnIndex(columns, cond.column);
      if (idx < 0) throw new Error(`the condition names ${JSON.stringify(cond.column)}, but the query's columns are ${columns.join(', ')}`);
      const keyIdx = columns.map((_, i) => i).filter((i) => i !== idx && !/^(count|sum|avg|min|max|pct|count_distinct)\(/i.test(columns[i]!) && typeof answer.rows[0]?.[i] !== 'number');
      const rows = answer.rows.length > 0 ? answer.rows : [columns.map(() => null)];
      for (const row of rows) {
        const raw = row[idx];
        const value = raw === null || raw === undefined ? (statsSplit(rule.query ?? '').hasStats ? null : 0) : Number(raw);
        const key = keyIdx.map((i) => `${columns[i]}=${row[i] ?? ''}`).join(', ');
        groups.push({ key, value, firing: value !== null && Number.isFinite(value) && compare(value, cond.op, cond.value) });
      }
    }
    let samples: string[] = [];
    const sq = samplesQuery(rule);
    if (sq && groups.some((g) => g.firing)) {
      try {
        const s = await runToEnd({ tenant: rule.tenant, query: sq, start, end, limit: 5 });
        samples = s.rows.map((r) => `${r[0]} ${r[1] ?? '-'} ${r[2] ?? '-'}: ${String(r[3]).slice(0, 300)}`);
      } catch (err) {
        logger.warn('alert samples query failed', { rule: rule.name, error: (err as Error).message });
      }
    }
    return { start, end, groups, samples };
  }

  function notificationFor(rule: AlertRule, w: WindowResult, g: GroupResult, firing: boolean): Notification {
    const q = ruleQuery(rule);
    const reproduce = q.query
      ? `npx sluice query '${q.query.replaceAll("'", "'\\''")}' --start ${iso(w.start)} --end ${iso(w.end)}`
      : `POST /v1/query {"sql": ${JSON.stringify(q.sql)}, "start": "${iso(w.start)}", "end": "${iso(w.end)}"}`;
    const link = deps.uiUrl && q.query ? `${deps.uiUrl}?${new URLSearchParams({ query: q.query, start: iso(w.start), end: iso(w.end) })}` : undefined;
    const state = firing ? 'FIRING' : 'RESOLVED';
    const where = g.key ? ` [${g.key}]` : '';
    const valueText = g.value === null ? 'no value' : String(g.value);
    const subject = `[${state}] ${rule.name}${where} (${rule.tenant}): ${rule.condition.kind === 'rows' ? `${valueText} rows` : `${rule.condition.column} = ${valueText}`}`;
    const lines = [
      subject,
      '',
      `Rule:      ${rule.name}${rule.description ? ` — ${rule.description}` : ''}`,
      `Condition: ${rule.conditionText} (${firing ? 'crossed' : 'no longer true'}; value ${valueText})`,
      `Window:    ${iso(w.start)} to ${iso(w.end)}`,
      `Tenant:    ${rule.tenant}`,
      ...(g.key ? [`Group:     ${g.key}`] : []),
      ...(firing && w.samples.length > 0 ? ['', 'Sample lines:', ...w.samples.map((s) => `  ${s}`)] : []),
      '',
      `Reproduce: ${reproduce}`,
      ...(link ? [`Open:      ${link}`] : []),
    ];
    return {
      subject: subject.slice(0, 99),
      text: lines.join('\n'),
      attributes: { rule: rule.name, tenant: rule.tenant, state: firing ? 'firing' : 'resolved' },
      alert: {
        rule: rule.name,
        tenant: rule.tenant,
        state: firing ? 'firing' : 'resolved',
        condition: rule.conditionText,
        value: g.value,
        windowStart: iso(w.start),
        windowEnd: iso(w.end),
        samples: firing ? w.samples : [],
        query: q.query ?? q.sql!,
        ...(link ? { link } : {}),
      },
    };
  }

  /** Decides the notifications for one window and updates the group states (pure apart from the clock). */
  function transition(rule: AlertRule, st: RuleState, w: WindowResult, now: number): { channel: string; notification: Notification }[] {
    const out: { channel: string; notification: Notification }[] = [];
    const seen = new Set<string>();
    for (const g of w.groups) {
      seen.add(g.key);
      const prev = st.groups[g.key] ?? { state: 'ok', since: w.end };
      if (g.firing) {
        const cooledDown = prev.lastNotifiedAt === undefined || now - prev.lastNotifiedAt >= rule.cooldownSeconds * 1000;
        const next: GroupState = { state: 'firing', since: prev.state === 'firing' ? prev.since : w.end, lastValue: g.value, ...(prev.lastNotifiedAt !== undefined ? { lastNotifiedAt: prev.lastNotifiedAt } : {}) };
        // Firing anew, or still firing once the cooldown has passed: notify; otherwise stay quiet.
        if (cooledDown) {
          next.lastNotifiedAt = now;
          for (const c of rule.channels) out.push({ channel: channelName(c), notification: notificationFor(rule, w, g, true) });
        }
        st.groups[g.key] = next;
      } else if (prev.state === 'firing') {
        st.groups[g.key] = { state: 'ok', since: w.end, lastValue: g.value, ...(prev.lastNotifiedAt !== undefined ? { lastNotifiedAt: prev.lastNotifiedAt } : {}) };
        for (const c of rule.channels) out.push({ channel: channelName(c), notification: notificationFor(rule, w, g, false) });
      }
    }
    // A group that was firing and is absent from this window's results has cleared.
    for (const [key, prev] of Object.entries(st.groups)) {
      if (seen.has(key) || prev.state !== 'firing') continue;
      st.groups[key] = { ...prev, state: 'ok', since: w.end };
      for (const c of rule.channels) out.push({ channel: channelName(c), notification: notificationFor(rule, w, { key, value: null, firing: false }, false) });
    }
    return out;
  }

  /** Sends notifications; one failing channel never stops the others. Returns the ones that failed. */
  async function send(rule: AlertRule, items: RuleState['outbox']): Promise<RuleState['outbox']> {
    const failed: RuleState['outbox'] = [];
    await Promise.all(
      items.map(async (item) => {
        const channel = rule.channels.find((c) => channelName(c) === item.channel);
        const notifier = channel ? deps.notifierFor(channel) : undefined;
        if (!notifier) {
          logger.error('alert channel is not configured here; notification dropped', { rule: rule.name, channel: item.channel });
          return;
        }
        try {
          await notifier.notify(item.notification);
        } catch (err) {
          logger.error('alert notification failed', { rule: rule.name, channel: item.channel, error: (err as Error).message });
          failed.push(item);
        }
      }),
    );
    return failed;
  }

  async function load(rule: AlertRule): Promise<{ st: RuleState; version: string | null }> {
    const current = await state.read(stateKey(rule));
    if (!current) return { st: { groups: {}, outbox: [] }, version: null };
    return { st: JSON.parse(current.value) as RuleState, version: current.version };
  }

  async function save(rule: AlertRule, st: RuleState, version: string | null): Promise<string | false> {
    st.rev = (st.rev ?? 0) + 1;
    return state.write(stateKey(rule), JSON.stringify(st), version);
  }

  /** Evaluates every window that is due for one rule. */
  async function evaluateRule(rule: AlertRule): Promise<{ windows: number; notifications: number; failedNotifications: number; skippedWindows: number }> {
    const period = rule.scheduleSeconds * 1000;
    const now = clock.now();
    const latestEnd = Math.floor((now - delayMs) / period) * period;
    let { st, version } = await load(rule);
    let sent = 0;
    let failedCount = 0;

    // First deliver what an earlier run decided but may not have sent (a crash between the two writes).
    if (st.outbox.length > 0) {
      const failed = await send(rule, st.outbox);
      sent += st.outbox.length - failed.length;
      failedCount += failed.length;
      st.outbox = [];
      const v = await save(rule, st, version);
      if (v === false) return { windows: 0, notifications: sent, failedNotifications: failedCount, skippedWindows: 0 };
      version = v;
    }

    // A rule seen for the first time starts with the latest window (no backfill of history).
    let next = st.lastWindowEnd === undefined ? latestEnd : st.lastWindowEnd + period;
    let skipped = 0;
    const behind = Math.floor((latestEnd - next) / period) + 1;
    if (behind > MAX_CATCH_UP_WINDOWS) {
      skipped = behind - MAX_CATCH_UP_WINDOWS;
      next += skipped * period;
      logger.warn('alert rule fell behind; older windows were skipped', { rule: rule.name, skippedWindows: skipped });
    }
    let windows = 0;
    for (let end = next; end <= latestEnd; end += period) {
      const w = await evaluateWindow(rule, end);
      const outbox = transition(rule, st, w, now);
      st.lastWindowEnd = end;
      st.outbox = outbox;
      // Claim the window and record what will be sent, before sending: a concurrent run loses here.
      const v = await save(rule, st, version);
      if (v === false) {
        logger.info('another evaluator took this window', { rule: rule.name, windowEnd: iso(end) });
        return { windows, notifications: sent, failedNotifications: failedCount, skippedWindows: skipped };
      }
      version = v;
      windows++;
      if (outbox.length > 0) {
        const failed = await send(rule, outbox);
        sent += outbox.length - failed.length;
        failedCount += failed.length;
        st.outbox = [];
        const v2 = await save(rule, st, version);
        if (v2 === false) break;
        version = v2;
      }
    }
    return { windows, notifications: sent, failedNotifications: failedCount, skippedWindows: skipped };
  }

  return {
    rules: deps.rules,

    /** One scheduler tick: every due scheduled rule; a failing rule is reported and the others still run. */
    async tick(): Promise<{ rule: string; tenant: string; ok: boolean; error?: string; windows?: number; notifications?: number; failedNotifications?: number }[]> {
      const report = [];
      for (const rule of deps.rules.filter((r) => !r.realtime)) {
        try {
          const r = await evaluateRule(rule);
          report.push({ rule: rule.name, tenant: rule.tenant, ok: true, ...r });
        } catch (err) {
          logger.error('alert rule failed', { rule: rule.name, tenant: rule.tenant, error: (err as Error).message });
          report.push({ rule: rule.name, tenant: rule.tenant, ok: false, error: (err as Error).message });
        }
      }
      return report;
    },

    /** Evaluates a rule once over the latest window and returns what would be sent, changing nothing. */
    async dryRun(name: string): Promise<{ rule: AlertRule; window: WindowResult; notifications: { channel: string; notification: Notification }[] }> {
      const rule = deps.rules.find((r) => r.name === name);
      if (!rule) throw new Error(`no rule named ${JSON.stringify(name)}; the rules are: ${deps.rules.map((r) => r.name).join(', ')}`);
      if (rule.realtime) throw new Error(`${name} is a realtime rule: it runs on events as they are written, not on a schedule`);
      const period = rule.scheduleSeconds * 1000;
      const end = Math.floor((clock.now() - delayMs) / period) * period;
      const { st } = await load(rule);
      const copy: RuleState = JSON.parse(JSON.stringify(st)) as RuleState;
      const window = await evaluateWindow(rule, end);
      return { rule, window, notifications: transition(rule, copy, window, clock.now()) };
    },

    /** Each rule's stored state, for `sluice alerts list`. */
    async states(): Promise<{ rule: AlertRule; state: RuleState | undefined }[]> {
      return Promise.all(deps.rules.map(async (rule) => ({ rule, state: (await state.read(stateKey(rule))) ? (await load(rule)).st : undefined })));
    },
  };
}

export type AlertEvaluator = ReturnType<typeof makeAlertEvaluator>;
