/**
 * The synthesized template, resource by resource, for every part of issue 5's "The stack". One synth (no
 * bundling: test/infra/bundles.test.ts bundles for real) with non-default settings given as the strings
 * `-c key=value` passes, so each setting is seen to reach its resource.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { LAMBDA_RUNTIME } from '../../infra/constructs/lambda-defaults.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { ATHENA_QUERY_ACTIONS, GLUE_READ_ACTIONS, PARQUET_INPUT_FORMAT, PARQUET_OUTPUT_FORMAT, PARQUET_SERDE } from '../../infra/constructs/catalog.js';
import { EMPTY_KEYS_SECRET } from '../../infra/constructs/api.js';
import { INTERFACE_ENDPOINTS } from '../../infra/constructs/network.js';
import { AWS_ENV } from '../../shared/config/env.js';
import { GLUE_TABLE_NAME, glueColumns, gluePartitionKeys, partitionProjectionParameters } from '../../shared/domain/glue-schema.js';
import { ROUTES } from '../../shared/domain/routes.js';
import { only, resourcesOf, sluiceFunctions, synthSluice } from '../helpers/infra.js';

const CONTEXT = {
  eventsTransitionDays: '45',
  eventsTransitionStorageClass: 'GLACIER_IR',
  eventsExpireDays: '400',
  receiptsExpireDays: '10',
  athenaResultsExpireDays: '3',
  athenaScanCutoffBytes: '50000000000',
  writerBatchSize: '500',
  writerBatchWindowSeconds: '20',
  writerTimeoutSeconds: '100',
  dlqMaxReceiveCount: '7',
  writerMaxConcurrency: '4',
  tenantRateLimits: '{"default":{"rate":20,"burst":40},"tenants":{"acme":{"rate":45,"burst":60}}}',
  alertEmails: 'oncall@example.com,sre@example.com',
  apiThrottleRate: '50',
  apiThrottleBurst: '75',
  authorizerCacheSeconds: '15',
  logRetentionDays: '90',
  alarmQueueAgeSeconds: '600',
  alarmAthenaFailures: '3',
  alarmApi4xxPercent: '40',
  alarmApiLatencyMs: '8000',
};

type Synth = ReturnType<typeof synthSluice>;
let s: Synth;
let ids: { key: string; bucket: string; logsBucket: string; queue: string; dlq: string; topic: string; workgroup: string };

/** The logical id of a function by the start of its construct path's id (IngestIngestFunction…). */
const fnId = (prefix: string) => only(s.template, 'AWS::Lambda::Function', prefix).id;
const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Fn::Join with Refs written out as a string, Refs as <LogicalId> (for comparing templates with strings). */
function flat(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return `<${String(v.Ref)}>`;
    if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flat).join(sep);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flat(x)]));
  }
  if (Array.isArray(value)) return value.map(flat);
  return value;
}

/** Every statement of the inline policies attached to the role of a function. */
function statementsOf(fnLogicalId: string): { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown }[] {
  const fn = sluiceFunctions(s.template)[fnLogicalId]!;
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  return Object.values(resourcesOf(s.template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (st: { Action: string | string[] }) => (Array.isArray(st.Action) ? st.Action : [st.Action]);

beforeAll(() => {
  s = synthSluice({ context: CONTEXT });
  ids = {
    key: only(s.template, 'AWS::KMS::Key').id,
    bucket: only(s.template, 'AWS::S3::Bucket', 'StorageEvents').id,
    logsBucket: only(s.template, 'AWS::S3::Bucket', 'StorageAccessLogs').id,
    queue: only(s.template, 'AWS::SQS::Queue', 'IngestQueue').id,
    dlq: only(s.template, 'AWS::SQS::Queue', 'IngestDeadLetterQueue').id,
    topic: only(s.template, 'AWS::SNS::Topic').id,
    workgroup: only(s.template, 'AWS::Athena::WorkGroup').id,
  };
});

describe('storage', () => {
  it('encrypts the events bucket with the customer-managed key, which rotates', () => {
    s.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arnOf(ids.key) } },
        ],
      },
    });
    expect(
      only(s.template, 'AWS::S3::Bucket', 'StorageEvents').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .KMSMasterKeyID,
    ).toEqual(arnOf(ids.key));
  });

  it('blocks all public access and allows only TLS on both buckets; versioning is off', () => {
    for (const id of [ids.bucket, ids.logsBucket]) {
      const b = resourcesOf(s.template, 'AWS::S3::Bucket')[id]!;
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(b.Properties.VersioningConfiguration).toBeUndefined();
      s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: ref(id),
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('tiers and expires events/, expires receipts/ and athena-results/, and aborts stale multipart uploads (from config)', () => {
    const rules = only(s.template, 'AWS::S3::Bucket', 'StorageEvents').Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual([
      { Id: 'events-tiers', Prefix: 'events/', Status: 'Enabled', Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 45 }], ExpirationInDays: 400 },
      { Id: 'receipts-expiry', Prefix: 'receipts/', Status: 'Enabled', ExpirationInDays: 10 },
      { Id: 'athena-results-expiry', Prefix: 'athena-results/', Status: 'Enabled', ExpirationInDays: 3 },
      { Id: 'abort-incomplete-multipart-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ]);
  });

  it('logs server access to a separate SSE-S3 bucket (log delivery cannot write SSE-KMS) through its bucket policy', () => {
    expect(only(s.template, 'AWS::S3::Bucket', 'StorageEvents').Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: ref(ids.logsBucket),
      LogFilePrefix: 'events-bucket/',
    });
    expect(only(s.template, 'AWS::S3::Bucket', 'StorageAccessLogs').Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(ids.logsBucket),
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' })]),
      },
    });
  });

  it('keeps the bucket, its access logs and the key on stack deletion by default', () => {
    for (const id of [ids.bucket, ids.logsBucket, ids.key]) {
      expect(resourcesOf(s.template, id === ids.key ? 'AWS::KMS::Key' : 'AWS::S3::Bucket')[id]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });
});

describe('catalog', () => {
  it('has a Glue database and an events table whose columns are the schema-derived list', () => {
    s.template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'sluice' } });
    const table = only(s.template, 'AWS::Glue::Table').Properties;
    expect(table.DatabaseName).toBe('sluice');
    expect(table.TableInput.Name).toBe(GLUE_TABLE_NAME);
    expect(table.TableInput.TableType).toBe('EXTERNAL_TABLE');
    const toCfn = (c: { name: string; type: string; comment: string }) => ({ Name: c.name, Type: c.type, Comment: c.comment });
    expect(table.TableInput.StorageDescriptor.Columns).toEqual(glueColumns().map(toCfn));
    expect(table.TableInput.PartitionKeys).toEqual(gluePartitionKeys().map(toCfn));
    expect(table.TableInput.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['tenant', 'dt', 'hour']);
  });

  it('reads Parquet through the Parquet SerDe at events/ of the bucket', () => {
    const sd = only(s.template, 'AWS::Glue::Table').Properties.TableInput.StorageDescriptor;
    expect(sd.SerdeInfo.SerializationLibrary).toBe(PARQUET_SERDE);
    expect(sd.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    expect(sd.InputFormat).toBe(PARQUET_INPUT_FORMAT);
    expect(sd.OutputFormat).toBe(PARQUET_OUTPUT_FORMAT);
    expect(flat(sd.Location)).toBe(`s3://<${ids.bucket}>/events/`);
  });

  it('projects partitions: tenant injected, dt a date range, hour 00-23, over the storage layout', () => {
    const params = flat(only(s.template, 'AWS::Glue::Table').Properties.TableInput.Parameters) as Record<string, string>;
    expect(params).toEqual({
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'parquet.compression': 'ZSTD',
      ...partitionProjectionParameters(`s3://<${ids.bucket}>/`),
    });
    expect(params).toMatchObject({
      'projection.enabled': 'true',
      'projection.tenant.type': 'injected',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': `s3://<${ids.bucket}>/events/tenant=\${tenant}/dt=\${dt}/hour=\${hour}/`,
    });
  });
});

describe('athena', () => {
  it('enforces the workgroup configuration: results encrypted with the key under athena-results/, scan cutoff from config', () => {
    const wg = only(s.template, 'AWS::Athena::WorkGroup').Properties;
    expect(wg.Name).toBe('Sluice');
    expect(wg.WorkGroupConfiguration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      BytesScannedCutoffPerQuery: 50_000_000_000,
      ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: arnOf(ids.key) } },
    });
    expect(flat(wg.WorkGroupConfiguration.ResultConfiguration.OutputLocation)).toBe(`s3://<${ids.bucket}>/athena-results/`);
  });
});

describe('ingest', () => {
  it('has an encrypted, TLS-only queue whose dead-letter queue takes a message after maxReceiveCount', () => {
    for (const id of [ids.queue, ids.dlq]) {
      const q = resourcesOf(s.template, 'AWS::SQS::Queue')[id]!.Properties;
      expect(q.KmsMasterKeyId).toEqual(arnOf(ids.key));
      expect(q.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(id)],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    }
    const queue = resourcesOf(s.template, 'AWS::SQS::Queue')[ids.queue]!.Properties;
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: arnOf(ids.dlq), maxReceiveCount: 7 });
  });

  it('gives the queue a visibility timeout of at least six times the writer timeout', () => {
    const writer = sluiceFunctions(s.template)[fnId('IngestWriterFunction')]!.Properties;
    expect(writer.Timeout).toBe(100);
    expect(resourcesOf(s.template, 'AWS::SQS::Queue')[ids.queue]!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * writer.Timeout);
  });

  it('feeds the writer from the queue with batch size and window from config, reporting partial batch failures', () => {
    const esm = only(s.template, 'AWS::Lambda::EventSourceMapping').Properties;
    expect(esm).toMatchObject({
      EventSourceArn: arnOf(ids.queue),
      FunctionName: ref(fnId('IngestWriterFunction')),
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 20,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      // issue 13: a backlog cannot take the account's whole Lambda concurrency.
      ScalingConfig: { MaximumConcurrency: 4 },
    });
  });

  it('gives the ingest and query Lambdas (only) the per-tenant rate limits: the DynamoDB table, UpdateItem on it, the limits from config', () => {
    const table = only(s.template, 'AWS::DynamoDB::GlobalTable');
    expect(table.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'tenant', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expires', Enabled: true },
    });
    expect(table.DeletionPolicy).toBe('Delete');
    const fns = sluiceFunctions(s.template);
    const withTable = Object.entries(fns)
      .filter(([, f]) => f.Properties.Environment.Variables[AWS_ENV.rateLimitTableArn])
      .map(([id]) => id)
      .sort();
    expect(withTable).toEqual([fnId('IngestIngestFunction'), fnId('QueryQueryFunction')].sort());
    for (const id of withTable) {
      const env = fns[id]!.Properties.Environment.Variables;
      expect(env[AWS_ENV.rateLimitTableArn]).toEqual(arnOf(table.id));
      expect(JSON.parse(env[AWS_ENV.rateLimits])).toEqual({ default: { rate: 20, burst: 40 }, tenants: { acme: { rate: 45, burst: 60 } } });
      expect(statementsOf(id)).toContainEqual(expect.objectContaining({ Action: 'dynamodb:UpdateItem', Resource: arnOf(table.id) }));
    }
  });

  it('makes no rate-limit table when the limits are off ({})', () => {
    const off = synthSluice({ context: { tenantRateLimits: '{}' } });
    off.template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    for (const f of Object.values(sluiceFunctions(off.template))) expect(f.Properties.Environment.Variables).not.toHaveProperty(AWS_ENV.rateLimits);
  });

  it('lets the ingest Lambda send to the queue (named through AWS_ENV) and nothing of S3', () => {
    const id = fnId('IngestIngestFunction');
    const fn = sluiceFunctions(s.template)[id]!.Properties;
    expect(fn.Environment.Variables[AWS_ENV.queueUrl]).toEqual(ref(ids.queue));
    const statements = statementsOf(id);
    expect(statements).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:SendMessage']), Resource: arnOf(ids.queue) }));
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:') || a.startsWith('sqs:Receive'))).toEqual([]);
  });

  it('lets the writer consume the queue and write only events/ and receipts/ of the bucket', () => {
    const id = fnId('IngestWriterFunction');
    const fn = sluiceFunctions(s.template)[id]!.Properties;
    expect(fn.Environment.Variables[AWS_ENV.bucket]).toEqual(ref(ids.bucket));
    const statements = statementsOf(id);
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']), Resource: arnOf(ids.queue) }),
    );
    const s3 = statements.find((st) => actionsOf(st).includes('s3:PutObject'))!;
    expect(flat(s3.Resource)).toEqual([`<${ids.bucket}.Arn>`, `<${ids.bucket}.Arn>/events/*`, `<${ids.bucket}.Arn>/receipts/*`]);
  });
});

describe('query', () => {
  it('runs queries in its workgroup over the events table only (named through AWS_ENV)', () => {
    const id = fnId('QueryQueryFunction');
    const env = sluiceFunctions(s.template)[id]!.Properties.Environment.Variables;
    expect(env).toMatchObject({
      [AWS_ENV.workgroup]: 'Sluice',
      [AWS_ENV.database]: 'sluice',
      [AWS_ENV.table]: GLUE_TABLE_NAME,
      [AWS_ENV.bucket]: ref(ids.bucket),
    });
    expect(env[AWS_ENV.tokenSecretArn]).toEqual(ref(only(s.template, 'AWS::SecretsManager::Secret', 'QueryTokenSecret').id));
    const statements = statementsOf(id);
    const athena = statements.find((st) => actionsOf(st).some((a) => a.startsWith('athena:')))!;
    expect([...actionsOf(athena)].sort()).toEqual([...ATHENA_QUERY_ACTIONS].sort());
    expect(flat(athena.Resource)).toBe('arn:<AWS::Partition>:athena:<AWS::Region>:<AWS::AccountId>:workgroup/Sluice');
    const glue = statements.find((st) => actionsOf(st).some((a) => a.startsWith('glue:')))!;
    expect([...actionsOf(glue)].sort()).toEqual([...GLUE_READ_ACTIONS].sort());
    expect(flat(glue.Resource)).toEqual([
      'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:catalog',
      'arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:database/sluice',
      `arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>:table/sluice/${GLUE_TABLE_NAME}`,
    ]);
  });

  it('reads events/ and receipts/, writes only athena-results/, never deletes, and nothing is granted on "*" but the VPC ENI actions', () => {
    const statements = statementsOf(fnId('QueryQueryFunction'));
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((a) => /^s3:Delete|^\w+:\*$/.test(a))).toEqual([]);
    const put = statements.find((st) => actionsOf(st).includes('s3:PutObject'))!;
    expect(flat(put.Resource)).toEqual(`<${ids.bucket}.Arn>/athena-results/*`);
    const read = statements.find((st) => actionsOf(st).includes('s3:GetObject*'))!;
    expect(flat(read.Resource)).toEqual([
      `<${ids.bucket}.Arn>`,
      `<${ids.bucket}.Arn>/athena-results/*`,
      `<${ids.bucket}.Arn>/events/*`,
      `<${ids.bucket}.Arn>/receipts/*`,
    ]);
    const kms = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
    expect(kms.map((st) => st.Resource)).toEqual(kms.map(() => arnOf(ids.key)));
    const onStar = statements.filter((st) => st.Resource === '*');
    expect(onStar.flatMap(actionsOf).every((a) => a.startsWith('ec2:'))).toBe(true);
    expect(statements).toContainEqual(expect.objectContaining({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] }));
  });
});

describe('alerts', () => {
  it('has a KMS-encrypted, TLS-only topic with an email subscription per configured address', () => {
    expect(only(s.template, 'AWS::SNS::Topic').Properties.KmsMasterKeyId).toEqual(arnOf(ids.key));
    const subs = Object.values(resourcesOf(s.template, 'AWS::SNS::Subscription')).map((r) => r.Properties);
    expect(subs.map((p) => [p.Protocol, p.Endpoint, p.TopicArn])).toEqual([
      ['email', 'oncall@example.com', ref(ids.topic)],
      ['email', 'sre@example.com', ref(ids.topic)],
    ]);
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
    // Alarms publish to the encrypted topic, so CloudWatch may use the key.
    s.template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]),
      },
    });
  });

  it('never carries a Slack webhook URL (without slackWebhookSecretName: no reference at all)', () => {
    expect(JSON.stringify(s.template.toJSON())).not.toMatch(/hooks\.slack\.com/);
    expect(s.template.toJSON().Outputs.SlackWebhookSecretName).toBeUndefined();
  });
});

describe('api', () => {
  it('routes every entry of ROUTES to its Lambda, each through the authorizer', () => {
    const routes = Object.values(resourcesOf(s.template, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const authorizerId = only(s.template, 'AWS::ApiGatewayV2::Authorizer').id;
    const integrations = resourcesOf(s.template, 'AWS::ApiGatewayV2::Integration');
    const lambdaOf = { ingest: fnId('IngestIngestFunction'), query: fnId('QueryQueryFunction') };
    for (const route of ROUTES) {
      const r = routes.find((x) => x.RouteKey === `${route.method} ${route.path}`)!;
      expect(r.AuthorizationType, r.RouteKey).toBe('CUSTOM');
      expect(r.AuthorizerId, r.RouteKey).toEqual(ref(authorizerId));
      const integrationId = String(flat(r.Target)).replace(/^integrations\/<(.+)>$/, '$1');
      expect(integrations[integrationId]!.Properties, r.RouteKey).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: arnOf(lambdaOf[route.target]),
      });
    }
    // The shipper routes are there too (Elasticsearch, Splunk HEC, Loki, GELF, OTLP, Proton).
    expect(routes.map((r) => r.RouteKey)).toEqual(
      expect.arrayContaining(['POST /_bulk', 'POST /services/collector/event', 'POST /loki/api/v1/push', 'POST /gelf', 'POST /otlp/v1/logs', 'HEAD /']),
    );
  });

  it('authorizes with the authorizer Lambda: simple responses, the Authorization header, a short cache', () => {
    expect(only(s.template, 'AWS::ApiGatewayV2::Authorizer').Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 15,
    });
    const uri = flat(only(s.template, 'AWS::ApiGatewayV2::Authorizer').Properties.AuthorizerUri) as string;
    expect(uri).toContain(`<${fnId('ApiAuthorizerFunction')}.Arn>`);
  });

  it('creates the keys secret (KMS, no keys yet) and lets only the authorizer read it', () => {
    const secret = only(s.template, 'AWS::SecretsManager::Secret', 'ApiApiKeys');
    expect(secret.Properties).toMatchObject({ SecretString: EMPTY_KEYS_SECRET, KmsKeyId: arnOf(ids.key) });
    expect(JSON.parse(EMPTY_KEYS_SECRET)).toEqual({ keys: [] });
    const authorizer = fnId('ApiAuthorizerFunction');
    expect(sluiceFunctions(s.template)[authorizer]!.Properties.Environment.Variables[AWS_ENV.keysSecretArn]).toEqual(ref(secret.id));
    const readers = Object.values(resourcesOf(s.template, 'AWS::IAM::Policy')).filter((p) =>
      p.Properties.PolicyDocument.Statement.some((st: { Resource: unknown }) => JSON.stringify(st.Resource) === JSON.stringify(ref(secret.id))),
    );
    expect(readers.map((p) => p.Properties.Roles)).toEqual([[ref(only(s.template, 'AWS::IAM::Role', 'ApiAuthorizerFunctionRole').id)]]);
  });

  it('throttles the default stage from config and writes JSON access logs with the tenant', () => {
    const stage = only(s.template, 'AWS::ApiGatewayV2::Stage').Properties;
    expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 75 } });
    expect(stage.AccessLogSettings.DestinationArn).toEqual(arnOf(only(s.template, 'AWS::Logs::LogGroup', 'ApiAccessLogs').id));
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      tenant: '$context.authorizer.tenant',
    });
  });
});

describe('network', () => {
  it('creates a small VPC: two AZs of isolated private subnets, no NAT or internet gateway, flow logs of ALL traffic', () => {
    s.template.resourceCountIs('AWS::EC2::VPC', 1);
    s.template.resourceCountIs('AWS::EC2::Subnet', 2);
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    s.template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
  });

  it('puts every Lambda in the private subnets with the Lambda security group', () => {
    const subnets = Object.keys(resourcesOf(s.template, 'AWS::EC2::Subnet')).sort();
    const sg = only(s.template, 'AWS::EC2::SecurityGroup', 'NetworkLambdaSecurityGroup').id;
    for (const fn of Object.values(sluiceFunctions(s.template))) {
      expect(fn.Properties.VpcConfig.SubnetIds.map((r: { Ref: string }) => r.Ref).sort()).toEqual(subnets);
      expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sg, 'GroupId'] }]);
    }
  });

  it('has gateway endpoints for S3 and DynamoDB and interface endpoints for SQS, SNS, Athena, Glue, Secrets Manager, KMS, STS and CloudWatch Logs', () => {
    const endpoints = Object.values(resourcesOf(s.template, 'AWS::EC2::VPCEndpoint')).map((r) => r.Properties);
    const service = (e: Record<string, any>) => String(flat(e.ServiceName)).replace('com.amazonaws.<AWS::Region>.', '');
    expect(
      endpoints
        .filter((e) => e.VpcEndpointType === 'Gateway')
        .map(service)
        .sort(),
    ).toEqual(['dynamodb', 's3']);
    const interfaces = endpoints.filter((e) => e.VpcEndpointType === 'Interface');
    expect(interfaces.map(service).sort()).toEqual(['athena', 'glue', 'kms', 'logs', 'secretsmanager', 'sns', 'sqs', 'sts']);
    expect(interfaces).toHaveLength(Object.keys(INTERFACE_ENDPOINTS).length);
    for (const e of interfaces) expect(e.PrivateDnsEnabled).toBe(true);
  });

  it('lets only the Lambdas reach the interface endpoints, on 443', () => {
    const lambdaSg = only(s.template, 'AWS::EC2::SecurityGroup', 'NetworkLambdaSecurityGroup').id;
    const endpointSg = only(s.template, 'AWS::EC2::SecurityGroup', 'NetworkEndpointSecurityGroup').id;
    expect(only(s.template, 'AWS::EC2::SecurityGroupIngress').Properties).toMatchObject({
      GroupId: { 'Fn::GetAtt': [endpointSg, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [lambdaSg, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
    });
    expect(resourcesOf(s.template, 'AWS::EC2::SecurityGroup')[endpointSg]!.Properties.SecurityGroupIngress).toBeUndefined();
  });

  it('lets the Lambdas send only HTTPS, and only to the interface endpoints and the S3 and DynamoDB prefix lists (issue 13)', () => {
    const lambdaSg = only(s.template, 'AWS::EC2::SecurityGroup', 'NetworkLambdaSecurityGroup');
    const endpointSg = only(s.template, 'AWS::EC2::SecurityGroup', 'NetworkEndpointSecurityGroup').id;
    const inline = lambdaSg.Properties.SecurityGroupEgress as Record<string, any>[];
    const lookups = ['NetworkS3PrefixList', 'NetworkDynamoDbPrefixList'].map((p) => only(s.template, 'Custom::AWS', p));
    // Inline (so EC2's default allow-all egress is replaced), exactly the two prefix lists.
    expect(inline.map((r) => ({ ...r, Description: undefined }))).toEqual(
      lookups.map((l) => ({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        DestinationPrefixListId: { 'Fn::GetAtt': [l.id, 'PrefixLists.0.PrefixListId'] },
        Description: undefined,
      })),
    );
    // and the interface endpoints' security group, as its own rule (the only other egress rule of the stack).
    expect(only(s.template, 'AWS::EC2::SecurityGroupEgress').Properties).toMatchObject({
      GroupId: { 'Fn::GetAtt': [lambdaSg.id, 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [endpointSg, 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
    });
    // Each lookup asks EC2 for the AWS-managed list of its service in the stack's region.
    const creates = lookups.map((l) => String(flat(l.Properties.Create)));
    expect(creates[0]).toContain('com.amazonaws.<AWS::Region>.s3');
    expect(creates[1]).toContain('com.amazonaws.<AWS::Region>.dynamodb');
    for (const c of creates) expect(c).toContain('describeManagedPrefixLists');
  });
});

describe('operations', () => {
  const alarm = (prefix: string) => only(s.template, 'AWS::CloudWatch::Alarm', `Monitoring${prefix}`).Properties;

  it('alarms on dead-letter queue depth and on the age of the oldest queued message', () => {
    expect(alarm('DeadLetterQueueDepth')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.dlq, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
    expect(alarm('QueueAge')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
      Threshold: 600,
    });
  });

  it('alarms on errors and throttles of every Lambda', () => {
    for (const [name, prefix] of [
      ['Ingest', 'IngestIngestFunction'],
      ['Writer', 'IngestWriterFunction'],
      ['Query', 'QueryQueryFunction'],
      ['Authorizer', 'ApiAuthorizerFunction'],
    ] as const) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarm(`${name}${metric}`)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: ref(fnId(prefix)) }],
          Threshold: 0,
        });
      }
    }
  });

  it("alarms on failed Athena queries from the workgroup's published metrics", () => {
    expect(alarm('AthenaFailedQueries')).toMatchObject({
      Namespace: 'AWS/Athena',
      MetricName: 'TotalExecutionTime',
      Statistic: 'SampleCount',
      Dimensions: expect.arrayContaining([
        { Name: 'WorkGroup', Value: 'Sluice' },
        { Name: 'QueryState', Value: 'FAILED' },
      ]),
      Threshold: 3,
    });
  });

  it('alarms on the API: any 5xx, the 4xx share, p99 latency (from config), and authorizer failures counted from the access logs', () => {
    const alarms = Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const apiId = only(s.template, 'AWS::ApiGatewayV2::Api').id;
    const onStage = (name: string) =>
      alarms.find((a) => a.MetricName === name && JSON.stringify(a.Dimensions).includes(apiId) && JSON.stringify(a.Dimensions).includes('$default'));
    expect(onStage('5xx')).toMatchObject({ Statistic: 'Sum', Threshold: 0, Period: 300 });
    expect(onStage('Latency')).toMatchObject({ ExtendedStatistic: 'p99', Threshold: 8000, EvaluationPeriods: 3 });
    const rate = alarms.find((a) => a.Metrics?.some((m: any) => String(m.Expression ?? '').includes('100 * errors / requests')))!;
    expect(rate.Threshold).toBe(40);
    expect(rate.Metrics.find((m: any) => m.Expression).Expression).toBe('IF(requests >= 20, 100 * errors / requests, 0)');
    expect(
      rate.Metrics.map((m: any) => m.MetricStat?.Metric.MetricName)
        .filter(Boolean)
        .sort(),
    ).toEqual(['4xx', 'Count']);
    const filter = only(s.template, 'AWS::Logs::MetricFilter', 'MonitoringAuthorizerErrors').Properties;
    expect(filter.LogGroupName).toEqual(ref(only(s.template, 'AWS::Logs::LogGroup', 'ApiAccessLogs').id));
    expect(filter.FilterPattern).toBe('{ ($.authorizerError = "*") && ($.authorizerError != "-") && ($.authorizerError != "") }');
    expect(alarms.find((a) => a.MetricName === 'ApiAuthorizerErrors')).toMatchObject({ Namespace: 'Sluice', Threshold: 0 });
  });

  it('sends every alarm, and its recovery, to the alert topic', () => {
    const alarms = Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms).toHaveLength(3 + 5 * 2 + 1 + 4); // queue age, DLQ and schedules DLQ, errors and throttles of 5 Lambdas, Athena, API (4)
    for (const a of alarms) {
      expect(a.AlarmActions).toEqual([ref(ids.topic)]);
      expect(a.OKActions).toEqual([ref(ids.topic)]);
      expect(a.TreatMissingData).toBe('notBreaching');
    }
  });

  it('gives every log group the configured retention', () => {
    const groups = Object.values(resourcesOf(s.template, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(5 + 1 + 1); // five Lambdas (with the compactor), API access logs, VPC flow logs
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(90);
  });

  it('encrypts every log group with the stack key, whose policy lets CloudWatch Logs use it for this account and region only', () => {
    const groups = Object.values(resourcesOf(s.template, 'AWS::Logs::LogGroup'));
    for (const g of groups) expect(g.Properties.KmsKeyId).toEqual(arnOf(ids.key));
    const policy = resourcesOf(s.template, 'AWS::KMS::Key')[ids.key]!.Properties.KeyPolicy.Statement as Record<string, any>[];
    const logs = policy.filter((st) => JSON.stringify(st.Principal).includes('logs.'));
    expect(logs).toHaveLength(1);
    expect(flat(logs[0]!.Principal)).toEqual({ Service: 'logs.<AWS::Region>.amazonaws.com' });
    expect(logs[0]!.Action).toEqual(expect.arrayContaining(['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*']));
    expect(flat(logs[0]!.Condition)).toEqual({
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*' },
    });
  });

  it('outputs the API URL, bucket, workgroup, topic and keys secret name', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(flat(outputs.ApiUrl!.Value)).toBe(`https://<${only(s.template, 'AWS::ApiGatewayV2::Api').id}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/`);
    expect(outputs.EventsBucketName!.Value).toEqual(ref(ids.bucket));
    expect(outputs.AthenaWorkGroupName!.Value).toBe('Sluice');
    expect(outputs.AlertTopicArn!.Value).toEqual(ref(ids.topic));
    expect(JSON.stringify(outputs.ApiKeysSecretName!.Value)).toContain(only(s.template, 'AWS::SecretsManager::Secret', 'ApiApiKeys').id);
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['GlueDatabaseName', 'DeadLetterQueueUrl', 'KmsKeyArn']));
  });
});

describe('lambdas', () => {
  it('are on the newest Node.js runtime aws-cdk-lib offers, arm64, ESM (index.mjs → handler), JSON logs to their own log group', () => {
    // The newest NODEJS_<n>_X of the installed aws-cdk-lib (NODEJS_LATEST is only what every region has).
    const newest = Object.keys(Runtime)
      .map((k) => /^NODEJS_(\d+)_X$/.exec(k)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => b - a)[0];
    expect(LAMBDA_RUNTIME.name).toBe(`nodejs${newest}.x`);
    const fns = Object.values(sluiceFunctions(s.template)).map((f) => f.Properties);
    expect(fns).toHaveLength(5);
    for (const f of fns) {
      expect(f).toMatchObject({ Runtime: LAMBDA_RUNTIME.name, Architectures: ['arm64'], Handler: 'index.handler', LoggingConfig: { LogFormat: 'JSON' } });
      expect(f.Environment.Variables[AWS_ENV.logLevel]).toBe('info');
    }
  });

  it('each have a role of their own that writes only to their log group (no AWS managed policies)', () => {
    const roles = resourcesOf(s.template, 'AWS::IAM::Role');
    for (const fn of Object.values(sluiceFunctions(s.template)))
      expect(roles[fn.Properties.Role['Fn::GetAtt'][0]]!.Properties.ManagedPolicyArns).toBeUndefined();
    for (const [id, fn] of Object.entries(sluiceFunctions(s.template))) {
      const logs = statementsOf(id).filter((st) => actionsOf(st).some((a) => a.startsWith('logs:')));
      expect(logs.map((st) => st.Resource)).toEqual([arnOf((fn.Properties.LoggingConfig.LogGroup as { Ref: string }).Ref)]);
    }
  });

  it('read only variables named in AWS_ENV', () => {
    const names = new Set<string>(Object.values(AWS_ENV));
    for (const fn of Object.values(sluiceFunctions(s.template))) {
      for (const name of Object.keys(fn.Properties.Environment.Variables)) expect(names).toContain(name);
    }
  });
});
