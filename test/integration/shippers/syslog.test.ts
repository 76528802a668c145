/**
 * Local mode's syslog listener fed by util-linux `logger`: TCP with octet counting and with newline
 * framing, UDP, RFC 5424 and RFC 3164; and the tenant rules when keys are configured.
 */
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../../helpers/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const run = promisify(execFile);
// RFC 3164 times carry no zone and are read as UTC: a wide range keeps the test independent of the machine's zone.
const RANGE = { start: Date.now() - 2 * 86_400_000, end: Date.now() + 2 * 86_400_000 };

async function logger(port: number, ...args: string[]): Promise<void> {
  await run('logger', ['--server', '127.0.0.1', '--port', String(port), ...args], { timeout: 10_000 });
}

describe('syslog listener (open mode)', () => {
  let stack: Stack;
  let tcp: number;
  let udp: number;
  beforeAll(async () => {
    stack = await startTestStack({ SLUICE_SYSLOG_PORT: '0' });
    ({ tcpPort: tcp, udpPort: udp } = stack.syslog!);
  });
  afterAll(() => stack.cleanup());

  const rows = (sql: string, count: number, url = stack.url, headers: Record<string, string> = {}) =>
    eventually(async () => {
      const r = await call(`${url}/v1/query`, { body: { sql, ...RANGE }, headers });
      return r.body.rows?.length >= count ? (r.body.rows as unknown[][]) : undefined;
    });

  it.each([
    ['TCP octet-counted RFC 5424', ['--tcp', '--octet-count', '--rfc5424']],
    ['TCP newline-framed RFC 5424', ['--tcp', '--rfc5424']],
    ['TCP newline-framed RFC 3164', ['--tcp', '--rfc3164']],
    ['UDP RFC 5424', ['--udp', '--rfc5424']],
    ['UDP RFC 3164', ['--udp', '--rfc3164']],
  ])('stores a message sent over %s', async (name, args) => {
    const port = args.includes('--udp') ? udp : tcp;
    const marker = `syslog-${name.replace(/\W+/g, '-')}`;
    await logger(port, ...args, '-t', 'billing', '-p', 'local0.err', `${marker} payment failed`);
    const got = await rows(`SELECT message, level, host, source, ts_inferred FROM logs WHERE message LIKE '%${marker}%'`, 1);
    expect(got).toEqual([[expect.stringContaining(`${marker} payment failed`), 'error', hostname(), 'syslog', false]]);
    expect(got[0]![0]).not.toMatch(/^</); // the header is parsed, not left in the message
  });

  it('keeps RFC 5424 structured data and stores several messages sent on one connection', async () => {
    await logger(
      tcp,
      '--tcp',
      '--octet-count',
      '--rfc5424',
      '-t',
      'zoo',
      '-p',
      'user.warning',
      '--sd-id',
      'zoo@32473',
      '--sd-param',
      'tiger="hungry"',
      'sd-marker structured',
    );
    const [sd] = await rows("SELECT level, attributes FROM logs WHERE message LIKE '%sd-marker%'", 1);
    expect(sd![0]).toBe('warn');
    expect(JSON.stringify(sd![1])).toContain('hungry');

    // logger sends each line of its input as one message, all on one TCP connection.
    const lines = Array.from({ length: 20 }, (_, i) => `multi-marker line ${i}`).join('\n');
    const child = execFile('logger', ['--server', '127.0.0.1', '--port', String(tcp), '--tcp', '--octet-count', '--rfc5424']);
    child.stdin!.end(lines);
    await new Promise((resolve) => child.on('exit', resolve));
    const [[count]] = (await rows("SELECT count(*) FROM logs WHERE message LIKE '%multi-marker line%' HAVING count(*) = 20", 1)) as [[number]];
    expect(count).toBe(20);
  });
});

describe('syslog listener with keys', () => {
  it('is off without SLUICE_SYSLOG_TENANT, and says why', async () => {
    const stack = await startTestStack({ SLUICE_API_KEYS: 'syslog-admin-key-01:acme:ingest+query+admin', SLUICE_SYSLOG_PORT: '0' });
    try {
      expect(stack.syslog).toBeUndefined();
      expect(stack.logger.entries).toContainEqual(
        expect.objectContaining({ level: 'warn', message: expect.stringMatching(/syslog is off.*SLUICE_SYSLOG_TENANT/) }),
      );
    } finally {
      await stack.cleanup();
    }
  });

  it('stores messages under SLUICE_SYSLOG_TENANT', async () => {
    const stack = await startTestStack({
      SLUICE_API_KEYS: 'syslog-admin-key-01:acme:ingest+query+admin',
      SLUICE_SYSLOG_PORT: '0',
      SLUICE_SYSLOG_TENANT: 'acme',
    });
    try {
      await logger(stack.syslog!.udpPort, '--udp', '--rfc5424', 'tenant-marker for acme');
      const got = await eventually(async () => {
        const r = await call(`${stack.url}/v1/query`, {
          body: { sql: "SELECT message FROM logs WHERE message LIKE '%tenant-marker%'", ...RANGE },
          headers: { authorization: 'Bearer syslog-admin-key-01' },
        });
        return r.body.rows?.length ? r.body.rows : undefined;
      });
      expect(got).toEqual([[expect.stringContaining('tenant-marker for acme')]]);
    } finally {
      await stack.cleanup();
    }
  });
});

describe('syslog listener start-up', () => {
  it('names SLUICE_SYSLOG_PORT when the port is taken, and releases the HTTP port', async () => {
    const first = await startTestStack({ SLUICE_SYSLOG_PORT: '0' });
    try {
      await expect(startTestStack({ SLUICE_SYSLOG_PORT: String(first.syslog!.tcpPort) })).rejects.toThrow(/SLUICE_SYSLOG_PORT=\d+ cannot be used/);
    } finally {
      await first.cleanup();
    }
  });
});
