/**
 * The `sluice` command line.
 *
 *   sluice normalize <file|->   print what Sluice makes of each event, one JSON object per line
 *   sluice ingest <file|->      send a file to a running server in batches, with progress and retries
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import pRetry, { AbortError } from 'p-retry';
import { makeLineJoiner, type Multiline } from '../../shared/domain/decode-body.js';
import { DEFAULT_EVENT_LIMITS, normalizeTextLine, type RecordContext } from '../../shared/domain/normalize/record.js';
import { microsToIso } from '../../shared/domain/normalize/timestamp.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { isValidZone } from '../../shared/domain/normalize/zone.js';

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
  for (const k of ['service', 'host', 'source', 'tz'] as const) if (opts[k]) url.searchParams.set(k, opts[k]!);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (opts.key) headers['authorization'] = `Bearer ${opts.key}`;
  return pRetry(
    async () => {
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers, body });
      } catch (err) {
        throw new Error(`cannot reach ${opts.url}: ${(err as Error).cause ? String((err as Error).cause) : (err as Error).message}`);
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
      const message = `${res.status}: ${String(json['message'] ?? text).slice(0, 300)}`;
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
  const bar = opts.progress && process.stderr.isTTY !== undefined
    ? new cliProgress.SingleBar(
        { format: 'sending |{bar}| {percentage}% | {value}/{total} bytes | {events} events | {eta_formatted} left', stream: process.stderr, hideCursor: true },
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

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
};

export function buildCli(): Command {
  const program = new Command('sluice').description('Sluice command line').showHelpAfterError();
  const shared = (cmd: Command) =>
    cmd
      .addOption(new Option('--multiline <mode>', "'auto', 'off', or a regex that matches the first line of an event").default('auto').argParser(parseMultiline))
      .addOption(new Option('--tz <zone>', "zone for times written without one: '+02:00' or an IANA name (default UTC)").argParser(parseZone))
      .option('--service <name>', 'service for events that do not name one')
      .option('--host <name>', 'host for events that do not name one')
      .option('--source <name>', 'source for the events (default: the file name)');

  shared(program.command('normalize').argument('<file>', "a log file, or '-' for standard input").description('print each normalized event as one JSON line')).action(
    (file: string, opts: SharedOptions) => normalizeCommand(file, opts),
  );

  shared(
    program
      .command('ingest')
      .argument('<file>', "a log file, or '-' for standard input")
      .description('send a file to a running Sluice server')
      .addOption(new Option('--url <url>', 'the server').env('SLUICE_URL').default('http://127.0.0.1:4318'))
      .addOption(new Option('--key <key>', 'API key').env('SLUICE_API_KEY'))
      .addOption(new Option('--batch-bytes <n>', 'bytes per request').default(1024 * 1024).argParser(positiveInt))
      .addOption(new Option('--retries <n>', 'retries per request when the server is unavailable').default(8).argParser(positiveInt))
      .option('--no-progress', 'no progress bar'),
  ).action((file: string, opts: IngestOptions) => ingestCommand(file, opts));
  return program;
}
