/**
 * The Lambda entry files as Lambda loads them: each *.handler.ts module is imported with its environment
 * set and the AWS clients mocked, so its cold start (lambdas/runtime/aws-deps/) runs for real; a missing variable fails
 * the import with the variable's name. Then one request through each, chained like the deployed stack:
 * ingest → (the SQS bodies it sent) → writer → (the receipt it put on S3) → query's receipt route.
 */
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient, SendMessageBatchCommand, type SendMessageBatchCommandInput } from '@aws-sdk/client-sqs';
import type { APIGatewayRequestAuthorizerEventV2, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiEvent } from '../../lambdas/runtime/api-gateway.js';
import { AWS_ENV, type AwsSetting } from '../../shared/config/env.js';
import { hashKey } from '../../shared/domain/api-keys.js';

const ENTRIES = {
  ingest: { module: '../../lambdas/api/ingest.handler.js', needs: ['queueUrl'] },
  writer: { module: '../../lambdas/writer/batch-writer.handler.js', needs: ['bucket'] },
  query: { module: '../../lambdas/api/query.handler.js', needs: ['workgroup', 'database', 'table', 'bucket', 'tokenSecretArn'] },
  authorizer: { module: '../../lambdas/api/authorizer.handler.js', needs: ['keysSecretArn'] },
  alerts: { module: '../../lambdas/alerts/evaluate.handler.js', needs: ['workgroup', 'database', 'table', 'bucket', 'tokenSecretArn', 'topicArn'] },
} as const satisfies Record<string, { module: string; needs: readonly AwsSetting[] }>;

const VALUES: Partial<Record<AwsSetting, string>> = {
  bucket: 'sluice-events-123456789012',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/sluice-ingest',
  workgroup: 'sluice',
  database: 'sluice',
  table: 'events',
  keysSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sluice-keys-AbCdEf',
  tokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sluice-token-AbCdEf',
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:sluice-alerts',
};
const KEY = 'sluice_key-of-acme-for-the-cold-start-test-000';
const TOKEN_SECRET = 'x'.repeat(64);

const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const athena = mockClient(AthenaClient);
const secrets = mockClient(SecretsManagerClient);

/** Sets the role's variables (and the region the SDK needs outside Lambda), minus any left out. */
function setEnv(role: keyof typeof ENTRIES, without?: AwsSetting) {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv(AWS_ENV.logLevel, 'error');
  for (const setting of ENTRIES[role].needs) {
    if (setting !== without) vi.stubEnv(AWS_ENV[setting], VALUES[setting]);
  }
}

/** Imports the entry module afresh: its top level (the cold start) runs again. */
async function coldStart<T = { handler: (event: unknown) => Promise<unknown> }>(role: keyof typeof ENTRIES): Promise<T> {
  vi.resetModules();
  return (await import(ENTRIES[role].module)) as T;
}

function apiEvent(routeKey: string, over: Partial<ApiEvent> = {}): ApiEvent {
  return {
    version: '2.0',
    routeKey,
    rawPath: routeKey.split(' ')[1]!,
    rawQueryString: '',
    headers: { 'content-type': 'application/x-ndjson' },
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'x',
      domainPrefix: 'x',
      http: { method: routeKey.split(' ')[0]!, path: routeKey.split(' ')[1]!, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'test' },
      requestId: 'req-1',
      routeKey,
      stage: '$default',
      time: '',
      timeEpoch: 0,
      authorizer: { lambda: { tenant: 'acme', scopes: 'ingest query admin', keyId: 'abcd1234' } },
    },
    ...over,
  };
}

beforeEach(() => {
  for (const m of [s3, sqs, athena, secrets]) m.reset();
  vi.unstubAllEnvs();
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('Lambda entries: cold start', () => {
  for (const role of Object.keys(ENTRIES) as (keyof typeof ENTRIES)[]) {
    it(`${role}: loads with its environment set`, async () => {
      setEnv(role);
      secrets.on(GetSecretValueCommand).resolves({ SecretString: TOKEN_SECRET });
      const mod = await coldStart(role);
      expect(typeof mod.handler).toBe('function');
    });

    for (const missing of ENTRIES[role].needs) {
      it(`${role}: fails at cold start naming ${AWS_ENV[missing]} when it is missing`, async () => {
        setEnv(role, missing);
        secrets.on(GetSecretValueCommand).resolves({ SecretString: TOKEN_SECRET });
        await expect(coldStart(role)).rejects.toThrow(new RegExp(`${AWS_ENV[missing]} is not set`));
      });
    }
  }

  it('query: fails at cold start when the token secret is too short to sign with', async () => {
    setEnv('query');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'short' });
    await expect(coldStart('query')).rejects.toThrow(new RegExp(`${AWS_ENV.tokenSecretArn} must hold at least 32`));
  });

  it('query: reads the token secret it was told to', async () => {
    setEnv('query');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: TOKEN_SECRET });
    await coldStart('query');
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([VALUES.tokenSecretArn]);
  });

  it('ingest: an invalid SLUICE_MAX_BODY_BYTES fails with its name', async () => {
    setEnv('ingest');
    vi.stubEnv(AWS_ENV.maxBodyBytes, 'lots');
    await expect(coldStart('ingest')).rejects.toThrow(/SLUICE_MAX_BODY_BYTES must be a whole number/);
  });
});

describe('Lambda entries: one request each, chained', () => {
  it('authorizer → ingest → writer → query', async () => {
    // The authorizer resolves the key from the hashed keys secret.
    setEnv('authorizer');
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ keys: [{ hash: hashKey(KEY), tenant: 'acme', scopes: ['ingest', 'query'] }] }) });
    const authorizer = (
      await coldStart<{ handler: (e: APIGatewayRequestAuthorizerEventV2) => Promise<{ isAuthorized: boolean; context: unknown }> }>('authorizer')
    ).handler;
    const authEvent = {
      headers: { authorization: `Bearer ${KEY}` },
      routeKey: 'POST /v1/logs',
      requestContext: { http: { sourceIp: '203.0.113.9' } },
    } as unknown as APIGatewayRequestAuthorizerEventV2;
    expect(await authorizer(authEvent)).toEqual({ isAuthorized: true, context: { tenant: 'acme', scopes: 'ingest query', keyId: hashKey(KEY).slice(0, 8) } });
    expect((await authorizer({ ...authEvent, headers: { authorization: 'Bearer sluice_wrong' } })).isAuthorized).toBe(false);

    // Ingest: 202 only after SQS took the messages.
    setEnv('ingest');
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: input.Entries!.map((e) => ({ Id: e.Id!, MessageId: `msg-${e.Id}`, MD5OfMessageBody: 'x' })),
      Failed: [],
    }));
    const ingest = (await coldStart<{ handler: (e: ApiEvent) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }> }>('ingest'))
      .handler;
    const reply = await ingest(
      apiEvent('POST /v1/logs', {
        body: '{"level":"error","service":"api","msg":"boom","ts":"2024-05-01T10:00:00Z"}\n{"msg":"ok","ts":"2024-05-01T10:00:01Z"}',
      }),
    );
    expect(reply.statusCode).toBe(202);
    const { receipt, accepted } = JSON.parse(reply.body) as { receipt: string; accepted: number };
    expect(accepted).toBe(2);
    const bodies = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => e.MessageBody!));
    expect(bodies).toHaveLength(1);

    // SQS unavailable → 503 with Retry-After.
    sqs.on(SendMessageBatchCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const busy = await ingest(apiEvent('POST /v1/logs', { body: '{"msg":"x"}' }));
    expect(busy.statusCode).toBe(503);
    expect(busy.headers?.['retry-after']).toMatch(/^[1-9]\d*$/);

    // The writer stores those bodies as Parquet plus a receipt, and reports a poisoned message as a batch item failure.
    setEnv('writer');
    s3.on(PutObjectCommand).resolves({});
    const writer = (await coldStart<{ handler: (e: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }> }>('writer')).handler;
    const sqsRecord = (id: string, body: string) => ({ messageId: id, body, attributes: { ApproximateReceiveCount: '1' } });
    const written = await writer({ Records: [sqsRecord('m-1', bodies[0]!), sqsRecord('m-2', 'not a message')] } as unknown as SQSEvent);
    expect(written).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-2' }] });
    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    const parquet = puts.find((p) => p.Key!.endsWith('.parquet'))!;
    expect(parquet.Bucket).toBe(VALUES.bucket);
    expect(parquet.Key).toMatch(/^events\/tenant=acme\/dt=2024-05-01\/hour=10\/.+\.parquet$/);
    expect(parquet.ContentType).toBe('application/vnd.apache.parquet');
    expect(
      Buffer.from(parquet.Body as Uint8Array)
        .subarray(0, 4)
        .toString(),
    ).toBe('PAR1');
    const receiptPut = puts.find((p) => p.Key!.startsWith(`receipts/tenant=acme/${receipt}/`))!;
    expect(receiptPut.ContentType).toBe('application/json');

    // The query Lambda answers the receipt from S3, and a pipeline query through Athena.
    setEnv('query');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: TOKEN_SECRET });
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: receiptPut.Key!, Size: 100 }], IsTruncated: false });
    s3.on(GetObjectCommand, { Key: receiptPut.Key! }).resolves({
      Body: { transformToByteArray: async () => Buffer.from(receiptPut.Body as Uint8Array) },
    } as never);
    const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/athena/${name}.json`, import.meta.url), 'utf8')) as never;
    athena.on(StartQueryExecutionCommand).resolves(fixture('start-query-execution'));
    athena.on(GetQueryExecutionCommand).resolves(fixture('get-query-execution-succeeded'));
    athena.on(GetQueryResultsCommand).resolves(fixture('get-query-results-page1'));
    const query = (await coldStart<{ handler: (e: ApiEvent) => Promise<{ statusCode: number; body: string }> }>('query')).handler;

    const status = await query(apiEvent('GET /v1/receipts/{id}', { pathParameters: { id: receipt } }));
    expect(status.statusCode).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ status: 'stored', events: 2 });

    const answer = await query(
      apiEvent('POST /v1/query', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'stats count(*) as n by service' }) }),
    );
    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 'complete',
      rows: [
        ['api', 120],
        ['web', 75],
      ],
    });
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toMatchObject({
      WorkGroup: 'sluice',
      QueryExecutionContext: { Database: 'sluice' },
    });
  });
});
