/**
 * Alert rules are data: a file in the repository (alerts.yaml or alerts.json), deployed with the stack and
 * read by local mode. This module validates the parsed document and turns it into typed rules, with errors
 * that name the rule and the field.
 */
import * as z from 'zod';
import { BadRequestError } from '../errors.js';
import { LEVELS } from '../schema.js';
import { DEFAULT_TENANT, TENANT_PATTERN } from '../tenant.js';

const UNITS: Record<string, number> = { second: 1, seconds: 1, minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86400, days: 86400 };
const SHORT_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `rate(5 minutes)` → 300 s; from one minute to one day, as EventBridge schedules go. */
export function parseSchedule(text: string): number | undefined {
  const m = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2]!.toLowerCase()];
  const seconds = unit === undefined ? undefined : Number(m[1]) * unit;
  return seconds !== undefined && seconds >= 60 && seconds <= 86400 ? seconds : undefined;
}

/** `5m`, `1h`, `30s`, `2d` → seconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)\s*([smhd])$/.exec(text.trim());
  return m ? Number(m[1]) * SHORT_UNITS[m[2]!]! : undefined;
}

export type Comparator = '>' | '>=' | '<' | '<=' | '=' | '!=';

export type Condition = { kind: 'rows'; any: boolean } | { kind: 'threshold'; column: string; op: Comparator; value: number };

/** `count > 10`, `errors >= 5`, `p95 > 1.5`, `any rows`, `no rows`. */
export function parseCondition(text: string): Condition | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'any rows' || t === 'any') return { kind: 'rows', any: true };
  if (t === 'no rows' || t === 'none') return { kind: 'rows', any: false };
  const m = /^([A-Za-z_@][\w.()*@ ]*?)\s*(>=|<=|==|!=|>|<|=)\s*(-?\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!m) return undefined;
  const op = (m[2] === '==' ? '=' : m[2]) as Comparator;
  return { kind: 'threshold', column: m[1]!.trim(), op, value: Number(m[3]) };
}

export function compare(value: number, op: Comparator, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '=':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

export type Channel = { kind: 'sns' } | { kind: 'email'; address: string } | { kind: 'slack'; webhook: string } | { kind: 'console' };

export function parseChannel(text: string): Channel | undefined {
  const t = text.trim();
  if (t === 'sns') return { kind: 'sns' };
  if (t === 'console') return { kind: 'console' };
  const email = /^email:([^\s@]+@[^\s@]+\.[^\s@]+)$/.exec(t);
  if (email) return { kind: 'email', address: email[1]! };
  const slack = /^slack:([A-Za-z0-9_-]{1,64})$/.exec(t);
  if (slack) return { kind: 'slack', webhook: slack[1]! };
  return undefined;
}

export function channelName(c: Channel): string {
  return c.kind === 'email' ? `email:${c.address}` : c.kind === 'slack' ? `slack:${c.webhook}` : c.kind;
}

/** What a real-time rule matches on each event as it is written. */
export interface RealtimeMatch {
  level?: string[];
  service?: string[];
  /** a term the message contains (case-insensitive) */
  term?: string;
  attributes?: Record<string, string>;
}

export interface AlertRule {
  name: string;
  tenant: string;
  description?: string;
  /** the pipeline language, or SQL when `sql` is set */
  query?: string;
  sql?: string;
  realtime: boolean;
  match?: RealtimeMatch;
  /** seconds between evaluations; evaluation windows are consecutive periods of this length */
  scheduleSeconds: number;
  schedule: string;
  /** seconds of data the condition looks at, ending at the window's end (≥ the schedule period) */
  windowSeconds: number;
  condition: Condition;
  conditionText: string;
  cooldownSeconds: number;
  levels?: string[];
  tags?: string[];
  channels: Channel[];
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const rawRule = z
  .object({
    name: z.string().regex(NAME, 'use 1-64 characters of a-z, 0-9, - and _'),
    tenant: z.string().regex(TENANT_PATTERN, 'is not a valid tenant id').default(DEFAULT_TENANT),
    description: z.string().max(500).optional(),
    query: z.string().min(1).max(10_000).optional(),
    sql: z.string().min(1).max(10_000).optional(),
    realtime: z.boolean().default(false),
    match: z
      .object({
        level: z.union([z.enum(LEVELS), z.array(z.enum(LEVELS)).min(1)]).optional(),
        service: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
        term: z.string().min(1).optional(),
        attributes: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    schedule: z.string().default('rate(1 minute)'),
    window: z.string().optional(),
    condition: z.string().default('any rows'),
    cooldown: z.string().default('15m'),
    levels: z.array(z.enum(LEVELS)).min(1).optional(),
    tags: z.array(z.string().min(1)).min(1).optional(),
    channels: z.array(z.string()).min(1, 'name at least one channel (sns, email:<address>, slack:<webhook name>, console)'),
  })
  .strict();

const rawDocument = z.object({ rules: z.array(z.unknown()) }).strict();

/** Validates a parsed rules document; throws BadRequestError naming the rule and field of every problem. */
export function validateRules(doc: unknown): AlertRule[] {
  const top = rawDocument.safeParse(doc);
  if (!top.success) throw new BadRequestError('the rules file must be an object with a "rules" list');
  const problems: string[] = [];
  const rules: AlertRule[] = [];
  const seen = new Set<string>();
  top.data.rules.forEach((raw, i) => {
    const label = typeof (raw as { name?: unknown })?.name === 'string' ? `rule ${JSON.stringify((raw as { name: string }).name)}` : `rule #${i + 1}`;
    const parsed = rawRule.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}: ${issue.path.join('.') || 'rule'}: ${issue.message}`);
      return;
    }
    const r = parsed.data;
    const bad = (field: string, msg: string) => problems.push(`${label}: ${field}: ${msg}`);
    if (seen.has(`${r.tenant}/${r.name}`)) bad('name', 'another rule of this tenant has the same name');
    seen.add(`${r.tenant}/${r.name}`);
    if (r.realtime) {
      if (!r.match) bad('match', 'a realtime rule needs match (level, service, term or attributes)');
      if (r.query || r.sql) bad('query', 'a realtime rule matches events as they are written; it takes match, not a query');
    } else {
      if ((r.query === undefined) === (r.sql === undefined)) bad('query', 'give exactly one of query (the pipeline language) or sql');
      if (r.match) bad('match', 'match is for realtime rules; scheduled rules use query');
    }
    const scheduleSeconds = parseSchedule(r.schedule);
    if (scheduleSeconds === undefined) bad('schedule', 'use rate(N minutes|hours|days), from rate(1 minute) to rate(1 day)');
    const windowSeconds = r.window === undefined ? scheduleSeconds : parseDuration(r.window);
    if (windowSeconds === undefined) bad('window', 'use a duration such as 5m, 1h or 1d');
    else if (scheduleSeconds !== undefined && windowSeconds < scheduleSeconds)
      bad('window', `must be at least the schedule period (${scheduleSeconds} s), or some events would never be looked at`);
    const condition = parseCondition(r.condition);
    if (!condition) bad('condition', 'use "any rows", "no rows", or "<count or column> <op> <number>" such as "count > 10"');
    const cooldownSeconds = parseDuration(r.cooldown);
    if (cooldownSeconds === undefined) bad('cooldown', 'use a duration such as 15m or 1h');
    const channels = r.channels.map((c) => {
      const ch = parseChannel(c);
      if (!ch) bad('channels', `${JSON.stringify(c)} is not a channel: use sns, email:<address>, slack:<webhook name> or console`);
      return ch;
    });
    if (scheduleSeconds === undefined || windowSeconds === undefined || !condition || cooldownSeconds === undefined || channels.some((c) => !c)) return;
    rules.push({
      name: r.name,
      tenant: r.tenant,
      ...(r.description ? { description: r.description } : {}),
      ...(r.query ? { query: r.query } : {}),
      ...(r.sql ? { sql: r.sql } : {}),
      realtime: r.realtime,
      ...(r.match
        ? {
            match: {
              ...(r.match.level ? { level: ([] as string[]).concat(r.match.level) } : {}),
              ...(r.match.service ? { service: ([] as string[]).concat(r.match.service) } : {}),
              ...(r.match.term ? { term: r.match.term } : {}),
              ...(r.match.attributes ? { attributes: r.match.attributes } : {}),
            },
          }
        : {}),
      scheduleSeconds,
      schedule: r.schedule,
      windowSeconds,
      condition,
      conditionText: r.condition,
      cooldownSeconds,
      ...(r.levels ? { levels: r.levels } : {}),
      ...(r.tags ? { tags: r.tags } : {}),
      channels: channels as Channel[],
    });
  });
  if (problems.length > 0) throw new BadRequestError(`the alert rules are not valid:\n  ${problems.join('\n  ')}`, { problems });
  return rules;
}
