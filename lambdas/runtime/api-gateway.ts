/**
 * API Gateway (HTTP API, payload v2) plumbing shared by every HTTP handler: reading the body, the
 * authorizer's context, JSON responses, and the one table that maps errors to statuses.
 */
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  QueryError,
  QueryLimitError,
  TooManyQueriesError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
} from '../../shared/domain/errors.js';
import { RateLimitedError } from '../../shared/domain/errors.js';
import type { RateLimiter } from '../../shared/ports/rate-limiter.js';
import type { Principal, Scope } from '../../shared/domain/principal.js';
import type { Logger } from '../../shared/ports/logger.js';

/** What the authorizer passes to handlers (API Gateway allows only primitive values here). */
export interface AuthContext {
  tenant: string;
  /** space-separated scopes */
  scopes: string;
  keyId: string;
}

export type ApiEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthContext>;
export type ApiResult = APIGatewayProxyStructuredResultV2;
export type ApiHandler = (event: ApiEvent) => Promise<ApiResult>;

export function header(event: ApiEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name.toLowerCase()] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}

export function principalOf(event: ApiEvent): Principal {
  const ctx = event.requestContext.authorizer?.lambda;
  if (!ctx?.tenant) throw new UnauthorizedError('no credential: send Authorization: Bearer <key>');
  return { tenant: ctx.tenant, scopes: ctx.scopes.split(' ').filter(Boolean) as Scope[], keyId: ctx.keyId };
}

/** Throws ForbiddenError unless the principal has one of the scopes. */
export function requireScope(principal: Principal, ...anyOf: Scope[]): void {
  if (!anyOf.some((s) => principal.scopes.includes(s))) {
    throw new ForbiddenError(`this key lacks the ${anyOf.join(' or ')} scope`);
  }
}

/** Takes one request from the tenant's rate limit (when the deployment has limits); RateLimitedError beyond it. */
export async function takeRequest(limiter: RateLimiter | undefined, principal: Principal): Promise<void> {
  if (!limiter) return;
  const r = await limiter.take(principal.tenant);
  if (!r.allowed) {
    throw new RateLimitedError(
      `tenant ${principal.tenant} is over its request rate limit; retry after the number of seconds in Retry-After`,
      r.retryAfterSeconds,
    );
  }
}

/**
 * The request's Content-Encoding, if Sluice decodes it: gzip (x-gzip), deflate, or none. Any other (br,
 * zstd, a list such as "gzip, gzip") is a 415 that names what is accepted, on every route alike.
 */
export function contentEncoding(event: ApiEvent): 'gzip' | 'deflate' | 'identity' {
  const encoding = (header(event, 'content-encoding') ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return 'identity';
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip';
  if (encoding === 'deflate') return 'deflate';
  throw new UnsupportedMediaTypeError(`content encoding ${JSON.stringify(encoding.slice(0, 100))} is not supported; use gzip, deflate or none`);
}

/** The raw body bytes, decompressed per Content-Encoding, refusing more than maxBytes either way. */
export function bodyBytes(event: ApiEvent, maxBytes: number): Buffer {
  const raw = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > maxBytes) throw new PayloadTooLargeError(`request body is ${raw.length} bytes; the limit is ${maxBytes}`);
  const encoding = contentEncoding(event);
  if (encoding === 'identity') return raw;
  const limit = { maxOutputLength: maxBytes * DECOMPRESSED_FACTOR };
  try {
    if (encoding === 'gzip') return gunzipSync(raw, limit);
    // "deflate" is zlib-wrapped by the standard, but some clients send the bare stream: take both.
    try {
      return inflateSync(raw, limit);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'Z_DATA_ERROR') throw err;
      return inflateRawSync(raw, limit);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /Cannot create a Buffer larger|maxOutputLength/i.test((err as Error).message)) {
      throw new PayloadTooLargeError(`decompressed body exceeds the limit of ${maxBytes * DECOMPRESSED_FACTOR} bytes`);
    }
    throw new BadRequestError(`body could not be decompressed as ${encoding}: ${(err as Error).message}`);
  }
}

/** A compressed body may expand to this many times the wire limit (bounded: no zip bombs). */
export const DECOMPRESSED_FACTOR = 8;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** The one place errors become HTTP responses; anything unexpected is a generic 500 and is logged. */
export function errorResponse(err: unknown, logger: Logger, requestId?: string): ApiResult {
  const body = (code: string, message: string, extra: Record<string, unknown> = {}) => ({ error: code, message, ...extra });
  if (err instanceof BadRequestError) return json(400, body('bad_request', err.message, (err.details as Record<string, unknown>) ?? {}));
  if (err instanceof QueryLimitError) return json(400, body(`${err.limit}_limit`, err.message));
  if (err instanceof QueryError) return json(400, body('query_error', err.message));
  if (err instanceof UnauthorizedError) return json(401, body('unauthorized', err.message), { 'www-authenticate': 'Bearer' });
  if (err instanceof ForbiddenError) return json(403, body('forbidden', err.message));
  if (err instanceof NotFoundError) return json(404, body('not_found', err.message));
  if (err instanceof RateLimitedError) return json(429, body('rate_limited', err.message), { 'retry-after': String(err.retryAfterSeconds) });
  if (err instanceof PayloadTooLargeError) return json(413, body('payload_too_large', err.message));
  if (err instanceof UnsupportedMediaTypeError) return json(415, body('unsupported_media_type', err.message));
  if (err instanceof TooManyQueriesError) {
    return json(429, body('too_many_queries', err.message), { 'retry-after': String(err.retryAfterSeconds) });
  }
  if (err instanceof UnavailableError) {
    return json(503, body('unavailable', err.message), { 'retry-after': String(err.retryAfterSeconds) });
  }
  logger.error('unhandled error', { error: (err as Error)?.stack ?? String(err), requestId });
  return json(500, body('internal', `internal error${requestId ? ` (request ${requestId})` : ''}; it has been logged`));
}

/** Wraps a handler so every failure goes through errorResponse. */
export function withErrors(logger: Logger, handler: ApiHandler): ApiHandler {
  return async (event) => {
    try {
      return await handler(event);
    } catch (err) {
      return errorResponse(err, logger, event.requestContext?.requestId);
    }
  };
}
