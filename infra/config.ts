/**
 * The stack's configuration: cdk.json "context" with `-c key=value` overrides, typed and validated here at
 * synth time. Values from the command line arrive as strings, so numbers, booleans and lists are coerced;
 * a bad value fails with the key's name, what it must be, and what it got.
 */
import * as z from 'zod';
import { rateLimitsSchema } from '../shared/domain/rate-limits.js';

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const TRANSITION_STORAGE_CLASSES = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR'] as const;

const int = (min: number, max: number) => z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min).max(max);

const bool = z.preprocess(
  (v) => (typeof v === 'string' ? ({ true: true, false: false }[v.trim().toLowerCase()] ?? v) : v),
  z.boolean({ error: 'must be true or false' }),
);

/** A list: a JSON array in cdk.json, or comma-separated on the command line (`-c alertEmails=a@x.io,b@y.io`). */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) => {
      if (typeof v !== 'string') return v;
      const s = v.trim();
      if (s.startsWith('[')) {
        try {
          return JSON.parse(s) as unknown;
        } catch {
          return s;
        }
      }
      return s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    },
    z.array(item, { error: 'must be a list (a JSON array, or comma-separated on the command line)' }),
  );

const optionalString = (re: RegExp, what: string) => z.string().regex(re, what).optional();

const schema = z
  .object({
    /** CloudFormation stack name; also prefixes the names of the workgroup, database and alias. */
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'must start with a letter and hold only letters, digits and -')
      .default('Sluice'),

    // Network: without vpcId the stack creates a small VPC. With vpcId, the subnets are given here (no lookup:
    // synth stays offline and needs no credentials).
    vpcId: optionalString(/^vpc-[0-9a-f]{8,17}$/, 'must look like vpc-0123456789abcdef0'),
    availabilityZones: list(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'each must be an availability zone such as eu-west-1a')).default([]),
    privateSubnetIds: list(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'each must look like subnet-0123456789abcdef0')).default([]),
    privateSubnetRouteTableIds: list(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, 'each must look like rtb-0123456789abcdef0')).default([]),
    /** false when the existing VPC already has the endpoints (a second endpoint with private DNS would fail). */
    createVpcEndpoints: bool.default(true),

    // Storage lifecycle of events/ (Meniscus's short-term then long-term storage).
    eventsTransitionDays: int(0, 36500).default(30),
    eventsTransitionStorageClass: z.enum(TRANSITION_STORAGE_CLASSES).default('STANDARD_IA'),
    eventsExpireDays: int(1, 36500).default(365),
    receiptsExpireDays: int(1, 3650).default(14),
    athenaResultsExpireDays: int(1, 3650).default(7),
    /** Athena's per-query scan cutoff; Athena's own minimum is 10 MB. */
    athenaScanCutoffBytes: int(10_000_000, Number.MAX_SAFE_INTEGER).default(10_000_000_000),

    // Ingest → writer.
    writerBatchSize: int(1, 10_000).default(100),
    writerBatchWindowSeconds: int(0, 300).default(5),
    writerTimeoutSeconds: int(10, 900).default(120),
    /**
     * Receives before SQS moves a message to the DLQ. An S3 outage fails whole batches, and every retry is a
     * receive, one per visibility timeout (6 × writerTimeoutSeconds): 30 × 12 min rides out ~6 h of outage.
     */
    dlqMaxReceiveCount: int(1, 1000).default(30),
    /** Batch-writer invocations at once (the SQS event source's maximum concurrency): a backlog cannot take the account's concurrency. */
    writerMaxConcurrency: int(2, 1000).default(10),

    // Alerts.
    alertEmails: list(z.email({ error: 'each must be an email address' })).default([]),
    /** The alert rules file, relative to the repository root; bundled with the alert (and writer) Lambdas when it exists. */
    alertsFile: z
      .string()
      .regex(/^[A-Za-z0-9._/-]+\.(ya?ml|json)$/, 'must be a .yaml, .yml or .json path')
      .default('alerts.yaml'),
    /** Name of an existing Secrets Manager secret holding the Slack webhook URLs ({"<name>": "https://…"}); also turns on egress. */
    slackWebhookSecretName: optionalString(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a Secrets Manager secret name'),
    /** Alarm when the oldest queued message is older than this. */
    alarmQueueAgeSeconds: int(60, 1_209_600).default(900),
    /** Alarm when more Athena queries than this fail within 15 minutes (user SQL errors count too). */
    alarmAthenaFailures: int(0, 100_000).default(10),
    /** Alarm when more than this percent of the API's requests in 15 minutes are 4xx. */
    alarmApi4xxPercent: int(1, 100).default(25),
    /** Alarm when the API's p99 latency stays above this many milliseconds for 15 minutes. */
    alarmApiLatencyMs: int(100, 30_000).default(10_000),

    // API.
    apiThrottleRate: int(1, 100_000).default(100),
    apiThrottleBurst: int(1, 100_000).default(200),
    authorizerCacheSeconds: int(0, 3600).default(30),
    /**
     * Per-tenant request rate limits, enforced by the ingest and query Lambdas against a DynamoDB table:
     * `default` for every tenant, `tenants` for each one named. `{}` turns them off (no table).
     */
    tenantRateLimits: z
      .preprocess((v) => {
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v) as unknown;
        } catch {
          return v;
        }
      }, rateLimitsSchema)
      .default({ default: { rate: 50, burst: 100 }, tenants: {} }),

    // Operations.
    logRetentionDays: int(1, 3653)
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), `must be one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(30),
    /** The Lambdas' log level (SLUICE_LOG_LEVEL). */
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    /** retain: `cdk destroy` keeps the bucket (your logs) and its KMS key; destroy: deletes them too. */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
  })
  .superRefine((c, ctx) => {
    const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
    if (c.vpcId) {
      if (c.privateSubnetIds.length < 2) issue('privateSubnetIds', 'must name at least two private subnets of vpcId (in different availability zones)');
      if (c.availabilityZones.length !== c.privateSubnetIds.length)
        issue('availabilityZones', 'must list one availability zone per entry of privateSubnetIds, in the same order');
      if (c.createVpcEndpoints && c.privateSubnetRouteTableIds.length !== c.privateSubnetIds.length)
        issue(
          'privateSubnetRouteTableIds',
          'must list one route table per entry of privateSubnetIds (the S3 gateway endpoint adds routes to them); or set createVpcEndpoints=false',
        );
    } else {
      for (const key of ['availabilityZones', 'privateSubnetIds', 'privateSubnetRouteTableIds'] as const) {
        if (c[key].length > 0) issue(key, 'is only used with vpcId');
      }
    }
    if (c.eventsExpireDays <= c.eventsTransitionDays) issue('eventsExpireDays', `must be greater than eventsTransitionDays (${c.eventsTransitionDays})`);
    if (c.eventsTransitionStorageClass === 'STANDARD_IA' && c.eventsTransitionDays < 30)
      issue('eventsTransitionDays', 'must be at least 30 for STANDARD_IA (an S3 rule)');
    if (c.writerBatchSize > 10 && c.writerBatchWindowSeconds < 1)
      issue('writerBatchWindowSeconds', 'must be at least 1 when writerBatchSize is over 10 (an SQS event source rule)');
    if (c.apiThrottleBurst < c.apiThrottleRate) issue('apiThrottleBurst', `must be at least apiThrottleRate (${c.apiThrottleRate})`);
    for (const [who, limit] of [['default', c.tenantRateLimits.default] as const, ...Object.entries(c.tenantRateLimits.tenants)]) {
      if (limit && limit.rate > c.apiThrottleRate)
        issue('tenantRateLimits', `${who}: rate ${limit.rate} is above apiThrottleRate (${c.apiThrottleRate}), which the whole API shares`);
    }
  });

export type SluiceConfig = z.output<typeof schema>;

/** Every key the stack reads from context. */
export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof SluiceConfig)[];

export class SluiceConfigError extends Error {
  override name = 'SluiceConfigError';
}

/**
 * Reads and validates the configuration. `get` returns a context value (app.node.tryGetContext);
 * `allKeys` (optional) are every context key present, to catch misspelt ones such as `vpcid`.
 */
export function readConfig(get: (key: string) => unknown, allKeys: readonly string[] = []): SluiceConfig {
  // '' (as `-c key=` gives) means "not set".
  const raw = Object.fromEntries(
    CONFIG_KEYS.map((k): [string, unknown] => {
      const v = get(k);
      return [k, typeof v === 'string' && v.trim() === '' ? undefined : v];
    }),
  );
  const problems: string[] = [];
  for (const key of allKeys) {
    const known = CONFIG_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    if (known && known !== key) problems.push(`${key}: unknown key; did you mean ${known}?`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      const key = String(i.path[0] ?? '');
      problems.push(`${key}: ${i.message} (got ${JSON.stringify(raw[key])})`);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new SluiceConfigError(`invalid Sluice configuration (cdk.json "context" or -c key=value):\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}
