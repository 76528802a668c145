/** CDK entry: the ingest Lambda (POST /v1/logs and the shipper endpoints). */
import { ingestDeps } from '../runtime/aws-deps/ingest.js';
import { makeIngestHandler } from './ingest.js';

export const handler = makeIngestHandler(ingestDeps());
