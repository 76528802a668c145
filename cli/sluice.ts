/**
 * The `sluice` command line.
 *
 *   sluice normalize <file|->   print what Sluice makes of each event, one JSON object per line
 *   sluice ingest <file|->      send a file to a running server in batches, with progress and retries
 *   sluice query <query>        run a query on a server and print the rows
 *   sluice alerts test|list     try the alert rules on the local data directory
 *   sluice keys create          make an API key for a deployment's keys secret (cli/create-api-key.ts)
 *
 * Launched by bin/sluice.mjs (`npx sluice …`). A client: ingest and query go through the public HTTP API.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import pRetry, { AbortError } from 'p-retry';
import { makeLineJoiner, type Multiline } from '../shared/domain/shippers/logs.js';
import { DEFAULT_EVENT_LIMITS, normalizeTextLine, type RecordContext } from '../shared/domain/normalize/record.js';
import { microsToIso } from '../shared/domain/normalize/timestamp.js';
import type { LogEvent } from '../shared/domain/schema.js';
import { isValidZone } from '../shared/domain/normalize/zone.js';
import { SCOPES } from '../shared/domain/principal.js';
import { textOf } from '../shared/domain/text.js';
import { ENV, defaultOf } from '../shared/config/env.js';

function parseMultiline(value: string): Multiline {
  if (value === 'auto' || value === 'off') return value;
  try {
    return new RegExp(value);
  } catch (err) {
    throw new InvalidArgumentError(`not a regular expression: ${(err as Error).message}`);
  }
}

function parseZone(value: string): string {
  if (!isValidZone(value)) throw new InvalidArgumentError("not a time zone: use '+02:00' or an IANA name such as Europe/Berlin");
  return value;
}

function input(file: string): NodeJS.ReadableStream {
  return file === '-' ? process.stdin : createReadStream(file);
}

/** Lines of a file, then events joined the way the server joins them. */
async function* events(file: string, multiline: Multiline): AsyncGenerator<{ index: number; text: string; bytes: number }> {
  const joiner = makeLineJoiner(multiline);
  const rl = createInterface({ input: input(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    for (const e of joiner.push(line)) yield { ...e, bytes: Buffer.byteLength(e.text) + 1 };
  }
  for (const e of joiner.end()) yield { ...e, bytes: Buffer.byteLength(e.text) + 1 };
}

/** An event as printed by `normalize`: schema field names, timestamps as ISO 8601. */
export function printable(e: LogEvent): Record<string, unknown> {
  return { ...e, ts: microsToIso(e.ts), ingested_at: microsToIso(e.ingested_at) };
}

interface SharedOptions {
  multiline: Multiline;
  tz?: string;
  service?: string;
  host?: string;
  source?: string;
}

async function normalizeCommand(file: string, opts: SharedOptions): Promise<void> {
  const now = Date.now() * 1000;
  const ctx: RecordContext = {
    receipt: 'cli',
    ingestedAtMicros: now,
    defaults: { service: opts.service, host: opts.host, source: opts.source ?? (file === '-' ? undefined : file), tz: opts.tz },
    limits: DEFAULT_EVENT_LIMITS,
  };
  for await (const e of events(file, opts.multiline)) {
    let out: string;
    try {
      out = JSON.stringify(printable(normalizeTextLine(e.text, e.index, ctx)));
    } catch (err) {
      // Never stop on a bad line: say what happened on stderr and go on.
      process.stderr.write(`line ${e.index + 1}: ${(err as Error).message}\n`);
      continue;
    }
    if (!process.stdout.write(`${out}\n`)) await new Promise((r) => process.stdout.once('drain', r));
  }
}

interface IngestOptions extends SharedOptions {
  url: string;
  key?: string;
  batchBytes: number;
  retries: number;
  progress: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

async function postBatch(opts: IngestOptions, body: string): Promise<{ accepted: number; rejectedCount: number; receipt: string }> {
  const url = new URL('/v1/logs', opts.url);
  url.searchParams.set('multiline', opts.multiline instanceof RegExp ? opts.multiline.source : opts.multiline);
  for (const k of ['service', 'host', 'source', 'tz'] as const) if (opts[k]) url.searchParams.set(k, opts[k]);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (opts.key) headers['authorization'] = `Bearer ${opts.key}`;
  return pRetry(
    async () => {
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers, body });
      } catch (err) {
        throw new Error(`cannot reach ${opts.url}: ${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}`, { cause: err });
      }
      const text = await res.text();
      const json = (() => {
        try {
          return JSON.parse(text) as Record<string, unknown>;
        } catch {
          return { message: text };
        }
      })();
      if (res.status === 202) return json as unknown as { accepted: number; rejectedCount: number; receipt: string };
      const message = `${res.status}: ${textOf(json['message'] ?? text).slice(0, 300)}`;
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = Number(res.headers.get('retry-after'));
        throw new HttpError(res.status, message, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
      }
      if (res.status === 400) return { accepted: 0, rejectedCount: Number(json['rejectedCount'] ?? 0), receipt: '' };
      throw new AbortError(message);
    },
    {
      retries: opts.retries,
      minTimeout: 500,
      maxTimeout: 30_000,
      randomize: true,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0) process.stderr.write(`\nretrying (${attemptNumber}/${opts.retries}): ${error.message}\n`);
        // Honour Retry-After on top of the backoff.
        if (error instanceof HttpError && error.retryAfterMs) await new Promise((r) => setTimeout(r, Math.min(error.retryAfterMs!, 60_000)));
      },
    },
  );
}

async function ingestCommand(file: string, opts: IngestOptions): Promise<void> {
  const total = file === '-' ? 0 : statSync(file).size;
  const bar =
    opts.progress && process.stderr.isTTY !== undefined
      ? new cliProgress.SingleBar(
          {
            format: 'sending |{bar}| {percentage}% | {value}/{total} bytes | {events} events | {eta_formatted} left',
            stream: process.stderr,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  bar?.start(total || 1, 0, { events: 0 });
  let batch: string[] = [];
  let batchBytes = 0;
  let sent = 0;
  let accepted = 0;
  let rejected = 0;
  let done = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const r = await postBatch(opts, batch.join('\n'));
    accepted += r.accepted;
    rejected += r.rejectedCount;
    sent += batch.length;
    done += batchBytes;
    bar?.update(total ? Math.min(done, total) : done, { events: sent });
    batch = [];
    batchBytes = 0;
  };
  for await (const e of events(file, opts.multiline)) {
    if (batchBytes + e.bytes > opts.batchBytes && batch.length > 0) await flush();
    batch.push(e.text);
    batchBytes += e.bytes;
  }
  await flush();
  bar?.stop();
  process.stderr.write(`sent ${sent} events: ${accepted} accepted, ${rejected} rejected\n`);
  if (rejected > 0) process.exitCode = 2;
}

interface QueryOptions {
  url: string;
  key?: string;
  since?: string;
  start?: string;
  end?: string;
  limit: number;
  format: 'table' | 'json' | 'csv';
  sql: boolean;
}

interface QueryResponse {
  status: 'complete' | 'running';
  token: string;
  columns?: { name: string; type: string }[];
  rows?: unknown[][];
  nextToken?: string;
  stats?: { rows: number; bytesScanned: number; elapsedMs: number; rangeHours: number };
  message?: string;
}

async function queryApi(opts: QueryOptions, path: string, init: RequestInit): Promise<{ status: number; body: QueryResponse }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.key) headers['authorization'] = `Bearer ${opts.key}`;
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.url), { ...init, headers });
  } catch (err) {
    throw new Error(`cannot reach ${opts.url}: ${textOf((err as Error).cause ?? (err as Error).message)}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({ message: res.statusText }))) as QueryResponse;
  if (res.status >= 400) throw new Error(`${res.status}: ${body.message ?? 'request failed'}`);
  return { status: res.status, body };
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : textOf(v);
}

function csvCell(v: unknown): string {
  const s = cell(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A plain aligned table; long cells are cut so a row stays on one line. */
function table(columns: string[], rows: unknown[][]): string {
  const cells = [columns, ...rows.map((r) => r.map((v) => cell(v).replace(/\s+/g, ' ').slice(0, 120)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

async function queryCommand(text: string, opts: QueryOptions): Promise<void> {
  const range = opts.start
    ? { start: opts.start, ...(opts.end ? { end: opts.end } : {}) }
    : { start: `-${opts.since ?? '15m'}`, ...(opts.end ? { end: opts.end } : {}) };
  const request = { [opts.sql ? 'sql' : 'query']: text, ...range, limit: opts.limit };
  let { body } = await queryApi(opts, '/v1/query', { method: 'POST', body: JSON.stringify(request) });
  let pause = 100;
  while (body.status === 'running') {
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 2000);
    ({ body } = await queryApi(opts, `/v1/query/${encodeURIComponent(body.token)}`, { method: 'GET' }));
  }
  const columns = (body.columns ?? []).map((c) => c.name);
  const rows = [...(body.rows ?? [])];
  let next = body.nextToken;
  while (next) {
    const page = await queryApi(opts, `/v1/query/${encodeURIComponent(body.token)}?nextToken=${encodeURIComponent(next)}`, { method: 'GET' });
    rows.push(...(page.body.rows ?? []));
    next = page.body.nextToken;
  }
  if (opts.format === 'json') {
    for (const r of rows) process.stdout.write(`${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, r[i]])))}\n`);
  } else if (opts.format === 'csv') {
    process.stdout.write(`${columns.map(csvCell).join(',')}\n`);
    for (const r of rows) process.stdout.write(`${r.map(csvCell).join(',')}\n`);
  } else {
    process.stdout.write(`${table(columns, rows)}\n`);
    const s = body.stats;
    if (s) process.stderr.write(`${rows.length} rows, ${s.bytesScanned} bytes scanned, ${s.elapsedMs} ms, over ${s.rangeHours} h\n`);
  }
}

/** The alert evaluator over the local data directory (loaded only for the alerts commands: DuckDB). */
async function localAlerts() {
  const { readLocalConfig } = await import('../shared/config/env.js');
  const { localAlerts: open } = await import('../lambdas/runtime/local-alerts.js');
  return open(readLocalConfig());
}

async function alertsTestCommand(name: string): Promise<void> {
  const { evaluator, close } = await localAlerts();
  try {
    const { rule, window, notifications } = await evaluator.dryRun(name);
    process.stdout.write(`rule ${rule.name} (${rule.tenant}) over ${new Date(window.start).toISOString()} to ${new Date(window.end).toISOString()}\n`);
    for (const g of window.groups)
      process.stdout.write(`  ${g.key || '(all)'}: ${g.value ?? 'no value'} → ${g.firing ? 'condition met' : 'condition not met'} (${rule.conditionText})\n`);
    if (notifications.length === 0) process.stdout.write('nothing would be sent\n');
    for (const n of notifications) process.stdout.write(`\nwould send to ${n.channel}:\n${n.notification.text}\n`);
  } finally {
    await close();
  }
}

async function alertsListCommand(): Promise<void> {
  const { evaluator, file, close } = await localAlerts();
  try {
    const rows = (await evaluator.states()).map(({ rule, state }) => {
      const firing = Object.entries(state?.groups ?? {}).filter(([, g]) => g.state === 'firing');
      const last = Math.max(0, ...Object.values(state?.groups ?? {}).map((g) => g.lastNotifiedAt ?? 0));
      return [
        rule.name,
        rule.tenant,
        rule.realtime ? 'realtime' : rule.schedule,
        rule.conditionText,
        rule.channels.map((c) => (c.kind === 'email' ? `email:${c.address}` : c.kind === 'slack' ? `slack:${c.webhook}` : c.kind)).join(' '),
        rule.realtime
          ? '-'
          : firing.length > 0
            ? `FIRING${firing[0]![0] ? ` (${firing.map(([k]) => k).join('; ')})` : ''}`
            : state
              ? 'ok'
              : 'not evaluated yet',
        state?.lastWindowEnd ? new Date(state.lastWindowEnd).toISOString() : '-',
        last ? new Date(last).toISOString() : '-',
      ];
    });
    process.stdout.write(
      `rules from ${file}\n${table(['rule', 'tenant', 'schedule', 'condition', 'channels', 'state', 'last window end', 'last notified'], rows)}\n`,
    );
  } finally {
    await close();
  }
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

export function buildCli(): Command {
  const program = new Command('sluice').description('Sluice command line').showHelpAfterError();
  const shared = (cmd: Command) =>
    cmd
      .addOption(
        new Option('--multiline <mode>', "'auto', 'off', or a regex that matches the first line of an event").default('auto').argParser(parseMultiline),
      )
      .addOption(new Option('--tz <zone>', "zone for times written without one: '+02:00' or an IANA name (default UTC)").argParser(parseZone))
      .option('--service <name>', 'service for events that do not name one')
      .option('--host <name>', 'host for events that do not name one')
      .option('--source <name>', 'source for the events (default: the file name)');

  shared(
    program.command('normalize').argument('<file>', "a log file, or '-' for standard input").description('print each normalized event as one JSON line'),
  ).action((file: string, opts: SharedOptions) => normalizeCommand(file, opts));

  shared(
    program
      .command('ingest')
      .argument('<file>', "a log file, or '-' for standard input")
      .description('send a file to a running Sluice server')
      .addOption(new Option('--url <url>', 'the server').env(ENV.cliUrl).default(defaultOf('cliUrl')))
      .addOption(new Option('--key <key>', 'API key').env(ENV.cliKey))
      .addOption(new Option('--batch-bytes <n>', 'bytes per request').default(1024 * 1024).argParser(positiveInt))
      .addOption(new Option('--retries <n>', 'retries per request when the server is unavailable').default(8).argParser(positiveInt))
      .option('--no-progress', 'no progress bar'),
  ).action((file: string, opts: IngestOptions) => ingestCommand(file, opts));

  program
    .command('query')
    .argument('<query>', 'a pipeline query, e.g. \'filter level = "error" | stats count(*) by service, bin(5m)\'')
    .description('run a query on a Sluice server and print the rows')
    .addOption(new Option('--url <url>', 'the server').env(ENV.cliUrl).default(defaultOf('cliUrl')))
    .addOption(new Option('--key <key>', 'API key').env(ENV.cliKey))
    .option('--since <duration>', 'how far back from now: 15m, 2h, 7d (default 15m)')
    .option('--start <time>', 'start of the range (ISO 8601, epoch ms, or -2h)')
    .option('--end <time>', 'end of the range (default now)')
    .addOption(new Option('--limit <n>', 'most rows').default(1000).argParser(positiveInt))
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'csv']).default('table'))
    .option('--sql', 'the argument is SQL over the table logs (needs an admin key)', false)
    .action((text: string, opts: QueryOptions) => {
      if (opts.since && !/^\d+[smhd]$/.test(opts.since)) throw new InvalidArgumentError('--since takes a duration such as 15m, 2h or 7d');
      return queryCommand(text, opts);
    });
  const alerts = program.command('alerts').description('alert rules (from SLUICE_ALERTS_FILE or alerts.yaml) on the local data directory');
  alerts
    .command('test')
    .argument('<rule>', 'the rule name')
    .description('evaluate a rule once against current data and print what would be sent, without sending')
    .action((name: string) => alertsTestCommand(name));
  alerts
    .command('list')
    .description("each rule's state")
    .action(() => alertsListCommand());

  const keys = program.command('keys').description('API keys of an AWS deployment (the keys secret holds only their hashes)');
  keys
    .command('create')
    .description('make a key for a tenant: print it once, and the hash entry to add to the keys secret')
    .option('--tenant <tenant>', 'the tenant the key writes to and reads from')
    .option('--scopes <scopes>', `what it may do, comma-separated: ${SCOPES.join(',')}`)
    .option('--label <text>', 'who or what holds the key (kept in the secret)')
    .option('--secret-id <arn>', 'the keys secret, for the commands printed (default $SLUICE_KEYS_SECRET_ARN)')
    .option('--update <file>', "the secret's current value, saved to a file: add the entry to it")
    .action(async (opts: { tenant?: string; scopes?: string; label?: string; secretId?: string; update?: string }) => {
      const { createApiKey } = await import('./create-api-key.js');
      process.stdout.write(createApiKey(opts, 'sluice keys create'));
    });
  return program;
}
