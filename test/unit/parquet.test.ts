import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { textOf } from '../../shared/domain/text.js';
import { makeEvent } from '../helpers/events.js';
import { tempDir } from '../helpers/tmp.js';

describe('encodeParquet', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let file: string;
  const base = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    file = join(dir, 'x.parquet');
    const events = [
      makeEvent({ ts: base + 3_000_001, message: 'third', attributes: { 'http.status': '500', user: 'bob' }, tags: ['a', 'b'] }),
      makeEvent({ ts: base + 1, message: 'first', level: null, severity: null, service: null, tags: [] }),
      makeEvent({ ts: base + 2_000_000, message: 'sécond ✓', trace_id: 'abc', span_id: 'def', ts_inferred: true }),
    ];
    await writeFile(file, encodeParquet(events));
  });
  afterAll(() => cleanup());

  async function query(sql: string) {
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    await conn.run("SET TimeZone = 'UTC'");
    const r = await conn.runAndReadAll(sql.replaceAll('$FILE', `'${file}'`));
    return r;
  }

  it('stores the schema types DuckDB reads back: timestamptz, a map, a list', async () => {
    const r = await query('DESCRIBE SELECT * FROM $FILE');
    const types = Object.fromEntries(r.getRowObjectsJson().map((row) => [row['column_name'], row['column_type']]));
    expect(types).toMatchObject({
      ts: 'TIMESTAMP WITH TIME ZONE',
      ingested_at: 'TIMESTAMP WITH TIME ZONE',
      level: 'VARCHAR',
      severity: 'INTEGER',
      attributes: 'MAP(VARCHAR, VARCHAR)',
      tags: 'VARCHAR[]',
      ts_inferred: 'BOOLEAN',
      event_id: 'VARCHAR',
    });
  });

  it('compresses every column chunk with ZSTD', async () => {
    const r = await query('SELECT DISTINCT compression FROM parquet_metadata($FILE)');
    expect(r.getRowsJson().map((x) => x[0])).toEqual(['ZSTD']);
  });

  it('sorts rows by ts and keeps microseconds, maps, lists, nulls and UTF-8', async () => {
    const r = await query("SELECT message, epoch_us(ts), attributes['http.status'], tags, level, service, trace_id, ts_inferred FROM $FILE");
    const rows = r.getRowsJson();
    expect(rows.map((x) => x[0])).toEqual(['first', 'sécond ✓', 'third']);
    expect(rows.map((x) => Number(x[1]))).toEqual([base + 1, base + 2_000_000, base + 3_000_001]);
    expect(rows[2]![2]).toBe('500');
    expect(rows.map((x) => x[3])).toEqual([[], [], ['a', 'b']]);
    expect(rows[0]![4]).toBeNull();
    expect(rows[0]![5]).toBeNull();
    expect(rows[1]![6]).toBe('abc');
    expect(rows.map((x) => x[7])).toEqual([false, true, false]);
  });

  it('records the timestamp as UTC-adjusted microseconds', async () => {
    const r = await query("SELECT logical_type FROM parquet_schema($FILE) WHERE name = 'ts'");
    const logical = textOf(r.getRowsJson()[0]![0]);
    expect(logical).toMatch(/isAdjustedToUTC=1/i);
    expect(logical).toMatch(/MICROS/);
  });
});
