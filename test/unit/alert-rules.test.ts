import { describe, expect, it } from 'vitest';
import { parseCondition, parseSchedule, validateRules } from '../../shared/domain/alerts/rules.js';
import { ruleQuery } from '../../shared/domain/alerts/queries.js';

const base = { name: 'errors', query: 'filter level = "error"', channels: ['console'] };

describe('alert rules', () => {
  it('reads a complete rule with defaults filled in', () => {
    const [r] = validateRules({
      rules: [
        {
          ...base,
          tenant: 'acme',
          schedule: 'rate(5 minutes)',
          window: '15m',
          condition: 'count > 10',
          cooldown: '1h',
          levels: ['error'],
          channels: ['sns', 'email:oncall@example.com', 'slack:ops'],
        },
      ],
    });
    expect(r).toMatchObject({
      name: 'errors',
      tenant: 'acme',
      scheduleSeconds: 300,
      windowSeconds: 900,
      cooldownSeconds: 3600,
      condition: { kind: 'threshold', column: 'count', op: '>', value: 10 },
      channels: [{ kind: 'sns' }, { kind: 'email', address: 'oncall@example.com' }, { kind: 'slack', webhook: 'ops' }],
      realtime: false,
    });
    const [d] = validateRules({ rules: [base] });
    expect(d).toMatchObject({ tenant: 'default', scheduleSeconds: 60, windowSeconds: 60, cooldownSeconds: 900, condition: { kind: 'rows', any: true } });
  });

  it('names the rule and the field of every problem', () => {
    let message = '';
    try {
      validateRules({
        rules: [
          { ...base, schedule: 'every minute', channels: ['pager:x'] },
          { name: 'Bad Name', query: 'x', channels: ['console'] },
          { name: 'rt', realtime: true, channels: ['console'] },
          { ...base, name: 'w', schedule: 'rate(5 minutes)', window: '1m', condition: 'lots' },
          { ...base, name: 'both', sql: 'SELECT 1' },
        ],
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('rule "errors": schedule: use rate(N minutes|hours|days)');
    expect(message).toContain('rule "errors": channels: "pager:x" is not a channel');
    expect(message).toContain('rule "Bad Name": name: use 1-64 characters');
    expect(message).toContain('rule "rt": match: a realtime rule needs match');
    expect(message).toContain('rule "w": window: must be at least the schedule period (300 s)');
    expect(message).toContain('rule "w": condition: use "any rows"');
    expect(message).toContain('rule "both": query: give exactly one of query');
  });

  it('refuses unknown fields and duplicate names', () => {
    expect(() => validateRules({ rules: [{ ...base, severity: 'high' }] })).toThrow(/rule "errors": rule: Unrecognized key/);
    expect(() => validateRules({ rules: [base, base] })).toThrow(/same name/);
    expect(() => validateRules([base])).toThrow(/"rules" list/);
  });

  it('parses schedules from one minute to one day, and conditions', () => {
    expect([
      parseSchedule('rate(1 minute)'),
      parseSchedule('rate(2 hours)'),
      parseSchedule('rate(1 day)'),
      parseSchedule('rate(30 seconds)'),
      parseSchedule('rate(2 days)'),
    ]).toEqual([60, 7200, 86400, undefined, undefined]);
    expect(parseCondition('p95_ms >= 1500.5')).toEqual({ kind: 'threshold', column: 'p95_ms', op: '>=', value: 1500.5 });
    expect(parseCondition('count(*) == 0')).toEqual({ kind: 'threshold', column: 'count(*)', op: '=', value: 0 });
    expect(parseCondition('no rows')).toEqual({ kind: 'rows', any: false });
  });

  it('puts level and tag filters in front of the query and counts when there is no stats', () => {
    const [r] = validateRules({ rules: [{ ...base, levels: ['error', 'fatal'], tags: ['prod'] }] });
    expect(ruleQuery(r!).query).toBe('filter level in ["error", "fatal"] | filter tag("prod") | filter level = "error" | stats count(*) as count');
    const [s] = validateRules({ rules: [{ ...base, query: 'stats count(*) as n by service', condition: 'n > 5' }] });
    expect(ruleQuery(s!).query).toBe('stats count(*) as n by service');
  });
});
