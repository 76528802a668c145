/**
 * Reading a Secrets Manager secret through Powertools Parameters (its SecretsProvider caches each value
 * for maxAge seconds), with errors translated: nothing above shared/adapters/ sees an SDK exception.
 */
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SluiceError, UnavailableError } from '../../domain/errors.js';
import { isRetryableSdkError, sdkErrorName } from './sdk-errors.js';

/**
 * The secret's SecretString (or SecretBinary read as UTF-8); cached by the provider for maxAgeSeconds.
 * `forceFetch` reads it again whatever the cache holds (a value the caller found unusable).
 */
export async function readSecretText(provider: SecretsProvider, secretId: string, maxAgeSeconds: number, opts: { forceFetch?: boolean } = {}): Promise<string> {
  let value: string | Uint8Array | undefined;
  try {
    value = await provider.get(secretId, { maxAge: maxAgeSeconds, ...(opts.forceFetch ? { forceFetch: true } : {}) });
  } catch (err) {
    // Powertools wraps the SDK's error (GetParameterError); the SDK's is its cause.
    throw translateSecretError((err as { cause?: unknown }).cause ?? err, secretId);
  }
  if (value === undefined) throw new SluiceError(`the secret ${secretId} has no value yet; put one with aws secretsmanager put-secret-value`);
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

function translateSecretError(err: unknown, secretId: string): Error {
  if (err instanceof SluiceError) return err;
  const name = sdkErrorName(err);
  if (isRetryableSdkError(err) || name === 'InternalServiceError') {
    return new UnavailableError('Secrets Manager could not be reached; try again', 1, { cause: err });
  }
  switch (name) {
    case 'ResourceNotFoundException':
      return new SluiceError(`the secret ${secretId} does not exist, or has no current value`, { cause: err });
    case 'AccessDeniedException':
      return new SluiceError(`reading the secret ${secretId} was denied: the function needs secretsmanager:GetSecretValue on it (and kms:Decrypt on its key)`, {
        cause: err,
      });
    case 'DecryptionFailure':
      return new SluiceError(`the secret ${secretId} could not be decrypted: check the function's kms:Decrypt permission on the secret's key`, { cause: err });
    default:
      // The message of an unforeseen error is not repeated: it could carry part of a value.
      return new SluiceError(`reading the secret ${secretId} failed (${name || 'error'})`, { cause: err });
  }
}
