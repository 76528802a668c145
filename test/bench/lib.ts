/** Helpers the benchmarks share: the machine, medians, a normalization context, "run as a script". */
import { readFileSync } from 'node:fs';
import { cpus, freemem, release, totalmem, type as osType } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DecodedRecord } from '../../shared/domain/shippers/common.js';
import { DEFAULT_EVENT_LIMITS, normalizeJsonObject, normalizeTextLine, type RecordContext } from '../../shared/domain/normalize/record.js';
import type { LogEvent } from '../../shared/domain/schema.js';

/** True when the module with this import.meta.url is the script node/tsx was started with. */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(metaUrl);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The same context the ingest service builds for one request (fixed receipt, "now" as ingest time). */
export function benchContext(nowMs = Date.now()): RecordContext {
  return { receipt: '01HZZZZZZZZZZZZZZZZZZZZZZZ', ingestedAtMicros: nowMs * 1000, defaults: {}, limits: DEFAULT_EVENT_LIMITS };
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  freeRamGiB: number;
  node: string;
  os: string;
}

/** CPU model, cores, RAM, Node and OS: printed at the top of a run and stored with its results. */
export function machineInfo(): MachineInfo {
  const c = cpus();
  let os = `${osType()} ${release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) os = `${pretty[1]} (${osType()} ${release()})`;
  } catch {
    // not Linux: the kernel name and release are enough
  }
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeRamGiB: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os,
  };
}

/** Where the suite keeps its results and cached datasets: .sluice-bench/ in the cwd, or SLUICE_BENCH_DIR. */
export function benchDir(): string {
  return resolve(process.env['SLUICE_BENCH_DIR'] ?? '.sluice-bench');
}

/** Normalizes decoded records as the ingest service does; records that failed to decode are left out (rejected). */
export function normalizeRecords(records: readonly DecodedRecord[], ctx: RecordContext): LogEvent[] {
  const events: LogEvent[] = [];
  for (const rec of records) {
    if (rec.kind === 'json') events.push(normalizeJsonObject(rec.value, rec.index, ctx, rec.raw));
    else if (rec.kind === 'text') events.push(normalizeTextLine(rec.line, rec.index, ctx, rec.hints?.parse !== false));
  }
  return events;
}
