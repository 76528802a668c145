/**
 * Compare-and-swap documents on S3 (alert state): the ETag is the version, and writes are conditional
 * (If-Match on the current ETag, If-None-Match: * for a new object), so two evaluators racing for the same
 * window cannot both win.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { UnavailableError } from '../../domain/errors.js';
import type { Versioned, VersionedStore } from '../../ports/versioned-store.js';
import { httpStatusOf, isRetryableSdkError, sdkErrorMessage, sdkErrorName } from './sdk-errors.js';

export class S3VersionedStore implements VersionedStore {
  constructor(private readonly opts: { client: S3Client; bucket: string }) {}

  async read(key: string): Promise<Versioned | undefined> {
    try {
      const out = await this.opts.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      const value = (await out.Body?.transformToString('utf-8')) ?? '';
      if (!out.ETag) throw new Error(`S3 returned no ETag for ${key}`);
      return { value, version: out.ETag };
    } catch (err) {
      if (sdkErrorName(err) === 'NoSuchKey' || httpStatusOf(err) === 404) return undefined;
      throw translate(err, key);
    }
  }

  async write(key: string, value: string, expected: string | null): Promise<string | false> {
    try {
      const out = await this.opts.client.send(
        new PutObjectCommand({
          Bucket: this.opts.bucket,
          Key: key,
          Body: value,
          ContentType: 'application/json',
          ...(expected === null ? { IfNoneMatch: '*' } : { IfMatch: expected }),
        }),
      );
      return out.ETag ?? false;
    } catch (err) {
      // 412: the version moved on; 409: another conditional write to the key was in flight; 404 (NoSuchKey)
      // on If-Match: the object was deleted since it was read. Each means the caller's version is not current.
      const status = httpStatusOf(err);
      if (status === 412 || status === 409 || sdkErrorName(err) === 'PreconditionFailed') return false;
      if (expected !== null && (sdkErrorName(err) === 'NoSuchKey' || (status === 404 && sdkErrorName(err) !== 'NoSuchBucket'))) return false;
      throw translate(err, key);
    }
  }
}

function translate(err: unknown, key: string): Error {
  if (isRetryableSdkError(err)) return new UnavailableError(`the state store is unavailable (${sdkErrorMessage(err)})`, 5, { cause: err });
  return new Error(`cannot access alert state ${key}: ${sdkErrorMessage(err)}`, { cause: err });
}
