/** `POST /proton/v1/ingest/streams/{stream}`: Timeplus Proton's compact format `{"columns":[…],"data":[[…]]}`. */
import { BadRequestError } from '../../../shared/domain/errors.js';
import { decodeProtonIngest } from '../../../shared/domain/shippers/proton.js';
import { json } from '../../runtime/api-gateway.js';
import { bodyText, param, store, type IngestProtocolHandler } from './request.js';

export const proton: IngestProtocolHandler = {
  async handle(call) {
    const format = param(call.event, 'format');
    if (format !== undefined && format !== 'compact') {
      throw new BadRequestError(`format=${format} is not supported; send the compact format {"columns":[…],"data":[[…]]}`);
    }
    const records = decodeProtonIngest(bodyText(call), call.event.pathParameters?.['stream'] ?? '');
    return json(202, await store(call, records));
  },
};
