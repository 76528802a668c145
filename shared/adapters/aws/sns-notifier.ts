/**
 * Alert notifications through an SNS topic (its email and SMS subscribers). SNS's rules are applied here
 * so a notification is never refused for its shape: the subject is one line of printable ASCII under 100
 * characters, the message fits SNS's 256 KiB, attribute names are ones SNS accepts (at most 10, the most
 * SNS passes on to SQS subscribers).
 */
import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import { SluiceError, UnavailableError } from '../../domain/errors.js';
import type { Notification, Notifier } from '../../ports/notifier.js';
import { isRetryableSdkError, sdkErrorMessage, sdkErrorName } from './sdk-errors.js';

export interface SnsNotifierOptions {
  client: SNSClient;
  topicArn: string;
}

/** SNS: "must be ASCII text that begins with a letter, number, or punctuation mark; no line breaks or control characters; less than 100 characters". */
const MAX_SUBJECT = 99;
/** SNS's message limit (262,144 bytes) counts the message and its attributes; keep room for the attributes. */
const MAX_MESSAGE_BYTES = 256 * 1024 - 8 * 1024;
/** SNS delivers at most 10 attributes to SQS subscribers and drops the message attributes beyond. */
const MAX_ATTRIBUTES = 10;

/** A name SNS accepts: letters, digits, '_', '-', '.', no leading, trailing or double '.', not AWS./Amazon., ≤ 256. */
export function snsAttributeName(name: string): string {
  let n = name
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+|\.+$/g, '');
  if (/^(aws|amazon)\./i.test(n)) n = `x-${n}`;
  return (n || '_').slice(0, 256);
}

export function snsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // é → e
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  const one = ascii || 'Sluice notification';
  return one.length > MAX_SUBJECT ? `${one.slice(0, MAX_SUBJECT - 3)}...` : one;
}

export function snsMessage(text: string): string {
  if (Buffer.byteLength(text, 'utf8') <= MAX_MESSAGE_BYTES) return text;
  const note = '\n… (truncated: the message was longer than SNS allows)';
  let cut = Buffer.from(text, 'utf8')
    .subarray(0, MAX_MESSAGE_BYTES - Buffer.byteLength(note))
    .toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1); // a character split by the byte cut
  return cut + note;
}

/** The first MAX_ATTRIBUTES non-empty attributes (SNS refuses empty values), names made valid. */
function snsAttributes(attributes: Record<string, string> | undefined): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(attributes ?? {})
    .filter(([, v]) => v !== '')
    .slice(0, MAX_ATTRIBUTES);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([name, value]) => [snsAttributeName(name), { DataType: 'String', StringValue: value }]));
}

export class SnsNotifier implements Notifier {
  constructor(private readonly opts: SnsNotifierOptions) {
    if (!/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/.test(opts.topicArn))
      throw new Error(`SnsNotifier: ${JSON.stringify(opts.topicArn)} is not an SNS topic ARN`);
  }

  async notify(n: Notification): Promise<void> {
    const input = { TopicArn: this.opts.topicArn, Subject: snsSubject(n.subject), Message: snsMessage(n.text), MessageAttributes: snsAttributes(n.attributes) };
    try {
      await this.opts.client.send(new PublishCommand(input));
    } catch (err) {
      throw translate(err, this.opts.topicArn);
    }
  }
}

/** An SNS SDK error as one of Sluice's errors, so no SDK exception leaves this adapter. */
function translate(err: unknown, topicArn: string): Error {
  const name = sdkErrorName(err);
  if (isRetryableSdkError(err) || name === 'KMSThrottlingException' || name === 'InternalErrorException') {
    return new UnavailableError('SNS could not take the notification right now; it will be tried again', 1, { cause: err });
  }
  switch (name) {
    case 'NotFoundException':
      return new SluiceError(`SNS: the topic ${topicArn} does not exist`, { cause: err });
    case 'AuthorizationErrorException':
    case 'KMSAccessDeniedException':
    case 'KMSDisabledException':
    case 'KMSInvalidStateException':
    case 'KMSNotFoundException':
    case 'KMSOptInRequired':
      return new SluiceError(`SNS refused to publish to ${topicArn} (${name}): check the function's sns:Publish permission and the topic's KMS key`, {
        cause: err,
      });
    default:
      return new SluiceError(`SNS Publish failed: ${name || 'error'}: ${sdkErrorMessage(err)}`, { cause: err });
  }
}
