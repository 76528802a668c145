/**
 * Slack incoming-webhook notifier (works in both modes). The message (slackPayload, in the domain) has a
 * text fallback and blocks; 429 and 5xx are retried with exponential backoff, waiting at least what
 * Retry-After asks.
 */
import pRetry, { AbortError } from 'p-retry';
import { slackPayload } from '../../domain/alerts/notification.js';
import { textOf } from '../../domain/text.js';
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
          throw new RetryableHttp(`Slack webhook unreachable: ${textOf((err as Error).cause ?? (err as Error).message)}`, undefined);
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
