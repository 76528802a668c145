import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { credentialOf } from '../../shared/domain/api-keys.js';
import { DEFAULT_TENANT } from '../../shared/domain/tenant.js';
import { SCOPES } from '../../shared/domain/principal.js';
import type { KeyStore } from '../../shared/ports/key-store.js';
import type { Logger } from '../../shared/ports/logger.js';
import type { AuthContext } from '../runtime/api-gateway.js';

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<AuthContext>;
export type Authorizer = (event: APIGatewayRequestAuthorizerEventV2) => Promise<AuthorizerResult>;

export interface AuthorizerDeps {
  /** undefined: open mode (local only) where every request is tenant "default" with every scope. */
  keys: KeyStore | undefined;
  logger: Logger;
}

const DENY: AuthorizerResult = { isAuthorized: false, context: { tenant: '', scopes: '', keyId: '' } };

/** API Gateway Lambda authorizer (simple responses): resolves the key to its tenant and scopes. */
export function makeAuthorizer({ keys, logger }: AuthorizerDeps): Authorizer {
  return async (event) => {
    if (!keys) return { isAuthorized: true, context: { tenant: DEFAULT_TENANT, scopes: SCOPES.join(' '), keyId: 'open' } };
    const authorization = event.headers?.['authorization'];
    const key = credentialOf(authorization);
    if (!key) return DENY;
    const principal = await keys.lookup(key);
    if (!principal) {
      logger.warn('rejected an unknown API key', { route: event.routeKey, sourceIp: event.requestContext?.http?.sourceIp });
      return DENY;
    }
    return { isAuthorized: true, context: { tenant: principal.tenant, scopes: principal.scopes.join(' '), keyId: principal.keyId } };
  };
}
