/** The HTTP API authorizer's deps: API key → tenant and scopes, from the hashed keys in Secrets Manager. */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerKeyStore } from '../../../shared/adapters/aws/secrets-key-store.js';
import { readAwsConfig } from '../../../shared/config/env.js';
import type { AuthorizerDeps } from '../../api/authorizer.js';
import { QUICK_CALLS, lambdaLogger } from './common.js';

/** Seconds the keys secret is used before it is read again: new and removed keys take effect within this. */
export const KEYS_MAX_AGE_SECONDS = 300;

export function authorizerDeps(): AuthorizerDeps {
  const config = readAwsConfig(['keysSecretArn', 'logLevel']);
  const logger = lambdaLogger('authorizer', config.logLevel);
  const provider = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(QUICK_CALLS) });
  return { keys: new SecretsManagerKeyStore({ provider, secretId: config.keysSecretArn, logger, maxAgeSeconds: KEYS_MAX_AGE_SECONDS }), logger };
}
