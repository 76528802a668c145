/**
 * Errors that carry a meaning callers map to an outcome (HTTP status, SQS failure, …) in one place each.
 * Messages are written for the person who sent the request: what was wrong and what to do.
 */

export class SluiceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request itself is malformed (bad JSON, bad parameter). */
export class BadRequestError extends SluiceError {
  constructor(
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class PayloadTooLargeError extends SluiceError {}
export class UnsupportedMediaTypeError extends SluiceError {}
export class NotFoundError extends SluiceError {}
/** No credential was presented. */
export class UnauthorizedError extends SluiceError {}
/** A credential was presented but does not allow this. */
export class ForbiddenError extends SluiceError {}
/** The tenant sent more requests than its rate limit allows (shared/domain/rate-limits.ts); retry after the wait. */
export class RateLimitedError extends SluiceError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
/** Sluice cannot accept the request durably right now; the client should retry later. */
export class UnavailableError extends SluiceError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
/** A query the engine rejected (syntax, unknown column, refused statement). */
export class QueryError extends SluiceError {}
/**
 * A query hit one of its limits: its time limit, the query engine's memory bound, or the size a result row
 * may have. Retrying the same query will hit it again; narrowing it will not.
 */
export class QueryLimitError extends QueryError {
  constructor(
    message: string,
    readonly limit: 'time' | 'memory' | 'result',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
/** The tenant (or the server) already runs as many queries as it may and its wait queue is full. */
export class TooManyQueriesError extends SluiceError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
