/**
 * Alerts end to end on the local stack: a scheduled rule fires exactly once for a burst of errors, then
 * resolves when they stop, across a restart; a real-time rule notifies within seconds of the 202.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';
import { tempDir } from '../helpers/tmp.js';
import { startWebhookServer } from '../helpers/webhook-server.js';

const T = Date.UTC(2024, 4, 1, 10, 0, 0);

describe('alerts on the local stack', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('a burst of errors notifies once, a quiet window resolves it, and a restart in between repeats nothing', async () => {
    const hook = await startWebhookServer();
    cleanups.push(hook.close);
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const rulesFile = join(dir, 'alerts.yaml');
    await writeFile(
      rulesFile,
      [
        'rules:',
        '  - name: error-burst',
        '    description: many errors in a minute',
        '    query: filter level = "error"',
        '    schedule: rate(1 minute)',
        '    condition: count > 5',
        '    cooldown: 15m',
        '    channels: [slack:ops]',
      ].join('\n'),
    );
    const env = { SLUICE_ALERTS_FILE: rulesFile, SLUICE_ALERTS_DELAY_MS: '0', SLUICE_SLACK_WEBHOOKS: `ops=${hook.url}` };
    let now = T + 30_000;
    const clock = { now: () => now };
    const dataDir = join(dir, 'data');

    let stack = await startTestStack(env, { clock, manualAlerts: true, dataDir });
    expect((await stack.deps.alerts.tick())[0]).toMatchObject({ rule: 'error-burst', ok: true, windows: 1, notifications: 0 });

    // 20 errors (and some noise) inside [T, T+60s)
    const lines = Array.from({ length: 20 }, (_, i) =>
      JSON.stringify({ time: new Date(T + 5_000 + i * 1000).toISOString(), level: 'error', service: 'api', msg: `db timeout ${i}` }),
    );
    lines.push(JSON.stringify({ time: new Date(T + 7_000).toISOString(), level: 'info', msg: 'fine' }));
    const r = await call(`${stack.url}/v1/logs`, { method: 'POST', raw: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
    await eventually(async () => ((await call(`${stack.url}/v1/receipts/${r.body.receipt}`)).body.status === 'stored' ? true : undefined));

    now = T + 61_000;
    expect((await stack.deps.alerts.tick())[0]).toMatchObject({ ok: true, windows: 1, notifications: 1 });
    expect(hook.received).toHaveLength(1);
    const firing = hook.received[0]!.body;
    expect(firing.text).toContain('[FIRING] error-burst (default): count = 20');
    const all = JSON.stringify(firing.blocks);
    expect(all).toContain('count > 5');
    expect(all).toContain('db timeout'); // sample lines
    expect(all).toContain('2024-05-01T10:00:00.000Z');
    expect(all).toContain('filter level = \\"error\\"'); // the query to reproduce it

    // Restart: the state is on disk, the window is done, nothing is sent again.
    await stack.close();
    stack = await startTestStack(env, { clock, manualAlerts: true, dataDir });
    cleanups.push(() => stack.close());
    expect((await stack.deps.alerts.tick())[0]).toMatchObject({ ok: true, windows: 0, notifications: 0 });
    expect(hook.received).toHaveLength(1);

    // The next minute has no errors: resolved, once.
    now = T + 121_000;
    expect((await stack.deps.alerts.tick())[0]).toMatchObject({ ok: true, windows: 1, notifications: 1 });
    expect((await stack.deps.alerts.tick())[0]).toMatchObject({ ok: true, windows: 0, notifications: 0 });
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]!.body.text).toContain('[RESOLVED] error-burst (default)');
  });

  it('a failing rule is reported and the others still run', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const rulesFile = join(dir, 'alerts.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        rules: [
          { name: 'broken', query: 'stats count(*) as n by service', condition: 'missing_column > 1', channels: ['console'] },
          { name: 'fine', query: 'filter level = "error"', condition: 'count > 1000', channels: ['console'] },
        ],
      }),
    );
    const stack = await startTestStack({ SLUICE_ALERTS_FILE: rulesFile, SLUICE_ALERTS_DELAY_MS: '0' }, { manualAlerts: true });
    cleanups.push(stack.cleanup);
    await call(`${stack.url}/v1/logs`, { method: 'POST', raw: '{"msg":"x","service":"api"}', headers: { 'content-type': 'application/json' } });
    const report = await stack.deps.alerts.tick();
    expect(report.find((r) => r.rule === 'broken')).toMatchObject({ ok: false, error: expect.stringMatching(/missing_column/) });
    expect(report.find((r) => r.rule === 'fine')).toMatchObject({ ok: true });
  });

  it('a real-time rule notifies within 5 seconds of the 202, and a storm becomes one notification', async () => {
    const hook = await startWebhookServer();
    cleanups.push(hook.close);
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    const rulesFile = join(dir, 'alerts.yaml');
    await writeFile(
      rulesFile,
      [
        'rules:',
        '  - name: payment-errors',
        '    realtime: true',
        '    match: { level: error, service: payments }',
        '    cooldown: 10m',
        '    channels: [slack:ops]',
      ].join('\n'),
    );
    const stack = await startTestStack({ SLUICE_ALERTS_FILE: rulesFile, SLUICE_SLACK_WEBHOOKS: `ops=${hook.url}` });
    cleanups.push(stack.cleanup);
    const post = (msg: string, service = 'payments', level = 'error') =>
      call(`${stack.url}/v1/logs`, { method: 'POST', raw: JSON.stringify({ level, service, msg }), headers: { 'content-type': 'application/json' } });
    await post('fine', 'payments', 'info');
    await post('other service', 'search');
    const accepted = Date.now();
    expect((await post('card declined by issuer')).status).toBe(202);
    await eventually(async () => (hook.received.length > 0 ? true : undefined), 5_000, 50);
    expect(hook.received[0]!.at - accepted).toBeLessThan(5_000);
    expect(hook.received[0]!.body.text).toContain('[FIRING] payment-errors (default): 1 matching event');
    expect(JSON.stringify(hook.received[0]!.body.blocks)).toContain('card declined by issuer');
    // A storm during the cooldown sends nothing more.
    for (let i = 0; i < 5; i++) await post(`storm ${i}`);
    await new Promise((r) => setTimeout(r, 2500));
    expect(hook.received).toHaveLength(1);
  });
});
