/**
 * Events → Arrow → Parquet (ZSTD). The Arrow schema is derived from EVENT_COLUMNS. Column data is built
 * directly into typed arrays (no per-value builders), which is several times faster in apache-arrow.
 */
import {
  Bool,
  Field,
  Int32,
  List,
  Map_,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  type Data,
  type DataType,
} from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { EVENT_COLUMNS, SCHEMA_VERSION, type ColumnType, type LogEvent } from './schema.js';

const MAX_ROW_GROUP_BYTES = 128 * 1024 * 1024;

/** Columns written without a dictionary, with an encoding that suits their values (measured: npm run bench:storage). */
const COLUMN_ENCODINGS: [string, pq.Encoding][] = [
  ['ts', pq.Encoding.DELTA_BINARY_PACKED],
  ['ingested_at', pq.Encoding.DELTA_BINARY_PACKED],
  ['event_id', pq.Encoding.DELTA_BYTE_ARRAY],
];

/** Leaf columns without statistics (see writerProperties). */
const NO_STATISTICS = ['message', 'attributes.entries.key', 'attributes.entries.value'];

function arrowType(type: ColumnType): DataType {
  switch (type) {
    case 'timestamp':
      return new TimestampMicrosecond('UTC');
    case 'string':
      return new Utf8();
    case 'int32':
      return new Int32();
    case 'boolean':
      return new Bool();
    case 'date':
      throw new Error('date columns are partition columns and are not stored in files');
    case 'map<string,string>':
      return new Map_(
        new Field('key_value', new Struct<{ key: Utf8; value: Utf8 }>([new Field('key', new Utf8(), false), new Field('value', new Utf8(), true)]), false),
        false,
      );
    case 'list<string>':
      return new List(new Field('element', new Utf8(), true));
  }
}

/** The Arrow schema of the stored files, derived from the one schema definition. */
export const ARROW_SCHEMA = new Schema(
  EVENT_COLUMNS.map((c) => new Field(c.name, arrowType(c.type), c.nullable)),
  new Map([['sluice.schema_version', String(SCHEMA_VERSION)]]),
);

class Validity {
  readonly bitmap: Uint8Array;
  nullCount = 0;
  constructor(length: number) {
    this.bitmap = new Uint8Array((length + 7) >> 3);
  }
  set(i: number, valid: boolean): void {
    if (valid) this.bitmap[i >> 3]! |= 1 << (i & 7);
    else this.nullCount++;
  }
}

function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  const validity = new Validity(n);
  // One native UTF-8 encode of all values joined (per-value encodeInto calls dominated the cost). When the
  // text is ASCII, which log text nearly always is, byte offsets are the string lengths.
  let chars = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    validity.set(i, v !== null);
    if (v !== null) chars += v.length;
    offsets[i + 1] = chars;
  }
  const joined = (values as (string | null)[]).join('');
  const bytes = Buffer.from(joined, 'utf8');
  if (bytes.length !== chars) {
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v) pos += Buffer.byteLength(v, 'utf8');
      offsets[i + 1] = pos;
    }
  }
  return makeData({
    type: new Utf8(),
    length: n,
    nullCount: validity.nullCount,
    nullBitmap: validity.nullCount > 0 ? validity.bitmap : null,
    valueOffsets: offsets,
    data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
  });
}

function timestampData(values: readonly number[]): Data<TimestampMicrosecond> {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i]!);
  return makeData({ type: new TimestampMicrosecond('UTC'), length: values.length, nullCount: 0, data });
}

function int32Data(values: readonly (number | null)[]): Data<Int32> {
  const data = new Int32Array(values.length);
  const validity = new Validity(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    validity.set(i, v !== null);
    if (v !== null) data[i] = v;
  }
  return makeData({
    type: new Int32(),
    length: values.length,
    nullCount: validity.nullCount,
    nullBitmap: validity.nullCount > 0 ? validity.bitmap : null,
    data,
  });
}

function boolData(values: readonly boolean[]): Data<Bool> {
  const data = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) if (values[i]) data[i >> 3]! |= 1 << (i & 7);
  return makeData({ type: new Bool(), length: values.length, nullCount: 0, data });
}

function mapData(values: readonly Record<string, string>[], type: Map_<Utf8, Utf8>): Data<Map_<Utf8, Utf8>> {
  const offsets = new Int32Array(values.length + 1);
  const keys: string[] = [];
  const vals: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const m = values[i]!;
    for (const k in m) {
      keys.push(k);
      vals.push(m[k]!);
    }
    offsets[i + 1] = keys.length;
  }
  const entryType = type.children[0]!.type as Struct;
  const entries = makeData({
    type: entryType,
    length: keys.length,
    nullCount: 0,
    children: [utf8Data(keys), utf8Data(vals)],
  });
  return makeData({ type, length: values.length, nullCount: 0, valueOffsets: offsets, child: entries });
}

function listData(values: readonly string[][], type: List<Utf8>): Data<List<Utf8>> {
  const offsets = new Int32Array(values.length + 1);
  const items: string[] = [];
  for (let i = 0; i < values.length; i++) {
    for (const t of values[i]!) items.push(t);
    offsets[i + 1] = items.length;
  }
  return makeData({ type, length: values.length, nullCount: 0, valueOffsets: offsets, child: utf8Data(items) });
}

function columnData(events: readonly LogEvent[], field: Field, type: ColumnType): Data {
  const name = field.name as keyof LogEvent;
  switch (type) {
    case 'timestamp':
      return timestampData(events.map((e) => e[name] as number));
    case 'string':
      return utf8Data(events.map((e) => (e[name] as string | null) ?? null));
    case 'int32':
      return int32Data(events.map((e) => (e[name] as number | null) ?? null));
    case 'boolean':
      return boolData(events.map((e) => e[name] as boolean));
    case 'map<string,string>':
      return mapData(
        events.map((e) => e[name] as Record<string, string>),
        field.type as Map_<Utf8, Utf8>,
      );
    case 'list<string>':
      return listData(
        events.map((e) => e[name] as string[]),
        field.type as List<Utf8>,
      );
    case 'date':
      throw new Error('date columns are not stored in files');
  }
}

/** Events sorted by ts (stable: equal timestamps keep their arrival order). */
export function sortByTs(events: readonly LogEvent[]): LogEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.ts - b.e.ts || a.i - b.i)
    .map((x) => x.e);
}

/** Arrow table of the events in the given order. */
export function toArrowTable(events: readonly LogEvent[]): Table {
  const children = ARROW_SCHEMA.fields.map((f, i) => columnData(events, f, EVENT_COLUMNS[i]!.type));
  const struct = makeData({ type: new Struct(ARROW_SCHEMA.fields), length: events.length, nullCount: 0, children });
  return new Table([new RecordBatch(ARROW_SCHEMA, struct)]);
}

/** Rows per row group of a file written in slices (the compactor's): ~100 MB of Parquet or less. */
const MAX_ROW_GROUP_ROWS = 512 * 1024;

/** The writer settings every Sluice file is written with. */
function writerProperties(): pq.WriterProperties {
  let builder = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setMaxRowGroupBytes(MAX_ROW_GROUP_BYTES)
    .setMaxRowGroupSize(MAX_ROW_GROUP_ROWS)
    .setCreatedBy('sluice');
  // Rows are sorted by ts, so timestamps are small deltas; event ids share their receipt prefix. Those
  // encodings store them in a fraction of what a dictionary of unique values would take.
  for (const [column, encoding] of COLUMN_ENCODINGS) {
    builder = builder.setColumnDictionaryEnabled(column, false).setColumnEncoding(column, encoding);
  }
  // Statistics where a reader can use them: min/max per row group for every column (DuckDB and Athena
  // skip row groups with them), per page only for ts (Athena can skip pages of a large compacted file in
  // a time range), none for message and attribute keys and values, whose min/max (whole log lines) no
  // query can use and which would sit in every file's footer.
  builder = builder.setStatisticsEnabled(pq.EnabledStatistics.Chunk).setColumnStatisticsEnabled('ts', pq.EnabledStatistics.Page);
  for (const column of NO_STATISTICS) builder = builder.setColumnStatisticsEnabled(column, pq.EnabledStatistics.None);
  return builder.build();
}

function toWasmTable(events: readonly LogEvent[]): pq.Table {
  return pq.Table.fromIPCStream(tableToIPC(toArrowTable(events), 'stream'));
}

/** One Parquet file (ZSTD, rows sorted by ts) holding the given events. */
export function encodeParquet(events: readonly LogEvent[]): Uint8Array {
  return pq.writeParquet(toWasmTable(sortByTs(events)), writerProperties());
}

/**
 * One Parquet file written a slice at a time, rows in the order given (the caller sorts): only one slice
 * of events is held as objects at once, and the writer buffers at most a row group. The file's bytes are
 * returned whole (the compactor puts them as one object).
 */
export async function encodeParquetSlices(slices: AsyncIterable<readonly LogEvent[]>): Promise<Uint8Array> {
  const iterator = slices[Symbol.asyncIterator]();
  let first: IteratorResult<readonly LogEvent[]>;
  do first = await iterator.next();
  while (!first.done && first.value.length === 0);
  if (first.done) return new Uint8Array(0);
  let pending: readonly LogEvent[] | undefined = first.value;
  const input = new ReadableStream<pq.RecordBatch>({
    async pull(controller) {
      for (;;) {
        const next: IteratorResult<readonly LogEvent[]> = pending ? { done: false, value: pending } : await iterator.next();
        pending = undefined;
        if (next.done) return controller.close();
        if (next.value.length === 0) continue;
        const table = toWasmTable(next.value);
        for (const batch of table.recordBatches()) controller.enqueue(batch);
        table.free();
        return;
      }
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  const output = (await pq.transformParquetStream(input, writerProperties())) as ReadableStream<Uint8Array>;
  const chunks: Uint8Array[] = [];
  for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** How many row groups the file has (the compactor reads large files a row group at a time). */
export async function rowGroupCount(bytes: Uint8Array): Promise<number> {
  const file = await pq.ParquetFile.fromFile(new Blob([bytes]));
  try {
    return file.metadata().numRowGroups();
  } finally {
    file.free();
  }
}

/** Which rows to read: one row group (or the whole file), and optionally a run of rows inside it. */
export interface RowSelection {
  rowGroup?: number;
  offset?: number;
  limit?: number;
}

function readerOptions(selection: RowSelection | undefined, columns?: string[]): pq.ReaderOptions | undefined {
  if (!selection && !columns) return undefined;
  const { rowGroup, offset, limit } = selection ?? {};
  return {
    ...(columns ? { columns } : {}),
    ...(rowGroup === undefined ? {} : { rowGroups: [rowGroup] }),
    ...(offset === undefined ? {} : { offset }),
    ...(limit === undefined ? {} : { limit }),
  };
}

function readColumns(bytes: Uint8Array, columns: string[], selection: RowSelection | undefined): Table {
  const wasmTable = pq.readParquet(bytes, readerOptions(selection, columns));
  return tableFromIPC(wasmTable.intoIPCStream());
}

/** The ts of the selected rows, in microseconds. */
export function readTimestamps(bytes: Uint8Array, selection?: RowSelection): number[] {
  return microsOf(readColumns(bytes, ['ts'], selection).getChild('ts'));
}

/** ts and event_id of the selected rows. */
export function readTimestampsAndIds(bytes: Uint8Array, selection?: RowSelection): { ts: number[]; ids: (string | null)[] } {
  const table = readColumns(bytes, ['ts', 'event_id'], selection);
  const ids = table.getChild('event_id');
  return { ts: microsOf(table.getChild('ts')), ids: ids ? Array.from(ids.toArray() as Iterable<string | null>) : [] };
}

/** A timestamp column's raw microseconds (Vector.get() would round them to milliseconds). */
function microsOf(vector: { data: readonly Data[] } | null): number[] {
  const out: number[] = [];
  for (const d of vector?.data ?? []) {
    const values = d.values as BigInt64Array;
    for (let i = 0; i < d.length; i++) out.push(Number(values[d.offset + i]!));
  }
  return out;
}

/** A Utf8 child's values as strings (column at a time: far faster than Vector.get per row). */
function stringsOf(d: Data): (string | null)[] {
  return Array.from(makeVector(d as Data<Utf8>).toArray() as Iterable<string | null>);
}

/**
 * Each row's entries of a MAP (as an object) or LIST (as an array) column, read from the offsets and the
 * child columns: per-row Vector.get on nested types builds a proxy per row and was most of the decode time.
 */
function nestedOf<T>(vector: { data: readonly Data[] } | null, build: (children: (string | null)[][], from: number, to: number) => T, empty: T): T[] {
  const out: T[] = [];
  for (const d of vector?.data ?? []) {
    const offsets = d.valueOffsets as Int32Array;
    const child = d.children[0]!;
    // MAP: a struct of key and value; LIST: the items themselves.
    const leaves = child.children.length > 0 ? child.children.map((c) => stringsOf(c)) : [stringsOf(child)];
    const base = child.offset;
    for (let i = 0; i < d.length; i++) {
      if (!d.getValid(i)) out.push(empty);
      else out.push(build(leaves, offsets[d.offset + i]! - base, offsets[d.offset + i + 1]! - base));
    }
  }
  return out;
}

function mapsOf(vector: { data: readonly Data[] } | null): Record<string, string>[] {
  return nestedOf<Record<string, string>>(
    vector,
    ([keys, values], from, to) => {
      const o: Record<string, string> = {};
      for (let j = from; j < to; j++) o[keys![j]!] = values![j] ?? '';
      return o;
    },
    {},
  );
}

function listsOf(vector: { data: readonly Data[] } | null): string[][] {
  return nestedOf<string[]>(
    vector,
    ([items], from, to) => {
      const a: string[] = [];
      for (let j = from; j < to; j++) a.push(items![j] ?? '');
      return a;
    },
    [],
  );
}

/** The events of a Parquet file written by Sluice, or of the selected rows (the compactor reads its inputs with it). */
export function decodeParquet(bytes: Uint8Array, selection?: RowSelection): LogEvent[] {
  const wasmTable = pq.readParquet(bytes, readerOptions(selection));
  const table = tableFromIPC(wasmTable.intoIPCStream());
  const cols = Object.fromEntries(EVENT_COLUMNS.map((c) => [c.name, table.getChild(c.name)]));
  const out = new Array<LogEvent>(table.numRows);
  const ts = microsOf(cols.ts ?? null);
  const ingested = microsOf(cols.ingested_at ?? null);
  const attributes = mapsOf(cols.attributes ?? null);
  const tags = listsOf(cols.tags ?? null);
  const strings = (name: string): (string | null)[] =>
    cols[name] ? Array.from(cols[name].toArray() as Iterable<string | null>) : new Array<string | null>(table.numRows).fill(null);
  const [level, service, host, source, message, traceId, spanId, format, eventId] = [
    'level',
    'service',
    'host',
    'source',
    'message',
    'trace_id',
    'span_id',
    'format',
    'event_id',
  ].map(strings);
  for (let i = 0; i < table.numRows; i++) {
    out[i] = {
      ts: ts[i]!,
      ingested_at: ingested[i]!,
      level: (level![i] ?? null) as LogEvent['level'],
      severity: (cols.severity?.get(i) as number | null | undefined) ?? null,
      service: service![i] ?? null,
      host: host![i] ?? null,
      source: source![i] ?? null,
      message: message![i] ?? '',
      attributes: attributes[i] ?? {},
      tags: tags[i] ?? [],
      trace_id: traceId![i] ?? null,
      span_id: spanId![i] ?? null,
      format: format![i] ?? '',
      event_id: eventId![i] ?? '',
      ts_inferred: Boolean(cols.ts_inferred?.get(i)),
    };
  }
  return out;
}
