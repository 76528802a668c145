/**
 * Splunk HTTP Event Collector → records. `/services/collector/event` takes JSON event objects one after
 * another (newlines between them are optional); `/services/collector/raw` takes text, one event per line.
 * https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector
 */
import { BadRequestError } from '../errors.js';
import type { RecordHints } from '../normalize/hints.js';
import { AttributeBag, boundedJson, columnText, epochSecondsToMicros, isPlainObject, splitConcatenatedObjects, type DecodedRecord } from './common.js';

/** Metadata given as query parameters (`?host=…&source=…&sourcetype=…&index=…`), for every event. */
export interface HecParams {
  host?: string | undefined;
  source?: string | undefined;
  sourcetype?: string | undefined;
  index?: string | undefined;
}

export const HEC_SUCCESS = { text: 'Success', code: 0 } as const;

/** HEC's status codes for the errors Sluice can answer with (the client reads `code` and `text`). */
export const HEC_CODES = { noData: 5, invalidDataFormat: 6, internalError: 8, serverBusy: 9, eventRequired: 12, eventBlank: 13, healthy: 17 } as const;

export type HecCode = (typeof HEC_CODES)[keyof typeof HEC_CODES];

/** A HEC request refused as a whole (400), with the HEC code its clients read. */
export class HecError extends BadRequestError {
  constructor(
    message: string,
    readonly hecCode: HecCode,
    details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, details, options);
  }
}

function metadataHints(obj: Record<string, unknown>, params: HecParams): RecordHints {
  const hints: RecordHints = {};
  const bag = new AttributeBag();
  const host = columnText(obj['host']) ?? params.host;
  const source = columnText(obj['source']) ?? params.source;
  const sourcetype = columnText(obj['sourcetype']) ?? params.sourcetype;
  const index = columnText(obj['index']) ?? params.index;
  if (host) hints.host = host;
  if (source) hints.source = source;
  if (sourcetype) bag.set('splunk.sourcetype', sourcetype);
  if (index) bag.set('splunk.index', index);
  if (obj['time'] !== undefined && obj['time'] !== null && obj['time'] !== '') {
    const ts = epochSecondsToMicros(obj['time']);
    if (ts !== undefined) hints.ts = ts;
    else bag.set('ts_unparsed', obj['time']);
  }
  // Indexed fields are the user's own names: they become attributes under those names.
  if (isPlainObject(obj['fields'])) bag.setAll(obj['fields']);
  const attributes = bag.done();
  if (attributes) hints.attributes = attributes;
  return hints;
}

function eventRecord(text: string, index: number, params: HecParams): DecodedRecord {
  const where = `event ${index + 1}`;
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    return { index, kind: 'error', reason: `${where} is not valid JSON: ${(err as Error).message}` };
  }
  if (!isPlainObject(obj)) return { index, kind: 'error', reason: `${where} must be a JSON object` };
  const event = obj['event'];
  if (event === undefined || event === null) {
    return {
      index,
      kind: 'error',
      reason: `${where} has no "event" field (HEC code ${HEC_CODES.eventRequired}: Event field is required)`,
      code: HEC_CODES.eventRequired,
    };
  }
  if (event === '' || (typeof event === 'string' && event.trim() === '')) {
    return {
      index,
      kind: 'error',
      reason: `${where} has a blank "event" field (HEC code ${HEC_CODES.eventBlank}: Event field cannot be blank)`,
      code: HEC_CODES.eventBlank,
    };
  }
  const hints = metadataHints(obj, params);
  if (isPlainObject(event)) return { index, kind: 'json', value: event, hints };
  if (typeof event === 'string') return { index, kind: 'text', line: event, hints };
  // Numbers, booleans and arrays are indexed as their text, verbatim.
  return { index, kind: 'text', line: boundedJson(event).text, hints: { ...hints, parse: false } };
}

/** `/services/collector/event`: concatenated event objects. */
export function decodeHecEvents(body: string, params: HecParams = {}): DecodedRecord[] {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (text.trim() === '')
    throw new HecError(
      `body is empty: send HEC event objects such as {"event":"hello","time":1700000000} (HEC code ${HEC_CODES.noData}: No data)`,
      HEC_CODES.noData,
    );
  const { objects, trailing } = splitConcatenatedObjects(text);
  const records = objects.map((o, i) => eventRecord(o, i, params));
  if (trailing) {
    if (records.length === 0) {
      throw new HecError(
        `body is not HEC JSON: ${trailing.reason}; send event objects such as {"event":"hello"} (HEC code ${HEC_CODES.invalidDataFormat}: Invalid data format)`,
        HEC_CODES.invalidDataFormat,
      );
    }
    records.push({ index: records.length, kind: 'error', reason: trailing.reason });
  }
  return records;
}

/** `/services/collector/raw`: one event per line, metadata from the query parameters. */
export function decodeHecRaw(body: string, params: HecParams = {}): DecodedRecord[] {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  const hints = metadataHints({}, params);
  const out: DecodedRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    out.push(Object.keys(hints).length > 0 ? { index: i, kind: 'text', line, hints: { ...hints } } : { index: i, kind: 'text', line });
  });
  if (out.length === 0) throw new HecError(`body is empty: send one event per line (HEC code ${HEC_CODES.noData}: No data)`, HEC_CODES.noData);
  return out;
}
