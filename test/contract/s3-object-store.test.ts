/**
 * S3ObjectStore against a real S3-compatible server on loopback (s3rver): the same contract every
 * ObjectStore passes, plus paging through more keys than one ListObjectsV2 page and error translation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../shared/adapters/aws/s3-object-store.js';
import { SluiceError, UnavailableError } from '../../shared/domain/errors.js';
import { startLoopbackS3, type LoopbackS3 } from '../helpers/s3rver.js';
import { objectStoreContract } from './object-store.contract.js';

let s3: LoopbackS3;
beforeAll(async () => {
  s3 = await startLoopbackS3();
});
afterAll(async () => {
  await s3?.stop();
});

objectStoreContract('S3ObjectStore (s3rver)', async () => {
  const store = new S3ObjectStore({ client: s3.client(), bucket: await s3.newBucket() });
  return { store, cleanup: async () => {} };
});

describe('S3ObjectStore specifics', () => {
  it('pages through listings longer than one ListObjectsV2 page, in key order', async () => {
    const store = new S3ObjectStore({ client: s3.client(), bucket: await s3.newBucket(), pageSize: 3 });
    const keys = Array.from({ length: 11 }, (_, i) => `events/tenant=a/dt=2024-05-01/hour=${String(i % 24).padStart(2, '0')}/f${i}.parquet`);
    await Promise.all(keys.map((k, i) => store.put(k, new Uint8Array(i + 1))));
    await store.put('events/tenant=b/other.parquet', new Uint8Array(1));
    const listed = await store.list('events/tenant=a/');
    expect(listed.map((o) => o.key)).toEqual([...keys].sort());
    expect(listed.find((o) => o.key.endsWith('/f10.parquet'))?.size).toBe(11);
    expect((await store.list('')).length).toBe(12);
  });

  it('stores the content type it is given', async () => {
    const client = s3.client();
    const bucket = await s3.newBucket();
    const store = new S3ObjectStore({ client, bucket });
    await store.put('r/receipt.json', Buffer.from('{}'), 'application/json');
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'r/receipt.json' }))).ContentType).toBe('application/json');
  });

  it('reports a missing bucket as a SluiceError naming it, not an SDK exception', async () => {
    const store = new S3ObjectStore({ client: s3.client(), bucket: 'no-such-bucket' });
    const err = await store.put('a/b', new Uint8Array(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as Error).name).toBe('SluiceError');
    expect((err as Error).message).toMatch(/no-such-bucket/);
  });

  it('reports an unreachable server as UnavailableError', async () => {
    const client = new S3Client({
      endpoint: 'http://127.0.0.1:9', // discard port: nothing listens
      region: 'us-east-1',
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const store = new S3ObjectStore({ client, bucket: 'whatever' });
    await expect(store.get('a/b')).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.list('a/')).rejects.toBeInstanceOf(UnavailableError);
    client.destroy();
  });
});
