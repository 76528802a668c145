/**
 * What an alert says, written once for every channel: the subject, the readable text (condition, value,
 * window, sample lines, the query to reproduce it) and the structured alert that Slack renders as blocks.
 * Notifiers only carry it, within their channel's limits.
 */
import { microsToIso } from '../normalize/timestamp.js';
import type { LogEvent } from '../schema.js';
import { textOf } from '../text.js';
import { ruleQuery } from './queries.js';
import type { AlertRule } from './rules.js';
import type { GroupResult, WindowResult } from './transitions.js';

/**
 * What the notifying services log when a channel fails or is missing: the stack counts these lines (a
 * metric filter on the log groups) and alarms on them, so a broken channel is noticed without failing a run.
 */
export const NOTIFICATION_FAILED = 'alert notification failed';
export const CHANNEL_NOT_CONFIGURED = 'alert channel is not configured here; notification dropped';

export interface Notification {
  /** one line: what fired and where */
  subject: string;
  /** the readable body: condition, value, window, tenant, sample lines, the query to reproduce it */
  text: string;
  /** string attributes for channels that carry them (SNS message attributes) */
  attributes?: Record<string, string>;
  /** the structured alert, for channels that render it (Slack blocks) */
  alert?: AlertSummary;
}

export interface AlertSummary {
  rule: string;
  tenant: string;
  state: 'firing' | 'resolved';
  condition: string;
  value: number | null;
  windowStart: string;
  windowEnd: string;
  samples: string[];
  query: string;
  link?: string;
}

/** Subjects stay under 100 characters, SNS's limit for an email subject. */
const MAX_SUBJECT = 99;
/** The part of a message a sample line shows. */
const SAMPLE_MESSAGE_CHARS = 300;

const iso = (ms: number) => new Date(ms).toISOString();

/** One sample line: the event's time, level, service and the start of its message. */
export function sampleLine(ts: unknown, level: unknown, service: unknown, message: unknown): string {
  return `${textOf(ts)} ${textOf(level ?? '-')} ${textOf(service ?? '-')}: ${String(message).slice(0, SAMPLE_MESSAGE_CHARS)}`;
}

/** Sample lines from the rows of samplesQuery() (@timestamp, level, service, @message). */
export function sampleLines(rows: readonly unknown[][]): string[] {
  return rows.map((r) => sampleLine(r[0], r[1], r[2], r[3]));
}

function ruleLine(rule: AlertRule, note = ''): string {
  return `Rule:      ${rule.name}${rule.description ? ` — ${rule.description}` : ''}${note}`;
}

function sampleBlock(samples: readonly string[]): string[] {
  return ['', 'Sample lines:', ...samples.map((s) => `  ${s}`)];
}

function notification(subject: string, body: string[], alert: AlertSummary): Notification {
  return {
    subject: subject.slice(0, MAX_SUBJECT),
    text: [subject, '', ...body].join('\n'),
    attributes: { rule: alert.rule, tenant: alert.tenant, state: alert.state },
    alert,
  };
}

/**
 * The notification for a group of a scheduled rule that fires (or resolves) in a window: with sample lines
 * when firing, the command that reproduces the query, and a link to it in the UI when `uiUrl` is set (a UI
 * that takes ?query=&start=&end=).
 */
export function windowNotification(rule: AlertRule, w: WindowResult, g: GroupResult, firing: boolean, uiUrl?: string): Notification {
  const q = ruleQuery(rule);
  const reproduce = q.query
    ? `npx sluice query '${q.query.replaceAll("'", "'\\''")}' --start ${iso(w.start)} --end ${iso(w.end)}`
    : `POST /v1/query {"sql": ${JSON.stringify(q.sql)}, "start": "${iso(w.start)}", "end": "${iso(w.end)}"}`;
  const link = uiUrl && q.query ? `${uiUrl}?${new URLSearchParams({ query: q.query, start: iso(w.start), end: iso(w.end) }).toString()}` : undefined;
  const where = g.key ? ` [${g.key}]` : '';
  const valueText = g.value === null ? 'no value' : String(g.value);
  const subject = `[${firing ? 'FIRING' : 'RESOLVED'}] ${rule.name}${where} (${rule.tenant}): ${rule.condition.kind === 'rows' ? `${valueText} rows` : `${rule.condition.column} = ${valueText}`}`;
  const body = [
    ruleLine(rule),
    `Condition: ${rule.conditionText} (${firing ? 'crossed' : 'no longer true'}; value ${valueText})`,
    `Window:    ${iso(w.start)} to ${iso(w.end)}`,
    `Tenant:    ${rule.tenant}`,
    ...(g.key ? [`Group:     ${g.key}`] : []),
    ...(firing && w.samples.length > 0 ? sampleBlock(w.samples) : []),
    '',
    `Reproduce: ${reproduce}`,
    ...(link ? [`Open:      ${link}`] : []),
  ];
  return notification(subject, body, {
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
  });
}

/**
 * The notification for a real-time rule: `count` events matched now (the first five are shown), and `held`
 * more during the cooldown before. `matched` is never empty.
 */
export function realtimeNotification(rule: AlertRule, count: number, held: number, matched: readonly LogEvent[]): Notification {
  const total = count + held;
  const samples = matched.slice(0, 5);
  const subject = `[FIRING] ${rule.name} (${rule.tenant}): ${total} matching event${total === 1 ? '' : 's'}`;
  const body = [
    ruleLine(rule, ' (real-time)'),
    `Match:     ${JSON.stringify(rule.match)}`,
    `Tenant:    ${rule.tenant}`,
    ...(held > 0 ? [`Also:      ${held} more matched during the ${rule.cooldownSeconds / 60}-minute cooldown before this`] : []),
    ...sampleBlock(samples.map((e) => sampleLine(microsToIso(e.ts), e.level, e.service, e.message))),
  ];
  return notification(subject, body, {
    rule: rule.name,
    tenant: rule.tenant,
    state: 'firing',
    condition: `match ${JSON.stringify(rule.match)}`,
    value: total,
    windowStart: microsToIso(matched[0]!.ts),
    windowEnd: microsToIso(matched.at(-1)!.ts),
    samples: samples.map((e) => e.message.slice(0, SAMPLE_MESSAGE_CHARS)),
    query: 'real-time match',
  });
}

/** Slack's Block Kit message for a notification: a header, the facts as fields, sample lines, the query. */
export function slackPayload(n: Notification): Record<string, unknown> {
  const a = n.alert;
  if (!a) return { text: n.text };
  const emoji = a.state === 'firing' ? ':rotating_light:' : ':white_check_mark:';
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: `${a.state === 'firing' ? 'Firing' : 'Resolved'}: ${a.rule}`.slice(0, 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Condition*\n${a.condition}` },
        { type: 'mrkdwn', text: `*Value*\n${a.value ?? 'n/a'}` },
        { type: 'mrkdwn', text: `*Tenant*\n${a.tenant}` },
        { type: 'mrkdwn', text: `*Window*\n${a.windowStart} – ${a.windowEnd}` },
      ],
    },
  ];
  if (a.samples.length > 0)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Sample lines*\n\`\`\`${a.samples.join('\n').slice(0, 2800)}\`\`\`` } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Reproduce: \`${a.query.slice(0, 2800)}\`` }] });
  if (a.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open query' }, url: a.link }] });
  return { text: `${emoji} ${n.subject}`, blocks };
}
