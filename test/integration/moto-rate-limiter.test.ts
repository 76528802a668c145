/**
 * Per-tenant rate limits (issue 13, finding 7) against moto_server's DynamoDB: the GCRA decisions of the
 * DynamoDB limiter equal the in-memory one's for the same requests; several limiter instances (several
 * Lambdas) sharing the table never let more through than the limit allows, however their requests
 * interleave; tenants do not share an allowance; and an unreachable store lets requests through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbRateLimiter, signedDynamoDbCall, type DynamoDbCall } from '../../shared/adapters/aws/dynamodb-rate-limiter.js';
import { MemoryRateLimiter } from '../../shared/adapters/local/memory-rate-limiter.js';
import type { RateLimits } from '../../shared/domain/rate-limits.js';
import type { RateLimitResult } from '../../shared/ports/rate-limiter.js';
import { MemoryLogger } from '../helpers/logger.js';
import { hasMoto, MOTO_REGION, startMoto, type Moto } from '../helpers/moto.js';

let moto: Moto;
let call: DynamoDbCall;
let tables = 0;

const LIMITS: RateLimits = { default: { rate: 2, burst: 5 }, tenants: { big: { rate: 100, burst: 10 }, slow: { rate: 0.5, burst: 1 } } };

async function newTable(): Promise<string> {
  const name = `sluice-rate-${++tables}`;
  await call('CreateTable', {
    TableName: name,
    KeySchema: [{ AttributeName: 'tenant', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'tenant', AttributeType: 'S' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
  return name;
}

const clockAt = (ms: { now: number }) => ({ now: () => ms.now });

describe.skipIf(!hasMoto())('DynamoDB rate limiter (moto_server)', () => {
  beforeAll(async () => {
    // One thread: each conditional write is atomic, as DynamoDB's are (moto's threaded server races them).
    moto = await startMoto({ serialized: true });
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    call = signedDynamoDbCall({ region: MOTO_REGION, endpoint: moto.endpoint });
  }, 60_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('decides like the in-memory GCRA for the same requests: burst, then the steady rate, Retry-After to the next token', async () => {
    const table = await newTable();
    const time = { now: Date.UTC(2024, 4, 1, 12) };
    const dynamo = new DynamoDbRateLimiter({ call, table, limits: LIMITS, clock: clockAt(time), logger: new MemoryLogger() });
    const memory = new MemoryRateLimiter({ limits: LIMITS, clock: clockAt(time) });
    // (tenant, ms to wait before the request)
    const steps: [string, number][] = [
      ...Array.from({ length: 7 }, (): [string, number] => ['acme', 0]),
      ['acme', 499],
      ['acme', 1],
      ['acme', 0],
      ['acme', 10_000],
      ...Array.from({ length: 6 }, (): [string, number] => ['acme', 0]),
      ['slow', 0],
      ['slow', 0],
      ['slow', 1999],
      ['slow', 1],
      ...Array.from({ length: 12 }, (): [string, number] => ['big', 0]),
      ['big', 10],
      ['big', 0],
    ];
    const got: [string, RateLimitResult, RateLimitResult][] = [];
    for (const [tenant, wait] of steps) {
      time.now += wait;
      got.push([tenant, await dynamo.take(tenant), await memory.take(tenant)]);
    }
    for (const [tenant, d, m] of got) expect(d, tenant).toEqual(m);
    const allowed = (tenant: string) => got.filter(([t, d]) => t === tenant && d.allowed).length;
    // acme: 5 (burst) + 1 (after 500 ms) + 5 (after 10 s, burst again) ; slow: 1, then 1 after 2 s ; big: 10 + 1 after 10 ms.
    expect([allowed('acme'), allowed('slow'), allowed('big')]).toEqual([11, 2, 11]);
    expect(got[5]![1]).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(got.find(([t, d]) => t === 'slow' && !d.allowed)![1]).toEqual({ allowed: false, retryAfterSeconds: 2 });
  });

  it('holds across instances: 4 limiters sharing the table, 80 requests at once, exactly the burst is let through', async () => {
    const table = await newTable();
    const time = { now: Date.UTC(2024, 4, 1, 12) };
    const instances = Array.from(
      { length: 4 },
      () => new DynamoDbRateLimiter({ call, table, limits: LIMITS, clock: clockAt(time), logger: new MemoryLogger() }),
    );
    const results = await Promise.all(Array.from({ length: 80 }, (_, i) => instances[i % 4]!.take('big')));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    for (const r of results.filter((x) => !x.allowed)) expect(r).toEqual({ allowed: false, retryAfterSeconds: 1 });
    // Another tenant's allowance is its own; a tenant with no limit (none listed, no default) is never limited.
    expect((await instances[0]!.take('acme')).allowed).toBe(true);
    const noDefault = new DynamoDbRateLimiter({
      call,
      table,
      limits: { tenants: { big: LIMITS.tenants.big! } },
      clock: clockAt(time),
      logger: new MemoryLogger(),
    });
    expect((await Promise.all(Array.from({ length: 30 }, () => noDefault.take('free')))).every((r) => r.allowed)).toBe(true);
    // Time moves on: 10 ms at 100/s is one more request.
    time.now += 10;
    const later = await Promise.all(Array.from({ length: 8 }, (_, i) => instances[i % 4]!.take('big')));
    expect(later.filter((r) => r.allowed)).toHaveLength(1);
  });

  it('lets requests through, and says so, when the store cannot be reached', async () => {
    const logger = new MemoryLogger();
    const limiter = new DynamoDbRateLimiter({
      call: signedDynamoDbCall({ region: MOTO_REGION, endpoint: 'http://127.0.0.1:1', timeoutMs: 500 }),
      table: 'sluice-rate-none',
      limits: LIMITS,
      clock: { now: () => Date.now() },
      logger,
    });
    expect(await limiter.take('acme')).toEqual({ allowed: true });
    expect(logger.entries).toEqual([expect.objectContaining({ level: 'warn', message: 'rate limit store unavailable; request let through' })]);
  });
});
