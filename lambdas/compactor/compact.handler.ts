/** CDK entry: the compactor, run every hour by EventBridge. */
import { compactorDeps } from '../runtime/aws-deps/compactor.js';
import { makeCompactHandler } from './compact.js';

export const handler = makeCompactHandler(compactorDeps());
