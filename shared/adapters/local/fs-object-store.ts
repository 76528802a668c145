import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UnavailableError } from '../../domain/errors.js';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.js';
import type { DiskSpace } from './disk-space.js';
import { isNotFound, isStorageFull, writeFileAtomic } from './fs-util.js';

const KEY_SEGMENT = /^[A-Za-z0-9._=-]+$/;

/** Rejects keys that could escape the root or that S3 and the file system would treat differently. */
export function assertSafeKey(key: string, allowPartial = false): void {
  const parts = key.split('/');
  const last = parts.length - 1;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    // A list prefix may end in '/' (empty last part) or in a partial name.
    if (allowPartial && i === last && part === '') continue;
    if (!KEY_SEGMENT.test(part) || part === '.' || part === '..' || part.includes('.tmp-')) {
      throw new Error(`unsafe object key ${JSON.stringify(key)}`);
    }
  }
}

/**
 * An object store on a local directory: keys map to paths under root; puts are atomic and fsynced. With a
 * DiskSpace it reports what it writes, its write failures (a full or read-only disk) and what it deletes.
 */
export class FsObjectStore implements ObjectStore {
  readonly root: string;
  private readonly space: Pick<DiskSpace, 'wrote' | 'failed' | 'reclaimed'> | undefined;

  constructor(root: string, opts: { space?: Pick<DiskSpace, 'wrote' | 'failed' | 'reclaimed'> } = {}) {
    this.root = resolve(root);
    this.space = opts.space;
  }

  /** The absolute path of a key (local adapters such as DuckDB read files directly). */
  pathOf(key: string): string {
    assertSafeKey(key);
    return join(this.root, ...key.split('/'));
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    try {
      await writeFileAtomic(this.pathOf(key), body);
      this.space?.wrote(body.byteLength);
    } catch (err) {
      this.space?.failed(err);
      if (isStorageFull(err)) throw new UnavailableError(`object store cannot write: ${(err as Error).message}`, 5, { cause: err });
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
      this.space?.reclaimed();
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * The names of the "directories" directly under a prefix ending in '/' (what S3 returns as common
   * prefixes with Delimiter '/'), sorted.
   */
  async listPrefixes(prefix: string): Promise<string[]> {
    if (!prefix.endsWith('/')) throw new Error('listPrefixes takes a prefix ending in /');
    assertSafeKey(prefix, true);
    try {
      const entries = await readdir(join(this.root, ...prefix.slice(0, -1).split('/')), { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    if (prefix !== '') assertSafeKey(prefix, true);
    const cut = prefix.lastIndexOf('/');
    const dirKey = cut >= 0 ? prefix.slice(0, cut) : '';
    const namePrefix = prefix.slice(cut + 1);
    const out: ObjectInfo[] = [];
    const walk = async (dirPath: string, keyPrefix: string, filter: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dirPath, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const e of entries) {
        if (!e.name.startsWith(filter) || e.name.includes('.tmp-')) continue;
        const key = `${keyPrefix}${e.name}`;
        const path = join(dirPath, e.name);
        if (e.isDirectory()) await walk(path, `${key}/`, '');
        else if (e.isFile()) {
          try {
            out.push({ key, size: (await stat(path)).size });
          } catch (err) {
            if (!isNotFound(err)) throw err; // deleted while listing
          }
        }
      }
    };
    await walk(dirKey ? join(this.root, ...dirKey.split('/')) : this.root, dirKey ? `${dirKey}/` : '', namePrefix);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
