/**
 * SecretsManagerKeyStore with Secrets Manager mocked: hashed keys to principals, caching (Powertools
 * Parameters, maxAge), validation that never echoes a key, the last good keys kept through a failed
 * refresh; and the create-api-key script's helpers that write the same format.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseKeySecret } from '../../shared/adapters/aws/key-secret.js';
import { SecretsManagerKeyStore } from '../../shared/adapters/aws/secrets-key-store.js';
import { hashKey } from '../../shared/domain/api-keys.js';
import { SluiceError, UnavailableError } from '../../shared/domain/errors.js';
import { addEntry, entryFor, newApiKey } from '../../cli/create-api-key.js';
import { MemoryLogger } from '../helpers/logger.js';

const sm = mockClient(SecretsManagerClient);
const SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:sluice-keys-AbCdEf';
const KEY = 'sluice_test-key-for-acme-000000000000000000000';
const OTHER = 'sluice_test-key-for-globex-0000000000000000000';

const secretText = (...entries: object[]) => JSON.stringify({ keys: entries });
const acme = { hash: hashKey(KEY), tenant: 'acme', scopes: ['ingest', 'query'] };
const globex = { hash: hashKey(OTHER), tenant: 'globex', scopes: ['admin'] };

let now: number;
let logger: MemoryLogger;
function store(opts: { maxAgeSeconds?: number; maxStaleSeconds?: number } = {}) {
  const provider = new SecretsProvider({
    awsSdkV3Client: new SecretsManagerClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  });
  return new SecretsManagerKeyStore({ provider, secretId: SECRET, logger, now: () => now, ...opts });
}
const reads = () => sm.commandCalls(GetSecretValueCommand).length;

beforeEach(() => {
  sm.reset();
  logger = new MemoryLogger();
  // Powertools' cache reads the system clock; move both together.
  vi.useFakeTimers({ toFake: ['Date'] });
  now = Date.parse('2024-05-01T12:00:00Z');
  vi.setSystemTime(now);
});
afterEach(() => {
  vi.useRealTimers();
});
const advance = (seconds: number) => {
  now += seconds * 1000;
  vi.setSystemTime(now);
};

describe('SecretsManagerKeyStore', () => {
  it('resolves a key by its hash to its tenant and scopes, and an unknown key to undefined', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretText(acme, globex) });
    const keys = store();
    expect(await keys.lookup(KEY)).toEqual({ tenant: 'acme', scopes: ['ingest', 'query'], keyId: hashKey(KEY).slice(0, 8) });
    expect(await keys.lookup(OTHER)).toEqual({ tenant: 'globex', scopes: ['admin'], keyId: hashKey(OTHER).slice(0, 8) });
    expect(await keys.lookup('sluice_unknown')).toBeUndefined();
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET });
  });

  it('reads the secret once per maxAge; a key added later works after that', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretText(acme) });
    const keys = store({ maxAgeSeconds: 300 });
    await keys.lookup(KEY);
    await keys.lookup(OTHER);
    await keys.lookup(KEY);
    expect(reads()).toBe(1);

    sm.on(GetSecretValueCommand).resolves({ SecretString: secretText(acme, globex) });
    advance(299);
    expect(await keys.lookup(OTHER)).toBeUndefined();
    advance(2);
    expect((await keys.lookup(OTHER))?.tenant).toBe('globex');
    expect(reads()).toBe(2);
  });

  it('an empty key list denies everything', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: '{"keys":[]}' });
    expect(await store().lookup(KEY)).toBeUndefined();
  });

  it('keeps using the last good keys when a refresh fails, with one warning, for up to maxStaleSeconds', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretText(acme) });
    const keys = store({ maxAgeSeconds: 60, maxStaleSeconds: 600 });
    await keys.lookup(KEY);

    sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    advance(61);
    expect((await keys.lookup(KEY))?.tenant).toBe('acme');
    advance(11);
    expect((await keys.lookup(KEY))?.tenant).toBe('acme');
    expect(logger.entries.filter((e) => e.level === 'warn')).toHaveLength(1);

    advance(600);
    const err = await keys.lookup(KEY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(logger.entries.some((e) => e.level === 'error')).toBe(true);
  });

  it('keeps the last good keys when the secret is replaced by invalid JSON, and says so without quoting it', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: secretText(acme) });
    const keys = store({ maxAgeSeconds: 60 });
    await keys.lookup(KEY);
    sm.on(GetSecretValueCommand).resolves({ SecretString: `{"keys":[{"hash":"${KEY}"` });
    advance(61);
    expect((await keys.lookup(KEY))?.tenant).toBe('acme');
    const logged = JSON.stringify(logger.entries);
    expect(logged).toMatch(/not valid JSON/);
    expect(logged).not.toContain(KEY);
  });

  it('at cold start, a missing or invalid secret fails with a Sluice error that names the secret, never a key', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } }),
    );
    let err = await store()
      .lookup(KEY)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as Error).name).toBe('SluiceError');
    expect((err as Error).message).toContain(SECRET);

    sm.on(GetSecretValueCommand).resolves({ SecretString: secretText({ hash: KEY, tenant: 'acme', scopes: ['ingest'] }) });
    err = await store()
      .lookup(KEY)
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/keys\.0\.hash: must be the SHA-256/);
    expect((err as Error).message).not.toContain(KEY);
    expect(JSON.stringify(logger.entries)).not.toContain(KEY);
  });
});

describe('the keys secret format', () => {
  it('refuses unknown scopes, bad tenants, unknown fields and duplicate hashes', () => {
    expect(() => parseKeySecret(secretText({ ...acme, scopes: ['write'] }))).toThrow(/keys\.0\.scopes\.0: must be one of ingest, query, admin/);
    expect(() => parseKeySecret(secretText({ ...acme, tenant: 'Acme Corp' }))).toThrow(/keys\.0\.tenant/);
    expect(() => parseKeySecret(secretText({ ...acme, scope: ['ingest'] }))).toThrow(/keys\.0/);
    expect(() => parseKeySecret(secretText(acme, { ...acme, tenant: 'other' }))).toThrow(/keys\.1\.hash: the same key hash is listed twice/);
    expect(() => parseKeySecret('[]')).toThrow(/not valid/);
    expect(() => parseKeySecret('{"key":[]}')).toThrow(/keys: /);
    // a template-generated field beside "keys" is ignored
    expect(parseKeySecret('{"keys":[],"generated":"Xy7"}').keys).toEqual([]);
    expect(parseKeySecret(secretText({ ...acme, label: 'vector on web-1', created: '2024-05-01' })).keys).toHaveLength(1);
  });
});

describe('create-api-key helpers', () => {
  it('makes long random keys that the local key format also accepts', () => {
    const a = newApiKey();
    expect(a).toMatch(/^sluice_[A-Za-z0-9_-]{43}$/);
    expect(newApiKey()).not.toBe(a);
  });

  it('adds an entry that the key store then resolves', async () => {
    const key = newApiKey();
    const text = addEntry(secretText(acme), entryFor(key, 'initech', ['ingest'], 'fluent-bit', new Date('2024-05-01T00:00:00Z')));
    expect(text).not.toContain(key);
    expect(parseKeySecret(text).keys[1]).toEqual({ hash: hashKey(key), tenant: 'initech', scopes: ['ingest'], label: 'fluent-bit', created: '2024-05-01' });
    expect(addEntry('', entryFor(key, 'initech', ['query'], undefined))).toContain('"initech"');
    expect(() => addEntry(text, entryFor(key, 'initech', ['query'], undefined))).toThrow(/listed twice/);

    sm.on(GetSecretValueCommand).resolves({ SecretString: text });
    expect(await store().lookup(key)).toMatchObject({ tenant: 'initech', scopes: ['ingest'] });
  });
});
