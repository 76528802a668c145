/** Sends one alert notification on one channel (SNS, email, Slack, console). */
export interface Notification {
  /** one line: what fired and where */
  subject: string;
  /** the readable body: condition, value, window, tenant, sample lines, the query to reproduce it */
  text: string;
  /** string attributes for channels that carry them (SNS message attributes) */
  attributes?: Record<string, string>;
  /** the structured alert, for channels that render it (Slack blocks) */
  alert?: {
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
  };
}

export interface Notifier {
  /** Resolves when the channel accepted the notification; rejects with a reason otherwise. */
  notify(notification: Notification): Promise<void>;
}
