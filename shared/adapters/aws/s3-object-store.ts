/**
 * The object store in AWS: one S3 bucket. Objects are encrypted by the bucket's default encryption
 * (SSE-KMS with the stack's key, set by infra/), so puts send no encryption headers and the role needs
 * kms:GenerateDataKey / kms:Decrypt on that key.
 *
 * Errors are translated here: throttling (SlowDown), 5xx, timeouts and dropped connections become
 * UnavailableError (after the SDK's own retries); everything else a SluiceError naming the operation.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SluiceError, UnavailableError } from '../../domain/errors.js';
import type { ObjectInfo, ObjectStore } from '../../ports/object-store.js';
import { httpStatusOf, isRetryableSdkError, sdkErrorMessage, sdkErrorName } from './sdk-errors.js';

export interface S3ObjectStoreOptions {
  client: S3Client;
  bucket: string;
  /** MaxKeys of each ListObjectsV2 page (S3's own ceiling and default is 1000; tests use less). */
  pageSize?: number;
}

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  readonly bucket: string;
  private readonly pageSize: number;

  constructor({ client, bucket, pageSize = 1000 }: S3ObjectStoreOptions) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new Error(`S3ObjectStore: ${JSON.stringify(bucket)} is not a bucket name`);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new Error('S3ObjectStore: pageSize must be 1-1000');
    this.client = client;
    this.bucket = bucket;
    this.pageSize = pageSize;
  }

  async put(key: string, body: Uint8Array, contentType?: string): Promise<void> {
    checkKey(key);
    await this.call('PutObject', key, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentLength: body.byteLength, ContentType: contentType })),
    );
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    return this.call('GetObject', key, async () => {
      try {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        // Reading the body is part of the call: a connection dropped mid-body is retryable like any other.
        return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      } catch (err) {
        if (sdkErrorName(err) === 'NoSuchKey') return undefined;
        throw err;
      }
    });
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    if (prefix.startsWith('/')) throw new Error(`object key prefixes never start with '/': ${JSON.stringify(prefix)}`);
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListObjectsV2', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix === '' ? undefined : prefix, ContinuationToken: token, MaxKeys: this.pageSize }),
        ),
      );
      for (const o of page.Contents ?? []) if (o.Key !== undefined) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    // S3 lists in UTF-8 byte order; the port promises the same order as every other adapter.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    // S3 answers 204 for a key that does not exist, so a repeated delete is not an error.
    await this.call('DeleteObject', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
  }

  private async call<T>(operation: string, key: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw translate(err, operation, this.bucket, key);
    }
  }
}

function checkKey(key: string): void {
  if (key === '' || key.startsWith('/')) throw new Error(`object keys are non-empty and never start with '/': ${JSON.stringify(key)}`);
}

/** An S3 SDK error as one of Sluice's errors, so no SDK exception leaves this adapter. */
function translate(err: unknown, operation: string, bucket: string, key: string): Error {
  if (err instanceof SluiceError) return err;
  const name = sdkErrorName(err);
  if (isRetryableSdkError(err)) {
    const why = name === 'SlowDown' || httpStatusOf(err) === 503 ? 'S3 is asking us to slow down' : 'S3 could not be reached';
    return new UnavailableError(`${why} (${operation}); try again`, name === 'SlowDown' ? 2 : 1, { cause: err });
  }
  const where = `s3://${bucket}/${key}`;
  switch (name) {
    case 'NoSuchBucket':
      return new SluiceError(`S3 ${operation}: the bucket ${bucket} does not exist`, { cause: err });
    case 'AccessDenied':
    case 'AccessDeniedException':
    case 'KMS.AccessDeniedException':
      return new SluiceError(`S3 ${operation} was denied on ${where}: check the function's role and the bucket's KMS key policy`, { cause: err });
    default:
      return new SluiceError(`S3 ${operation} failed on ${where}: ${name || 'error'}: ${sdkErrorMessage(err)}`, { cause: err });
  }
}
