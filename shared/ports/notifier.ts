/** Sends one alert notification on one channel (SNS, email, Slack, console). */
import type { Notification } from '../domain/alerts/notification.js';

export type { Notification };

export interface Notifier {
  /** Resolves when the channel accepted the notification; rejects with a reason otherwise. */
  notify(notification: Notification): Promise<void>;
}
