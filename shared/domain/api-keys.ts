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

const AUTHORIZATION_RE = /^\s*(Bearer|Splunk|ApiKey|Basic)\s+(\S+)\s*$/i;

/** `base64(a:b)` as [a, b]; undefined unless the token is canonical base64 of printable text with a colon. */
function base64Pair(token: string): [string, string] | undefined {
  if (token.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64').toString('utf8');
  // Round-tripping rules out binary (and invalid UTF-8) that merely happens to use base64's alphabet.
  if (Buffer.from(text, 'utf8').toString('base64') !== token || /[\x00-\x1f\x7f\uFFFD]/.test(text)) return undefined;
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : [text.slice(0, colon), text.slice(colon + 1)];
}

/**
 * The API key in an Authorization header, in the forms shippers send:
 * - `Bearer <key>` (Sluice's own form, OTLP exporters, Loki clients) and `Splunk <key>` (HEC clients);
 * - `ApiKey <key>` or `ApiKey base64(id:key)` (Elasticsearch clients: the part after the colon);
 * - `Basic base64(user:key)`: the password is the key (any user name); with an empty password, the user
 *   name is (`curl -u <key>:`).
 */
export function credentialOf(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = AUTHORIZATION_RE.exec(authorization);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  const token = m[2]!;
  if (scheme === 'bearer' || scheme === 'splunk') return token;
  const pair = base64Pair(token);
  if (scheme === 'apikey') return pair ? pair[1] || undefined : token;
  if (!pair) return undefined;
  return pair[1] !== '' ? pair[1] : pair[0] || undefined;
}
