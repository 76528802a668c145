/** The notifiers against real peers on loopback: an HTTP server for Slack, an SMTP server for email. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../shared/adapters/http/slack-notifier.js';
import { SmtpNotifier } from '../../shared/adapters/local/smtp-notifier.js';
import { slackPayload } from '../../shared/domain/alerts/notification.js';
import type { Notification } from '../../shared/ports/notifier.js';
import { startWebhookServer } from '../helpers/webhook-server.js';

const notification: Notification = {
  subject: '[FIRING] errors (acme): count = 42',
  text: '[FIRING] errors (acme): count = 42\n\nSample lines:\n  boom',
  attributes: { rule: 'errors', tenant: 'acme', state: 'firing' },
  alert: {
    rule: 'errors',
    tenant: 'acme',
    state: 'firing',
    condition: 'count > 10',
    value: 42,
    windowStart: 'a',
    windowEnd: 'b',
    samples: ['boom'],
    query: 'filter level = "error"',
    link: 'https://ui/q',
  },
};

describe('Slack notifier', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  it('posts blocks, and after a 429 waits for Retry-After and succeeds', async () => {
    const hook = await startWebhookServer((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    close = hook.close;
    const waits: number[] = [];
    const started = Date.now();
    await new SlackNotifier({ webhookUrl: hook.url, minTimeoutMs: 10, sleep: async (ms) => void waits.push(ms) }).notify(notification);
    expect(hook.calls()).toBe(2);
    expect(waits).toEqual([1000]);
    expect(Date.now() - started).toBeLessThan(5000);
    const body = hook.received[0]!.body;
    expect(body.text).toContain('[FIRING] errors (acme)');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Firing: errors' } });
    expect(JSON.stringify(body.blocks)).toContain('boom');
    expect(body).toEqual(slackPayload(notification));
  });

  it('retries 5xx, and gives up on a 4xx with the reason', async () => {
    const hook = await startWebhookServer((n) => ({ status: n < 2 ? 503 : 200 }));
    close = hook.close;
    await new SlackNotifier({ webhookUrl: hook.url, minTimeoutMs: 5 }).notify(notification);
    expect(hook.calls()).toBe(3);
    const bad = await startWebhookServer(() => ({ status: 404 }));
    await expect(new SlackNotifier({ webhookUrl: bad.url, minTimeoutMs: 5 }).notify(notification)).rejects.toThrow(/Slack refused the message: 404/);
    expect(bad.calls()).toBe(1);
    await bad.close();
  });
});

describe('SMTP notifier', () => {
  it('delivers the email to an SMTP server', async () => {
    const mails: { from: string; to: string[]; data: string }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on('end', () => {
          mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    try {
      await new SmtpNotifier(`smtp://127.0.0.1:${port}?ignoreTLS=true`, 'sluice@example.com', 'oncall@example.com').notify(notification);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.to).toEqual(['oncall@example.com']);
      expect(mails[0]!.from).toBe('sluice@example.com');
      expect(mails[0]!.data).toMatch(/Subject: \[FIRING\] errors \(acme\): count = 42/);
      expect(mails[0]!.data).toMatch(/X-Sluice-Rule: errors/i);
      expect(mails[0]!.data).toContain('Sample lines:');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
