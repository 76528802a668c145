/**
 * Environment variables: each is defined once below (its name, the readers that read it, its schema with
 * its default, and what it is for); the config types are inferred from those schemas. Local mode reads its
 * set with readLocalConfig(), each Lambda the settings it names with readAwsConfig([...]), so a bad or
 * missing value fails at start with the variable's name in the message. process.env is read nowhere else.
 *
 * Adding a variable: one entry in VARIABLES. Its name then appears in ENV and/or AWS_ENV (infra/ sets the
 * Lambdas' through AWS_ENV), its key and type in LocalConfig and/or AwsConfig.
 */
import * as z from 'zod';
import { rateLimitsSchema } from '../domain/rate-limits.js';
import { isValidTenant } from '../domain/tenant.js';

/** Who reads a variable: local mode (npm start), the command-line client, or the Lambdas. */
type Reader = 'local' | 'cli' | 'aws';

/** A schema over a variable's trimmed text, which is undefined when the variable is unset or blank. */
type Schema = z.ZodType;

interface Variable<R extends Reader, S extends Schema, A extends Schema> {
  readonly name: string;
  readonly readers: readonly R[];
  readonly schema: S;
  /** The Lambdas' schema, when their default differs from local mode's. */
  readonly aws: A;
}

function variable<const R extends Reader, S extends Schema, A extends Schema = S>(name: string, readers: readonly R[], schema: S, aws?: A): Variable<R, S, A> {
  return { name, readers, schema, aws: (aws ?? schema) as A };
}

const wholeNumber = (min: number, max: number) => {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const text = z.string().min(1);
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const SLACK_WEBHOOKS = /^([A-Za-z0-9_-]+=https?:\/\/[^\s,]+)(,[A-Za-z0-9_-]+=https?:\/\/[^\s,]+)*$/;
const MiB = 1024 * 1024;
const bodyBytes = wholeNumber(1024, 512 * MiB);

export const VARIABLES = {
  /** The local server's port; 0 picks a free one (tests). */
  port: variable('PORT', ['local'], wholeNumber(0, 65535).default(4318)),
  /** The address local mode listens on; beyond loopback only with keys configured. */
  host: variable('SLUICE_HOST', ['local'], text.default('127.0.0.1')),
  /** Local mode's data directory (spool, store, alert state). */
  dataDir: variable('SLUICE_DATA_DIR', ['local'], text.default('.sluice')),
  /** Local mode's API keys, `key:tenant:scope+scope,…`; unset: open mode (every request is tenant "default"). */
  apiKeys: variable('SLUICE_API_KEYS', ['local'], z.string().optional()),
  /** A batch is written once its oldest event has waited this long. */
  flushMs: variable('SLUICE_FLUSH_MS', ['local'], wholeNumber(50, 3_600_000).default(1000)),
  /** …or once this many bytes are pending. */
  batchBytes: variable('SLUICE_BATCH_BYTES', ['local'], wholeNumber(64 * 1024, 1024 * MiB).default(64 * MiB)),
  /** The largest request body accepted; a Lambda's request payload is at most 6 MB, hence its lower default. */
  maxBodyBytes: variable('SLUICE_MAX_BODY_BYTES', ['local', 'aws'], bodyBytes.default(10 * MiB), bodyBytes.default(6 * MiB)),
  logLevel: variable('SLUICE_LOG_LEVEL', ['local', 'aws'], z.enum(LOG_LEVELS, { error: 'must be debug, info, warn or error' }).default('info')),
  /** How long POST /v1/query waits for results before answering 202 with a token. */
  queryWaitMs: variable('SLUICE_QUERY_WAIT_MS', ['local', 'aws'], wholeNumber(0, 25_000).default(3000)),
  /**
   * Where local mode runs queries: `process`, a child process of its own (its own thread pool, memory
   * bound and lower CPU priority, so queries never hold up ingest), or `inline`, in the server's process.
   */
  queryEngine: variable('SLUICE_QUERY_ENGINE', ['local'], z.enum(['process', 'inline'], { error: 'must be process or inline' }).default('process')),
  /** Queries running at once, all tenants together. */
  queryConcurrency: variable('SLUICE_QUERY_CONCURRENCY', ['local'], wholeNumber(1, 256).default(4)),
  /** Queries one tenant runs at once. */
  queryTenantConcurrency: variable('SLUICE_QUERY_TENANT_CONCURRENCY', ['local'], wholeNumber(1, 256).default(2)),
  /** Queries of one tenant waiting for a slot (all tenants: 4× this); one more gets 429 with Retry-After. */
  queryQueue: variable('SLUICE_QUERY_QUEUE', ['local'], wholeNumber(0, 10_000).default(8)),
  /** The longest a query waits for a slot before it gets 429. */
  queryQueueWaitMs: variable('SLUICE_QUERY_QUEUE_WAIT_MS', ['local'], wholeNumber(0, 600_000).default(10_000)),
  /** A query is stopped once it has run this long. */
  queryTimeoutMs: variable('SLUICE_QUERY_TIMEOUT_MS', ['local'], wholeNumber(100, 3_600_000).default(30_000)),
  /** The query engine's memory bound, MiB (its process is stopped beyond it; DuckDB's own limits derive from it). */
  queryMemoryMb: variable('SLUICE_QUERY_MEMORY_MB', ['local'], wholeNumber(256, 1024 * 1024).default(2048)),
  /** What one tenant's queries may spill to disk, MiB. */
  queryTempMb: variable('SLUICE_QUERY_TEMP_MB', ['local'], wholeNumber(0, 1024 * 1024).default(1024)),
  /** The most one query's result keeps on disk, MiB; rows beyond are cut and the result says so. */
  queryResultMb: variable('SLUICE_QUERY_RESULT_MB', ['local'], wholeNumber(1, 64 * 1024).default(64)),
  /** The most one page of results carries, MiB; also the most one result row may be. */
  queryPageMb: variable('SLUICE_QUERY_PAGE_MB', ['local'], wholeNumber(1, 256).default(8)),
  /** How long finished results stay readable. */
  queryResultTtlMs: variable('SLUICE_QUERY_RESULT_TTL_MS', ['local'], wholeNumber(1000, 7 * 24 * 3_600_000).default(600_000)),
  /** The most finished results kept for one tenant, MiB (the oldest are deleted first). */
  queryTenantResultsMb: variable('SLUICE_QUERY_TENANT_RESULTS_MB', ['local'], wholeNumber(1, 1024 * 1024).default(512)),
  /** The server the CLI talks to (read by the CLI, not by the server). */
  cliUrl: variable('SLUICE_URL', ['cli'], z.url({ error: 'must be a URL such as http://127.0.0.1:4318' }).default('http://127.0.0.1:4318')),
  /** The CLI's API key. */
  cliKey: variable('SLUICE_API_KEY', ['cli'], z.string().optional()),
  /** Local mode's syslog listener (TCP and UDP); unset: off. 0 picks free ports (tests). */
  syslogPort: variable('SLUICE_SYSLOG_PORT', ['local'], wholeNumber(0, 65535).optional()),
  /** The tenant syslog messages belong to when keys are configured (syslog carries no key). */
  syslogTenant: variable(
    'SLUICE_SYSLOG_TENANT',
    ['local'],
    z.string().refine(isValidTenant, { error: "must be 1-63 characters of a-z, 0-9, '-', '_'" }).optional(),
  ),
  /**
   * The alert rules file (alerts.yaml / alerts.json). Locally, unset: one of those in the working directory,
   * if present; in a Lambda, the file the stack bundled beside the code.
   */
  alertsFile: variable('SLUICE_ALERTS_FILE', ['local', 'aws'], text.optional(), text.default('alerts.yaml')),
  /** How often local mode evaluates the alert rules that are due. */
  alertsTickMs: variable('SLUICE_ALERTS_TICK_MS', ['local'], wholeNumber(1000, 3_600_000).default(60_000)),
  /** How long after a window closes it is evaluated (late events). */
  alertsDelayMs: variable('SLUICE_ALERTS_DELAY_MS', ['local', 'aws'], wholeNumber(0, 3_600_000).default(60_000)),
  /** Local mode's Slack webhooks, `name=https://hooks.slack.com/…,other=…`: read as name → URL. */
  slackWebhooks: variable(
    'SLUICE_SLACK_WEBHOOKS',
    ['local'],
    z
      .string()
      .regex(SLACK_WEBHOOKS, { error: 'use name=https://hooks.slack.com/…,other=…' })
      .optional()
      .transform((s): Record<string, string> =>
        Object.fromEntries(
          (s ?? '')
            .split(',')
            .filter(Boolean)
            .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
        ),
      ),
  ),
  /** Local mode's mail server for email: channels. */
  smtpUrl: variable(
    'SLUICE_SMTP_URL',
    ['local'],
    z
      .string()
      .regex(/^smtps?:\/\//, { error: 'use smtp://user:pass@host:port or smtps://…' })
      .optional(),
  ),
  smtpFrom: variable('SLUICE_SMTP_FROM', ['local'], z.string().min(3, { error: 'must be an address such as alerts@example.com' }).default('sluice@localhost')),
  /** The web UI's address, for the links in alert notifications. */
  uiUrl: variable('SLUICE_UI_URL', ['local', 'aws'], z.url({ error: 'must be a URL such as https://logs.example.com' }).optional()),
  /** How often local mode compacts the closed hours; 0: never. */
  compactEveryMs: variable('SLUICE_COMPACT_EVERY_MS', ['local'], wholeNumber(0, 7 * 24 * 3_600_000).default(10 * 60_000)),
  /** A batch file is compacted only once its batch's first ingest is older than this. */
  compactSettleMs: variable('SLUICE_COMPACT_SETTLE_MS', ['local'], wholeNumber(0, 7 * 24 * 3_600_000).default(3_600_000)),
  /** Ingest requests local mode serves at once; more get 429 with Retry-After. */
  maxConcurrentIngest: variable('SLUICE_MAX_CONCURRENT_INGEST', ['local'], wholeNumber(1, 10_000).default(16)),
  /**
   * Local mode refuses ingest (503 + Retry-After) while free space on the data directory's filesystem is
   * below a reserve, the smaller of these two (journald's SystemKeepFree works the same way), so the
   * writer and the compactor always have room to store what was acknowledged. 0 in either: no reserve.
   */
  diskReserveBytes: variable('SLUICE_DISK_RESERVE_BYTES', ['local'], wholeNumber(0, Number.MAX_SAFE_INTEGER).default(1024 * MiB)),
  /** …as a percentage of the filesystem's size. */
  diskReservePercent: variable('SLUICE_DISK_RESERVE_PERCENT', ['local'], wholeNumber(0, 90).default(10)),

  // Set by the CDK stack on the Lambdas that need them.
  bucket: variable('SLUICE_BUCKET', ['aws'], text),
  queueUrl: variable('SLUICE_QUEUE_URL', ['aws'], text),
  workgroup: variable('SLUICE_ATHENA_WORKGROUP', ['aws'], text),
  database: variable('SLUICE_GLUE_DATABASE', ['aws'], text),
  table: variable('SLUICE_GLUE_TABLE', ['aws'], text),
  /** Secrets Manager secret holding the API keys as SHA-256 hashes (JSON). */
  keysSecretArn: variable('SLUICE_KEYS_SECRET_ARN', ['aws'], text),
  /** Secrets Manager secret holding the HMAC secret for query tokens. */
  tokenSecretArn: variable('SLUICE_TOKEN_SECRET_ARN', ['aws'], text),
  topicArn: variable('SLUICE_TOPIC_ARN', ['aws'], text),
  /** Secrets Manager secret holding {"<webhook name>": "https://hooks.slack.com/…"}; unset: no Slack channels. */
  slackSecretArn: variable('SLUICE_SLACK_SECRET_ARN', ['aws'], text.optional()),
  /** DynamoDB table (ARN) holding each tenant's request rate state; unset: no per-tenant rate limits. */
  rateLimitTableArn: variable(
    'SLUICE_RATE_LIMIT_TABLE_ARN',
    ['aws'],
    z
      .string()
      .regex(/^arn:aws[\w-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[\w.-]{3,255}$/, { error: 'must be a DynamoDB table ARN' })
      .optional(),
  ),
  /** Per-tenant request rate limits, JSON {"default": {"rate": 50, "burst": 100}, "tenants": {"<tenant>": {…}}}. */
  rateLimits: variable(
    'SLUICE_RATE_LIMITS',
    ['aws'],
    z
      .string()
      .transform((s, ctx) => {
        try {
          return JSON.parse(s) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be JSON such as {"default": {"rate": 50, "burst": 100}}' });
          return z.NEVER;
        }
      })
      .pipe(rateLimitsSchema)
      .optional(),
  ),
};

type Variables = typeof VARIABLES;
type KeysReadBy<R extends Reader> = { [K in keyof Variables]: R extends Variables[K]['readers'][number] ? K : never }[keyof Variables];

export type LocalSetting = KeysReadBy<'local'>;
export type AwsSetting = KeysReadBy<'aws'>;
/** Local mode's settings, as readLocalConfig returns them. */
export type LocalConfig = z.output<z.ZodObject<{ [K in LocalSetting]: Variables[K]['schema'] }>>;
/** The Lambdas' settings; each Lambda reads the ones it needs (readAwsConfig). */
export type AwsConfig = z.output<z.ZodObject<{ [K in AwsSetting]: Variables[K]['aws'] }>>;

function namesReadBy<R extends Reader>(...readers: R[]): { readonly [K in KeysReadBy<R>]: string } {
  return Object.fromEntries(
    Object.entries(VARIABLES)
      .filter(([, v]) => v.readers.some((r) => (readers as Reader[]).includes(r)))
      .map(([key, v]) => [key, v.name]),
  ) as { readonly [K in KeysReadBy<R>]: string };
}

/** The names of the variables local mode and the CLI read, by setting. */
export const ENV = namesReadBy('local', 'cli');
/** The names of the Lambdas' variables, by setting (infra/ sets them through these). */
export const AWS_ENV = namesReadBy('aws');

/** A setting's value when its variable is unset (e.g. the CLI's default server). */
export function defaultOf<K extends KeysReadBy<'cli'>>(key: K): z.output<Variables[K]['schema']> {
  return VARIABLES[key].schema.parse(undefined) as z.output<Variables[K]['schema']>;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * Reads the settings named, each through its schema; every bad or missing one becomes one line naming its
 * variable. Local lines read `NAME: problem (got "value")`, a list under `npm start`; a Lambda's read as a
 * sentence in its log line, `NAME problem`, e.g. `SLUICE_QUEUE_URL is not set` (each as before).
 */
function read(keys: readonly string[], reader: 'local' | 'aws', env: Env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of keys) {
    const v = VARIABLES[key as keyof Variables];
    let raw = env[v.name]?.trim() || undefined;
    // A Lambda environment value cannot be empty in every tool: there, '-' also means unset.
    if (reader === 'aws' && raw === '-') raw = undefined;
    const parsed = (reader === 'aws' ? v.aws : v.schema).safeParse(raw);
    if (parsed.success) {
      out[key] = parsed.data;
      continue;
    }
    const problem = raw === undefined ? 'is not set' : `${parsed.error.issues[0]?.message ?? 'is invalid'} (got ${JSON.stringify(raw)})`;
    problems.push(reader === 'local' ? `${v.name}: ${problem}` : `${v.name} ${problem}`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid environment:\n  ${problems.join('\n  ')}`);
  return out;
}

const LOCAL_SETTINGS = (Object.keys(VARIABLES) as (keyof Variables)[]).filter((k) => (VARIABLES[k].readers as readonly Reader[]).includes('local'));

/** Local mode's settings; every bad variable is listed, one per line. */
export function readLocalConfig(env: Env = process.env): LocalConfig {
  return read(LOCAL_SETTINGS, 'local', env) as LocalConfig;
}

/** Reads the named settings of a Lambda; any missing or invalid one fails with its variable name. */
export function readAwsConfig<K extends AwsSetting>(needed: readonly K[], env: Env = process.env): Pick<AwsConfig, K> {
  return read(needed, 'aws', env) as Pick<AwsConfig, K>;
}

/** This process's environment with some variables added or replaced, for a child process local mode starts. */
export function environmentWith(extra: Record<string, string>, env: Env = process.env): Env {
  return { ...env, ...extra };
}
