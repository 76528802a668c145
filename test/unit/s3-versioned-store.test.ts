/**
 * S3's conditional writes (If-Match / If-None-Match) are what make alert state safe with concurrent
 * evaluators. s3rver, the loopback S3 used for the object store's contract suite, ignores those headers,
 * so this adapter is checked against the SDK mock at the boundary, with S3's documented 412/409/404
 * answers; test/integration/moto-s3-versioned-store.test.ts checks it against moto_server's S3, which
 * implements them.
 */
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3VersionedStore } from '../../shared/adapters/aws/s3-versioned-store.js';
import { UnavailableError } from '../../shared/domain/errors.js';

const s3 = mockClient(S3Client);
const store = () => new S3VersionedStore({ client: new S3Client({ region: 'us-east-1' }), bucket: 'b' });
const fault = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });

describe('S3VersionedStore', () => {
  beforeEach(() => s3.reset());

  it('reads the value with its ETag as the version, and undefined for a missing key', async () => {
    s3.on(GetObjectCommand, { Key: 'a.json' }).resolves({ Body: { transformToString: async () => '{"x":1}' } as never, ETag: '"e1"' });
    s3.on(GetObjectCommand, { Key: 'missing.json' }).rejects(fault('NoSuchKey', 404));
    expect(await store().read('a.json')).toEqual({ value: '{"x":1}', version: '"e1"' });
    expect(await store().read('missing.json')).toBeUndefined();
  });

  it('creates with If-None-Match: * and updates with If-Match, returning the new ETag', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"e2"' });
    expect(await store().write('a.json', 'v1', null)).toBe('"e2"');
    expect(await store().write('a.json', 'v2', '"e1"')).toBe('"e2"');
    const calls = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(calls[0]).toMatchObject({ Bucket: 'b', Key: 'a.json', Body: 'v1', IfNoneMatch: '*' });
    expect(calls[0]).not.toHaveProperty('IfMatch');
    expect(calls[1]).toMatchObject({ Key: 'a.json', Body: 'v2', IfMatch: '"e1"' });
  });

  it('loses a race quietly (412, 409) and reports an outage as unavailable', async () => {
    s3.on(PutObjectCommand)
      .rejectsOnce(fault('PreconditionFailed', 412))
      .rejectsOnce(fault('ConditionalRequestConflict', 409))
      .rejectsOnce(fault('SlowDown', 503));
    expect(await store().write('a.json', 'v', '"old"')).toBe(false);
    expect(await store().write('a.json', 'v', null)).toBe(false);
    await expect(store().write('a.json', 'v', '"old"')).rejects.toBeInstanceOf(UnavailableError);
  });

  it('answers "condition failed" for If-Match on a deleted key (S3: 404 NoSuchKey), as moto does too', async () => {
    s3.on(PutObjectCommand).rejectsOnce(fault('NoSuchKey', 404)).rejectsOnce(fault('NoSuchBucket', 404)).rejectsOnce(fault('NoSuchBucket', 404));
    expect(await store().write('a.json', 'v', '"e1"')).toBe(false);
    // A missing bucket is an error, for an update or a create.
    await expect(store().write('a.json', 'v', '"e1"')).rejects.toThrow(/cannot access alert state/);
    await expect(store().write('a.json', 'v', null)).rejects.toThrow(/cannot access alert state/);
  });
});
