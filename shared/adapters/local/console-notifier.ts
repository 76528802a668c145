import type { Logger } from '../../ports/logger.js';
import type { Notification, Notifier } from '../../ports/notifier.js';

/** Local mode's default channel: the notification, in full, in the server's log. */
export class ConsoleNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}

  async notify(n: Notification): Promise<void> {
    this.logger.warn(`ALERT ${n.subject}\n${n.text}`);
  }
}
