import type { Principal } from '../domain/principal.js';

/** Looks up the principal an API key belongs to. */
export interface KeyStore {
  lookup(key: string): Promise<Principal | undefined>;
}
