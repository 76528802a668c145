import type { Logger } from '../ports/logger.js';
import type { Notification, Notifier } from '../ports/notifier.js';

/** The console channel (and sns in local mode): the notification, in full, in the log. Works in both modes. */
export class ConsoleNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}

  async notify(n: Notification): Promise<void> {
    this.logger.warn(`ALERT ${n.subject}\n${n.text}`);
  }
}
