/** SnsNotifier with SNS mocked: what it publishes, SNS's shape rules applied, errors translated. */
import { NotFoundException, PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier, snsAttributeName, snsMessage, snsSubject } from '../../shared/adapters/aws/sns-notifier.js';
import { SluiceError, UnavailableError } from '../../shared/domain/errors.js';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:sluice-alerts';
const notifier = () =>
  new SnsNotifier({ client: new SNSClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }), topicArn: TOPIC });
const published = (): PublishCommandInput => sns.commandCalls(PublishCommand)[0]!.args[0].input;

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('SnsNotifier', () => {
  it('publishes the subject, the text and the attributes as string message attributes', async () => {
    await notifier().notify({
      subject: '[firing] errors > 10 (acme)',
      text: 'count = 42 in 10:00–10:05\n\nsample lines…',
      attributes: { rule: 'errors', tenant: 'acme', state: 'firing' },
    });
    expect(sns).toHaveReceivedCommandOnce(PublishCommand);
    expect(published()).toEqual({
      TopicArn: TOPIC,
      Subject: '[firing] errors > 10 (acme)',
      Message: 'count = 42 in 10:00–10:05\n\nsample lines…',
      MessageAttributes: {
        rule: { DataType: 'String', StringValue: 'errors' },
        tenant: { DataType: 'String', StringValue: 'acme' },
        state: { DataType: 'String', StringValue: 'firing' },
      },
    });
  });

  it('sends no MessageAttributes when there are none', async () => {
    await notifier().notify({ subject: 's', text: 't' });
    expect(published().MessageAttributes).toBeUndefined();
  });

  it('makes the subject one line of printable ASCII under 100 characters', () => {
    expect(snsSubject('Café\nfailure\t— ✅ done')).toBe('Cafe failure ? ? done');
    expect(snsSubject('x'.repeat(300))).toHaveLength(99);
    expect(snsSubject('x'.repeat(300)).endsWith('...')).toBe(true);
    expect(snsSubject('  \n ')).toBe('Sluice notification');
  });

  it('cuts a message over SNS limit at a character boundary and says so', () => {
    const long = '€'.repeat(200_000); // 600,000 bytes
    const cut = snsMessage(long);
    expect(Buffer.byteLength(cut)).toBeLessThan(256 * 1024);
    expect(cut).toMatch(/truncated/);
    expect(cut).not.toContain('\uFFFD');
    expect(snsMessage('short')).toBe('short');
  });

  it('makes attribute names SNS accepts, drops empty values, and keeps at most 10', async () => {
    expect(snsAttributeName('sluice.rule')).toBe('sluice.rule');
    expect(snsAttributeName('has space/and:colon')).toBe('has_space_and_colon');
    expect(snsAttributeName('.a..b.')).toBe('a.b');
    expect(snsAttributeName('AWS.reserved')).toBe('x-AWS.reserved');
    const many = Object.fromEntries(Array.from({ length: 14 }, (_, i) => [`a${i}`, i === 0 ? '' : `v${i}`]));
    await notifier().notify({ subject: 's', text: 't', attributes: many });
    const attrs = published().MessageAttributes!;
    expect(Object.keys(attrs)).toHaveLength(10);
    expect(attrs['a0']).toBeUndefined();
  });

  it('translates errors: throttling is UnavailableError, a missing topic a SluiceError naming it', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException', $metadata: { httpStatusCode: 400 } }));
    await expect(notifier().notify({ subject: 's', text: 't' })).rejects.toBeInstanceOf(UnavailableError);

    sns.on(PublishCommand).rejects(new NotFoundException({ message: 'Topic does not exist', $metadata: { httpStatusCode: 404 } }));
    const err = await notifier()
      .notify({ subject: 's', text: 't' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect(err).not.toBeInstanceOf(UnavailableError);
    expect((err as Error).name).toBe('SluiceError');
    expect((err as Error).message).toContain(TOPIC);
  });

  it('refuses a topic that is not an ARN at construction', () => {
    expect(() => new SnsNotifier({ client: new SNSClient({}), topicArn: 'sluice-alerts' })).toThrow(/not an SNS topic ARN/);
  });
});
