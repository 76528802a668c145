/**
 * The cost model (issue #8): what a month of Sluice costs in AWS at a given log volume, line by line, beside
 * CloudWatch Logs for the same volume and the same query mix. Pure arithmetic: every input is a parameter
 * (report.ts beside this file fills them from the stack's configuration and from measurements), every price
 * is in PRICES with its source and the date it was read.
 *
 * Units: a "GB" is 2^30 bytes (what AWS bills as a GB), a month is 730 hours (AWS's own convention), a day
 * of logs is `rawGbPerDay` GB of the bytes the shippers send (uncompressed NDJSON).
 *
 * The shape of the traffic follows the code, not a guess:
 * - ingest (shared/services/ingest.ts, shared/domain/queue-message.ts): one request → normalized events as
 *   JSON, packed into messages of at most SQS_MAX_BODY_BYTES less a 200-byte envelope; the SQS adapter
 *   (shared/adapters/aws/sqs-queue.ts) groups them into SendMessageBatch calls of ≤ 10 entries and
 *   ≤ 256 KiB. SQS bills each 64 KiB chunk of a call's payload as one request.
 * - writer (infra/constructs/ingest.ts): an SQS event source with batchSize / maxBatchingWindow from
 *   infra/config.ts, and Lambda's 6 MB invocation payload limit; per invocation one Parquet PUT per
 *   partition (tenant/dt/hour) and one receipt PUT per message (shared/services/batch-writer.ts).
 * - compactor (infra/constructs/compaction.ts, shared/services/compaction/): hourly; lists all of events/,
 *   reads each input file (twice: a survey pass and the merge), writes files of up to 256 MB and a manifest.
 * - storage (infra/constructs/storage.ts): events/ stays in S3 Standard for eventsTransitionDays, then moves to
 *   eventsTransitionStorageClass until eventsExpireDays; the bucket uses a KMS CMK with an S3 Bucket Key.
 * - network (infra/constructs/network.ts): eight interface endpoints in two AZs, an S3 gateway endpoint
 *   (free), a NAT gateway only with Slack.
 */

/** When the prices below were read. */
export const PRICES_CHECKED = '2026-11-21';

export interface Price {
  /** USD per unit. */
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
}

const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const CW = 'https://aws.amazon.com/cloudwatch/pricing/';

/**
 * us-east-1 list prices, on-demand, without free tiers, as published on the AWS pricing pages named in
 * `source` (checked PRICES_CHECKED; see the README's Cost section for how they were checked).
 */
export const PRICES = {
  lambdaRequest: { usd: 0.2 / 1e6, unit: 'request', source: LAMBDA },
  lambdaArmGbSecond: { usd: 0.0000133334, unit: 'GB-second, arm64 (first 7.5 billion GB-s a month)', source: LAMBDA },
  sqsRequest: { usd: 0.4 / 1e6, unit: 'request (64 KiB chunk), standard queue, first 100 billion a month', source: 'https://aws.amazon.com/sqs/pricing/' },
  s3StandardGbMonth: { usd: 0.023, unit: 'GB-month, S3 Standard (first 50 TB)', source: S3 },
  s3StandardIaGbMonth: { usd: 0.0125, unit: 'GB-month, S3 Standard-IA (128 KB minimum object size)', source: S3 },
  s3GlacierIrGbMonth: { usd: 0.004, unit: 'GB-month, S3 Glacier Instant Retrieval (128 KB minimum object size)', source: S3 },
  s3IntelligentTieringMonitoring: { usd: 0.0025 / 1000, unit: 'object-month monitored, S3 Intelligent-Tiering (objects ≥ 128 KB)', source: S3 },
  s3PutStandard: { usd: 0.005 / 1000, unit: 'PUT/COPY/POST/LIST request, S3 Standard', source: S3 },
  s3GetStandard: { usd: 0.0004 / 1000, unit: 'GET/SELECT request, S3 Standard', source: S3 },
  s3TransitionStandardIa: { usd: 0.01 / 1000, unit: 'lifecycle transition request to Standard-IA', source: S3 },
  s3TransitionGlacierIr: { usd: 0.02 / 1000, unit: 'lifecycle transition request to Glacier Instant Retrieval', source: S3 },
  s3TransitionIntelligentTiering: { usd: 0.01 / 1000, unit: 'lifecycle transition request to Intelligent-Tiering', source: S3 },
  athenaTbScanned: { usd: 5, unit: 'TB scanned (10 MB minimum per query, rounded up to the MB)', source: 'https://aws.amazon.com/athena/pricing/' },
  apiGatewayHttpFirst300M: {
    usd: 1.0 / 1e6,
    unit: 'HTTP API request (512 KB metering unit), first 300 million a month',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  apiGatewayHttpOver300M: {
    usd: 0.9 / 1e6,
    unit: 'HTTP API request (512 KB metering unit), over 300 million a month',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
  },
  kmsKeyMonth: { usd: 1, unit: 'customer managed key-month', source: 'https://aws.amazon.com/kms/pricing/' },
  kmsRequest: { usd: 0.03 / 10_000, unit: 'KMS API request (symmetric)', source: 'https://aws.amazon.com/kms/pricing/' },
  secretMonth: { usd: 0.4, unit: 'secret-month', source: 'https://aws.amazon.com/secrets-manager/pricing/' },
  secretsApiCall: { usd: 0.05 / 10_000, unit: 'Secrets Manager API call', source: 'https://aws.amazon.com/secrets-manager/pricing/' },
  vpcInterfaceEndpointHour: { usd: 0.01, unit: 'interface endpoint per AZ-hour', source: 'https://aws.amazon.com/privatelink/pricing/' },
  vpcInterfaceEndpointGb: { usd: 0.01, unit: 'GB processed by interface endpoints (first PB a month)', source: 'https://aws.amazon.com/privatelink/pricing/' },
  natGatewayHour: { usd: 0.045, unit: 'NAT gateway-hour', source: 'https://aws.amazon.com/vpc/pricing/' },
  natGatewayGb: { usd: 0.045, unit: 'GB processed by a NAT gateway', source: 'https://aws.amazon.com/vpc/pricing/' },
  cloudwatchAlarmMonth: { usd: 0.1, unit: 'standard-resolution metric alarm-month', source: CW },
  cloudwatchLogsIngestGb: { usd: 0.5, unit: 'GB ingested, Standard log class (custom logs; also the first 10 TB tier of Lambda logs)', source: CW },
  cloudwatchLogsIaIngestGb: { usd: 0.25, unit: 'GB ingested, Infrequent Access log class', source: CW },
  cloudwatchLogsStorageGbMonth: { usd: 0.03, unit: 'GB-month archived (compressed)', source: CW },
  cloudwatchLogsInsightsGb: { usd: 0.005, unit: 'GB scanned by Logs Insights', source: CW },
} as const satisfies Record<string, Price>;

export type PriceTable = { readonly [K in keyof typeof PRICES]: Price };

export const GB = 2 ** 30;
export const MB = 2 ** 20;
export const TB = 2 ** 40;
export const KIB = 1024;
export const HOURS_PER_MONTH = 730;
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** SQS limits as the adapter uses them (shared/adapters/aws/sqs-queue.ts; a unit test keeps them equal). */
export const SQS_LIMITS = {
  maxBatchBytes: 256 * KIB,
  maxBodyBytes: 256 * KIB - 6 * KIB,
  maxBatchEntries: 10,
  /** SQS bills a call per 64 KiB chunk of its payload. */
  billingChunkBytes: 64 * KIB,
  /** packMessages' per-message envelope (shared/domain/queue-message.ts). */
  envelopeBytes: 200,
} as const;

/** Lambda: 1,769 MB of memory is one vCPU; the synchronous/event-source invocation payload limit. */
export const LAMBDA_MB_PER_VCPU = 1769;
export const LAMBDA_MAX_PAYLOAD_BYTES = 6 * MB;
/** API Gateway HTTP APIs meter a request per 512 KB. */
export const API_GATEWAY_METERING_BYTES = 512 * KIB;
/** Athena's minimum billed scan per query. */
export const ATHENA_MIN_BYTES_PER_QUERY = 10 * MB;

/** One class of queries in the mix: `perDay` queries, each over the last `windowHours`, reading `columnFraction` of the bytes. */
export interface QueryClass {
  readonly name: string;
  readonly perDay: number;
  readonly windowHours: number;
  /** Share of a row's Parquet bytes in the columns the query reads (Parquet is columnar; CloudWatch reads whole events). */
  readonly columnFraction: number;
  /** Issued by the alert Lambda (straight to Athena), not through the API and the query Lambda. */
  readonly fromAlertLambda?: boolean;
}

export interface LambdaSettings {
  readonly memoryMb: number;
}

export interface CostInputs {
  /** GB (2^30 bytes) of raw logs a day, as the shippers send them. */
  readonly rawGbPerDay: number;
  readonly avgEventBytes: number;
  readonly eventsPerRequest: number;
  /** Gzip-compressed request bodies: API Gateway meters (and the 512 KB unit counts) the bytes on the wire. */
  readonly requestBodyCompression: number;
  readonly tenants: number;
  /** Active API keys (shippers): the authorizer runs once per key per cache TTL. */
  readonly apiKeys: number;

  // Measured.
  /** Bytes of queue message (normalized events as JSON) per raw byte. */
  readonly queueBytesPerRawByte: number;
  /** Parquet bytes (ZSTD, compacted) per raw byte. */
  readonly parquetBytesPerRawByte: number;
  /** CPU seconds (one core, measured off Lambda) per raw GB: decode → normalize → serialize → pack. */
  readonly ingestCpuSecondsPerGb: number;
  /** CPU seconds per raw GB: parse and validate messages → Parquet encode. */
  readonly writerCpuSecondsPerGb: number;
  /** CPU seconds per raw GB: survey + decode + merge + re-encode an hour. */
  readonly compactorCpuSecondsPerGb: number;
  /** Lambda's arm64 core against the core the CPU figures were measured on (>1: Lambda is slower). */
  readonly lambdaCpuFactor: number;
  /** Time an ingest invocation waits on SQS (SendMessageBatch round trips). */
  readonly ingestWaitMsPerRequest: number;
  /** Time a writer invocation waits on S3 PUTs (file and receipts). */
  readonly writerWaitMsPerInvocation: number;
  /** S3 throughput of the compactor while it reads and writes. */
  readonly compactorS3MbPerSecond: number;
  readonly authorizerMsPerInvocation: number;
  /** How long the query Lambda runs (mostly waiting on Athena) per API query. */
  readonly queryLambdaSecondsPerQuery: number;
  /** API requests per query (POST /v1/query and the GET polls of its token). */
  readonly apiRequestsPerQuery: number;
  /** How long the alert Lambda waits per Athena query it runs, and per run at the least. */
  readonly alertSecondsPerQuery: number;
  readonly alertMsPerRun: number;
  /** The Lambdas' own log bytes per invocation (START/END/REPORT in JSON, info-level lines). */
  readonly lambdaLogBytesPerInvocation: number;
  readonly apiAccessLogBytesPerRequest: number;
  /** Range GETs Athena makes per Parquet file it opens (footer, then column chunks). */
  readonly athenaGetsPerFile: number;

  // Stack (infra/config.ts defaults, infra/constructs/*).
  readonly writerBatchSize: number;
  readonly writerBatchWindowSeconds: number;
  readonly eventsTransitionDays: number;
  readonly eventsTransitionStorageClass: 'STANDARD_IA' | 'INTELLIGENT_TIERING' | 'GLACIER_IR';
  readonly eventsExpireDays: number;
  readonly receiptsExpireDays: number;
  readonly logRetentionDays: number;
  readonly authorizerCacheSeconds: number;
  readonly lambdas: {
    readonly ingest: LambdaSettings;
    readonly writer: LambdaSettings;
    readonly compactor: LambdaSettings;
    readonly authorizer: LambdaSettings;
    readonly query: LambdaSettings;
    readonly alerts: LambdaSettings;
  };
  /** Runs of the alert Lambda a day (EventBridge every minute: 1,440; 0 without scheduled rules). */
  readonly alertRunsPerDay: number;
  readonly compactorRunsPerDay: number;
  readonly compactorMaxFileBytes: number;
  /** An hour is compacted this long after its end, plus up to an hour until the next run. */
  readonly compactorClosedAfterHours: number;
  readonly compactorGetsPerInput: number;
  readonly interfaceEndpoints: number;
  readonly availabilityZones: number;
  /** false with -c createVpcEndpoints=false (an existing VPC that has them). */
  readonly createVpcEndpoints: boolean;
  /** true when Slack is configured (a NAT gateway). */
  readonly natGateway: boolean;
  readonly secrets: number;
  readonly secretsApiCallsPerMonth: number;
  readonly alarms: number;
  /** KMS calls per S3 request on the bucket: the S3 Bucket Key cuts them by up to 99 %. */
  readonly kmsCallsPerS3Request: number;
  /** KMS calls a month for SQS (1 h data key reuse, two principals) and the secrets. */
  readonly kmsOtherCallsPerMonth: number;
  /** Idle long polls of the SQS event source (Lambda's pollers, 20 s each). */
  readonly sqsPollers: number;
  /** Size of a receipt part (JSON) stored per message. */
  readonly receiptBytes: number;

  readonly queries: readonly QueryClass[];

  // CloudWatch Logs.
  /** Archived (compressed) bytes per ingested byte; the AWS Pricing Calculator assumes 0.15. */
  readonly cloudwatchStorageCompression: number;
  /** Bytes CloudWatch adds per event when it counts a batch (26); 0 counts the message bytes only. */
  readonly cloudwatchEventOverheadBytes: number;
}

/** The query mix the README states. */
export const DEFAULT_QUERY_MIX: readonly QueryClass[] = [
  { name: 'alert rules (10 rules every 5 min, last 15 min)', perDay: 10 * 288, windowHours: 0.25, columnFraction: 0.15, fromAlertLambda: true },
  { name: 'dashboards (200 a day, last 24 h)', perDay: 200, windowHours: 24, columnFraction: 0.15 },
  { name: 'ad-hoc searches (50 a day, last 6 h)', perDay: 50, windowHours: 6, columnFraction: 0.6 },
  { name: 'investigations (5 a day, last 7 days)', perDay: 5, windowHours: 168, columnFraction: 0.6 },
];

/**
 * Measured defaults (README, Cost: how each was measured).
 * - CPU: the app corpus (test/bench/app-corpus.ts, 250-byte NDJSON events) through the real functions on one
 *   core of this project's 2-core x86 machine, median of 3: ingest ~53 s/GB, writer ~39 s/GB, compaction
 *   ~66 s/GB (`npm run cost -- --measure` repeats it; measured 2026-11-21 after the #8 optimizations, which
 *   took ingest from 60 and the writer from 45; the streaming compactor reads each input twice). The
 *   README's older pipeline figure, 77,000 events/s for decode → normalize → encode, is
 *   2^30 / (77,000 × 250) = 56 s/GB for the same steps without the JSON hop through the queue.
 * - queue bytes: 1.79 per raw byte (normalized JSON is larger than the raw line: ids, timestamps, attributes).
 * - Parquet: 0.10 per raw byte, the loghub samples (test/bench/storage.ts, 8 corpora of 2,000 lines); the
 *   app corpus gives 0.03, too regular to stand for real logs.
 */
export const MEASURED_DEFAULTS = {
  queueBytesPerRawByte: 1.79,
  parquetBytesPerRawByte: 0.1,
  ingestCpuSecondsPerGb: 53,
  writerCpuSecondsPerGb: 39,
  compactorCpuSecondsPerGb: 66,
} as const;

export const DEFAULT_INPUTS: CostInputs = {
  rawGbPerDay: 100,
  avgEventBytes: 250,
  eventsPerRequest: 1000,
  requestBodyCompression: 1,
  tenants: 1,
  apiKeys: 10,
  ...MEASURED_DEFAULTS,
  lambdaCpuFactor: 1,
  ingestWaitMsPerRequest: 40,
  writerWaitMsPerInvocation: 150,
  compactorS3MbPerSecond: 100,
  authorizerMsPerInvocation: 20,
  queryLambdaSecondsPerQuery: 3,
  apiRequestsPerQuery: 2,
  alertSecondsPerQuery: 2,
  alertMsPerRun: 200,
  lambdaLogBytesPerInvocation: 1000,
  apiAccessLogBytesPerRequest: 450,
  athenaGetsPerFile: 2,
  writerBatchSize: 100,
  writerBatchWindowSeconds: 5,
  eventsTransitionDays: 30,
  eventsTransitionStorageClass: 'STANDARD_IA',
  eventsExpireDays: 365,
  receiptsExpireDays: 14,
  logRetentionDays: 30,
  authorizerCacheSeconds: 30,
  lambdas: {
    ingest: { memoryMb: 1024 },
    writer: { memoryMb: 2048 },
    compactor: { memoryMb: 4096 },
    authorizer: { memoryMb: 256 },
    query: { memoryMb: 1024 },
    alerts: { memoryMb: 512 },
  },
  alertRunsPerDay: 1440,
  compactorRunsPerDay: 24,
  compactorMaxFileBytes: 256 * MB,
  compactorClosedAfterHours: 2,
  compactorGetsPerInput: 2,
  interfaceEndpoints: 8,
  availabilityZones: 2,
  createVpcEndpoints: true,
  natGateway: false,
  secrets: 2,
  secretsApiCallsPerMonth: 30_000,
  // 3 queue/Athena alarms + errors and throttles for 6 functions (infra/constructs/monitoring.ts).
  alarms: 15,
  kmsCallsPerS3Request: 0.01,
  kmsOtherCallsPerMonth: 4 * HOURS_PER_MONTH,
  sqsPollers: 5,
  receiptBytes: 300,
  queries: DEFAULT_QUERY_MIX,
  cloudwatchStorageCompression: 0.15,
  cloudwatchEventOverheadBytes: 0,
};

export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly unitUsd: number;
  readonly usd: number;
  /** Fixed lines cost the same at any volume. */
  readonly fixed?: boolean;
}

export interface CostReport {
  readonly totalUsd: number;
  readonly lines: readonly CostLine[];
}

export interface Derived {
  readonly rawBytesPerDay: number;
  readonly eventsPerDay: number;
  readonly requestsPerDay: number;
  readonly requestBytes: number;
  readonly messagesPerRequest: number;
  readonly avgMessageBytes: number;
  readonly sqsSendUnitsPerRequest: number;
  readonly messagesPerDay: number;
  readonly messagesPerWriterInvocation: number;
  readonly writerInvocationsPerDay: number;
  readonly writerFilesPerDay: number;
  readonly parquetBytesPerDay: number;
  readonly compactedFilesPerTenantHour: number;
  readonly compactorSecondsPerRun: number;
  readonly athenaBytesPerDay: number;
  readonly athenaQueriesPerDay: number;
  readonly insightsBytesPerDay: number;
}

export interface CostResult {
  readonly rawGbPerDay: number;
  readonly sluice: CostReport;
  readonly cloudwatch: CostReport;
  readonly cloudwatchInfrequentAccess: CostReport;
  /** CloudWatch Logs (Standard) total / Sluice total. */
  readonly ratio: number;
  readonly derived: Derived;
  readonly warnings: readonly string[];
}

const line = (service: string, item: string, quantity: number, price: Price, fixed = false): CostLine => ({
  service,
  item,
  quantity,
  unit: price.unit,
  unitUsd: price.usd,
  usd: quantity * price.usd,
  ...(fixed ? { fixed } : {}),
});

const report = (lines: CostLine[]): CostReport => ({ lines, totalUsd: lines.reduce((s, l) => s + l.usd, 0) });

/** Seconds a single-threaded Node.js handler runs for `cpuSeconds` of CPU at `memoryMb` (below 1,769 MB it gets a share of a vCPU). */
export function lambdaSeconds(cpuSeconds: number, memoryMb: number): number {
  return cpuSeconds / Math.min(1, memoryMb / LAMBDA_MB_PER_VCPU);
}

/** GB-seconds billed for `seconds` of duration at `memoryMb`. */
export function gbSeconds(seconds: number, memoryMb: number): number {
  return seconds * (memoryMb / 1024);
}

/** Requests SQS bills for one call carrying `payloadBytes`: one per 64 KiB chunk, at least one. */
export function sqsBilledRequests(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / SQS_LIMITS.billingChunkBytes));
}

/** API Gateway HTTP API requests billed for one request of `bytes`: one per 512 KB. */
export function apiGatewayMeteredRequests(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / API_GATEWAY_METERING_BYTES));
}

/** Bytes Athena bills for a query that reads `bytes`: rounded up to the MB, 10 MB at the least. */
export function athenaBilledBytes(bytes: number): number {
  return Math.max(ATHENA_MIN_BYTES_PER_QUERY, Math.ceil(bytes / MB) * MB);
}

/** API Gateway HTTP API cost of `requests` a month, with the 300 million tier. */
export function apiGatewayUsd(requests: number, prices: PriceTable = PRICES): number {
  const first = Math.min(requests, 300e6);
  return first * prices.apiGatewayHttpFirst300M.usd + (requests - first) * prices.apiGatewayHttpOver300M.usd;
}

/**
 * The message sizes one request becomes (packMessages: fill each message up to the body limit), and the
 * SendMessageBatch calls the adapter groups them into (planBatches), as billed SQS requests.
 */
export function ingestMessages(queueBytesPerRequest: number): { messages: number[]; sendUnits: number; calls: number } {
  const capacity = SQS_LIMITS.maxBodyBytes - SQS_LIMITS.envelopeBytes;
  const n = Math.max(1, Math.ceil(queueBytesPerRequest / capacity));
  const messages: number[] = [];
  let left = queueBytesPerRequest;
  for (let i = 0; i < n; i++) {
    const body = Math.min(capacity, left);
    messages.push(body + SQS_LIMITS.envelopeBytes);
    left -= body;
  }
  // planBatches: consecutive bodies, ≤ 10 entries and ≤ 256 KiB per call.
  let sendUnits = 0;
  let calls = 0;
  let entries = 0;
  let bytes = 0;
  const flush = () => {
    if (entries === 0) return;
    sendUnits += sqsBilledRequests(bytes);
    calls++;
    entries = 0;
    bytes = 0;
  };
  for (const size of messages) {
    if (entries > 0 && (entries === SQS_LIMITS.maxBatchEntries || bytes + size > SQS_LIMITS.maxBatchBytes)) flush();
    entries++;
    bytes += size;
  }
  flush();
  return { messages, sendUnits, calls };
}

/**
 * Messages per writer invocation: the event source fills a batch up to batchSize or Lambda's 6 MB payload
 * (each SQS record carries ~1 KB of attributes beside its body), or what arrives within the batching window.
 */
export function messagesPerWriterInvocation(messagesPerSecond: number, avgMessageBytes: number, batchSize: number, windowSeconds: number): number {
  const byPayload = Math.max(1, Math.floor(LAMBDA_MAX_PAYLOAD_BYTES / (avgMessageBytes + KIB)));
  const cap = Math.min(batchSize, byPayload);
  return Math.max(1, Math.min(cap, messagesPerSecond * Math.max(windowSeconds, 1)));
}

/**
 * Steady-state GB-months of events/ per storage class, once the bucket holds eventsExpireDays of data:
 * Standard for the first transition days, then the transition class (Intelligent-Tiering: its frequent
 * tier for 30 days, infrequent until day 90, archive instant access after).
 */
export function storageGbMonths(parquetGbPerDay: number, i: Pick<CostInputs, 'eventsTransitionDays' | 'eventsExpireDays' | 'eventsTransitionStorageClass'>) {
  const standardDays = Math.min(i.eventsTransitionDays, i.eventsExpireDays);
  const laterDays = Math.max(0, i.eventsExpireDays - standardDays);
  if (i.eventsTransitionStorageClass !== 'INTELLIGENT_TIERING') {
    return { standard: parquetGbPerDay * standardDays, transitioned: parquetGbPerDay * laterDays, itFrequent: 0, itInfrequent: 0, itArchive: 0 };
  }
  const frequent = Math.min(laterDays, 30);
  const infrequent = Math.min(Math.max(0, laterDays - 30), 60);
  const archive = Math.max(0, laterDays - 90);
  return {
    standard: parquetGbPerDay * standardDays,
    transitioned: parquetGbPerDay * laterDays,
    itFrequent: parquetGbPerDay * frequent,
    itInfrequent: parquetGbPerDay * infrequent,
    itArchive: parquetGbPerDay * archive,
  };
}

/** The whole model for one volume. */
export function costModel(inputs: CostInputs, prices: PriceTable = PRICES): CostResult {
  const i = inputs;
  const warnings: string[] = [];
  const M = DAYS_PER_MONTH;

  // Traffic.
  const rawBytesPerDay = i.rawGbPerDay * GB;
  const eventsPerDay = rawBytesPerDay / i.avgEventBytes;
  const requestBytes = i.eventsPerRequest * i.avgEventBytes;
  const requestsPerDay = eventsPerDay / i.eventsPerRequest;
  const queueBytesPerRequest = requestBytes * i.queueBytesPerRawByte;
  const ingest = ingestMessages(queueBytesPerRequest);
  const messagesPerRequest = ingest.messages.length;
  const avgMessageBytes = queueBytesPerRequest / messagesPerRequest + SQS_LIMITS.envelopeBytes;
  const messagesPerDay = requestsPerDay * messagesPerRequest;
  const perInvocation = messagesPerWriterInvocation(messagesPerDay / 86_400, avgMessageBytes, i.writerBatchSize, i.writerBatchWindowSeconds);
  const writerInvocationsPerDay = messagesPerDay / perInvocation;
  const filesPerInvocation = Math.min(i.tenants, perInvocation);
  const writerFilesPerDay = writerInvocationsPerDay * filesPerInvocation;
  const parquetBytesPerDay = rawBytesPerDay * i.parquetBytesPerRawByte;
  const tenantHourParquet = parquetBytesPerDay / 24 / i.tenants;
  const compactedFilesPerTenantHour = Math.max(1, Math.ceil(tenantHourParquet / i.compactorMaxFileBytes));
  const compactedFilesPerDay = compactedFilesPerTenantHour * 24 * i.tenants;

  if (requestBytes / i.requestBodyCompression > 10 * MB)
    warnings.push(`a request of ${(requestBytes / MB).toFixed(1)} MB is over API Gateway's 10 MB payload limit`);

  // Lambda.
  const lambdaLines: CostLine[] = [];
  let invocationsPerMonth = 0;
  const fn = (name: string, invocationsPerDay: number, secondsPerInvocation: number, memoryMb: number) => {
    const n = invocationsPerDay * M;
    invocationsPerMonth += n;
    lambdaLines.push(line('Lambda', `${name}: requests`, n, prices.lambdaRequest));
    lambdaLines.push(line('Lambda', `${name}: ${memoryMb} MB arm64`, gbSeconds(n * secondsPerInvocation, memoryMb), prices.lambdaArmGbSecond));
  };
  const cpu = (secondsPerGb: number, bytes: number) => (secondsPerGb * i.lambdaCpuFactor * bytes) / GB;
  const ingestSeconds = lambdaSeconds(cpu(i.ingestCpuSecondsPerGb, requestBytes), i.lambdas.ingest.memoryMb) + i.ingestWaitMsPerRequest / 1000;
  fn('ingest', requestsPerDay, ingestSeconds, i.lambdas.ingest.memoryMb);
  const rawPerInvocation = rawBytesPerDay / writerInvocationsPerDay || 0;
  const writerSeconds = lambdaSeconds(cpu(i.writerCpuSecondsPerGb, rawPerInvocation), i.lambdas.writer.memoryMb) + i.writerWaitMsPerInvocation / 1000;
  fn('writer', writerInvocationsPerDay, writerSeconds, i.lambdas.writer.memoryMb);
  const authorizerPerDay = Math.min(requestsPerDay, i.apiKeys * (86_400 / Math.max(1, i.authorizerCacheSeconds)));
  fn('authorizer', authorizerPerDay, i.authorizerMsPerInvocation / 1000, i.lambdas.authorizer.memoryMb);
  const rawPerRun = rawBytesPerDay / i.compactorRunsPerDay;
  const parquetPerRun = parquetBytesPerDay / i.compactorRunsPerDay;
  // Reads every input twice (survey, merge), writes the output once.
  const compactorIoSeconds = ((i.compactorGetsPerInput + 1) * parquetPerRun) / (i.compactorS3MbPerSecond * MB);
  const compactorSecondsPerRun = lambdaSeconds(cpu(i.compactorCpuSecondsPerGb, rawPerRun), i.lambdas.compactor.memoryMb) + compactorIoSeconds;
  fn('compactor', i.compactorRunsPerDay, compactorSecondsPerRun, i.lambdas.compactor.memoryMb);
  if (compactorSecondsPerRun > 900) {
    warnings.push(
      `the compactor needs ~${Math.round(compactorSecondsPerRun)} s per hourly run, over its 15-minute timeout: at this volume compaction must be split (per partition, or more often)`,
    );
  }
  const apiQueriesPerDay = i.queries.filter((q) => !q.fromAlertLambda).reduce((s, q) => s + q.perDay, 0);
  const alertQueriesPerDay = i.queries.filter((q) => q.fromAlertLambda).reduce((s, q) => s + q.perDay, 0);
  fn('query', apiQueriesPerDay, i.queryLambdaSecondsPerQuery, i.lambdas.query.memoryMb);
  if (i.alertRunsPerDay > 0) {
    const perRun = i.alertMsPerRun / 1000 + (alertQueriesPerDay / i.alertRunsPerDay) * i.alertSecondsPerQuery;
    fn('alerts', i.alertRunsPerDay, perRun, i.lambdas.alerts.memoryMb);
  }

  // SQS: sends (per 64 KiB chunk), receives (per chunk of the messages returned), deletes (batches of 10), idle long polls.
  const sendUnits = requestsPerDay * ingest.sendUnits * M;
  const receiveUnits = writerInvocationsPerDay * sqsBilledRequests(perInvocation * avgMessageBytes) * M;
  const deleteUnits = writerInvocationsPerDay * Math.ceil(perInvocation / SQS_LIMITS.maxBatchEntries) * M;
  // A poller that finds nothing waits 20 s: the busier the queue, the fewer empty polls.
  const busyShare = Math.min(1, (writerInvocationsPerDay * writerSeconds) / 86_400 / i.sqsPollers);
  const idlePolls = i.sqsPollers * 3 * 60 * HOURS_PER_MONTH * (1 - busyShare);
  const sqsLines = [
    line('SQS', 'SendMessageBatch (ingest), per 64 KiB chunk', sendUnits, prices.sqsRequest),
    line('SQS', 'ReceiveMessage (writer event source), per 64 KiB chunk', receiveUnits, prices.sqsRequest),
    line('SQS', 'DeleteMessageBatch', deleteUnits, prices.sqsRequest),
    line('SQS', 'empty long polls of the event source', idlePolls, prices.sqsRequest),
  ];

  // S3 requests.
  const compactorPutsPerDay = compactedFilesPerDay + 24 * i.tenants; // outputs + a manifest per partition
  const objectsInEvents = compactedFilesPerDay * i.eventsExpireDays + (writerFilesPerDay / 24) * (i.compactorClosedAfterHours + 1.5);
  const compactorListsPerDay = i.compactorRunsPerDay * Math.ceil(objectsInEvents / 1000) + 24 * i.tenants * 2;
  const compactorGetsPerDay = writerFilesPerDay * i.compactorGetsPerInput;
  // Athena: per query, the files of the hours it reads. A window of W hours reads W + 0.5 hours of files on
  // average (the oldest partition is read whole); the newest ~(closedAfter + 1.5) hours are still writer files.
  const writerFilesPerHour = writerFilesPerDay / 24;
  const compactedFilesPerHour = compactedFilesPerDay / 24;
  const recentHours = i.compactorClosedAfterHours + 1.5;
  let athenaFilesPerDay = 0;
  let athenaBytesPerDay = 0;
  let athenaQueriesPerDay = 0;
  let insightsBytesPerDay = 0;
  let insightsAlertBytesPerDay = 0;
  const parquetPerHour = parquetBytesPerDay / 24;
  const rawPerHourForInsights = (rawBytesPerDay + eventsPerDay * i.cloudwatchEventOverheadBytes) / 24;
  for (const q of i.queries) {
    const hoursRead = q.windowHours + 0.5;
    const recent = Math.min(hoursRead, recentHours);
    athenaFilesPerDay += q.perDay * i.athenaGetsPerFile * (recent * writerFilesPerHour + (hoursRead - recent) * compactedFilesPerHour);
    athenaBytesPerDay += q.perDay * athenaBilledBytes(q.windowHours * parquetPerHour * q.columnFraction);
    athenaQueriesPerDay += q.perDay;
    const insights = q.perDay * q.windowHours * rawPerHourForInsights;
    insightsBytesPerDay += insights;
    if (q.fromAlertLambda) insightsAlertBytesPerDay += insights;
  }
  const athenaGetsPerDay = athenaFilesPerDay;
  const athenaResultPutsPerDay = athenaQueriesPerDay * 2; // result file and its metadata

  const s3Lines = [
    line('S3', 'PUT: writer Parquet files', writerFilesPerDay * M, prices.s3PutStandard),
    line('S3', 'PUT: receipts (one per queue message)', messagesPerDay * M, prices.s3PutStandard),
    line('S3', 'PUT + LIST: compactor (outputs, manifests, listings)', (compactorPutsPerDay + compactorListsPerDay) * M, prices.s3PutStandard),
    line('S3', 'GET: compactor inputs', compactorGetsPerDay * M, prices.s3GetStandard),
    line('S3', 'GET: Athena reading Parquet files', athenaGetsPerDay * M, prices.s3GetStandard),
    line('S3', 'PUT: Athena query results', athenaResultPutsPerDay * M, prices.s3PutStandard),
  ];

  // S3 storage, steady state (the bucket full to eventsExpireDays), lifecycle transitions.
  const parquetGbPerDay = parquetBytesPerDay / GB;
  const gbm = storageGbMonths(parquetGbPerDay, i);
  const objectBytes = tenantHourParquet / compactedFilesPerTenantHour;
  const minObject = 128 * KIB;
  const smallObjectFactor = objectBytes > 0 && objectBytes < minObject ? minObject / objectBytes : 1;
  const receiptsGbMonths = (messagesPerDay * i.receiptBytes * i.receiptsExpireDays) / GB;
  const storageLines: CostLine[] = [
    line(
      'S3',
      `storage: Standard, events/ first ${Math.min(i.eventsTransitionDays, i.eventsExpireDays)} days + receipts`,
      gbm.standard + receiptsGbMonths,
      prices.s3StandardGbMonth,
    ),
  ];
  const transitionsPerMonth = i.eventsTransitionDays < i.eventsExpireDays ? compactedFilesPerDay * M : 0;
  if (i.eventsTransitionStorageClass === 'STANDARD_IA') {
    storageLines.push(
      line(
        'S3',
        `storage: Standard-IA, days ${i.eventsTransitionDays}–${i.eventsExpireDays}`,
        gbm.transitioned * smallObjectFactor,
        prices.s3StandardIaGbMonth,
      ),
    );
    storageLines.push(line('S3', 'lifecycle transitions to Standard-IA', transitionsPerMonth, prices.s3TransitionStandardIa));
  } else if (i.eventsTransitionStorageClass === 'GLACIER_IR') {
    storageLines.push(
      line('S3', `storage: Glacier IR, days ${i.eventsTransitionDays}–${i.eventsExpireDays}`, gbm.transitioned * smallObjectFactor, prices.s3GlacierIrGbMonth),
    );
    storageLines.push(line('S3', 'lifecycle transitions to Glacier IR', transitionsPerMonth, prices.s3TransitionGlacierIr));
  } else {
    storageLines.push(line('S3', 'storage: Intelligent-Tiering frequent tier', gbm.itFrequent, prices.s3StandardGbMonth));
    storageLines.push(line('S3', 'storage: Intelligent-Tiering infrequent tier', gbm.itInfrequent, prices.s3StandardIaGbMonth));
    storageLines.push(line('S3', 'storage: Intelligent-Tiering archive instant tier', gbm.itArchive, prices.s3GlacierIrGbMonth));
    storageLines.push(
      line(
        'S3',
        'Intelligent-Tiering monitoring',
        objectBytes >= minObject ? compactedFilesPerDay * Math.max(0, i.eventsExpireDays - i.eventsTransitionDays) : 0,
        prices.s3IntelligentTieringMonitoring,
      ),
    );
    storageLines.push(line('S3', 'lifecycle transitions to Intelligent-Tiering', transitionsPerMonth, prices.s3TransitionIntelligentTiering));
  }

  // Athena.
  const athenaLines = [
    line('Athena', `bytes scanned (${Math.round(athenaQueriesPerDay)} queries a day)`, (athenaBytesPerDay * M) / TB, prices.athenaTbScanned),
  ];

  // API Gateway: ingest requests (metered per 512 KB of the body as sent) and query requests.
  const apiRequestsPerMonth =
    (requestsPerDay * apiGatewayMeteredRequests(requestBytes / i.requestBodyCompression) + apiQueriesPerDay * i.apiRequestsPerQuery) * M;
  const apiLines: CostLine[] = [
    {
      service: 'API Gateway',
      item: 'HTTP API requests (ingest and query)',
      quantity: apiRequestsPerMonth,
      unit: prices.apiGatewayHttpFirst300M.unit,
      unitUsd: apiRequestsPerMonth > 0 ? apiGatewayUsd(apiRequestsPerMonth, prices) / apiRequestsPerMonth : prices.apiGatewayHttpFirst300M.usd,
      usd: apiGatewayUsd(apiRequestsPerMonth, prices),
    },
  ];

  // KMS, Secrets Manager, alarms.
  const s3RequestsPerMonth = s3Lines.reduce((s, l) => s + l.quantity, 0);
  const otherLines = [
    line('KMS', 'customer managed key', 1, prices.kmsKeyMonth, true),
    line(
      'KMS',
      'requests (S3 with a Bucket Key, SQS data keys, secrets)',
      s3RequestsPerMonth * i.kmsCallsPerS3Request + i.kmsOtherCallsPerMonth,
      prices.kmsRequest,
    ),
    line('Secrets Manager', `${i.secrets} secrets (API keys, query-token key)`, i.secrets, prices.secretMonth, true),
    line('Secrets Manager', 'API calls (cached by Powertools)', i.secretsApiCallsPerMonth, prices.secretsApiCall),
    line('CloudWatch', `${i.alarms} alarms`, i.alarms, prices.cloudwatchAlarmMonth, true),
  ];

  // The Lambdas' own logs and API Gateway's access logs, kept logRetentionDays.
  const opsLogGbPerMonth = (invocationsPerMonth * i.lambdaLogBytesPerInvocation + apiRequestsPerMonth * i.apiAccessLogBytesPerRequest) / GB;
  const opsLogLines = [
    line('CloudWatch Logs', "ingestion: the Lambdas' and API Gateway's own logs", opsLogGbPerMonth, prices.cloudwatchLogsIngestGb),
    line(
      'CloudWatch Logs',
      `storage of those logs (${i.logRetentionDays} days, compressed)`,
      (opsLogGbPerMonth / M) * i.logRetentionDays * i.cloudwatchStorageCompression,
      prices.cloudwatchLogsStorageGbMonth,
    ),
  ];

  // Network.
  const endpointGb = (2 * queueBytesPerRequest * requestsPerDay * M) / GB; // every queue byte passes the SQS endpoint twice
  const networkLines: CostLine[] = [];
  if (i.createVpcEndpoints) {
    networkLines.push(
      line(
        'VPC',
        `${i.interfaceEndpoints} interface endpoints × ${i.availabilityZones} AZs`,
        i.interfaceEndpoints * i.availabilityZones * HOURS_PER_MONTH,
        prices.vpcInterfaceEndpointHour,
        true,
      ),
    );
  }
  networkLines.push(line('VPC', 'data through the SQS interface endpoint (send + receive)', endpointGb, prices.vpcInterfaceEndpointGb));
  if (i.natGateway) networkLines.push(line('VPC', 'NAT gateway (Slack egress)', HOURS_PER_MONTH, prices.natGatewayHour, true));

  const sluice = report([
    ...apiLines,
    ...lambdaLines,
    ...sqsLines,
    ...s3Lines,
    ...storageLines,
    ...athenaLines,
    ...otherLines,
    ...opsLogLines,
    ...networkLines,
  ]);

  // CloudWatch Logs for the same logs, kept as long (eventsExpireDays), queried with the same mix.
  const cwIngestGbPerMonth = ((rawBytesPerDay + eventsPerDay * i.cloudwatchEventOverheadBytes) * M) / GB;
  const cwStoredGb = (cwIngestGbPerMonth / M) * i.eventsExpireDays * i.cloudwatchStorageCompression;
  const insightsGbPerMonth = (insightsBytesPerDay * M) / GB;
  const insightsAlertGbPerMonth = (insightsAlertBytesPerDay * M) / GB;
  const cwLines = (ingestPrice: Price) => [
    line('CloudWatch Logs', 'ingestion', cwIngestGbPerMonth, ingestPrice),
    line(
      'CloudWatch Logs',
      `storage (${i.eventsExpireDays} days, ${i.cloudwatchStorageCompression} compression)`,
      cwStoredGb,
      prices.cloudwatchLogsStorageGbMonth,
    ),
    line('CloudWatch Logs', 'Logs Insights: alert rules', insightsAlertGbPerMonth, prices.cloudwatchLogsInsightsGb),
    line('CloudWatch Logs', 'Logs Insights: dashboards and searches', insightsGbPerMonth - insightsAlertGbPerMonth, prices.cloudwatchLogsInsightsGb),
  ];
  const cloudwatch = report(cwLines(prices.cloudwatchLogsIngestGb));
  const cloudwatchInfrequentAccess = report(cwLines(prices.cloudwatchLogsIaIngestGb));

  return {
    rawGbPerDay: i.rawGbPerDay,
    sluice,
    cloudwatch,
    cloudwatchInfrequentAccess,
    ratio: cloudwatch.totalUsd / sluice.totalUsd,
    derived: {
      rawBytesPerDay,
      eventsPerDay,
      requestsPerDay,
      requestBytes,
      messagesPerRequest,
      avgMessageBytes,
      sqsSendUnitsPerRequest: ingest.sendUnits,
      messagesPerDay,
      messagesPerWriterInvocation: perInvocation,
      writerInvocationsPerDay,
      writerFilesPerDay,
      parquetBytesPerDay,
      compactedFilesPerTenantHour,
      compactorSecondsPerRun,
      athenaBytesPerDay,
      athenaQueriesPerDay,
      insightsBytesPerDay,
    },
    warnings,
  };
}

/** Totals of a report by service (for the table's main line items). */
export function byService(r: CostReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of r.lines) out[l.service] = (out[l.service] ?? 0) + l.usd;
  return out;
}
