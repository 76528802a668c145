import { describe, expect, it } from 'vitest';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES, SQS_MAX_BODY_BYTES } from '../../shared/adapters/aws/sqs-queue.js';
import {
  ATHENA_MIN_BYTES_PER_QUERY,
  DAYS_PER_MONTH,
  DEFAULT_INPUTS,
  GB,
  HOURS_PER_MONTH,
  MB,
  PRICES,
  SQS_LIMITS,
  TB,
  apiGatewayMeteredRequests,
  apiGatewayUsd,
  athenaBilledBytes,
  costModel,
  gbSeconds,
  ingestMessages,
  lambdaSeconds,
  messagesPerWriterInvocation,
  sqsBilledRequests,
  storageGbMonths,
  type CostInputs,
  type CostReport,
} from '../bench/cost/model.js';

const M = DAYS_PER_MONTH;
const KIB = 1024;

const find = (r: CostReport, service: string, item: RegExp) => {
  const l = r.lines.find((x) => x.service === service && item.test(x.item));
  if (!l) throw new Error(`no line ${service} ${String(item)}`);
  return l;
};

/** Round numbers: 1 GB a day of 1 KiB events, 1,024 per request (1 MiB requests). */
const simple: CostInputs = { ...DEFAULT_INPUTS, rawGbPerDay: 1, avgEventBytes: 1024, eventsPerRequest: 1024 };

describe('the code paths the model copies', () => {
  it('uses the SQS adapter’s own limits', () => {
    expect(SQS_LIMITS.maxBatchBytes).toBe(SQS_MAX_BATCH_BYTES);
    expect(SQS_LIMITS.maxBodyBytes).toBe(SQS_MAX_BODY_BYTES);
    expect(SQS_LIMITS.maxBatchEntries).toBe(SQS_MAX_BATCH_ENTRIES);
  });

  it('bills SQS per 64 KiB chunk of a call', () => {
    expect(sqsBilledRequests(0)).toBe(1);
    expect(sqsBilledRequests(64 * KIB)).toBe(1);
    expect(sqsBilledRequests(64 * KIB + 1)).toBe(2);
    expect(sqsBilledRequests(250 * KIB)).toBe(4);
  });

  it('packs a request into full messages and sends each message that does not fit beside another in its own call', () => {
    const capacity = SQS_MAX_BODY_BYTES - 200;
    const small = ingestMessages(10 * KIB);
    expect(small.messages).toEqual([10 * KIB + 200]);
    expect(small.calls).toBe(1);
    expect(small.sendUnits).toBe(1);

    // 1.5 messages' worth: a full message (256,000 bytes, 4 chunks) and one of half the capacity + envelope.
    const q = capacity * 1.5;
    const two = ingestMessages(q);
    expect(two.messages).toEqual([capacity + 200, capacity / 2 + 200]);
    expect(two.calls).toBe(2); // together they are over 256 KiB
    expect(two.sendUnits).toBe(Math.ceil((capacity + 200) / (64 * KIB)) + Math.ceil((capacity / 2 + 200) / (64 * KIB)));
  });

  it('fills a writer invocation up to the batch size, the 6 MB payload, or the batching window', () => {
    expect(messagesPerWriterInvocation(1000, 100 * KIB, 100, 5)).toBe(Math.floor((6 * MB) / (101 * KIB))); // payload-bound: 60
    expect(messagesPerWriterInvocation(1000, 10 * KIB, 100, 5)).toBe(100); // batch-size-bound
    expect(messagesPerWriterInvocation(2, 10 * KIB, 100, 5)).toBe(10); // window-bound: 2/s × 5 s
    expect(messagesPerWriterInvocation(0.001, 10 * KIB, 100, 5)).toBe(1);
  });
});

describe('prices and metering', () => {
  it('a Node.js handler gets a share of a vCPU below 1,769 MB and bills memory × duration', () => {
    expect(lambdaSeconds(1, 1769)).toBe(1);
    expect(lambdaSeconds(1, 2048)).toBe(1);
    expect(lambdaSeconds(1, 1024)).toBeCloseTo(1769 / 1024, 10);
    expect(gbSeconds(10, 512)).toBe(5);
  });

  it('Athena bills at least 10 MB a query, rounded up to the MB', () => {
    expect(athenaBilledBytes(1)).toBe(ATHENA_MIN_BYTES_PER_QUERY);
    expect(athenaBilledBytes(10 * MB + 1)).toBe(11 * MB);
    expect(athenaBilledBytes(100 * MB)).toBe(100 * MB);
  });

  it('API Gateway meters per 512 KB and is cheaper past 300 million requests', () => {
    expect(apiGatewayMeteredRequests(512 * KIB)).toBe(1);
    expect(apiGatewayMeteredRequests(512 * KIB + 1)).toBe(2);
    expect(apiGatewayUsd(1e6)).toBeCloseTo(1, 10);
    expect(apiGatewayUsd(400e6)).toBeCloseTo(300 + 90, 6);
  });

  it('states a source for every price', () => {
    for (const p of Object.values(PRICES)) expect(p.source).toMatch(/^https:\/\/aws\.amazon\.com\/.+\/pricing\/$/);
  });
});

describe('line items, one at a time', () => {
  const r = costModel(simple);
  const requestsPerDay = GB / (1024 * 1024); // 1,024 requests of 1 MiB

  it('ingest Lambda: one request per API request; GB-s from CPU per GB at 1,024 MB plus the SQS wait', () => {
    const inputs: CostInputs = { ...simple, ingestCpuSecondsPerGb: 1024, ingestWaitMsPerRequest: 0 }; // 1 CPU-second per 1 MiB request
    const out = costModel(inputs);
    expect(find(out.sluice, 'Lambda', /^ingest: requests/).quantity).toBeCloseTo(requestsPerDay * M, 6);
    expect(find(out.sluice, 'Lambda', /^ingest: 1024 MB/).quantity).toBeCloseTo(requestsPerDay * M * (1769 / 1024), 6);
    expect(find(out.sluice, 'Lambda', /^ingest: 1024 MB/).usd).toBeCloseTo(requestsPerDay * M * (1769 / 1024) * 0.0000133334, 6);
  });

  it('a 1 MiB request is two API Gateway requests (512 KB units), or one when gzip makes it 4× smaller', () => {
    const noQueries = { ...simple, queries: [] };
    expect(find(costModel(noQueries).sluice, 'API Gateway', /requests/).quantity).toBeCloseTo(2 * requestsPerDay * M, 6);
    expect(find(costModel({ ...noQueries, requestBodyCompression: 4 }).sluice, 'API Gateway', /requests/).quantity).toBeCloseTo(requestsPerDay * M, 6);
  });

  it('one receipt PUT per queue message, one Parquet PUT per writer invocation and tenant', () => {
    const d = r.derived;
    expect(find(r.sluice, 'S3', /receipts/).quantity).toBeCloseTo(d.messagesPerDay * M, 6);
    expect(find(r.sluice, 'S3', /writer Parquet/).quantity).toBeCloseTo(d.writerInvocationsPerDay * M, 6);
    expect(find(r.sluice, 'S3', /receipts/).usd).toBeCloseTo((d.messagesPerDay * M * 0.005) / 1000, 9);
  });

  it('Athena: every query below 10 MB is billed 10 MB', () => {
    const out = costModel({ ...simple, queries: [{ name: 'tiny', perDay: 1000, windowHours: 0.01, columnFraction: 0.1 }] });
    const athena = find(out.sluice, 'Athena', /scanned/);
    expect(athena.quantity).toBeCloseTo((1000 * 10 * MB * M) / TB, 9);
    expect(athena.usd).toBeCloseTo(((1000 * 10 * MB * M) / TB) * 5, 9);
  });

  it('Athena: a large query pays for the columns it reads of the hours in its window', () => {
    // 1,000 GB/day of raw logs at 0.1 → 100 GB of Parquet a day; 24 h × 0.5 of the columns = 50 GB.
    const out = costModel({
      ...simple,
      rawGbPerDay: 1000,
      parquetBytesPerRawByte: 0.1,
      queries: [{ name: 'day', perDay: 1, windowHours: 24, columnFraction: 0.5 }],
    });
    expect(find(out.sluice, 'Athena', /scanned/).quantity).toBeCloseTo((50 * GB * M) / TB, 6);
  });

  it('S3 storage: Standard until the transition, the transition class until expiry', () => {
    expect(storageGbMonths(1, { eventsTransitionDays: 30, eventsExpireDays: 365, eventsTransitionStorageClass: 'STANDARD_IA' })).toMatchObject({
      standard: 30,
      transitioned: 335,
    });
    const out = costModel({ ...simple, parquetBytesPerRawByte: 0.1 });
    expect(find(out.sluice, 'S3', /Standard-IA, days/).quantity).toBeCloseTo(0.1 * 335, 9);
    expect(find(out.sluice, 'S3', /Standard-IA, days/).usd).toBeCloseTo(0.1 * 335 * 0.0125, 9);
  });

  it('lifecycle moves storage to the cheaper class: an earlier transition and Glacier IR cost less', () => {
    const storage = (i: Partial<CostInputs>) =>
      costModel({ ...simple, rawGbPerDay: 100, ...i })
        .sluice.lines.filter((l) => l.service === 'S3' && /^(storage|lifecycle)/.test(l.item))
        .reduce((s, l) => s + l.usd, 0);
    const late = storage({ eventsTransitionDays: 364 });
    const ia = storage({ eventsTransitionDays: 30 });
    const glacier = storage({ eventsTransitionDays: 30, eventsTransitionStorageClass: 'GLACIER_IR' });
    expect(ia).toBeLessThan(late);
    expect(glacier).toBeLessThan(ia);
    // 10 GB of Parquet a day: 334 more days of it in IA instead of Standard (the transitions are as many either way).
    expect(late - ia).toBeCloseTo(334 * 10 * (0.023 - 0.0125), 6);
  });

  it('fixed costs: the interface endpoints 8 × 2 AZs × 730 h, none without them; a NAT gateway only with Slack', () => {
    expect(find(r.sluice, 'VPC', /interface endpoints/).usd).toBeCloseTo(8 * 2 * HOURS_PER_MONTH * 0.01, 6);
    const without = costModel({ ...simple, createVpcEndpoints: false });
    expect(without.sluice.lines.some((l) => /interface endpoints ×/.test(l.item))).toBe(false);
    expect(r.sluice.lines.some((l) => /NAT/.test(l.item))).toBe(false);
    expect(find(costModel({ ...simple, natGateway: true }).sluice, 'VPC', /NAT/).usd).toBeCloseTo(HOURS_PER_MONTH * 0.045, 6);
  });
});

describe('CloudWatch Logs for the same volume', () => {
  const out = costModel({ ...simple, rawGbPerDay: 10, eventsExpireDays: 365, queries: [{ name: 'q', perDay: 4, windowHours: 6, columnFraction: 0.1 }] });

  it('ingestion $0.50/GB of raw logs, storage $0.03/GB-month after 0.15 compression, Insights $0.005/GB of whole events in the window', () => {
    expect(find(out.cloudwatch, 'CloudWatch Logs', /^ingestion/).usd).toBeCloseTo(10 * M * 0.5, 6);
    expect(find(out.cloudwatch, 'CloudWatch Logs', /^storage/).usd).toBeCloseTo(10 * 365 * 0.15 * 0.03, 6);
    // 4 queries × 6 h of 10 GB/day = 10 GB a day scanned, whatever the columns.
    expect(find(out.cloudwatch, 'CloudWatch Logs', /dashboards/).quantity).toBeCloseTo(10 * M, 6);
    expect(out.cloudwatchInfrequentAccess.totalUsd).toBeCloseTo(out.cloudwatch.totalUsd - 10 * M * 0.25, 6);
  });

  it('the totals are the sums of the lines, and the ratio is CloudWatch over Sluice', () => {
    expect(out.sluice.totalUsd).toBeCloseTo(
      out.sluice.lines.reduce((s, l) => s + l.usd, 0),
      9,
    );
    expect(out.ratio).toBeCloseTo(out.cloudwatch.totalUsd / out.sluice.totalUsd, 12);
  });
});

describe('the model as a whole', () => {
  it('every total grows with the volume', () => {
    const volumes = [1, 10, 100, 1000, 5000];
    const runs = volumes.map((rawGbPerDay) => costModel({ ...DEFAULT_INPUTS, rawGbPerDay }));
    for (let k = 1; k < runs.length; k++) {
      expect(runs[k]!.sluice.totalUsd).toBeGreaterThan(runs[k - 1]!.sluice.totalUsd);
      expect(runs[k]!.cloudwatch.totalUsd).toBeGreaterThan(runs[k - 1]!.cloudwatch.totalUsd);
    }
  });

  it('no line is negative or NaN', () => {
    for (const gb of [0.01, 10, 1024]) {
      for (const l of costModel({ ...DEFAULT_INPUTS, rawGbPerDay: gb }).sluice.lines) {
        expect(Number.isFinite(l.usd)).toBe(true);
        expect(l.usd).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('warns when an hourly compaction would not fit in the 15-minute timeout', () => {
    expect(costModel({ ...DEFAULT_INPUTS, rawGbPerDay: 10 }).warnings).toEqual([]);
    expect(costModel({ ...DEFAULT_INPUTS, rawGbPerDay: 1024 }).warnings.join()).toMatch(/15-minute timeout/);
  });
});
