import { hashKey, type KeyEntry } from '../../domain/api-keys.js';
import type { Principal } from '../../domain/principal.js';
import type { KeyStore } from '../../ports/key-store.js';

/** Keys from configuration, held only as SHA-256 hashes. */
export class StaticKeyStore implements KeyStore {
  private readonly byHash: Map<string, Principal>;

  constructor(entries: readonly KeyEntry[]) {
    this.byHash = new Map(entries.map((e) => [e.hash, e.principal]));
  }

  async lookup(key: string): Promise<Principal | undefined> {
    return this.byHash.get(hashKey(key));
  }
}
