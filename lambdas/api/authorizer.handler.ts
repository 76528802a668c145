/** CDK entry: the HTTP API's Lambda authorizer (simple responses, payload format 2.0). */
import { authorizerDeps } from '../runtime/aws-deps/authorizer.js';
import { makeAuthorizer } from './authorizer.js';

export const handler = makeAuthorizer(authorizerDeps());
