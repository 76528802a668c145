/**
 * Per-tenant rate limits held in this process (GCRA, shared/domain/rate-limits.ts): right for one process
 * (local mode, tests); across concurrent Lambdas the DynamoDB limiter holds the state instead.
 */
import { gcraDecide, limitOf, type RateLimits } from '../../domain/rate-limits.js';
import type { Clock } from '../../ports/clock.js';
import type { RateLimiter, RateLimitResult } from '../../ports/rate-limiter.js';

export class MemoryRateLimiter implements RateLimiter {
  private readonly tat = new Map<string, number>();

  constructor(private readonly opts: { limits: RateLimits; clock: Clock }) {}

  async take(tenant: string): Promise<RateLimitResult> {
    const limit = limitOf(this.opts.limits, tenant);
    if (!limit) return { allowed: true };
    const decision = gcraDecide(limit, this.tat.get(tenant), this.opts.clock.now() * 1000);
    if (!decision.allowed) return decision;
    this.tat.set(tenant, decision.tat);
    return { allowed: true };
  }
}
