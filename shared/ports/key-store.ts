export const SCOPES = ['ingest', 'query', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tenant: string;
  scopes: Scope[];
  /** A short, non-secret id for logs (a prefix of the key's hash). */
  keyId: string;
}

/** Looks up the principal an API key belongs to. */
export interface KeyStore {
  lookup(key: string): Promise<Principal | undefined>;
}
