import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { tempDir } from '../helpers/tmp.js';
import { objectStoreContract } from './object-store.contract.js';

objectStoreContract('FsObjectStore', async () => {
  const { dir, cleanup } = await tempDir();
  return { store: new FsObjectStore(dir), cleanup };
});

describe('FsObjectStore specifics', () => {
  it('refuses keys that could leave the data directory', async () => {
    const { dir, cleanup } = await tempDir();
    const store = new FsObjectStore(dir);
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a/b c', 'a/%2e%2e/b', 'a\\b']) {
      await expect(store.put(key, new Uint8Array(1)), key).rejects.toThrow(/unsafe object key/);
    }
    await expect(store.list('../')).rejects.toThrow(/unsafe object key/);
    await cleanup();
  });

  it('leaves no temporary files behind after a put', async () => {
    const { dir, cleanup } = await tempDir();
    const store = new FsObjectStore(dir);
    await store.put('a/b.json', Buffer.from('{}'));
    expect(await readdir(`${dir}/a`)).toEqual(['b.json']);
    await cleanup();
  });
});
