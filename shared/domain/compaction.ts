/**
 * Compaction manifests: the intent record of one compaction job, stored beside the partition's files as
 * `_compaction-<hash>.json`. Pure code: the compactor writes them, the local query engine reads them to
 * show each event once while a swap is under way.
 */
import { createHash } from 'node:crypto';

export const MANIFEST_PREFIX = '_compaction-';
export const COMPACT_PREFIX = 'compact-';

export interface CompactionManifest {
  /** the data files being merged (full keys) */
  inputs: string[];
  /** the files that replace them (full keys) */
  outputs: string[];
}

/** A short, stable hash of the sorted input keys: the same inputs always give the same job and names. */
export function jobHash(inputs: readonly string[]): string {
  return createHash('sha256').update([...inputs].sort().join('\n')).digest('hex').slice(0, 16);
}

export function manifestName(hash: string): string {
  return `${MANIFEST_PREFIX}${hash}.json`;
}

export function outputName(hash: string, n: number): string {
  return `${COMPACT_PREFIX}${hash}-${n}.parquet`;
}

export function isManifestKey(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name.startsWith(MANIFEST_PREFIX) && name.endsWith('.json');
}

/** Parses a manifest; undefined when it is not one (a torn or foreign file is ignored, not trusted). */
export function parseManifest(bytes: Uint8Array): CompactionManifest | undefined {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as Partial<CompactionManifest>;
    const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');
    if (!strings(v.inputs) || !strings(v.outputs) || v.outputs.length === 0) return undefined;
    return { inputs: v.inputs, outputs: v.outputs };
  } catch {
    return undefined;
  }
}

/**
 * Which of a partition's data files a reader must skip so each event is seen once: while a job's outputs
 * are not all written, its outputs; once they are, its inputs.
 */
export function keysHiddenBy(manifests: readonly CompactionManifest[], existing: ReadonlySet<string>): Set<string> {
  const hidden = new Set<string>();
  for (const m of manifests) {
    const done = m.outputs.every((k) => existing.has(k));
    for (const k of done ? m.inputs : m.outputs) hidden.add(k);
  }
  return hidden;
}
