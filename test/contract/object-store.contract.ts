/**
 * The expectations every ObjectStore adapter meets. Each adapter's test file calls this with a factory.
 */
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../shared/ports/object-store.js';

export function objectStoreContract(name: string, make: () => Promise<{ store: ObjectStore; cleanup: () => Promise<void> }>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    const withStore = async (fn: (store: ObjectStore) => Promise<void>) => {
      const { store, cleanup } = await make();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    };

    it('returns what was put, and undefined for a missing key', () =>
      withStore(async (store) => {
        await store.put('events/tenant=a/dt=2024-05-01/hour=12/x.parquet', new Uint8Array([1, 2, 3]));
        expect([...((await store.get('events/tenant=a/dt=2024-05-01/hour=12/x.parquet')) ?? [])]).toEqual([1, 2, 3]);
        expect(await store.get('events/tenant=a/dt=2024-05-01/hour=12/missing.parquet')).toBeUndefined();
      }));

    it('overwrites an existing key', () =>
      withStore(async (store) => {
        await store.put('k/a.json', Buffer.from('one'));
        await store.put('k/a.json', Buffer.from('two'));
        expect(Buffer.from((await store.get('k/a.json'))!).toString()).toBe('two');
        expect((await store.list('k/')).length).toBe(1);
      }));

    it('lists keys under a prefix, sorted, with sizes, including partial-name prefixes', () =>
      withStore(async (store) => {
        await store.put('events/tenant=b/dt=2024-05-02/hour=01/z.parquet', new Uint8Array(5));
        await store.put('events/tenant=a/dt=2024-05-01/hour=12/y.parquet', new Uint8Array(2));
        await store.put('events/tenant=a/dt=2024-05-01/hour=13/x.parquet', new Uint8Array(3));
        await store.put('events/tenant=ab/dt=2024-05-01/hour=13/w.parquet', new Uint8Array(1));
        expect(await store.list('events/tenant=a/')).toEqual([
          { key: 'events/tenant=a/dt=2024-05-01/hour=12/y.parquet', size: 2 },
          { key: 'events/tenant=a/dt=2024-05-01/hour=13/x.parquet', size: 3 },
        ]);
        expect((await store.list('events/tenant=a')).map((o) => o.key)).toEqual([
          'events/tenant=a/dt=2024-05-01/hour=12/y.parquet',
          'events/tenant=a/dt=2024-05-01/hour=13/x.parquet',
          'events/tenant=ab/dt=2024-05-01/hour=13/w.parquet',
        ]);
        expect(await store.list('events/tenant=c/')).toEqual([]);
      }));

    it('deletes, and deleting a missing key is not an error', () =>
      withStore(async (store) => {
        await store.put('d/x', Buffer.from('x'));
        await store.delete('d/x');
        await store.delete('d/x');
        expect(await store.get('d/x')).toBeUndefined();
        expect(await store.list('d/')).toEqual([]);
      }));

    it('stores bytes exactly, including large objects', () =>
      withStore(async (store) => {
        const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 251);
        await store.put('big/blob.bin', big);
        const back = await store.get('big/blob.bin');
        expect(back?.length).toBe(big.length);
        expect(Buffer.compare(Buffer.from(back!), Buffer.from(big))).toBe(0);
      }));
  });
}
