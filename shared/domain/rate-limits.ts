/**
 * Per-tenant request rate limits: what they are (a token bucket per tenant: a steady rate and a burst) and
 * the arithmetic that enforces them, GCRA (the generic cell rate algorithm), which keeps one number per
 * tenant, the theoretical arrival time (TAT), so a store can apply it with one conditional write.
 *
 * GCRA with period T = 1/rate and burst B: a request at `now` is allowed when max(TAT, now) ≤ now + (B-1)·T,
 * and moves the TAT to max(TAT, now) + T. That is exactly a bucket of B tokens refilled at `rate`.
 */
import * as z from 'zod';
import { isValidTenant } from './tenant.js';

export interface RateLimit {
  /** requests per second, sustained */
  rate: number;
  /** requests allowed at once after a quiet spell (the bucket's size) */
  burst: number;
}

/** The limits of a deployment: the default for every tenant (absent: unlimited) and each listed tenant's own. */
export interface RateLimits {
  default?: RateLimit | undefined;
  tenants: Readonly<Record<string, RateLimit>>;
}

export const rateLimitSchema = z
  .object({
    rate: z.number().positive('rate must be more than 0 requests per second').max(100_000),
    burst: z.number().int('burst must be a whole number').min(1, 'burst must be at least 1').max(1_000_000),
  })
  .strict();

export const rateLimitsSchema = z
  .object({
    default: rateLimitSchema.optional(),
    tenants: z
      .record(z.string(), rateLimitSchema)
      .superRefine((tenants, ctx) => {
        for (const t of Object.keys(tenants)) {
          if (!isValidTenant(t)) ctx.addIssue({ code: 'custom', message: `tenant ids are 1-63 characters of a-z, 0-9, - and _ (not ${JSON.stringify(t)})` });
        }
      })
      .default({}),
  })
  .strict();

/** The limit that applies to a tenant, or undefined when it is not limited. */
export function limitOf(limits: RateLimits, tenant: string): RateLimit | undefined {
  return Object.hasOwn(limits.tenants, tenant) ? limits.tenants[tenant] : limits.default;
}

/** GCRA's two constants for a limit, in microseconds (whole numbers, so a store keeps them exactly). */
export function gcraParameters(limit: RateLimit): { periodUs: number; toleranceUs: number } {
  const periodUs = Math.max(1, Math.round(1_000_000 / limit.rate));
  return { periodUs, toleranceUs: (limit.burst - 1) * periodUs };
}

export type RateDecision = { allowed: true; tat: number } | { allowed: false; retryAfterSeconds: number };

/** GCRA's decision for one request at nowUs, given the stored TAT (undefined: never seen, or expired). */
export function gcraDecide(limit: RateLimit, tat: number | undefined, nowUs: number): RateDecision {
  const { periodUs, toleranceUs } = gcraParameters(limit);
  const from = Math.max(tat ?? nowUs, nowUs);
  if (from <= nowUs + toleranceUs) return { allowed: true, tat: from + periodUs };
  return { allowed: false, retryAfterSeconds: retryAfterSeconds(from - (nowUs + toleranceUs)) };
}

/** Whole seconds for Retry-After (at least 1): how long until the next request would be allowed. */
export function retryAfterSeconds(waitUs: number): number {
  return Math.max(1, Math.ceil(waitUs / 1_000_000));
}
