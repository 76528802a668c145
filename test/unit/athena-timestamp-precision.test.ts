/**
 * Issue 13, finding 9: Athena's `ts` precision, documented and tested rather than hidden. Athena reads a
 * Hive table's `timestamp` column with millisecond precision (Athena and Glue handle only milliseconds for
 * TIMESTAMP in Hive tables; the Trino connector rounds the Parquet file's microseconds to its precision),
 * while DuckDB keeps the microseconds Sluice writes. Parquet keeps µs either way; only what Athena reads
 * is rounded. What Sluice controls is made the same on both engines: the text shape of a timestamp (six
 * fraction digits, UTC, `Z`) and whole-millisecond range bounds. docs/query-language.md says so.
 */
import { describe, expect, it } from 'vitest';
import { convertValue } from '../../shared/adapters/aws/athena-values.js';
import { glueColumns, logsSelectList } from '../../shared/adapters/aws/trino-schema.js';
import { trinoTimestampLiteral } from '../../shared/domain/query/dialects/trino.js';
import { microsToIso } from '../../shared/domain/normalize/timestamp.js';

/** What Athena returns for an event stored at `micros`: the instant rounded to the millisecond (Trino rounds half up). */
function athenaText(micros: number): string {
  const ms = Math.round(micros / 1000);
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

describe("Athena's ts precision (milliseconds) against DuckDB's (microseconds)", () => {
  it('the Glue table declares ts a Hive timestamp (read by Athena at millisecond precision)', () => {
    expect(glueColumns().find((c) => c.name === 'ts')).toMatchObject({ type: 'timestamp' });
    // …and logs casts it to timestamp(6) with time zone, so it prints with six fraction digits like DuckDB's TIMESTAMPTZ.
    expect(logsSelectList()).toContain(`CAST(with_timezone("ts", 'UTC') AS timestamp(6) with time zone) AS "ts"`);
  });

  it('an event stored at .123456 comes back from Athena as .123000 (DuckDB: .123456): same shape, the last three digits zero', () => {
    const stored = Date.UTC(2024, 4, 1, 12, 0, 0, 123) * 1000 + 456;
    const fromAthena = convertValue(athenaText(stored), 'timestamp(6) with time zone') as string;
    expect(fromAthena).toBe('2024-05-01T12:00:00.123000Z');
    expect(fromAthena).toMatch(/\.\d{3}000Z$/);
    // The local engine's value for the same event keeps the microseconds; rounded to the ms, it is Athena's.
    expect(microsToIso(stored)).toMatch(/^2024-05-01T12:00:00\.123456/);
    const roundedLocal = microsToIso(Math.round(stored / 1000) * 1000);
    expect(new Date(fromAthena).getTime()).toBe(new Date(roundedLocal).getTime());
  });

  it('rounds, not truncates: .123600 reads as .124000 on Athena', () => {
    const stored = Date.UTC(2024, 4, 1, 12, 0, 0, 123) * 1000 + 600;
    expect(convertValue(athenaText(stored), 'timestamp(6) with time zone')).toBe('2024-05-01T12:00:00.124000Z');
  });

  it('range bounds are whole milliseconds on Athena (as the API takes them), so only events within half a millisecond of a bound can differ', () => {
    expect(trinoTimestampLiteral(Date.UTC(2024, 4, 1, 10, 15, 0, 250))).toBe("TIMESTAMP '2024-05-01 10:15:00.250'");
  });
});
