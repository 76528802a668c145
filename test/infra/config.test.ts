/** infra/config.ts: cdk.json context and `-c key=value` strings, validated with the bad key named. */
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, LOG_RETENTION_DAYS, readConfig, SluiceConfigError } from '../../infra/config.js';
import { textOf } from '../../shared/domain/text.js';

const read = (ctx: Record<string, unknown>) => readConfig((k) => ctx[k], Object.keys(ctx));
const errorOf = (ctx: Record<string, unknown>) => {
  try {
    read(ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(SluiceConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a SluiceConfigError');
};

const EXISTING_VPC = {
  vpcId: 'vpc-0123456789abcdef0',
  availabilityZones: 'eu-west-1a,eu-west-1b',
  privateSubnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2',
  privateSubnetRouteTableIds: 'rtb-0aaaaaaaaaaaaaaa1,rtb-0bbbbbbbbbbbbbbb2',
};

describe('stack configuration', () => {
  it('has defaults for every key, so an empty cdk.json context deploys', () => {
    expect(read({})).toEqual({
      stackName: 'Sluice',
      vpcId: undefined,
      availabilityZones: [],
      privateSubnetIds: [],
      privateSubnetRouteTableIds: [],
      createVpcEndpoints: true,
      eventsTransitionDays: 30,
      eventsTransitionStorageClass: 'STANDARD_IA',
      eventsExpireDays: 365,
      receiptsExpireDays: 14,
      athenaResultsExpireDays: 7,
      athenaScanCutoffBytes: 10_000_000_000,
      writerBatchSize: 100,
      writerBatchWindowSeconds: 5,
      writerTimeoutSeconds: 120,
      dlqMaxReceiveCount: 30,
      writerMaxConcurrency: 10,
      alertEmails: [],
      alertsFile: 'alerts.yaml',
      slackWebhookSecretName: undefined,
      alarmQueueAgeSeconds: 900,
      alarmAthenaFailures: 10,
      alarmApi4xxPercent: 25,
      alarmApiLatencyMs: 10000,
      apiThrottleRate: 100,
      apiThrottleBurst: 200,
      authorizerCacheSeconds: 30,
      tenantRateLimits: { default: { rate: 50, burst: 100 }, tenants: {} },
      logRetentionDays: 30,
      logLevel: 'info',
      removalPolicy: 'retain',
    });
  });

  it('coerces the strings `-c key=value` gives: numbers, booleans, comma-separated lists', () => {
    const c = read({
      writerBatchSize: '500',
      writerBatchWindowSeconds: '20',
      athenaScanCutoffBytes: '50000000000',
      createVpcEndpoints: 'false',
      alertEmails: 'oncall@example.com, sre@example.com',
      logRetentionDays: '90',
      removalPolicy: 'destroy',
      ...EXISTING_VPC,
    });
    expect(c).toMatchObject({
      writerBatchSize: 500,
      writerBatchWindowSeconds: 20,
      athenaScanCutoffBytes: 50_000_000_000,
      createVpcEndpoints: false,
      alertEmails: ['oncall@example.com', 'sre@example.com'],
      logRetentionDays: 90,
      removalPolicy: 'destroy',
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['eu-west-1a', 'eu-west-1b'],
      privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'],
    });
  });

  it('takes JSON values as cdk.json holds them, and JSON arrays on the command line', () => {
    expect(read({ writerBatchSize: 250, createVpcEndpoints: true, alertEmails: ['a@example.com'] })).toMatchObject({
      writerBatchSize: 250,
      alertEmails: ['a@example.com'],
    });
    expect(read({ alertEmails: '["a@example.com","b@example.com"]' }).alertEmails).toEqual(['a@example.com', 'b@example.com']);
  });

  it('takes per-tenant rate limits as JSON, on the command line or in cdk.json; {} turns them off', () => {
    const limits = { default: { rate: 20, burst: 40 }, tenants: { acme: { rate: 80, burst: 160 } } };
    expect(read({ tenantRateLimits: JSON.stringify(limits) }).tenantRateLimits).toEqual(limits);
    expect(read({ tenantRateLimits: limits }).tenantRateLimits).toEqual(limits);
    expect(read({ tenantRateLimits: '{}' }).tenantRateLimits).toEqual({ tenants: {} });
  });

  it('treats an empty value (-c key=) as unset', () => {
    expect(read({ vpcId: '', slackWebhookSecretName: ' ', writerBatchSize: '' })).toMatchObject({
      vpcId: undefined,
      slackWebhookSecretName: undefined,
      writerBatchSize: 100,
    });
  });

  it.each([
    [{ writerBatchSize: 'many' }, 'writerBatchSize: must be a number (got "many")'],
    [{ writerBatchSize: '2.5' }, 'writerBatchSize: must be a whole number'],
    [{ writerBatchSize: '0' }, 'writerBatchSize:'],
    [{ athenaScanCutoffBytes: '1000' }, 'athenaScanCutoffBytes:'],
    [{ logRetentionDays: '31' }, `logRetentionDays: must be one of ${LOG_RETENTION_DAYS.join(', ')} (got "31")`],
    [{ createVpcEndpoints: 'yes' }, 'createVpcEndpoints: must be true or false'],
    [{ alertEmails: 'oncall@example.com,not-an-address' }, 'alertEmails: each must be an email address'],
    [{ vpcId: 'my-vpc' }, 'vpcId: must look like vpc-0123456789abcdef0'],
    [{ removalPolicy: 'keep' }, 'removalPolicy:'],
    [{ eventsTransitionStorageClass: 'GLACIER' }, 'eventsTransitionStorageClass:'],
    [{ eventsTransitionDays: '400', eventsExpireDays: '365' }, 'eventsExpireDays: must be greater than eventsTransitionDays (400)'],
    [{ eventsTransitionDays: '7' }, 'eventsTransitionDays: must be at least 30 for STANDARD_IA'],
    [{ writerBatchSize: '100', writerBatchWindowSeconds: '0' }, 'writerBatchWindowSeconds: must be at least 1 when writerBatchSize is over 10'],
    [{ apiThrottleRate: '500', apiThrottleBurst: '100' }, 'apiThrottleBurst: must be at least apiThrottleRate (500)'],
    [{ stackName: '1sluice' }, 'stackName: must start with a letter'],
    [{ writerMaxConcurrency: '1' }, 'writerMaxConcurrency:'],
    [{ tenantRateLimits: 'lots' }, 'tenantRateLimits:'],
    [{ tenantRateLimits: '{"default":{"rate":0,"burst":1}}' }, 'tenantRateLimits: rate must be more than 0'],
    [{ tenantRateLimits: '{"tenants":{"ACME":{"rate":1,"burst":1}}}' }, 'tenantRateLimits: tenant ids are'],
    [{ tenantRateLimits: '{"default":{"rate":500,"burst":600}}' }, 'tenantRateLimits: default: rate 500 is above apiThrottleRate (100)'],
  ])('names the bad key: %j', (ctx, message) => {
    expect(errorOf(ctx)).toContain(message);
  });

  it('reports every problem at once', () => {
    const message = errorOf({ writerBatchSize: 'x', logRetentionDays: '2' });
    expect(message).toContain('writerBatchSize:');
    expect(message).toContain('logRetentionDays:');
  });

  it('catches a misspelt key instead of silently using the default', () => {
    expect(errorOf({ vpcid: 'vpc-0123456789abcdef0' })).toContain('vpcid: unknown key; did you mean vpcId?');
  });

  it('needs the subnets of an existing VPC in context (no lookup: synth stays offline)', () => {
    expect(errorOf({ vpcId: EXISTING_VPC.vpcId })).toContain('privateSubnetIds: must name at least two private subnets');
    expect(errorOf({ ...EXISTING_VPC, availabilityZones: 'eu-west-1a' })).toContain(
      'availabilityZones: must list one availability zone per entry of privateSubnetIds',
    );
    expect(errorOf({ ...EXISTING_VPC, privateSubnetRouteTableIds: '' })).toContain('privateSubnetRouteTableIds: must list one route table per entry');
    // Without endpoints, the route tables are not needed.
    expect(read({ ...EXISTING_VPC, privateSubnetRouteTableIds: '', createVpcEndpoints: 'false' }).privateSubnetRouteTableIds).toEqual([]);
    expect(errorOf({ privateSubnetIds: EXISTING_VPC.privateSubnetIds })).toContain('privateSubnetIds: is only used with vpcId');
  });

  it('lists its keys (the table in docs/deploy-aws.md documents each)', () => {
    expect(CONFIG_KEYS).toContain('vpcId');
    expect(CONFIG_KEYS.length).toBe(Object.keys(read({})).length);
  });
});

describe('the deployment guide (docs/deploy-aws.md)', () => {
  it('documents every key with its real default', async () => {
    const { readFileSync } = await import('node:fs');
    const section = readFileSync(new URL('../../docs/deploy-aws.md', import.meta.url), 'utf8');
    const rows = [...section.matchAll(/^\| `(\w+)` \| (.+?) \| .+ \|$/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
    const defaults = read({});
    const shown = (v: unknown) => (v === undefined ? '—' : typeof v === 'object' ? `\`${JSON.stringify(v)}\`` : `\`${textOf(v)}\``);
    expect(rows.map(([k]) => k)).toEqual(CONFIG_KEYS);
    for (const [key, text] of rows) expect(text, key).toBe(shown(defaults[key as keyof typeof defaults]));
  });
});
