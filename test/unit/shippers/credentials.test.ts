import { describe, expect, it } from 'vitest';
import { credentialOf } from '../../../shared/domain/api-keys.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('credentialOf: the forms shippers send', () => {
  it.each([
    ['Bearer', 'Bearer k3y-for-acme', 'k3y-for-acme'],
    ['Splunk HEC', 'Splunk k3y-for-acme', 'k3y-for-acme'],
    ['ApiKey with the key itself', 'ApiKey k3y-for-acme', 'k3y-for-acme'],
    ['ApiKey base64(id:key) as Elasticsearch clients send it', `ApiKey ${b64('sluice:k3y-for-acme')}`, 'k3y-for-acme'],
    ['apikey in lower case', `apikey ${b64('id:k3y-for-acme')}`, 'k3y-for-acme'],
    ['Basic user:key', `Basic ${b64('anyone:k3y-for-acme')}`, 'k3y-for-acme'],
    ['Basic with a colon inside the key', `Basic ${b64('u:k3y:with:colons')}`, 'k3y:with:colons'],
    ['Basic key: (curl -u key:)', `Basic ${b64('k3y-for-acme:')}`, 'k3y-for-acme'],
    ['Basic with a UTF-8 password', `Basic ${b64('u:clé-secrète')}`, 'clé-secrète'],
  ])('%s', (_name, header, key) => {
    expect(credentialOf(header)).toBe(key);
  });

  it.each([
    ['Basic without a colon', `Basic ${b64('justtext')}`],
    ['Basic that is not base64', 'Basic not*base64'],
    ['Basic with nothing on either side', `Basic ${b64(':')}`],
    ['ApiKey base64(id:) with an empty key', `ApiKey ${b64('id:')}`],
    ['an unknown scheme', 'Token abc'],
    ['Basic with binary content', `Basic ${Buffer.from([0x00, 0x3a, 0xff, 0xfe]).toString('base64')}`],
  ])('refuses %s', (_name, header) => {
    expect(credentialOf(header)).toBeUndefined();
  });
});
