/**
 * How the AWS adapters read an SDK error, using the SDK's own classification (the one its retry strategy
 * uses), so every adapter answers "is this retryable?" the same way. Only shared/adapters/aws/ sees SDK
 * errors; what leaves an adapter is one of Sluice's errors (shared/domain/errors.ts).
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { textOf } from '../../domain/text.js';

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

type SdkError = Parameters<typeof isThrottlingError>[0] & SdkErrorShape;

function shape(err: unknown): SdkError {
  return (typeof err === 'object' && err !== null ? err : { name: 'Error', message: String(err) }) as SdkError;
}

/** The SDK exception's name ('NoSuchKey', 'SlowDown', …), or '' for anything that is not an object. */
export function sdkErrorName(err: unknown): string {
  return typeof err === 'object' && err !== null ? textOf((err as { name?: unknown }).name ?? '') : '';
}

export function sdkErrorMessage(err: unknown): string {
  return String((err as { message?: unknown } | undefined)?.message ?? err);
}

export function httpStatusOf(err: unknown): number | undefined {
  return shape(err).$metadata?.httpStatusCode;
}

/** Throttling (SlowDown, 429, …), a 5xx, a timeout or a dropped connection: worth trying again later. */
export function isRetryableSdkError(err: unknown): boolean {
  const e = shape(err);
  if (e.name === 'AbortError') return false;
  const status = e.$metadata?.httpStatusCode ?? 0;
  return isThrottlingError(e) || isTransientError(e) || isServerError(e) || status >= 500 || e.$fault === 'server';
}
