/**
 * Per-tenant rate limits that hold across every concurrent Lambda: GCRA (shared/domain/rate-limits.ts) with
 * each tenant's theoretical arrival time (TAT, µs) in a DynamoDB item, moved by conditional UpdateItem
 * calls, so two instances can never both spend the same allowance. One write per request in the common
 * case (the instance remembers whether the tenant was busy, and tries that case first); a request that
 * loses a race tries again with what DynamoDB returned.
 *
 * A DynamoDB outage or throttling lets requests through (logged): the limits protect the stack from one
 * tenant, and must not turn an outage of their store into an outage of ingestion; the API stage's own
 * throttle still bounds the total.
 *
 * The item: { tenant: S, tat: N (µs since the epoch), expires: N (s, the table's TTL attribute) }.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { gcraParameters, limitOf, retryAfterSeconds, type RateLimits } from '../../domain/rate-limits.js';
import type { Clock } from '../../ports/clock.js';
import type { Logger } from '../../ports/logger.js';
import type { RateLimiter, RateLimitResult } from '../../ports/rate-limiter.js';

/** DynamoDB's JSON protocol: one operation with its input, the parsed output; rejects with DynamoDbCallError. */
export type DynamoDbCall = (operation: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;

export class DynamoDbCallError extends Error {
  override name = 'DynamoDbCallError';
  constructor(
    /** DynamoDB's error type without its namespace, e.g. ConditionalCheckFailedException; '' when unreachable */
    readonly type: string,
    message: string,
    readonly status: number | undefined,
    readonly body: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An item's TAT is kept this long after it passes (then DynamoDB's TTL removes the row of an idle tenant). */
const KEEP_SECONDS = 3600;
/** Conditional writes lost to other instances before a request is counted as limited. */
const MAX_ATTEMPTS = 4;

export interface DynamoDbRateLimiterOptions {
  call: DynamoDbCall;
  /** Table name or ARN; partition key `tenant` (S). */
  table: string;
  limits: RateLimits;
  clock: Clock;
  logger: Logger;
}

export class DynamoDbRateLimiter implements RateLimiter {
  /** Tenants this instance last saw busy (TAT ahead of now): their next request tries the busy case first. */
  private readonly busy = new Map<string, number>();

  constructor(private readonly opts: DynamoDbRateLimiterOptions) {}

  async take(tenant: string): Promise<RateLimitResult> {
    const limit = limitOf(this.opts.limits, tenant);
    if (!limit) return { allowed: true };
    const { periodUs, toleranceUs } = gcraParameters(limit);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const now = Math.round(this.opts.clock.now() * 1000);
        const max = now + toleranceUs;
        const tryBusyFirst = (this.busy.get(tenant) ?? 0) > now;
        // Busy: the TAT is ahead of now and within the tolerance: move it one period on.
        // Idle: no TAT, or one that has passed: start again from now.
        const cases = tryBusyFirst ? (['busy', 'idle'] as const) : (['idle', 'busy'] as const);
        let old: number | undefined | null = null;
        for (const c of cases) {
          if (c === 'busy' && old !== null && (old === undefined || old <= now)) continue;
          if (c === 'idle' && old !== null && old !== undefined && old > now) continue;
          const result = await this.update(tenant, c, now, max, periodUs);
          if (result.ok) {
            this.busy.set(tenant, result.tat);
            if (this.busy.size > 10_000) this.busy.clear();
            return { allowed: true };
          }
          old = result.old;
          if (old !== undefined && old > max) {
            this.busy.set(tenant, old);
            return { allowed: false, retryAfterSeconds: retryAfterSeconds(old - max) };
          }
        }
        // Both conditions failed: another instance moved the TAT between our two writes. Try again.
      }
      return { allowed: false, retryAfterSeconds: 1 };
    } catch (err) {
      this.opts.logger.warn('rate limit store unavailable; request let through', { tenant, error: (err as Error).message });
      return { allowed: true };
    }
  }

  /** One conditional write: ok with the new TAT, or the item's TAT as it was (undefined: no item). */
  private async update(
    tenant: string,
    c: 'busy' | 'idle',
    now: number,
    max: number,
    periodUs: number,
  ): Promise<{ ok: true; tat: number } | { ok: false; old: number | undefined }> {
    const n = (v: number) => ({ N: String(v) });
    const input =
      c === 'busy'
        ? {
            UpdateExpression: 'SET tat = tat + :period, expires = :expires',
            ConditionExpression: 'tat > :now AND tat <= :max',
            ExpressionAttributeValues: {
              ':period': n(periodUs),
              ':now': n(now),
              ':max': n(max),
              ':expires': n(Math.ceil((max + periodUs) / 1e6) + KEEP_SECONDS),
            },
          }
        : {
            UpdateExpression: 'SET tat = :next, expires = :expires',
            ConditionExpression: 'attribute_not_exists(tat) OR tat <= :now',
            ExpressionAttributeValues: { ':next': n(now + periodUs), ':now': n(now), ':expires': n(Math.ceil((now + periodUs) / 1e6) + KEEP_SECONDS) },
          };
    try {
      const out = await this.opts.call('UpdateItem', {
        TableName: this.opts.table,
        Key: { tenant: { S: tenant } },
        ...input,
        ReturnValues: 'UPDATED_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { ok: true, tat: tatOf(out['Attributes']) ?? now + periodUs };
    } catch (err) {
      if (err instanceof DynamoDbCallError && err.type === 'ConditionalCheckFailedException') return { ok: false, old: tatOf(err.body['Item']) };
      throw err;
    }
  }
}

function tatOf(item: unknown): number | undefined {
  const v = (item as { tat?: { N?: string } } | undefined)?.tat?.N;
  return v === undefined ? undefined : Number(v);
}

type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source): string | Uint8Array =>
  typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the signer takes. */
class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: Source) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Source): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

/**
 * DynamoDB's JSON API over fetch, signed with SigV4 and the Lambda's credentials (the default provider
 * chain). Sluice calls one operation (UpdateItem; tests also CreateTable); this avoids a client package for it.
 */
export function signedDynamoDbCall(opts: { region: string; endpoint?: string; timeoutMs?: number }): DynamoDbCall {
  const url = new URL(opts.endpoint ?? `https://dynamodb.${opts.region}.amazonaws.com/`);
  const signer = new SignatureV4({ service: 'dynamodb', region: opts.region, credentials: defaultProvider(), sha256: NodeSha256 });
  return async (operation, input) => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
      body,
    });
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) });
    } catch (err) {
      throw new DynamoDbCallError('', `DynamoDB could not be reached: ${(err as Error).message}`, undefined, {}, { cause: err });
    }
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = {};
    }
    if (!res.ok) {
      const str = (v: unknown) => (typeof v === 'string' ? v : '');
      const type = str(json['__type']).split('#').pop() ?? '';
      const message = str(json['message']) || str(json['Message']);
      throw new DynamoDbCallError(type, `DynamoDB ${operation}: ${type || res.status} ${message}`.trim(), res.status, json);
    }
    return json;
  };
}
