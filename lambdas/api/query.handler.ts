/** CDK entry: the query Lambda (POST /v1/query, GET /v1/query/{token}, GET /v1/receipts/{id}). */
import { queryDeps } from '../runtime/aws-deps/query.js';
import { makeQueryHandler } from './query.js';

export const handler = makeQueryHandler(await queryDeps());
