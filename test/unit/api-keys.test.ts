import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { credentialOf, hashKey, parseApiKeys } from '../../shared/domain/api-keys.js';

const SECRET_A = 'sk_live_alpha_12345';
const SECRET_B = 'sk_live_bravo_67890';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function errorOf(spec: string): Error {
  try {
    parseApiKeys(spec);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected parseApiKeys(${JSON.stringify(spec)}) to throw`);
}

describe('hashKey', () => {
  it('is the hex SHA-256 of the key', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashKey(SECRET_A)).toBe(sha256(SECRET_A));
  });
});

describe('parseApiKeys', () => {
  it('parses keys with their tenant and scopes, storing only hashes', () => {
    const entries = parseApiKeys(`${SECRET_A}:acme:ingest+query, ${SECRET_B}:beta_2:admin`);
    expect(entries).toEqual([
      { hash: sha256(SECRET_A), principal: { tenant: 'acme', scopes: ['ingest', 'query'], keyId: sha256(SECRET_A).slice(0, 8) } },
      { hash: sha256(SECRET_B), principal: { tenant: 'beta_2', scopes: ['admin'], keyId: sha256(SECRET_B).slice(0, 8) } },
    ]);
    expect(JSON.stringify(entries)).not.toContain(SECRET_A);
    expect(JSON.stringify(entries)).not.toContain(SECRET_B);
  });

  it('accepts all three scopes, spaces around scope names and an 8-character key', () => {
    const [entry] = parseApiKeys('12345678:t:ingest + query +admin');
    expect(entry!.principal).toEqual({ tenant: 't', scopes: ['ingest', 'query', 'admin'], keyId: sha256('12345678').slice(0, 8) });
  });

  it('returns nothing for an empty spec and skips empty entries', () => {
    expect(parseApiKeys('')).toEqual([]);
    expect(parseApiKeys(' , ,')).toEqual([]);
    expect(parseApiKeys(`,${SECRET_A}:acme:ingest,,`).map((e) => e.principal.tenant)).toEqual(['acme']);
  });

  it('lets two keys share a tenant', () => {
    expect(parseApiKeys(`${SECRET_A}:acme:ingest,${SECRET_B}:acme:query`).map((e) => e.principal.scopes)).toEqual([['ingest'], ['query']]);
  });

  it.each([
    ['too few parts', `${SECRET_A}:acme`, 'entry 1 of SLUICE_API_KEYS must look like key:tenant:scope+scope (scopes: ingest, query, admin)'],
    ['too many parts', `${SECRET_A}:extra:acme:ingest`, 'entry 1 of SLUICE_API_KEYS must look like key:tenant:scope+scope (scopes: ingest, query, admin)'],
    ['a bare key', SECRET_A, 'entry 1 of SLUICE_API_KEYS must look like key:tenant:scope+scope (scopes: ingest, query, admin)'],
    ['a short key', 'sk_1234:acme:ingest', 'entry 1 of SLUICE_API_KEYS: the key must be at least 8 characters'],
    [
      'an invalid tenant',
      `${SECRET_A}:Acme Corp:ingest`,
      `entry 1 of SLUICE_API_KEYS: the tenant (second field) must be 1-63 characters of a-z, 0-9, '-', '_'`,
    ],
    ['an empty tenant', `${SECRET_A}::ingest`, `entry 1 of SLUICE_API_KEYS: the tenant (second field) must be 1-63 characters of a-z, 0-9, '-', '_'`],
    ['an unknown scope', `${SECRET_A}:acme:ingest+write`, "entry 1 of SLUICE_API_KEYS: the scopes (third field) must be ingest, query, admin joined by '+'"],
    ['no scope', `${SECRET_A}:acme:`, "entry 1 of SLUICE_API_KEYS: the scopes (third field) must be ingest, query, admin joined by '+'"],
  ])('rejects %s with a message that names the entry and hides the key', (_label, spec, message) => {
    const err = errorOf(spec);
    expect(err.message).toBe(message);
    expect(err.message).not.toContain(SECRET_A);
    expect(err.message).not.toContain('sk_1234');
  });

  it('numbers the bad entry among the non-empty entries', () => {
    const err = errorOf(`${SECRET_A}:acme:ingest, , ${SECRET_B}:acme:nope`);
    expect(err.message).toBe("entry 2 of SLUICE_API_KEYS: the scopes (third field) must be ingest, query, admin joined by '+'");
    expect(err.message).not.toContain(SECRET_B);
  });

  it('does not echo a secret written in the tenant or scope slot', () => {
    expect(errorOf('acme-prod:SuperSecret123:ingest').message).not.toContain('SuperSecret123');
    expect(errorOf('acme-prod1:acme:SuperSecret123').message).not.toContain('SuperSecret123');
  });

  it('rejects the same key listed twice without echoing it', () => {
    const err = errorOf(`${SECRET_A}:acme:ingest,${SECRET_B}:beta:query,${SECRET_A}:beta:admin`);
    expect(err.message).toBe('entry 3 of SLUICE_API_KEYS: the same key is listed twice');
    expect(err.message).not.toContain(SECRET_A);
  });
});

describe('credentialOf', () => {
  it.each([
    ['Bearer abc123', 'abc123'],
    ['bearer abc123', 'abc123'],
    ['BEARER abc123', 'abc123'],
    ['  Bearer   abc123  ', 'abc123'],
    ['Bearer\tabc123', 'abc123'],
    ['Splunk 9b1c-44aa', '9b1c-44aa'],
    ['splunk 9b1c-44aa', '9b1c-44aa'],
  ])('%j -> %j', (header, credential) => {
    expect(credentialOf(header)).toBe(credential);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['a bare key', 'abc123'],
    ['a scheme with no credential', 'Bearer'],
    ['a scheme with only spaces', 'Bearer   '],
    ['two tokens', 'Bearer abc 123'],
    ['Basic auth that is not base64 of user:key', 'Basic dXNlcnBhc3M='],
    ['a scheme glued to the key', 'Bearerabc123'],
    ['garbage', '!!!'],
  ])('returns undefined for %s', (_label, header) => {
    expect(credentialOf(header)).toBeUndefined();
  });
});
