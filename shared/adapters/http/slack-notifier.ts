/**
 * Slack incoming-webhook notifier (works in both modes). The message has a text fallback and blocks;
 * 429 and 5xx are retried with exponential backoff, waiting at least what Retry-After asks.
 */
import pRetry, { AbortError } from 'p-retry';
import type { Notification, Notifier } from '../../ports/notifier.js';

export interface SlackNotifierOptions {
  webhookUrl: string;
  retries?: number;
  minTimeoutMs?: number;
  /** waits between attempts (tests shorten it) */
  sleep?: (ms: number) => Promise<void>;
}

class RetryableHttp extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
    this.name = 'RetryableHttp';
  }
}

/** Slack's block kit payload for a notification. */
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
  if (a.samples.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Sample lines*\n\`\`\`${a.samples.join('\n').slice(0, 2800)}\`\`\`` } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Reproduce: \`${a.query.slice(0, 2800)}\`` }] });
  if (a.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open query' }, url: a.link }] });
  return { text: `${emoji} ${n.subject}`, blocks };
}

export class SlackNotifier implements Notifier {
  constructor(private readonly opts: SlackNotifierOptions) {}

  async notify(n: Notification): Promise<void> {
    const body = JSON.stringify(slackPayload(n));
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    await pRetry(
      async () => {
        let res: Response;
        try {
          res = await fetch(this.opts.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        } catch (err) {
          throw new RetryableHttp(`Slack webhook unreachable: ${String((err as Error).cause ?? (err as Error).message)}`, undefined);
        }
        const text = await res.text().catch(() => '');
        if (res.ok) return;
        if (res.status === 429 || res.status >= 500) {
          const ra = Number(res.headers.get('retry-after'));
          throw new RetryableHttp(`Slack answered ${res.status}`, Number.isFinite(ra) && ra > 0 ? ra * 1000 : undefined);
        }
        throw new AbortError(`Slack refused the message: ${res.status} ${text.slice(0, 200)}`);
      },
      {
        retries: this.opts.retries ?? 5,
        minTimeout: this.opts.minTimeoutMs ?? 500,
        maxTimeout: 30_000,
        randomize: true,
        onFailedAttempt: async ({ error }) => {
          if (error instanceof RetryableHttp && error.retryAfterMs) await sleep(Math.min(error.retryAfterMs, 60_000));
        },
      },
    );
  }
}
