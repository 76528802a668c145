/** The queries a scheduled rule runs: its condition's, and the one that finds sample lines for a notification. */
import { statsSplit } from '../query/parse.js';
import type { AlertRule } from './rules.js';

/** The rule's level and tag filters, as pipeline stages in front of its query. */
function ruleFilters(rule: AlertRule): string[] {
  const filters: string[] = [];
  if (rule.levels) filters.push(`filter level in [${rule.levels.map((l) => JSON.stringify(l)).join(', ')}]`);
  if (rule.tags) filters.push(`filter ${rule.tags.map((t) => `tag(${JSON.stringify(t)})`).join(' or ')}`);
  return filters;
}

/** The query a rule runs for its condition, with its level and tag filters in front. */
export function ruleQuery(rule: AlertRule): { query?: string; sql?: string } {
  if (rule.sql) return { sql: rule.sql };
  const body = rule.query!;
  const stats = statsSplit(body);
  // Without stats, the rule counts the matching events (one group).
  const counted = stats.hasStats ? body : `${body} | stats count(*) as count`;
  return { query: [...ruleFilters(rule), counted].join(' | ') };
}

/** The newest five events the rule's query matched (before its stats), for a notification; none for SQL rules. */
export function samplesQuery(rule: AlertRule): string | undefined {
  if (rule.sql) return undefined;
  const before = statsSplit(rule.query!).before;
  return [...ruleFilters(rule), ...(before ? [before] : []), 'fields @timestamp, level, service, @message', 'sort @timestamp desc', 'limit 5'].join(' | ');
}
