/** Per-tenant request rate limits (shared/domain/rate-limits.ts): one request taken from the tenant's allowance. */
export type RateLimitResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes one request from the tenant's allowance; when there is none, says how long to wait. */
  take(tenant: string): Promise<RateLimitResult>;
}
