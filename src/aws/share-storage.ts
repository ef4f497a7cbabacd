/**
 * The S3 calls of a file's share links list ([Note: share links list] in
 * transfer/share-list.ts) over an SDK S3 client: a whole-object GET with its ETag (no object is
 * an answer), a PutObject with If-Match or If-None-Match, and a DeleteObject with If-Match;
 * a failed condition (412, or S3's 409 for racing conditional writes) is `false`.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorName, httpStatusOf, s3Failure } from '../core';
import type { LinkListStorage } from '../transfer/share-list';

const NO_OBJECT: ReadonlySet<string> = new Set(['NoSuchKey', 'NotFound']);

/** The SDK's body type mixes Node and browser streams; both have transformToByteArray. */
type ByteBody = { transformToByteArray(): Promise<Uint8Array> } | undefined;

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
        const reply = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key }),
          options(signal),
        );
        const body = reply.Body as ByteBody;
        const bytes = body ? await body.transformToByteArray() : new Uint8Array(0);
        return { body: bytes, etag: reply.ETag ?? '' };
      } catch (error) {
        if (httpStatusOf(error) === 404 || NO_OBJECT.has(errorName(error))) return undefined;
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
