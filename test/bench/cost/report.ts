/**
 * The cost model (model.ts beside this file) at 10 GB, 100 GB and 1 TB of logs a day: Sluice's monthly
 * total and main line items beside CloudWatch Logs for the same volume and query mix. Reports, never fails.
 *
 *   npm run cost                                   # the table, with the measured defaults
 *   npm run cost -- --detail                       # every line item
 *   npm run cost -- --json cost.json               # the results as JSON too
 *   npm run cost -- --measure                      # measure CPU/GB, queue and Parquet ratios here first
 *   npm run cost -- --from-bench bench.json        # take measured inputs from a benchmark's JSON
 *   npm run cost -- --ingest-cpu 80 --writer-cpu 60 --compression 0.12 --volumes 10,100,1024
 *
 * Stack settings (batch size, lifecycle, retention, …) are infra/config.ts's defaults; `-c`-style overrides
 * that change the bill have flags here.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { decodeLogsBody } from '../../../shared/domain/shippers/logs.js';
import { DEFAULT_EVENT_LIMITS, normalizeJsonObject, normalizeTextLine, type RecordContext } from '../../../shared/domain/normalize/record.js';
import { decodeParquet, encodeParquet } from '../../../shared/domain/parquet.js';
import { packMessages, parseMessage } from '../../../shared/domain/queue-message.js';
import {
  byService,
  costModel,
  DEFAULT_INPUTS,
  GB,
  MEASURED_DEFAULTS,
  PRICES,
  PRICES_CHECKED,
  type CostInputs,
  type CostReport,
  type CostResult,
} from './model.js';
import { readConfig } from '../../../infra/config.js';
import { appNdjson } from '../app-corpus.js';

const num = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number`);
  return n;
};

const program = new Command()
  .name('cost')
  .description("Sluice's monthly AWS cost at several volumes, beside CloudWatch Logs")
  .option('--volumes <list>', 'GB of raw logs a day, comma-separated', '10,100,1024')
  .option('--json <file>', 'also write the results as JSON')
  .option('--detail', 'print every line item')
  .option(
    '--measure',
    'measure CPU s/GB and queue bytes per raw byte on this machine first (app corpus), and Parquet bytes per raw byte (loghub samples, when ../shared/corpora/loghub exists)',
  )
  .option(
    '--from-bench <file>',
    "take measured inputs from a JSON file: `npm run bench`'s results (pipeline events/s, storage rows) or the keys ingestCpuSecondsPerGb, writerCpuSecondsPerGb, compactorCpuSecondsPerGb, queueBytesPerRawByte, parquetBytesPerRawByte at any depth",
  )
  .option('--ingest-cpu <s>', 'ingest CPU seconds per raw GB', num('--ingest-cpu'))
  .option('--writer-cpu <s>', 'writer CPU seconds per raw GB', num('--writer-cpu'))
  .option('--compactor-cpu <s>', 'compactor CPU seconds per raw GB', num('--compactor-cpu'))
  .option('--lambda-cpu-factor <x>', "Lambda arm64 core time per measured core time (>1: Lambda's core is slower)", num('--lambda-cpu-factor'))
  .option('--compression <ratio>', 'Parquet bytes per raw byte', num('--compression'))
  .option('--queue-expansion <ratio>', 'queue message bytes per raw byte', num('--queue-expansion'))
  .option('--event-bytes <n>', 'average raw event size', num('--event-bytes'))
  .option('--events-per-request <n>', 'events per ingest request', num('--events-per-request'))
  .option('--gzip <ratio>', 'request bodies are gzip-compressed by this factor (e.g. 8)', num('--gzip'))
  .option('--tenants <n>', 'tenants sharing the stack', num('--tenants'))
  .option('--expire-days <n>', 'eventsExpireDays (retention in S3, and in CloudWatch for the comparison)', num('--expire-days'))
  .option('--transition-days <n>', 'eventsTransitionDays', num('--transition-days'))
  .option('--transition-class <class>', 'eventsTransitionStorageClass: STANDARD_IA, GLACIER_IR or INTELLIGENT_TIERING')
  .option('--batch-size <n>', 'writerBatchSize', num('--batch-size'))
  .option('--no-endpoints', 'createVpcEndpoints=false (the VPC already has them)')
  .option('--nat', 'a NAT gateway (Slack configured)')
  .option('--cw-compression <ratio>', "CloudWatch's archived bytes per ingested byte", num('--cw-compression'))
  .option('--no-alerts', 'no scheduled alert rules (no alert Lambda, no alert queries)');

type Opts = {
  volumes: string;
  json?: string;
  detail?: boolean;
  measure?: boolean;
  fromBench?: string;
  ingestCpu?: number;
  writerCpu?: number;
  compactorCpu?: number;
  lambdaCpuFactor?: number;
  compression?: number;
  queueExpansion?: number;
  eventBytes?: number;
  eventsPerRequest?: number;
  gzip?: number;
  tenants?: number;
  expireDays?: number;
  transitionDays?: number;
  transitionClass?: string;
  batchSize?: number;
  endpoints: boolean;
  nat?: boolean;
  cwCompression?: number;
  alerts: boolean;
};

type Measured = { -readonly [K in keyof typeof MEASURED_DEFAULTS]?: number };
const MEASURED_KEYS = Object.keys(MEASURED_DEFAULTS) as (keyof typeof MEASURED_DEFAULTS)[];

/** The README's pipeline figure the CPU defaults are pinned to: 77,000 events/s of 250 bytes on one core. */
const REFERENCE_PIPELINE_CPU_SECONDS_PER_GB = GB / (77_000 * 250);

/**
 * Measured inputs from a benchmark's JSON:
 * - the keys of MEASURED_DEFAULTS, anywhere in it (the first occurrence of each);
 * - `npm run bench`'s results: `metrics["ingest.app-ndjson.eventsPerSec"]` (decode → normalize → Parquet on
 *   one core, 250-byte events) scales the three CPU defaults by reference/measured; rows holding `rawBytes`
 *   and `parquetBytes` (test/bench/storage.ts) give Parquet bytes per raw byte.
 */
export function measuredFromJson(value: unknown): Measured {
  const found: Measured = {};
  let raw = 0;
  let parquet = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (typeof o.rawBytes === 'number' && typeof o.parquetBytes === 'number') {
        raw += o.rawBytes;
        parquet += o.parquetBytes;
      }
      for (const [k, x] of Object.entries(o)) {
        if ((MEASURED_KEYS as string[]).includes(k) && typeof x === 'number' && x > 0) found[k as keyof Measured] ??= x;
        else walk(x);
      }
    }
  };
  walk(value);
  const eps = (value as { metrics?: Record<string, { value?: unknown }> } | null)?.metrics?.['ingest.app-ndjson.eventsPerSec']?.value;
  if (typeof eps === 'number' && eps > 0) {
    const scale = GB / (eps * 250) / REFERENCE_PIPELINE_CPU_SECONDS_PER_GB;
    found.ingestCpuSecondsPerGb ??= MEASURED_DEFAULTS.ingestCpuSecondsPerGb * scale;
    found.writerCpuSecondsPerGb ??= MEASURED_DEFAULTS.writerCpuSecondsPerGb * scale;
    found.compactorCpuSecondsPerGb ??= MEASURED_DEFAULTS.compactorCpuSecondsPerGb * scale;
  }
  if (raw > 0 && found.parquetBytesPerRawByte === undefined) found.parquetBytesPerRawByte = parquet / raw;
  return found;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The AWS path's CPU on one core of this machine, on the app corpus: ingest, writer, compaction; and the byte ratios. */
const CPU_AND_QUEUE_KEYS = ['ingestCpuSecondsPerGb', 'writerCpuSecondsPerGb', 'compactorCpuSecondsPerGb', 'queueBytesPerRawByte'] as const;

async function measure(events = 100_000): Promise<Measured> {
  const ctx: RecordContext = { receipt: '01HZZZZZZZZZZZZZZZZZZZZZZZ', ingestedAtMicros: Date.now() * 1000, defaults: {}, limits: DEFAULT_EVENT_LIMITS };
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const runs: Record<(typeof CPU_AND_QUEUE_KEYS)[number], number>[] = [];
  for (let run = 0; run < 3; run++) {
    const text = appNdjson(events, run);
    const raw = Buffer.byteLength(text);
    let t = cpu();
    const records = decodeLogsBody(text, 'ndjson');
    const json = records.map((r) =>
      JSON.stringify(r.kind === 'json' ? normalizeJsonObject(r.value, r.index, ctx, r.raw) : normalizeTextLine((r as { line: string }).line, r.index, ctx)),
    );
    const messages: string[] = [];
    for (let k = 0; k < json.length; k += DEFAULT_INPUTS.eventsPerRequest)
      messages.push(...packMessages('acme', ctx.receipt, json.slice(k, k + DEFAULT_INPUTS.eventsPerRequest), 250 * 1024));
    const ingest = cpu() - t;
    t = cpu();
    for (let k = 0; k < messages.length; k += 24) encodeParquet(messages.slice(k, k + 24).flatMap((m) => parseMessage(m).events));
    const writer = cpu() - t;
    const all = encodeParquet(messages.flatMap((m) => parseMessage(m).events)); // one hour's compaction input
    t = cpu();
    const decoded = decodeParquet(all);
    encodeParquet([...decoded].sort((a, b) => a.ts - b.ts));
    const compact = cpu() - t;
    runs.push({
      ingestCpuSecondsPerGb: (ingest / raw) * GB,
      writerCpuSecondsPerGb: (writer / raw) * GB,
      // survey (timestamps) + decode + merge + encode: the decode/encode round trip plus ~10 %
      compactorCpuSecondsPerGb: ((compact * 1.1) / raw) * GB,
      queueBytesPerRawByte: messages.reduce((n, m) => n + Buffer.byteLength(m), 0) / raw,
    });
  }
  const out: Measured = Object.fromEntries(CPU_AND_QUEUE_KEYS.map((k) => [k, median(runs.map((r) => r[k]))]));
  // Parquet per raw byte from real logs (the app corpus is too regular): the loghub samples, as test/bench/storage.ts.
  const loghub = resolve(import.meta.dirname, '../../../../shared/corpora/loghub');
  if (existsSync(loghub)) {
    let raw = 0;
    let parquet = 0;
    for (const name of readdirSync(loghub).filter((s) => existsSync(join(loghub, s, `${s}_2k.log`)))) {
      const text = readFileSync(join(loghub, name, `${name}_2k.log`), 'utf8');
      const records = decodeLogsBody(text, 'text', { refMicros: ctx.ingestedAtMicros });
      raw += Buffer.byteLength(text);
      parquet += encodeParquet(records.map((r) => normalizeTextLine((r as { line: string }).line, r.index, ctx))).length;
    }
    if (raw > 0) out.parquetBytesPerRawByte = parquet / raw;
  }
  return out;
}

const usd = (n: number) => (n >= 100 ? `$${Math.round(n).toLocaleString('en-US')}` : `$${n.toFixed(2)}`);
const volumeName = (gb: number) => (gb >= 1024 && gb % 1024 === 0 ? `${gb / 1024} TB/day` : `${gb} GB/day`);

/** Sluice's lines grouped for the summary table. */
export function groups(r: CostReport): Record<string, number> {
  const g: Record<string, number> = { 'API GW': 0, Lambda: 0, SQS: 0, 'S3 req': 0, 'S3 storage': 0, Athena: 0, VPC: 0, other: 0 };
  for (const l of r.lines) {
    const key =
      l.service === 'API Gateway'
        ? 'API GW'
        : l.service === 'S3'
          ? /^(storage|lifecycle|Intelligent)/.test(l.item)
            ? 'S3 storage'
            : 'S3 req'
          : l.service in g
            ? l.service
            : 'other';
    g[key] = (g[key] ?? 0) + l.usd;
  }
  return g;
}

function table(results: CostResult[]): string {
  const heads = ['volume', 'Sluice', ...Object.keys(groups(results[0]!.sluice)), 'CloudWatch', 'CW / Sluice', 'CW ingest+storage', 'CW (IA class)'];
  const rows = results.map((r) => [
    volumeName(r.rawGbPerDay),
    usd(r.sluice.totalUsd),
    ...Object.values(groups(r.sluice)).map(usd),
    usd(r.cloudwatch.totalUsd),
    `${r.ratio.toFixed(1)}×`,
    usd(r.cloudwatch.lines.filter((l) => !/Insights/.test(l.item)).reduce((s, l) => s + l.usd, 0)),
    usd(r.cloudwatchInfrequentAccess.totalUsd),
  ]);
  const widths = heads.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const fmt = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [fmt(heads), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

function detail(r: CostResult): string {
  const out = [`\n${volumeName(r.rawGbPerDay)} — Sluice ${usd(r.sluice.totalUsd)} a month`];
  for (const l of r.sluice.lines)
    out.push(
      `  ${l.service.padEnd(16)} ${l.item.padEnd(62)} ${l.quantity.toExponential(3).padStart(10)} × ${l.unitUsd.toExponential(3)} = ${usd(l.usd).padStart(9)}${l.fixed ? '  (fixed)' : ''}`,
    );
  out.push(`  CloudWatch Logs (Standard) ${usd(r.cloudwatch.totalUsd)}:`);
  for (const l of r.cloudwatch.lines)
    out.push(
      `  ${l.service.padEnd(16)} ${l.item.padEnd(62)} ${l.quantity.toExponential(3).padStart(10)} × ${l.unitUsd.toExponential(3)} = ${usd(l.usd).padStart(9)}`,
    );
  const d = r.derived;
  out.push(
    `  derived: ${Math.round(d.requestsPerDay).toLocaleString('en-US')} requests/day of ${(d.requestBytes / 1024).toFixed(0)} KiB → ${d.messagesPerRequest} messages (${(d.avgMessageBytes / 1024).toFixed(0)} KiB, ${d.sqsSendUnitsPerRequest} SQS send units); ` +
      `${d.messagesPerWriterInvocation.toFixed(1)} messages per writer invocation, ${Math.round(d.writerInvocationsPerDay).toLocaleString('en-US')} invocations/day; ` +
      `${(d.parquetBytesPerDay / GB).toFixed(2)} GB Parquet/day; compactor ${Math.round(d.compactorSecondsPerRun)} s per run; Athena ${(d.athenaBytesPerDay / GB).toFixed(1)} GB/day over ${d.athenaQueriesPerDay} queries, Insights ${(d.insightsBytesPerDay / GB).toFixed(0)} GB/day`,
  );
  return out.join('\n');
}

async function main(): Promise<void> {
  const o = program.parse().opts<Opts>();
  const volumes = o.volumes.split(',').map((v) => num('--volumes')(v.trim()));
  // The stack's own defaults (cdk.json context overrides are not read: this models the defaults).
  const stack = readConfig(() => undefined);
  let measured: Measured = {};
  if (o.fromBench) measured = { ...measured, ...measuredFromJson(JSON.parse(readFileSync(o.fromBench, 'utf8')) as unknown) };
  if (o.measure) {
    console.error('measuring on this machine (app corpus, 100,000 events, median of 3)…');
    measured = { ...measured, ...(await measure()) };
  }
  const transitionClass = (o.transitionClass ?? stack.eventsTransitionStorageClass) as CostInputs['eventsTransitionStorageClass'];
  if (!['STANDARD_IA', 'GLACIER_IR', 'INTELLIGENT_TIERING'].includes(transitionClass))
    throw new InvalidArgumentError('--transition-class must be STANDARD_IA, GLACIER_IR or INTELLIGENT_TIERING');
  const base: CostInputs = {
    ...DEFAULT_INPUTS,
    writerBatchSize: o.batchSize ?? stack.writerBatchSize,
    writerBatchWindowSeconds: stack.writerBatchWindowSeconds,
    eventsTransitionDays: o.transitionDays ?? stack.eventsTransitionDays,
    eventsTransitionStorageClass: transitionClass,
    eventsExpireDays: o.expireDays ?? stack.eventsExpireDays,
    receiptsExpireDays: stack.receiptsExpireDays,
    logRetentionDays: stack.logRetentionDays,
    authorizerCacheSeconds: stack.authorizerCacheSeconds,
    createVpcEndpoints: o.endpoints && stack.createVpcEndpoints,
    natGateway: o.nat ?? stack.slackWebhookSecretName !== undefined,
    ...measured,
    ...(o.ingestCpu ? { ingestCpuSecondsPerGb: o.ingestCpu } : {}),
    ...(o.writerCpu ? { writerCpuSecondsPerGb: o.writerCpu } : {}),
    ...(o.compactorCpu ? { compactorCpuSecondsPerGb: o.compactorCpu } : {}),
    ...(o.lambdaCpuFactor ? { lambdaCpuFactor: o.lambdaCpuFactor } : {}),
    ...(o.compression ? { parquetBytesPerRawByte: o.compression } : {}),
    ...(o.queueExpansion ? { queueBytesPerRawByte: o.queueExpansion } : {}),
    ...(o.eventBytes ? { avgEventBytes: o.eventBytes } : {}),
    ...(o.eventsPerRequest ? { eventsPerRequest: Math.round(o.eventsPerRequest) } : {}),
    ...(o.gzip ? { requestBodyCompression: o.gzip } : {}),
    ...(o.tenants ? { tenants: Math.round(o.tenants) } : {}),
    ...(o.cwCompression ? { cloudwatchStorageCompression: o.cwCompression } : {}),
    ...(o.alerts ? {} : { alertRunsPerDay: 0, queries: DEFAULT_INPUTS.queries.filter((q) => !q.fromAlertLambda) }),
  };
  const results = volumes.map((rawGbPerDay) => costModel({ ...base, rawGbPerDay }));

  console.log(
    `\nSluice on AWS (us-east-1 list prices checked ${PRICES_CHECKED}, steady state: ${base.eventsExpireDays} days of data stored), USD a month, beside CloudWatch Logs for the same logs, retention and queries`,
  );
  console.log(
    `inputs: ${base.avgEventBytes}-byte events, ${base.eventsPerRequest} per request; CPU s/GB ingest ${base.ingestCpuSecondsPerGb.toFixed(0)}, writer ${base.writerCpuSecondsPerGb.toFixed(0)}, compactor ${base.compactorCpuSecondsPerGb.toFixed(0)} (×${base.lambdaCpuFactor} on Lambda); ` +
      `queue ${base.queueBytesPerRawByte.toFixed(2)}× raw, Parquet ${base.parquetBytesPerRawByte.toFixed(3)}× raw; ${base.tenants} tenant(s); ${base.queries.reduce((s, q) => s + q.perDay, 0)} queries a day\n`,
  );
  console.log(table(results));
  if (o.detail) for (const r of results) console.log(detail(r));
  for (const r of results) for (const w of r.warnings) console.log(`\nwarning (${volumeName(r.rawGbPerDay)}): ${w}`);
  console.log(`\nSluice by service (${results.map((r) => volumeName(r.rawGbPerDay)).join(' / ')}):`);
  const services = Object.keys(byService(results[0]!.sluice));
  for (const s of services) console.log(`  ${s.padEnd(16)} ${results.map((r) => usd(byService(r.sluice)[s] ?? 0).padStart(9)).join(' ')}`);
  console.log('');

  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ pricesChecked: PRICES_CHECKED, prices: PRICES, inputs: base, results }, null, 2));
    console.log(`wrote ${o.json}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
