/**
 * Elasticsearch `_bulk` (NDJSON action/source pairs) → records, and the replies Elasticsearch clients
 * require (Filebeat, Logstash, Fluent Bit, Vector, @elastic/elasticsearch). Sluice is append-only: `index`
 * and `create` store the document; `update` and `delete` are refused per item, as ES refuses a bad item.
 * https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-bulk
 */
import { BadRequestError } from '../errors.js';
import { eventId } from '../ids.js';
import { AttributeBag, excerpt, isPlainObject, type DecodedRecord } from './common.js';

export const ES_PRODUCT_HEADER = { 'x-elastic-product': 'Elasticsearch' } as const;
/** The version Sluice reports on `GET /`: clients pick their API dialect from the major version. */
export const ES_COMPAT_VERSION = '8.19.0';

const ACTIONS = ['index', 'create', 'update', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

/** One operation of a bulk request and the record it produced (stored ones are `json`). */
export interface BulkOp {
  action: Action;
  index: string | undefined;
  id: string | undefined;
  record: DecodedRecord;
}

// ES index names: lowercase, no \ / * ? " < > | , # space, not starting with - _ +, at most 255 bytes.
const INDEX_RE = /^(?![-_+])[^\\/*?"<>|,# A-Z\x00-\x1f]{1,255}$/;

export function isValidIndexName(name: string): boolean {
  return INDEX_RE.test(name) && name !== '.' && name !== '..' && Buffer.byteLength(name) <= 255;
}

function metaString(meta: Record<string, unknown>, key: string): string | undefined {
  const v = meta[key];
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/**
 * Splits a bulk body into operations. A malformed action line fails the whole request (as ES answers
 * 400); a bad document fails only its item.
 */
export function decodeBulk(body: string, urlIndex?: string): BulkOp[] {
  if (urlIndex !== undefined && !isValidIndexName(urlIndex)) {
    throw new BadRequestError(`index name ${JSON.stringify(excerpt(urlIndex, 80))} is not valid: use lowercase letters, digits and - _ . (at most 255 bytes)`);
  }
  const lines = body.split('\n');
  const ops: BulkOp[] = [];
  let i = 0;
  const nextLine = (): { text: string; number: number } | undefined => {
    while (i < lines.length) {
      const text = lines[i++]!.replace(/\r$/, '');
      if (text.trim() !== '') return { text, number: i };
    }
    return undefined;
  };

  for (let line = nextLine(); line; line = nextLine()) {
    let action: unknown;
    try {
      action = JSON.parse(line.text);
    } catch {
      throw new BadRequestError(
        `line ${line.number} is not a valid bulk action: expected {"index":{…}} or {"create":{…}}, got ${JSON.stringify(excerpt(line.text))}`,
      );
    }
    const keys = isPlainObject(action) ? Object.keys(action) : [];
    const name = keys[0] as Action | undefined;
    if (keys.length !== 1 || !(ACTIONS as readonly string[]).includes(name!) || !isPlainObject((action as Record<string, unknown>)[name!])) {
      throw new BadRequestError(
        `line ${line.number}: a bulk action must be one of ${ACTIONS.join(', ')} with a metadata object, e.g. {"index":{"_index":"logs"}}; got ${JSON.stringify(excerpt(line.text))}`,
      );
    }
    const meta = (action as Record<string, Record<string, unknown>>)[name!]!;
    const index = metaString(meta, '_index') ?? urlIndex;
    const id = metaString(meta, '_id');
    const opIndex = ops.length;
    const op = (record: DecodedRecord): void => void ops.push({ action: name!, index, id, record });

    if (name === 'delete') {
      op({ index: opIndex, kind: 'error', reason: 'delete is not supported: Sluice stores logs append-only' });
      continue;
    }
    const source = nextLine();
    if (!source) {
      throw new BadRequestError(
        `line ${line.number}: the ${name} action has no document line after it; the bulk body must end with a newline after the last document`,
      );
    }
    if (name === 'update') {
      op({ index: opIndex, kind: 'error', reason: 'update is not supported: Sluice stores logs append-only' });
      continue;
    }
    if (index === undefined) {
      op({ index: opIndex, kind: 'error', reason: 'index is missing: name it in the action ({"index":{"_index":"logs"}}) or the URL (/logs/_bulk)' });
      continue;
    }
    if (!isValidIndexName(index)) {
      op({ index: opIndex, kind: 'error', reason: `index name ${JSON.stringify(excerpt(index, 80))} is not valid` });
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(source.text);
    } catch (err) {
      op({ index: opIndex, kind: 'error', reason: `line ${source.number}: the document is not valid JSON: ${(err as Error).message}` });
      continue;
    }
    if (!isPlainObject(doc)) {
      op({ index: opIndex, kind: 'error', reason: `line ${source.number}: the document must be a JSON object` });
      continue;
    }
    const bag = new AttributeBag();
    bag.set('es.index', index);
    if (id !== undefined) bag.set('es.id', id);
    op({ index: opIndex, kind: 'json', value: doc, raw: source.text, hints: { attributes: bag.done()! } });
  }
  if (ops.length === 0) throw new BadRequestError('the bulk body has no actions: send {"index":{…}} lines each followed by a document line');
  return ops;
}

/** The `_bulk` reply: one item per operation, in order, with ES's status codes and error objects. */
export function bulkResponse(
  ops: readonly BulkOp[],
  outcome: { receipt: string | undefined; rejected: ReadonlyMap<number, string>; tookMs: number },
): { took: number; errors: boolean; items: Record<string, Record<string, unknown>>[] } {
  let errors = false;
  const items = ops.map((op, seq) => {
    const reason = op.record.kind === 'error' ? op.record.reason : outcome.rejected.get(op.record.index);
    const base = { _index: op.index ?? '', _id: op.id ?? (outcome.receipt ? eventId(outcome.receipt, op.record.index) : null) };
    if (reason !== undefined || outcome.receipt === undefined) {
      errors = true;
      const type = op.action === 'update' || op.action === 'delete' ? 'illegal_argument_exception' : 'document_parsing_exception';
      return { [op.action]: { ...base, status: 400, error: { type, reason: reason ?? 'not stored' } } };
    }
    return {
      [op.action]: {
        ...base,
        _version: 1,
        result: 'created',
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: seq,
        _primary_term: 1,
        status: 201,
      },
    };
  });
  return { took: outcome.tookMs, errors, items };
}

/** What `GET /` answers: enough for clients that check the product and version before sending. */
export function esRootInfo(): Record<string, unknown> {
  return {
    name: 'sluice',
    cluster_name: 'sluice',
    cluster_uuid: 'sluice',
    version: {
      number: ES_COMPAT_VERSION,
      build_flavor: 'default',
      build_type: 'sluice',
      build_hash: 'sluice',
      build_date: '2025-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '9.12.0',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  };
}
