/**
 * Environment variables: every name is defined here and read through one validated reader, so a bad or
 * missing value fails at start with its name in the message. process.env is read nowhere else.
 */
import * as z from 'zod';
import { isValidTenant } from '../domain/tenant.js';

export const ENV = {
  port: 'PORT',
  host: 'SLUICE_HOST',
  dataDir: 'SLUICE_DATA_DIR',
  apiKeys: 'SLUICE_API_KEYS',
  flushMs: 'SLUICE_FLUSH_MS',
  batchBytes: 'SLUICE_BATCH_BYTES',
  maxBodyBytes: 'SLUICE_MAX_BODY_BYTES',
  logLevel: 'SLUICE_LOG_LEVEL',
  queryWaitMs: 'SLUICE_QUERY_WAIT_MS',
  /** the CLI's server and key (read by the CLI, not by the server) */
  cliUrl: 'SLUICE_URL',
  cliKey: 'SLUICE_API_KEY',
  syslogPort: 'SLUICE_SYSLOG_PORT',
  syslogTenant: 'SLUICE_SYSLOG_TENANT',
  alertsFile: 'SLUICE_ALERTS_FILE',
  alertsTickMs: 'SLUICE_ALERTS_TICK_MS',
  alertsDelayMs: 'SLUICE_ALERTS_DELAY_MS',
  slackWebhooks: 'SLUICE_SLACK_WEBHOOKS',
  smtpUrl: 'SLUICE_SMTP_URL',
  smtpFrom: 'SLUICE_SMTP_FROM',
  uiUrl: 'SLUICE_UI_URL',
  compactEveryMs: 'SLUICE_COMPACT_EVERY_MS',
  compactSettleMs: 'SLUICE_COMPACT_SETTLE_MS',
  maxConcurrentIngest: 'SLUICE_MAX_CONCURRENT_INGEST',
} as const;

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const localSchema = z.object({
  [ENV.port]: intFrom(0, 65535).default(4318),
  [ENV.host]: z.string().min(1).default('127.0.0.1'),
  [ENV.dataDir]: z.string().min(1).default('.sluice'),
  [ENV.apiKeys]: z.string().optional(),
  [ENV.flushMs]: intFrom(50, 3_600_000).default(1000),
  [ENV.batchBytes]: intFrom(64 * 1024, 1024 * 1024 * 1024).default(64 * 1024 * 1024),
  [ENV.maxBodyBytes]: intFrom(1024, 512 * 1024 * 1024).default(10 * 1024 * 1024),
  [ENV.logLevel]: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  [ENV.queryWaitMs]: intFrom(0, 25_000).default(3000),
  [ENV.syslogPort]: intFrom(0, 65535).optional(),
  [ENV.syslogTenant]: z.string().refine(isValidTenant, { message: "must be 1-63 characters of a-z, 0-9, '-', '_'" }).optional(),
  [ENV.alertsFile]: z.string().min(1).optional(),
  [ENV.alertsTickMs]: intFrom(1000, 3_600_000).default(60_000),
  [ENV.alertsDelayMs]: intFrom(0, 3_600_000).default(60_000),
  [ENV.slackWebhooks]: z
    .string()
    .regex(/^([A-Za-z0-9_-]+=https?:\/\/[^\s,]+)(,[A-Za-z0-9_-]+=https?:\/\/[^\s,]+)*$/, 'use name=https://hooks.slack.com/…,other=…')
    .optional(),
  [ENV.smtpUrl]: z.string().regex(/^smtps?:\/\//, 'use smtp://user:pass@host:port or smtps://…').optional(),
  [ENV.smtpFrom]: z.string().min(3).default('sluice@localhost'),
  [ENV.uiUrl]: z.string().url().optional(),
  [ENV.compactEveryMs]: intFrom(0, 7 * 24 * 3_600_000).default(10 * 60_000),
  [ENV.compactSettleMs]: intFrom(0, 7 * 24 * 3_600_000).default(3_600_000),
  [ENV.maxConcurrentIngest]: intFrom(1, 10_000).default(16),
});

export interface LocalConfig {
  port: number;
  host: string;
  dataDir: string;
  apiKeys: string | undefined;
  /** A batch is written once its oldest event has waited this long. */
  flushMs: number;
  /** …or once this many bytes are pending. */
  batchBytes: number;
  maxBodyBytes: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** how long POST /v1/query waits for results before answering 202 with a token */
  queryWaitMs: number;
  /** Local mode's syslog listener (TCP and UDP); undefined: off. 0 picks free ports (tests). */
  syslogPort?: number | undefined;
  /** The tenant syslog messages belong to when keys are configured (syslog carries no key). */
  syslogTenant?: string | undefined;
  /** alert rules (alerts.yaml / alerts.json); default: one of those in the working directory, if present */
  alertsFile?: string | undefined;
  alertsTickMs: number;
  alertsDelayMs: number;
  /** name → Slack incoming-webhook URL */
  slackWebhooks: Record<string, string>;
  smtpUrl?: string | undefined;
  smtpFrom: string;
  uiUrl?: string | undefined;
  /** how often local mode compacts the closed hours; 0: never */
  compactEveryMs: number;
  /** a batch file is compacted only once its batch's first ingest is older than this */
  compactSettleMs: number;
  /** ingest requests served at once; more get 429 with Retry-After */
  maxConcurrentIngest: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readLocalConfig(env: Record<string, string | undefined> = process.env): LocalConfig {
  const relevant = Object.fromEntries(Object.values(ENV).map((k) => [k, env[k]?.trim() === '' ? undefined : env[k]?.trim()]));
  const parsed = localSchema.safeParse(relevant);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message} (got ${JSON.stringify(relevant[String(i.path[0])])})`);
    throw new ConfigError(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const c = parsed.data;
  return {
    port: c[ENV.port],
    host: c[ENV.host],
    dataDir: c[ENV.dataDir],
    apiKeys: c[ENV.apiKeys],
    flushMs: c[ENV.flushMs],
    batchBytes: c[ENV.batchBytes],
    maxBodyBytes: c[ENV.maxBodyBytes],
    logLevel: c[ENV.logLevel],
    queryWaitMs: c[ENV.queryWaitMs],
    syslogPort: c[ENV.syslogPort],
    syslogTenant: c[ENV.syslogTenant],
    alertsFile: c[ENV.alertsFile],
    alertsTickMs: c[ENV.alertsTickMs],
    alertsDelayMs: c[ENV.alertsDelayMs],
    slackWebhooks: Object.fromEntries((c[ENV.slackWebhooks] ?? '').split(',').filter(Boolean).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])),
    smtpUrl: c[ENV.smtpUrl],
    smtpFrom: c[ENV.smtpFrom],
    uiUrl: c[ENV.uiUrl],
    compactEveryMs: c[ENV.compactEveryMs],
    compactSettleMs: c[ENV.compactSettleMs],
    maxConcurrentIngest: c[ENV.maxConcurrentIngest],
  };
}

/**
 * The Lambdas' environment, set by the CDK stack (infra/ imports AWS_ENV for the names). Each Lambda reads
 * only what it needs: readAwsConfig(['bucket', 'queueUrl']) fails at cold start naming any missing one.
 */
export const AWS_ENV = {
  bucket: 'SLUICE_BUCKET',
  queueUrl: 'SLUICE_QUEUE_URL',
  workgroup: 'SLUICE_ATHENA_WORKGROUP',
  database: 'SLUICE_GLUE_DATABASE',
  table: 'SLUICE_GLUE_TABLE',
  /** Secrets Manager secret holding the API keys as SHA-256 hashes (JSON) */
  keysSecretArn: 'SLUICE_KEYS_SECRET_ARN',
  /** Secrets Manager secret holding the HMAC secret for query tokens */
  tokenSecretArn: 'SLUICE_TOKEN_SECRET_ARN',
  topicArn: 'SLUICE_TOPIC_ARN',
  maxBodyBytes: 'SLUICE_MAX_BODY_BYTES',
  queryWaitMs: 'SLUICE_QUERY_WAIT_MS',
  logLevel: 'SLUICE_LOG_LEVEL',
  /** the alert rules file inside the alert and writer Lambdas' bundles */
  alertsFile: 'SLUICE_ALERTS_FILE',
  alertsDelayMs: 'SLUICE_ALERTS_DELAY_MS',
  /** Secrets Manager secret holding {"<webhook name>": "https://hooks.slack.com/…"}; '-' when none */
  slackSecretArn: 'SLUICE_SLACK_SECRET_ARN',
  uiUrl: 'SLUICE_UI_URL',
} as const;

export type AwsSetting = keyof typeof AWS_ENV;

export interface AwsConfig {
  bucket: string;
  queueUrl: string;
  workgroup: string;
  database: string;
  table: string;
  keysSecretArn: string;
  tokenSecretArn: string;
  topicArn: string;
  maxBodyBytes: number;
  queryWaitMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  alertsFile: string;
  alertsDelayMs: number;
  slackSecretArn: string;
  uiUrl: string;
}

// '-' stands for "none" where a setting is optional (a Lambda environment value cannot be empty in every tool).
const AWS_DEFAULTS: Partial<Record<AwsSetting, string>> = { maxBodyBytes: String(6 * 1024 * 1024), queryWaitMs: '3000', logLevel: 'info', alertsFile: 'alerts.yaml', alertsDelayMs: '60000', slackSecretArn: '-', uiUrl: '-' };

/** Reads the named settings; any missing or invalid one fails with its variable name. */
export function readAwsConfig<K extends AwsSetting>(needed: readonly K[], env: Record<string, string | undefined> = process.env): Pick<AwsConfig, K> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of needed) {
    const name = AWS_ENV[key];
    const raw = env[name]?.trim() || AWS_DEFAULTS[key];
    if (raw === undefined || raw === '') {
      problems.push(`${name} is not set`);
      continue;
    }
    if (key === 'maxBodyBytes' || key === 'queryWaitMs' || key === 'alertsDelayMs') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) problems.push(`${name} must be a whole number (got ${JSON.stringify(raw)})`);
      out[key] = n;
    } else if (key === 'logLevel') {
      if (!['debug', 'info', 'warn', 'error'].includes(raw)) problems.push(`${name} must be debug, info, warn or error`);
      out[key] = raw;
    } else {
      out[key] = raw;
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid environment:\n  ${problems.join('\n  ')}`);
  return out as Pick<AwsConfig, K>;
}
