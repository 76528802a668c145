import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { call, eventually, startTestStack } from '../helpers/local-stack.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(
  args: string[],
  env: Record<string, string> = {},
  stdin?: string,
  onStderr?: (stderrSoFar: string) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['bin/sluice.mjs', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onStderr?.(stderr);
    });
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) proc.stdin.end(stdin);
    else proc.stdin.end();
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const SAMPLE = [
  '2024-05-01 12:00:00,001 ERROR [main] com.acme.App: failed',
  'java.lang.RuntimeException: boom',
  '\tat com.acme.App.main(App.java:3)',
  '{"level":"warn","msg":"json line","service":"api"}',
  'Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster',
  'not\u0000quite \uFFFD text',
  '10.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET /x HTTP/1.1" 404 0',
].join('\n');

describe('sluice normalize', () => {
  it('prints one schema-shaped JSON event per event, stack traces joined, and never stops on odd bytes', async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 'app.log');
    await writeFile(file, Buffer.concat([Buffer.from(SAMPLE), Buffer.from([0x0a, 0xff, 0xfe, 0x41, 0x0a])]));
    const r = await run(['normalize', file]);
    await cleanup();
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Lines that do not start an event (the stack trace, the odd-bytes lines) join the event before them.
    expect(events.map((e) => e.format)).toEqual(['text', 'json', 'syslog3164', 'clf']);
    expect(events[2].message).toContain('not\u0000quite');
    expect(events[3].message).toMatch(/\uFFFD\uFFFDA$/);
    expect(events[0]).toMatchObject({ level: 'error', ts: '2024-05-01T12:00:00.001000Z', source: file });
    expect(events[0].message).toContain('at com.acme.App.main');
    expect(events[1]).toMatchObject({ level: 'warn', service: 'api', message: 'json line' });
    for (const e of events)
      expect(Object.keys(e).sort()).toEqual([
        'attributes',
        'event_id',
        'format',
        'host',
        'ingested_at',
        'level',
        'message',
        'service',
        'severity',
        'source',
        'span_id',
        'tags',
        'trace_id',
        'ts',
        'ts_inferred',
      ]);
  });

  it('reads standard input with -', async () => {
    const r = await run(['normalize', '-'], {}, 'level=error msg="from stdin"\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'logfmt', level: 'error', message: 'from stdin' });
  });

  it('explains a bad --multiline regex', async () => {
    const r = await run(['normalize', '-', '--multiline', '(']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a regular expression/);
  });
});

describe('sluice ingest', () => {
  let cleanupStack: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanupStack?.();
    cleanupStack = undefined;
  });

  it('sends a file in batches that keep multi-line events whole, retrying until the server is up', async () => {
    const { dir, cleanup } = await tempDir();
    const file = join(dir, 'big.log');
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      lines.push(`2024-05-01 12:00:${String(i % 60).padStart(2, '0')} ERROR worker: job ${i} failed`);
      lines.push('Traceback (most recent call last):', `  File "job.py", line ${i}, in run`, `ValueError: job ${i}`);
    }
    await writeFile(file, lines.join('\n'));
    const port = await freePort();
    // Start the CLI first: the server comes up only once the CLI has said it is retrying (not after a fixed
    // wait, which a loaded machine can outlast), and the CLI must then retry rather than fail.
    let sawRetry!: () => void;
    const retrying = new Promise<void>((resolve) => (sawRetry = resolve));
    const cli = run(['ingest', file, '--batch-bytes', '4096', '--no-progress', '--url', `http://127.0.0.1:${port}`], {}, undefined, (err) => {
      if (/retrying/.test(err)) sawRetry();
    });
    await retrying;
    const stack = await startTestStack({ PORT: String(port) });
    cleanupStack = stack.cleanup;
    const r = await cli;
    await cleanup();
    expect(r.stderr).toMatch(/retrying/);
    expect(r.stderr).toMatch(/sent 300 events: 300 accepted, 0 rejected/);
    expect(r.code).toBe(0);
    const rows = await eventually(async () => {
      const q = await call(`${stack.url}/v1/query`, {
        body: {
          sql: "SELECT count(*), count(*) FILTER (WHERE message LIKE '%ValueError%') FROM logs",
          start: '2024-05-01T00:00:00Z',
          end: '2024-05-02T00:00:00Z',
        },
      });
      return q.body.rows?.[0]?.[0] === 300 ? q.body.rows[0] : undefined;
    });
    expect(rows).toEqual([300, 300]);
  });
});

describe('sluice query', () => {
  it('runs a pipeline query against a server and prints a table, JSON lines or CSV', async () => {
    const stack = await startTestStack({ SLUICE_API_KEYS: 'cli-query-key1:acme:ingest+query', SLUICE_QUERY_WAIT_MS: '0' });
    try {
      const lines = Array.from({ length: 30 }, (_, i) =>
        JSON.stringify({ level: i % 3 === 0 ? 'error' : 'info', service: i % 2 ? 'api' : 'web', msg: `m${i}, "quoted"` }),
      );
      await call(`${stack.url}/v1/logs`, {
        method: 'POST',
        raw: lines.join('\n'),
        headers: { authorization: 'Bearer cli-query-key1', 'content-type': 'application/x-ndjson' },
      });
      const env = { SLUICE_URL: stack.url, SLUICE_API_KEY: 'cli-query-key1' };
      await eventually(async () => {
        const r = await run(['query', 'stats count(*) as n', '--since', '1h', '--format', 'json'], env);
        return r.stdout.trim() === '{"n":30}' ? true : undefined;
      });
      const t = await run(['query', 'filter level = "error" | stats count(*) as errors by service | sort service', '--since', '1h'], env);
      expect(t.code).toBe(0);
      expect(t.stdout.trim().split('\n')).toEqual(['service  errors', '-------  ------', 'api      5', 'web      5']);
      const csv = await run(['query', 'fields message | filter message like "m1,"', '--since', '1h', '--format', 'csv'], env);
      expect(csv.stdout).toBe('message\n"m1, ""quoted"""\n');
      const bad = await run(['query', 'filter level =', '--since', '1h'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/400: line 1, column 15/);
      const noKey = await run(['query', 'stats count(*)'], { SLUICE_URL: stack.url, SLUICE_API_KEY: '' });
      expect(noKey.stderr).toMatch(/401/);
    } finally {
      await stack.cleanup();
    }
  });
});

describe('sluice alerts', () => {
  it('tests a rule against current data without sending, and lists rule states', async () => {
    const { dir, cleanup } = await tempDir();
    const rules = join(dir, 'alerts.yaml');
    await writeFile(
      rules,
      [
        'rules:',
        '  - name: api-errors',
        '    query: filter service = "api" and level = "error"',
        '    window: 1h',
        '    condition: count >= 3',
        '    channels: [console, slack:ops]',
      ].join('\n'),
    );
    const dataDir = join(dir, 'data');
    const stack = await startTestStack({ SLUICE_ALERTS_FILE: rules }, { dataDir, manualAlerts: true });
    try {
      const ts = new Date(Date.now() - 10 * 60_000).toISOString();
      const lines = Array.from({ length: 4 }, (_, i) => JSON.stringify({ time: ts, level: 'error', service: 'api', msg: `boom ${i}` }));
      const r = await call(`${stack.url}/v1/logs`, { method: 'POST', raw: lines.join('\n'), headers: { 'content-type': 'application/x-ndjson' } });
      await eventually(async () => ((await call(`${stack.url}/v1/receipts/${r.body.receipt}`)).body.status === 'stored' ? true : undefined));
      const env = { SLUICE_DATA_DIR: dataDir, SLUICE_ALERTS_FILE: rules, SLUICE_ALERTS_DELAY_MS: '0' };
      const t = await run(['alerts', 'test', 'api-errors'], env);
      expect(t.code).toBe(0);
      expect(t.stdout).toContain('(all): 4 → condition met (count >= 3)');
      expect(t.stdout).toContain('would send to console:');
      expect(t.stdout).toContain('would send to slack:ops:');
      expect(t.stdout).toContain('[FIRING] api-errors (default): count = 4');
      const l = await run(['alerts', 'list'], env);
      expect(l.stdout).toMatch(/api-errors\s+default\s+rate\(1 minute\)\s+count >= 3\s+console slack:ops\s+not evaluated yet/);
      const missing = await run(['alerts', 'test', 'nope'], env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/no rule named "nope"; the rules are: api-errors/);
    } finally {
      await stack.cleanup();
      await cleanup();
    }
  });
});
