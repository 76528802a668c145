/**
 * Scheduled alert evaluation. Every tick (a minute in AWS, a timer locally) picks the rules that are due and
 * evaluates each over consecutive windows that neither overlap nor leave gaps, lagging "now" by a delay so
 * late batches are counted. Per rule, its state (the last window evaluated, each group's firing state and
 * last notification) lives in a versioned store and is written with compare-and-swap; notifications go
 * through an outbox in that state, so a restart, a retry or two concurrent runs neither re-fire nor miss.
 */
import { CHANNEL_NOT_CONFIGURED, NOTIFICATION_FAILED, sampleLines, windowNotification } from '../domain/alerts/notification.js';
import { ruleQuery, samplesQuery } from '../domain/alerts/queries.js';
import { channelName, type AlertRule, type Channel } from '../domain/alerts/rules.js';
import {
  dueWindows,
  latestWindowEnd,
  transition,
  windowGroups,
  windowStart,
  type GroupChange,
  type GroupState,
  type WindowResult,
} from '../domain/alerts/transitions.js';
import { alertStateKey } from '../domain/storage-layout.js';
import type { Clock } from '../ports/clock.js';
import type { Logger } from '../ports/logger.js';
import type { Notification, Notifier } from '../ports/notifier.js';
import type { VersionedStore } from '../ports/versioned-store.js';
import type { QueryAnswer, QueryRequest } from './query.js';

export interface RuleState {
  /** bumped on every write, so no two states are ever identical (compare-and-swap stays sound) */
  rev?: number;
  /** end (ms) of the last window evaluated */
  lastWindowEnd?: number;
  groups: Record<string, GroupState>;
  /** notifications decided but not yet sent (sent, then removed with another compare-and-swap) */
  outbox: { channel: string; notification: Notification }[];
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

  /** Runs a rule over one window: its groups, whether each crosses the condition, and sample lines if any does. */
  async function evaluateWindow(rule: AlertRule, end: number): Promise<WindowResult> {
    const start = windowStart(rule, end);
    const answer = await runToEnd({ tenant: rule.tenant, ...ruleQuery(rule), start, end, limit: 10_000 });
    const groups = windowGroups(
      rule,
      answer.columns.map((c) => c.name),
      answer.rows,
    );
    let samples: string[] = [];
    const sq = samplesQuery(rule);
    if (sq && groups.some((g) => g.firing)) {
      try {
        samples = sampleLines((await runToEnd({ tenant: rule.tenant, query: sq, start, end, limit: 5 })).rows);
      } catch (err) {
        logger.warn('alert samples query failed', { rule: rule.name, error: (err as Error).message });
      }
    }
    return { start, end, groups, samples };
  }

  /** The outbox for a window's changes: each change's notification on every channel of the rule. */
  function outboxFor(rule: AlertRule, w: WindowResult, changes: GroupChange[]): RuleState['outbox'] {
    return changes.flatMap(({ group, firing }) =>
      rule.channels.map((c) => ({ channel: channelName(c), notification: windowNotification(rule, w, group, firing, deps.uiUrl) })),
    );
  }

  /** Sends notifications; one failing channel never stops the others. Returns the ones that failed. */
  async function send(rule: AlertRule, items: RuleState['outbox']): Promise<RuleState['outbox']> {
    const failed: RuleState['outbox'] = [];
    await Promise.all(
      items.map(async (item) => {
        const channel = rule.channels.find((c) => channelName(c) === item.channel);
        const notifier = channel ? deps.notifierFor(channel) : undefined;
        if (!notifier) {
          logger.error(CHANNEL_NOT_CONFIGURED, { rule: rule.name, channel: item.channel });
          return;
        }
        try {
          await notifier.notify(item.notification);
        } catch (err) {
          logger.error(NOTIFICATION_FAILED, { rule: rule.name, channel: item.channel, error: (err as Error).message });
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
    const now = clock.now();
    const loaded = await load(rule);
    const st = loaded.st;
    let version = loaded.version;
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

    const { ends, skipped } = dueWindows(rule, st.lastWindowEnd, now, delayMs);
    if (skipped > 0) logger.warn('alert rule fell behind; older windows were skipped', { rule: rule.name, skippedWindows: skipped });
    let windows = 0;
    for (const end of ends) {
      const w = await evaluateWindow(rule, end);
      const t = transition(rule, st.groups, w, now);
      const outbox = outboxFor(rule, w, t.changes);
      st.groups = t.groups;
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
    async tick(): Promise<
      { rule: string; tenant: string; ok: boolean; error?: string; windows?: number; notifications?: number; failedNotifications?: number }[]
    > {
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
      const { st } = await load(rule);
      const window = await evaluateWindow(rule, latestWindowEnd(rule, clock.now(), delayMs));
      return { rule, window, notifications: outboxFor(rule, window, transition(rule, st.groups, window, clock.now()).changes) };
    },

    /** Each rule's stored state, for `sluice alerts list`. */
    async states(): Promise<{ rule: AlertRule; state: RuleState | undefined }[]> {
      return Promise.all(deps.rules.map(async (rule) => ({ rule, state: (await state.read(stateKey(rule))) ? (await load(rule)).st : undefined })));
    },
  };
}

export type AlertEvaluator = ReturnType<typeof makeAlertEvaluator>;
