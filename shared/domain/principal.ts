/** Who a request acts for: a tenant and the scopes its key grants. */
export const SCOPES = ['ingest', 'query', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  tenant: string;
  scopes: Scope[];
  /** A short, non-secret id for logs (a prefix of the key's hash). */
  keyId: string;
}
