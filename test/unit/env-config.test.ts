import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, ENV, readAwsConfig, readLocalConfig, type LocalConfig } from '../../shared/config/env.js';

const DEFAULTS: LocalConfig = {
  port: 4318,
  host: '127.0.0.1',
  dataDir: '.sluice',
  apiKeys: undefined,
  flushMs: 1000,
  batchBytes: 64 * 1024 * 1024,
  maxBodyBytes: 10 * 1024 * 1024,
  logLevel: 'info',
  queryWaitMs: 3000,
  queryEngine: 'process',
  queryConcurrency: 4,
  queryTenantConcurrency: 2,
  queryQueue: 8,
  queryQueueWaitMs: 10_000,
  queryTimeoutMs: 30_000,
  queryMemoryMb: 2048,
  queryTempMb: 1024,
  queryResultMb: 64,
  queryPageMb: 8,
  queryResultTtlMs: 600_000,
  queryTenantResultsMb: 512,
  alertsTickMs: 60_000,
  alertsDelayMs: 60_000,
  slackWebhooks: {},
  smtpFrom: 'sluice@localhost',
  compactEveryMs: 600_000,
  compactSettleMs: 3_600_000,
  maxConcurrentIngest: 16,
  diskReserveBytes: 1024 * 1024 * 1024,
  diskReservePercent: 10,
};

function errorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    readLocalConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected readLocalConfig(${JSON.stringify(env)}) to throw`);
}

describe('ENV', () => {
  it('names every variable', () => {
    expect(ENV).toEqual({
      port: 'PORT',
      host: 'SLUICE_HOST',
      dataDir: 'SLUICE_DATA_DIR',
      apiKeys: 'SLUICE_API_KEYS',
      flushMs: 'SLUICE_FLUSH_MS',
      batchBytes: 'SLUICE_BATCH_BYTES',
      maxBodyBytes: 'SLUICE_MAX_BODY_BYTES',
      logLevel: 'SLUICE_LOG_LEVEL',
      queryWaitMs: 'SLUICE_QUERY_WAIT_MS',
      queryEngine: 'SLUICE_QUERY_ENGINE',
      queryConcurrency: 'SLUICE_QUERY_CONCURRENCY',
      queryTenantConcurrency: 'SLUICE_QUERY_TENANT_CONCURRENCY',
      queryQueue: 'SLUICE_QUERY_QUEUE',
      queryQueueWaitMs: 'SLUICE_QUERY_QUEUE_WAIT_MS',
      queryTimeoutMs: 'SLUICE_QUERY_TIMEOUT_MS',
      queryMemoryMb: 'SLUICE_QUERY_MEMORY_MB',
      queryTempMb: 'SLUICE_QUERY_TEMP_MB',
      queryResultMb: 'SLUICE_QUERY_RESULT_MB',
      queryPageMb: 'SLUICE_QUERY_PAGE_MB',
      queryResultTtlMs: 'SLUICE_QUERY_RESULT_TTL_MS',
      queryTenantResultsMb: 'SLUICE_QUERY_TENANT_RESULTS_MB',
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
      diskReserveBytes: 'SLUICE_DISK_RESERVE_BYTES',
      diskReservePercent: 'SLUICE_DISK_RESERVE_PERCENT',
    });
  });
});

describe('readLocalConfig', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('uses the defaults when nothing is set', () => {
    expect(readLocalConfig({})).toEqual(DEFAULTS);
  });

  it('treats empty strings as unset', () => {
    const env = Object.fromEntries(Object.values(ENV).map((k) => [k, '']));
    expect(readLocalConfig(env)).toEqual(DEFAULTS);
  });

  it('reads and coerces every variable', () => {
    expect(
      readLocalConfig({
        PORT: '8080',
        SLUICE_HOST: '0.0.0.0',
        SLUICE_DATA_DIR: '/var/lib/sluice',
        SLUICE_API_KEYS: 'k1234567:acme:ingest',
        SLUICE_FLUSH_MS: '250',
        SLUICE_BATCH_BYTES: '1048576',
        SLUICE_MAX_BODY_BYTES: '2048',
        SLUICE_LOG_LEVEL: 'debug',
        SLUICE_QUERY_WAIT_MS: '500',
        SLUICE_QUERY_ENGINE: 'inline',
        SLUICE_QUERY_CONCURRENCY: '8',
        SLUICE_QUERY_TENANT_CONCURRENCY: '3',
        SLUICE_QUERY_QUEUE: '0',
        SLUICE_QUERY_QUEUE_WAIT_MS: '2000',
        SLUICE_QUERY_TIMEOUT_MS: '60000',
        SLUICE_QUERY_MEMORY_MB: '4096',
        SLUICE_QUERY_TEMP_MB: '0',
        SLUICE_QUERY_RESULT_MB: '16',
        SLUICE_QUERY_PAGE_MB: '2',
        SLUICE_QUERY_RESULT_TTL_MS: '60000',
        SLUICE_QUERY_TENANT_RESULTS_MB: '128',
        SLUICE_SYSLOG_PORT: '5514',
        SLUICE_SYSLOG_TENANT: 'acme',
        SLUICE_ALERTS_FILE: 'rules.yaml',
        SLUICE_ALERTS_TICK_MS: '5000',
        SLUICE_ALERTS_DELAY_MS: '0',
        SLUICE_SLACK_WEBHOOKS: 'ops=https://hooks.example/a,dev=http://127.0.0.1:9/b',
        SLUICE_SMTP_URL: 'smtp://127.0.0.1:2525',
        SLUICE_SMTP_FROM: 'alerts@example.com',
        SLUICE_UI_URL: 'https://logs.example.com/q',
        SLUICE_COMPACT_EVERY_MS: '0',
        SLUICE_COMPACT_SETTLE_MS: '5000',
        SLUICE_MAX_CONCURRENT_INGEST: '4',
        SLUICE_DISK_RESERVE_BYTES: '0',
        SLUICE_DISK_RESERVE_PERCENT: '5',
      }),
    ).toStrictEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/var/lib/sluice',
      apiKeys: 'k1234567:acme:ingest',
      flushMs: 250,
      batchBytes: 1_048_576,
      maxBodyBytes: 2048,
      logLevel: 'debug',
      queryWaitMs: 500,
      queryEngine: 'inline',
      queryConcurrency: 8,
      queryTenantConcurrency: 3,
      queryQueue: 0,
      queryQueueWaitMs: 2000,
      queryTimeoutMs: 60_000,
      queryMemoryMb: 4096,
      queryTempMb: 0,
      queryResultMb: 16,
      queryPageMb: 2,
      queryResultTtlMs: 60_000,
      queryTenantResultsMb: 128,
      syslogPort: 5514,
      syslogTenant: 'acme',
      alertsFile: 'rules.yaml',
      alertsTickMs: 5000,
      alertsDelayMs: 0,
      slackWebhooks: { ops: 'https://hooks.example/a', dev: 'http://127.0.0.1:9/b' },
      smtpUrl: 'smtp://127.0.0.1:2525',
      smtpFrom: 'alerts@example.com',
      uiUrl: 'https://logs.example.com/q',
      compactEveryMs: 0,
      compactSettleMs: 5000,
      maxConcurrentIngest: 4,
      diskReserveBytes: 0,
      diskReservePercent: 5,
    });
  });

  it('ignores unrelated variables', () => {
    expect(readLocalConfig({ HOME: '/root', SLUICE_UNKNOWN: 'x', port: 'abc' })).toEqual(DEFAULTS);
  });

  it('accepts the bounds of each numeric range', () => {
    expect(readLocalConfig({ PORT: '0' }).port).toBe(0);
    expect(readLocalConfig({ PORT: '65535' }).port).toBe(65535);
    expect(readLocalConfig({ SLUICE_FLUSH_MS: '50' }).flushMs).toBe(50);
    expect(readLocalConfig({ SLUICE_FLUSH_MS: '3600000' }).flushMs).toBe(3_600_000);
    expect(readLocalConfig({ SLUICE_BATCH_BYTES: String(64 * 1024) }).batchBytes).toBe(65_536);
    expect(readLocalConfig({ SLUICE_MAX_BODY_BYTES: '1024' }).maxBodyBytes).toBe(1024);
  });

  it.each(['abc', '70000', '65536', '-1', '80.5', '8080x'])('rejects PORT=%j with an error naming PORT and the value', (value) => {
    const err = errorOf({ PORT: value });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toMatch(/^invalid environment:\n {2}PORT: /);
    expect(err.message).toContain(`(got ${JSON.stringify(value)})`);
    expect(err.message.split('\n')).toHaveLength(2);
  });

  it.each([
    ['SLUICE_FLUSH_MS', '49'],
    ['SLUICE_FLUSH_MS', '3600001'],
    ['SLUICE_BATCH_BYTES', '65535'],
    ['SLUICE_MAX_BODY_BYTES', '1023'],
    ['SLUICE_MAX_BODY_BYTES', 'ten'],
    ['SLUICE_LOG_LEVEL', 'trace'],
    ['SLUICE_LOG_LEVEL', 'INFO'],
    ['SLUICE_DISK_RESERVE_PERCENT', '91'],
    ['SLUICE_DISK_RESERVE_BYTES', '1GiB'],
  ])('rejects %s=%j, naming only that variable', (name, value) => {
    const err = errorOf({ [name]: value });
    expect(err.message).toMatch(new RegExp(`^invalid environment:\\n {2}${name}: .*\\(got ${JSON.stringify(value)}\\)$`));
    for (const other of Object.values(ENV).filter((k) => k !== name)) {
      expect(err.message).not.toContain(`${other}:`);
    }
  });

  it('lists every bad variable, one per line', () => {
    const err = errorOf({ PORT: 'nope', SLUICE_LOG_LEVEL: 'loud', SLUICE_HOST: 'localhost' });
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('invalid environment:');
    expect(
      lines
        .slice(1)
        .map((l) => l.trim().split(':')[0])
        .sort(),
    ).toEqual(['PORT', 'SLUICE_LOG_LEVEL']);
  });

  it('reads process.env by default', () => {
    for (const k of Object.values(ENV)) vi.stubEnv(k, '');
    vi.stubEnv('PORT', '5001');
    vi.stubEnv('SLUICE_LOG_LEVEL', 'warn');
    expect(readLocalConfig()).toEqual({ ...DEFAULTS, port: 5001, logLevel: 'warn' });
  });
});

describe('readLocalConfig: blank values', () => {
  it('treats a whitespace-only value as unset rather than as 0', () => {
    expect(readLocalConfig({ PORT: '   ' }).port).toBe(4318);
  });
});

describe('docs/configuration.md', () => {
  it('lists every local-mode variable in its table, and no variable that does not exist', async () => {
    const { readFileSync } = await import('node:fs');
    const { VARIABLES } = await import('../../shared/config/env.js');
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const section = page.slice(page.indexOf('## Local mode'), page.indexOf('\n## ', page.indexOf('## Local mode') + 1));
    // The first cell of each table row names one or more variables: | `SLUICE_SMTP_URL`, `SLUICE_SMTP_FROM` | …
    const documented = new Set(
      section
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!)),
    );
    const local = Object.values(VARIABLES)
      .filter((v) => (v.readers as readonly string[]).includes('local'))
      .map((v) => v.name);
    expect(local.length).toBeGreaterThan(15);
    expect(local.filter((n) => !documented.has(n))).toEqual([]);
    expect([...documented].filter((n) => !local.includes(n))).toEqual([]);
  });
});

describe('readAwsConfig (the Lambdas)', () => {
  it("gives the Lambdas' defaults, and reads '-' as unset (a Lambda environment value cannot be empty in every tool)", () => {
    const c = readAwsConfig(['maxBodyBytes', 'queryWaitMs', 'logLevel', 'alertsFile', 'alertsDelayMs', 'slackSecretArn', 'uiUrl'], {
      SLUICE_ALERTS_FILE: '-',
      SLUICE_SLACK_SECRET_ARN: '-',
      SLUICE_UI_URL: '-',
    });
    expect(c).toEqual({
      maxBodyBytes: 6 * 1024 * 1024,
      queryWaitMs: 3000,
      logLevel: 'info',
      alertsFile: 'alerts.yaml',
      alertsDelayMs: 60_000,
      slackSecretArn: undefined,
      uiUrl: undefined,
    });
  });

  it('refuses values outside the bounds local mode has, naming the variable', () => {
    const bad: Record<string, string> = {
      SLUICE_QUERY_WAIT_MS: '30000',
      SLUICE_MAX_BODY_BYTES: '10',
      SLUICE_ALERTS_DELAY_MS: '4000000',
      SLUICE_UI_URL: 'not a url',
    };
    for (const [name, value] of Object.entries(bad)) {
      const key = (
        { SLUICE_QUERY_WAIT_MS: 'queryWaitMs', SLUICE_MAX_BODY_BYTES: 'maxBodyBytes', SLUICE_ALERTS_DELAY_MS: 'alertsDelayMs', SLUICE_UI_URL: 'uiUrl' } as const
      )[name as 'SLUICE_UI_URL'];
      expect(() => readAwsConfig([key], { [name]: value }), name).toThrow(new RegExp(`${name} .*\\(got "${value}"\\)`));
    }
    expect(() => readAwsConfig(['bucket'], {})).toThrow(/SLUICE_BUCKET is not set/);
  });
});
