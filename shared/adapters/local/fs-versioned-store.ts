import { createHash } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Versioned, VersionedStore } from '../../ports/versioned-store.js';
import { isNotFound, mkdirDurable, writeFileAtomic } from './fs-util.js';
import type { FsObjectStore } from './fs-object-store.js';

const versionOf = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32);
const STALE_LOCK_MS = 30_000;

/** Compare-and-swap documents in the data directory, serialized by an exclusive lock file per key. */
export class FsVersionedStore implements VersionedStore {
  constructor(private readonly store: FsObjectStore) {}

  async read(key: string): Promise<Versioned | undefined> {
    try {
      const value = await readFile(this.store.pathOf(key), 'utf8');
      return { value, version: versionOf(value) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async write(key: string, value: string, expected: string | null): Promise<string | false> {
    const path = this.store.pathOf(key);
    await mkdirDurable(dirname(path));
    const lock = `${path}.lock`;
    const fh = await this.lock(lock);
    if (!fh) return false;
    try {
      const current = await this.read(key);
      if ((current?.version ?? null) !== expected) return false;
      await writeFileAtomic(path, value);
      return versionOf(value);
    } finally {
      await fh.close();
      await unlink(lock).catch(() => {});
    }
  }

  private async lock(path: string) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        return await open(path, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        // A lock left by a process that died is broken after a while.
        const age = await stat(path).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > STALE_LOCK_MS) await unlink(path).catch(() => {});
        else await new Promise((r) => setTimeout(r, 20));
      }
    }
    return undefined;
  }
}
