/** CDK entry: the alert evaluator, run every minute by EventBridge. */
import { alertDeps } from '../runtime/aws-deps/alerts.js';
import { makeAlertHandler } from './evaluate.js';

export const handler = makeAlertHandler(await alertDeps());
