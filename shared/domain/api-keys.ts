/** API keys given as configuration: `key:tenant:scope+scope,…` (SLUICE_API_KEYS in local mode). */
import { createHash } from 'node:crypto';
import { SCOPES, type Principal, type Scope } from './principal.js';
import { isValidTenant } from './tenant.js';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export interface KeyEntry {
  hash: string;
  principal: Principal;
}

/** Parses a key list; throws an Error naming the bad entry (without echoing the secret). */
export function parseApiKeys(spec: string): KeyEntry[] {
  const entries: KeyEntry[] = [];
  const seen = new Set<string>();
  spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((item, i) => {
      const parts = item.split(':');
      const where = `entry ${i + 1} of SLUICE_API_KEYS`;
      if (parts.length !== 3) throw new Error(`${where} must look like key:tenant:scope+scope (scopes: ${SCOPES.join(', ')})`);
      const [key, tenant, scopeList] = parts as [string, string, string];
      if (key.length < 8) throw new Error(`${where}: the key must be at least 8 characters`);
      // Fields are not echoed: a key written in the wrong slot would end up in logs.
      if (!isValidTenant(tenant)) throw new Error(`${where}: the tenant (second field) must be 1-63 characters of a-z, 0-9, '-', '_'`);
      const scopes = scopeList.split('+').map((s) => s.trim());
      for (const s of scopes) {
        if (!(SCOPES as readonly string[]).includes(s)) throw new Error(`${where}: the scopes (third field) must be ${SCOPES.join(', ')} joined by '+'`);
      }
      const hash = hashKey(key);
      if (seen.has(hash)) throw new Error(`${where}: the same key is listed twice`);
      seen.add(hash);
      entries.push({ hash, principal: { tenant, scopes: scopes as Scope[], keyId: hash.slice(0, 8) } });
    });
  return entries;
}

/** The credential in an Authorization header: `Bearer <key>` (other schemes come with their endpoints). */
export function credentialOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^\s*(Bearer|Splunk)\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[2] : undefined;
}
