/**
 * API keys in AWS: SHA-256 hashes kept in one Secrets Manager secret (format: key-secret.ts), read through
 * Powertools Parameters, which caches the value for maxAgeSeconds, so a new or revoked key takes effect
 * within that time. Keys and hashes are never logged.
 *
 * If a refresh fails (Secrets Manager unreachable, or someone saved invalid JSON), the last good keys keep
 * being used for up to maxStaleSeconds, with a logged warning, rather than refusing every request.
 */
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { hashKey } from '../../domain/api-keys.js';
import { SluiceError } from '../../domain/errors.js';
import type { Principal } from '../../domain/principal.js';
import type { KeyStore } from '../../ports/key-store.js';
import type { Logger } from '../../ports/logger.js';
import { parseKeySecret, principalsByHash } from './key-secret.js';
import { readSecretText } from './secrets.js';

export interface SecretsManagerKeyStoreOptions {
  provider: SecretsProvider;
  /** the secret's ARN or name */
  secretId: string;
  logger: Logger;
  /** how long a read value is used before Secrets Manager is asked again (default 300 s) */
  maxAgeSeconds?: number;
  /** how long the last good keys stay in use while refreshes fail (default 3600 s) */
  maxStaleSeconds?: number;
  /** after a failed refresh, the wait before the next try, serving the last good keys meanwhile (default 10 s) */
  retryAfterFailureSeconds?: number;
  now?: () => number;
}

export class SecretsManagerKeyStore implements KeyStore {
  private readonly opts: Required<Omit<SecretsManagerKeyStoreOptions, 'provider' | 'logger' | 'secretId'>>;
  private lastText: string | undefined;
  private lastKeys: Map<string, Principal> | undefined;
  private lastGoodAt = 0;
  private failedAt: number | undefined;

  constructor(private readonly deps: SecretsManagerKeyStoreOptions) {
    this.opts = {
      maxAgeSeconds: deps.maxAgeSeconds ?? 300,
      maxStaleSeconds: deps.maxStaleSeconds ?? 3600,
      retryAfterFailureSeconds: deps.retryAfterFailureSeconds ?? 10,
      now: deps.now ?? Date.now,
    };
  }

  async lookup(key: string): Promise<Principal | undefined> {
    return (await this.keys()).get(hashKey(key));
  }

  private async keys(): Promise<Map<string, Principal>> {
    const now = this.opts.now();
    if (this.lastKeys && this.failedAt !== undefined && now - this.failedAt < this.opts.retryAfterFailureSeconds * 1000) return this.lastKeys;
    try {
      const text = await readSecretText(this.deps.provider, this.deps.secretId, this.opts.maxAgeSeconds);
      if (text !== this.lastText || !this.lastKeys) {
        const keys = principalsByHash(parseKeySecret(text));
        this.deps.logger.info('API keys loaded', { secret: this.deps.secretId, keys: keys.size });
        this.lastKeys = keys;
        this.lastText = text;
      }
      this.lastGoodAt = now;
      this.failedAt = undefined;
      return this.lastKeys;
    } catch (err) {
      const reason = (err as Error).message;
      if (this.lastKeys && now - this.lastGoodAt < this.opts.maxStaleSeconds * 1000) {
        if (this.failedAt === undefined)
          this.deps.logger.warn('API keys could not be refreshed; using the last good keys', { secret: this.deps.secretId, reason });
        this.failedAt = now;
        return this.lastKeys;
      }
      this.deps.logger.error('API keys could not be read', { secret: this.deps.secretId, reason });
      throw err instanceof SluiceError ? err : new SluiceError(reason, { cause: err });
    }
  }
}
