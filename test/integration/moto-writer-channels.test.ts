/**
 * Issue 13, finding 6: a broken Slack secret must fail only Slack's notifications, never the batch
 * writer's cold start (which would stop ingestion). The writer's entry module is loaded as Lambda loads it,
 * with moto_server as S3, SNS, SQS and Secrets Manager; for each way the secret can be broken, the writer
 * starts, stores the batch as Parquet, still notifies the rule's SNS channel, and logs the Slack failure
 * as NOTIFICATION_FAILED (the line the stack's metric filter counts) without the secret's content.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AWS_ENV } from '../../shared/config/env.js';
import { NOTIFICATION_FAILED } from '../../shared/domain/alerts/notification.js';
import { packMessages } from '../../shared/domain/queue-message.js';
import { makeEvent } from '../helpers/events.js';
import { hasMoto, startMoto, type Moto } from '../helpers/moto.js';
import { tempDir } from '../helpers/tmp.js';
import { startWebhookServer } from '../helpers/webhook-server.js';

const BUCKET = 'sluice-moto-writer';
const SECRET_CONTENT_MARKER = 'do-not-log-this-secret-content';

let moto: Moto;
let dir: string;
let cleanup: () => Promise<void>;
let topicArn: string;
let queueUrl: string;
let denied: Server;
let deniedEndpoint: string;
let webhook: Awaited<ReturnType<typeof startWebhookServer>>;
const clients: { destroy(): void }[] = [];
const client = <T extends { destroy(): void }>(c: T): T => (clients.push(c), c);
let secrets: SecretsManagerClient;
let sqs: SQSClient;
let s3: S3Client;
let batch = 0;

/** A Secrets Manager that refuses every call, as IAM does without secretsmanager:GetSecretValue. */
function startDeniedSecretsManager(): Promise<void> {
  denied = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'User is not authorized to perform: secretsmanager:GetSecretValue' }));
    });
  });
  return new Promise((resolve) => denied.listen(0, '127.0.0.1', () => resolve()));
}

/** Sets the writer's environment as the stack does, with every AWS call going to moto. */
function setEnv(slackSecretArn: string, secretsEndpoint?: string) {
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('AWS_ENDPOINT_URL', moto.endpoint);
  if (secretsEndpoint) vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secretsEndpoint);
  vi.stubEnv(AWS_ENV.bucket, BUCKET);
  vi.stubEnv(AWS_ENV.alertsFile, join(dir, 'alerts.yaml'));
  vi.stubEnv(AWS_ENV.topicArn, topicArn);
  vi.stubEnv(AWS_ENV.slackSecretArn, slackSecretArn);
  vi.stubEnv(AWS_ENV.logLevel, 'info');
}

/** Loads the writer's entry afresh (its top level is the cold start) and sends it one batch; returns what it logged. */
async function coldStartAndWrite(): Promise<{ response: SQSBatchResponse; logs: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(...String(chunk).split('\n'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    vi.resetModules();
    const { handler } = (await import('../../lambdas/writer/batch-writer.handler.js')) as { handler: (e: SQSEvent) => Promise<SQSBatchResponse> };
    batch++;
    const events = [
      makeEvent({ level: 'error', service: 'payments', message: `card declined ${batch}`, event_id: `decline-${batch}` }),
      makeEvent({ level: 'info', service: 'api', message: `fine ${batch}`, event_id: `fine-${batch}` }),
    ];
    const [body] = packMessages(
      'acme',
      `01HZRECEIPT00000000000000${batch}`.slice(0, 26),
      events.map((e) => JSON.stringify(e)),
      256 * 1024,
    );
    const response = await handler({ Records: [{ messageId: `m-${batch}`, body, attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent);
    return { response, logs: lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function parquetFiles(): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'events/tenant=acme/' }));
  return (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.endsWith('.parquet'));
}

async function snsMessagesDelivered(): Promise<number> {
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(attrs.Attributes?.ApproximateNumberOfMessages ?? 0);
}

async function createSecret(name: string, value: string): Promise<string> {
  return (await secrets.send(new CreateSecretCommand({ Name: name, SecretString: value }))).ARN!;
}

describe.skipIf(!hasMoto())('batch writer with a broken Slack secret (moto_server)', () => {
  beforeAll(async () => {
    moto = await startMoto();
    ({ dir, cleanup } = await tempDir('sluice-moto-writer-'));
    await startDeniedSecretsManager();
    deniedEndpoint = `http://127.0.0.1:${(denied.address() as AddressInfo).port}`;
    webhook = await startWebhookServer();
    writeFileSync(
      join(dir, 'alerts.yaml'),
      [
        'rules:',
        '  - name: payment-declines',
        '    tenant: acme',
        '    realtime: true',
        '    match: { level: error, service: payments }',
        '    cooldown: 0s',
        '    channels: [sns, "slack:payments"]',
        '',
      ].join('\n'),
    );
    s3 = client(new S3Client(moto.clientConfig));
    secrets = client(new SecretsManagerClient(moto.clientConfig));
    sqs = client(new SQSClient(moto.clientConfig));
    const sns = client(new SNSClient(moto.clientConfig));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    topicArn = (await sns.send(new CreateTopicCommand({ Name: 'sluice-alerts' }))).TopicArn!;
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'alerts-inbox' }))).QueueUrl!;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
  }, 60_000);

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    denied?.close();
    await webhook?.close();
    await moto?.stop();
    await cleanup?.();
  });

  const cases: [string, () => Promise<{ arn: string; endpoint?: string }>, RegExp][] = [
    ['does not exist', async () => ({ arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:sluice-slack-missing-AbCdEf` }), /does not exist/],
    ['is denied', async () => ({ arn: await createSecret('sluice-slack-denied', '{}'), endpoint: deniedEndpoint }), /was denied/],
    ['is not JSON', async () => ({ arn: await createSecret('sluice-slack-not-json', `not json ${SECRET_CONTENT_MARKER}`) }), /must be JSON/],
    [
      'holds something that is not a webhook URL',
      async () => ({ arn: await createSecret('sluice-slack-bad-url', JSON.stringify({ payments: SECRET_CONTENT_MARKER })) }),
      /must be JSON/,
    ],
    [
      'has no webhook of that name',
      async () => ({ arn: await createSecret('sluice-slack-other-name', JSON.stringify({ other: `${webhook.url}?${SECRET_CONTENT_MARKER}` })) }),
      /has no webhook named payments/,
    ],
  ];

  for (const [what, make, reason] of cases) {
    it(`the secret ${what}: the writer starts, stores the batch and notifies SNS; Slack's failure is logged`, async () => {
      const { arn, endpoint } = await make();
      setEnv(arn, endpoint);
      const files = (await parquetFiles()).length;
      const delivered = await snsMessagesDelivered();

      const { response, logs } = await coldStartAndWrite();

      expect(response).toEqual({ batchItemFailures: [] });
      expect((await parquetFiles()).length).toBe(files + 1);
      expect(await snsMessagesDelivered()).toBe(delivered + 1);
      const failures = logs.filter((l) => l.message === NOTIFICATION_FAILED);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ level: 'ERROR', rule: 'payment-declines', channel: 'slack:payments' });
      expect(String(failures[0]!.error)).toMatch(reason);
      expect(JSON.stringify(logs)).not.toContain(SECRET_CONTENT_MARKER);
    });
  }

  it('a secret fixed after the cold start is used by the next notification (a failed read is not cached)', async () => {
    const arn = await createSecret('sluice-slack-fixed-later', 'not yet');
    setEnv(arn);
    vi.resetModules();
    const { handler } = (await import('../../lambdas/writer/batch-writer.handler.js')) as { handler: (e: SQSEvent) => Promise<SQSBatchResponse> };
    const send = async (n: number) => {
      const [body] = packMessages(
        'acme',
        `01HZFIXED0000000000000000${n}`.slice(0, 26),
        [JSON.stringify(makeEvent({ level: 'error', service: 'payments', event_id: `fixed-${n}` }))],
        256 * 1024,
      );
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        return await handler({ Records: [{ messageId: `f-${n}`, body, attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent);
      } finally {
        out.mockRestore();
        err.mockRestore();
      }
    };
    expect(await send(1)).toEqual({ batchItemFailures: [] });
    expect(webhook.received).toHaveLength(0);
    await secrets.send(new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify({ payments: webhook.url }) }));
    expect(await send(2)).toEqual({ batchItemFailures: [] });
    expect(webhook.received).toHaveLength(1);
    expect(JSON.stringify(webhook.received[0]!.body)).toContain('payment-declines');
    // Read once more to be sure the SNS inbox holds what the rule sent (two batches, two notifications).
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(got.Messages?.length ?? 0).toBeGreaterThan(0);
  });
});
