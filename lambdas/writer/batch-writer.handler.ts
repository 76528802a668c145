/** CDK entry: the batch writer, fed by the ingest queue (reportBatchItemFailures on). */
import { batchWriterDeps } from '../runtime/aws-deps/writer.js';
import { makeBatchWriterHandler } from './batch-writer.js';

export const handler = makeBatchWriterHandler(batchWriterDeps());
