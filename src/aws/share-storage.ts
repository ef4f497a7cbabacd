/**
 * The S3 calls of a file's share links list ([Note: share links list] in
 * transfer/share-list.ts) over an SDK S3 client: a GET of at most MAX_LINK_LIST_BYTES with its
 * ETag ([Note: capped reads] in capped-read.ts; no object is an answer), a PutObject with If-Match or If-None-Match, and a DeleteObject with If-Match;
 * a failed condition (412, or S3's 409 for racing conditional writes) is `false`.
 */
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { errorName, httpStatusOf, s3Failure, VeilError } from '../core';
import type { LinkListStorage } from '../transfer/share-list';
import { getCapped } from './capped-read';

/** Largest list read, in bytes: thousands of links' entries, far more than any file has. */
export const MAX_LINK_LIST_BYTES = 1024 * 1024;

const options = (signal?: AbortSignal) => (signal ? { abortSignal: signal } : {});

function lostRace(error: unknown): boolean {
  const status = httpStatusOf(error);
  return status === 412 || status === 409 || errorName(error) === 'PreconditionFailed';
}

/** The share links list storage of one bucket. */
export function linkListStorageFor(client: S3Client, bucket: string): LinkListStorage {
  return {
    async read(key, signal) {
      try {
        const stored = await getCapped(client, bucket, key, MAX_LINK_LIST_BYTES, signal);
        return stored && { body: stored.bytes, etag: stored.etag };
      } catch (error) {
        if (error instanceof VeilError) throw error;
        throw s3Failure(error, { task: 'share', operation: 'GetObject' });
      }
    },
    async write(key, body, condition, signal) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: 'application/octet-stream',
            ...('ifMatch' in condition
              ? { IfMatch: condition.ifMatch }
              : { IfNoneMatch: condition.ifNoneMatch }),
          }),
          options(signal),
        );
        return true;
      } catch (error) {
        if (lostRace(error)) return false;
        throw s3Failure(error, { task: 'share', operation: 'PutObject' });
      }
    },
    async remove(key, ifMatch, signal) {
      try {
        await client.send(
          new DeleteObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch }),
          options(signal),
        );
        return true;
      } catch (error) {
        if (lostRace(error)) return false;
        throw s3Failure(error, { task: 'share', operation: 'DeleteObject' });
      }
    },
  };
}
