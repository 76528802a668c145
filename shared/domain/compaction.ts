/**
 * Compaction manifests: the intent record of one compaction job, stored beside the partition's files as
 * `_compaction-<hash>.json` (its key and its outputs' keys are storage-layout.ts's). Pure code: the
 * compactor writes them, the local query engine reads them to show each event once while a swap is under way.
 */
import { createHash } from 'node:crypto';
import { isCompactedKey } from './storage-layout.js';

export interface CompactionManifest {
  /** the data files being merged (full keys) */
  inputs: string[];
  /** every output's key starts with this (`<partition>/compact-<hash>-`) */
  outputPrefix: string;
  /**
   * null while the outputs are being written (readers use the inputs and skip anything under
   * outputPrefix); the complete list once they are all stored — the job's commit point, after which
   * readers use the outputs and skip the inputs.
   */
  outputs: string[] | null;
  /** when the job started (ms); a run leaves a younger job of another run alone (see jobLeaseMs) */
  startedAt?: number;
}

/** A short, stable hash of the sorted input keys: the same inputs always give the same job and names. */
export function jobHash(inputs: readonly string[]): string {
  return createHash('sha256')
    .update([...inputs].sort().join('\n'))
    .digest('hex')
    .slice(0, 16);
}

/** Parses a manifest; undefined when it is not one (a torn or foreign file is ignored, not trusted). */
export function parseManifest(bytes: Uint8Array): CompactionManifest | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<CompactionManifest>;
    const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
    if (!strings(v.inputs) || typeof v.outputPrefix !== 'string' || !isCompactedKey(v.outputPrefix)) return undefined;
    if (v.outputs !== null && !(strings(v.outputs) && v.outputs.length > 0 && v.outputs.every((k) => k.startsWith(v.outputPrefix!)))) return undefined;
    const startedAt = typeof v.startedAt === 'number' && Number.isFinite(v.startedAt) ? v.startedAt : undefined;
    return { inputs: v.inputs, outputPrefix: v.outputPrefix, outputs: v.outputs, ...(startedAt === undefined ? {} : { startedAt }) };
  } catch {
    return undefined;
  }
}

/**
 * Which of a partition's listed data files a reader must skip so each event is seen once: after a job's
 * commit point, its inputs; before it — or when the listing predates the commit and lacks an output —
 * whatever the job has written so far.
 */
export function keysHiddenBy(manifests: readonly CompactionManifest[], listed: ReadonlySet<string>): Set<string> {
  const hidden = new Set<string>();
  for (const m of manifests) {
    if (m.outputs && m.outputs.every((k) => listed.has(k))) for (const k of m.inputs) hidden.add(k);
    else for (const k of listed) if (k.startsWith(m.outputPrefix)) hidden.add(k);
  }
  return hidden;
}
