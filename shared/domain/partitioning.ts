/**
 * Events are partitioned by tenant and the UTC hour of their own time: which partition an event or a time
 * range falls in. The partition's object keys are storage-layout.ts's.
 */
export interface Partition {
  tenant: string;
  /** YYYY-MM-DD, UTC */
  dt: string;
  /** 0-23, UTC */
  hour: number;
}

const MICROS_PER_HOUR = 3_600_000_000;
const MS_PER_HOUR = 3_600_000;

export function partitionOf(tenant: string, tsMicros: number): Partition {
  const d = new Date(Math.floor(tsMicros / 1000));
  return { tenant, dt: d.toISOString().slice(0, 10), hour: d.getUTCHours() };
}

/** A stable string key for grouping events by partition. */
export function partitionId(p: Partition): string {
  return `${p.tenant}/${p.dt}/${p.hour}`;
}

/** When the partition's hour starts (ms since epoch). */
export function partitionStartMs(p: Partition): number {
  return Date.parse(`${p.dt}T${String(p.hour).padStart(2, '0')}:00:00Z`);
}

/** The hour bucket (ms since epoch, floored to the hour) that contains tsMicros. */
export function hourStartMs(tsMicros: number): number {
  return Math.floor(tsMicros / MICROS_PER_HOUR) * MS_PER_HOUR;
}

/**
 * The partitions of one tenant that can hold events in [startMs, endMs): every hour touched by the range.
 */
export function partitionsInRange(tenant: string, startMs: number, endMs: number): Partition[] {
  const out: Partition[] = [];
  if (!(endMs > startMs)) return out;
  for (let h = Math.floor(startMs / MS_PER_HOUR) * MS_PER_HOUR; h < endMs; h += MS_PER_HOUR) {
    const d = new Date(h);
    out.push({ tenant, dt: d.toISOString().slice(0, 10), hour: d.getUTCHours() });
  }
  return out;
}
