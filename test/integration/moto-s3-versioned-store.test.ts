/**
 * S3VersionedStore against moto_server's S3, which implements conditional writes as S3 does (If-None-Match
 * and If-Match answer 412; If-Match on a deleted key answers 404 NoSuchKey). Issue 13, finding 9: that 404
 * is "condition failed" (the caller's version is not current), not an error.
 */
import { CreateBucketCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3VersionedStore } from '../../shared/adapters/aws/s3-versioned-store.js';
import { hasMoto, startMoto, type Moto } from '../helpers/moto.js';

let moto: Moto;
let client: S3Client;
const BUCKET = 'sluice-moto-versioned';

describe.skipIf(!hasMoto())('S3VersionedStore on moto_server', () => {
  beforeAll(async () => {
    moto = await startMoto();
    client = new S3Client(moto.clientConfig);
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  }, 60_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it('creates once, updates only from the current version, and reads the value with its version', async () => {
    const store = new S3VersionedStore({ client, bucket: BUCKET });
    const v1 = await store.write('alerts/state/a.json', '{"n":1}', null);
    expect(v1).toMatch(/^"/);
    expect(await store.write('alerts/state/a.json', '{"n":1}', null)).toBe(false);
    const v2 = await store.write('alerts/state/a.json', '{"n":2}', v1 as string);
    expect(v2).not.toBe(false);
    expect(await store.write('alerts/state/a.json', '{"n":3}', v1 as string)).toBe(false);
    expect(await store.read('alerts/state/a.json')).toEqual({ value: '{"n":2}', version: v2 });
    expect(await store.read('alerts/state/missing.json')).toBeUndefined();
  });

  it('answers "condition failed" for If-Match on a key deleted since it was read (S3: 404 NoSuchKey), and can create it again', async () => {
    const store = new S3VersionedStore({ client, bucket: BUCKET });
    const v1 = (await store.write('alerts/state/gone.json', '{"n":1}', null)) as string;
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'alerts/state/gone.json' }));
    expect(await store.write('alerts/state/gone.json', '{"n":2}', v1)).toBe(false);
    expect(await store.read('alerts/state/gone.json')).toBeUndefined();
    expect(await store.write('alerts/state/gone.json', '{"n":3}', null)).not.toBe(false);
  });
});
