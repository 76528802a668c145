import nodemailer from 'nodemailer';
import type { Notification, Notifier } from '../../ports/notifier.js';

/** Email through an SMTP server (local mode; in AWS, email goes through the SNS topic's subscriptions). */
export class SmtpNotifier implements Notifier {
  private readonly transport: nodemailer.Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
    private readonly to: string,
  ) {
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async notify(n: Notification): Promise<void> {
    await this.transport.sendMail({
      from: this.from,
      to: this.to,
      subject: n.subject,
      text: n.text,
      headers: Object.fromEntries(Object.entries(n.attributes ?? {}).map(([k, v]) => [`X-Sluice-${k.replace(/[^A-Za-z0-9-]/g, '-')}`, v])),
    });
  }
}
