import { describe, expect, it } from 'vitest';
import { keysHiddenBy, parseManifest, type CompactionManifest } from '../../shared/domain/compaction.js';
import { outputPrefix } from '../../shared/domain/storage-layout.js';

const p = 'events/tenant=acme/dt=2024-05-01/hour=10/';
const inputs = [`${p}a.parquet`, `${p}b.parquet`];
const prefix = outputPrefix(p, '0123456789abcdef');
const outputs = [`${prefix}0.parquet`, `${prefix}1.parquet`];
const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('compaction manifests', () => {
  it('parse a job in progress and a committed job; refuse torn or foreign ones', () => {
    expect(parseManifest(bytes({ inputs, outputPrefix: prefix, outputs: null }))).toEqual({ inputs, outputPrefix: prefix, outputs: null });
    expect(parseManifest(bytes({ inputs, outputPrefix: prefix, outputs }))).toEqual({ inputs, outputPrefix: prefix, outputs });
    expect(parseManifest(new TextEncoder().encode('{"inputs": ["a"'))).toBeUndefined();
    expect(parseManifest(bytes({ inputs, outputs }))).toBeUndefined();
    expect(parseManifest(bytes({ inputs, outputPrefix: prefix, outputs: [] }))).toBeUndefined();
    // An output outside the job's prefix (an input, say) would make readers hide real data.
    expect(parseManifest(bytes({ inputs, outputPrefix: prefix, outputs: [inputs[0]] }))).toBeUndefined();
    expect(parseManifest(bytes({ inputs, outputPrefix: `${p}a`, outputs: null }))).toBeUndefined();
    expect(parseManifest(bytes({ inputs, outputPrefix: 'events/tenant=compact-x/dt=2024-05-01/hour=10/a', outputs: null }))).toBeUndefined();
  });

  it('before the commit point readers skip what the job wrote; after it, the inputs', () => {
    const writing: CompactionManifest = { inputs, outputPrefix: prefix, outputs: null };
    const committed: CompactionManifest = { ...writing, outputs };
    const listed = new Set([...inputs, outputs[0]!]);
    expect(keysHiddenBy([writing], listed)).toEqual(new Set([outputs[0]]));
    // Committed, but this listing was taken before the last output was put: keep reading the inputs.
    expect(keysHiddenBy([committed], listed)).toEqual(new Set([outputs[0]]));
    expect(keysHiddenBy([committed], new Set([...inputs, ...outputs]))).toEqual(new Set(inputs));
    expect(keysHiddenBy([committed], new Set([inputs[1]!, ...outputs]))).toEqual(new Set(inputs));
  });
});
