/**
 * Timeplus Proton's ingest API (`POST /proton/v1/ingest/streams/{stream}`, compact format) → records:
 * `{"columns":["a","b"],"data":[[1,"x"],[2,"y"]]}` is one event per row, an object of column → value.
 * The stream name becomes the event's `source`.
 * https://docs.timeplus.com/proton-ingest-api
 */
import { BadRequestError } from '../errors.js';
import { parseTimestampMicros } from '../normalize/timestamp.js';
import { excerpt, isPlainObject, parseJsonBody, type DecodedRecord } from './common.js';

export const PROTON_EXPECTED = '{"columns":["col1","col2"],"data":[[1,"a"],[2,"b"]]}';
/** Proton's event-time column: when a row has it, it is the event's timestamp. */
export const PROTON_TIME_COLUMN = '_tp_time';

/** Stream names are used as `source`: printable, at most 256 characters. */
export function checkStreamName(name: string): string {
  if (name === '' || name.length > 256 || /[\x00-\x1f\x7f]/.test(name)) {
    throw new BadRequestError(`stream name ${JSON.stringify(excerpt(name, 80))} is not valid: use 1-256 printable characters`);
  }
  return name;
}

export function decodeProtonIngest(body: string, stream: string): DecodedRecord[] {
  const source = checkStreamName(stream);
  const doc = parseJsonBody(body, PROTON_EXPECTED);
  if (!isPlainObject(doc) || !Array.isArray(doc['columns']) || !Array.isArray(doc['data'])) {
    throw new BadRequestError(`body must be Proton's compact format ${PROTON_EXPECTED}`);
  }
  const columns = doc['columns'] as unknown[];
  if (columns.length === 0 || columns.some((c) => typeof c !== 'string' || c === '')) {
    throw new BadRequestError('"columns" must be a non-empty array of column names (strings)');
  }
  const names = columns as string[];
  const dup = names.find((c, i) => names.indexOf(c) !== i);
  if (dup !== undefined) throw new BadRequestError(`column ${JSON.stringify(dup)} is listed twice in "columns"`);
  const rows = doc['data'] as unknown[];
  if (rows.length === 0) throw new BadRequestError('"data" is empty: nothing to ingest');

  return rows.map((row, index): DecodedRecord => {
    if (!Array.isArray(row)) return { index, kind: 'error', reason: `data[${index}] must be an array of values, one per column` };
    if (row.length !== names.length) {
      return { index, kind: 'error', reason: `data[${index}] has ${row.length} values for ${names.length} columns` };
    }
    const value: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    names.forEach((name, i) => {
      value[name] = row[i];
    });
    const ts = eventTimeOf(value);
    return { index, kind: 'json', value: { ...value }, hints: ts === undefined ? { source } : { source, ts } };
  });
}

function eventTimeOf(value: Record<string, unknown>): number | undefined {
  const t = value[PROTON_TIME_COLUMN];
  if (t === undefined || t === null) return undefined;
  const ts = parseTimestampMicros(t);
  if (ts !== undefined) delete value[PROTON_TIME_COLUMN];
  return ts;
}
