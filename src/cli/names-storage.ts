/**
 * The names key's S3 calls on the command line ([Note: names key object] in
 * transfer/names-key.ts), over the CLI's S3 client: a whole-object GetObject, where no such
 * object is an answer rather than a failure, a PutObject with If-None-Match: *, where an object
 * already there (412, or S3's 409 for a conditional write racing another) is `false`, and for a
 * rotation's last step ([Note: names key rotation] in transfer/names-rotate.ts) a DeleteObject.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorName, httpStatusOf, s3Failure } from '../core/aws-failure';
import type { NamesKeyStorage } from '../transfer/names-key';

/** What S3 answers for a key that holds no object. */
const NO_OBJECT: ReadonlySet<string> = new Set(['NoSuchKey', 'NotFound']);

/** The SDK's body type mixes Node and browser streams; both have transformToByteArray. */
type ByteBody = { transformToByteArray(): Promise<Uint8Array> } | undefined;

/**
 * The names key storage of one bucket.
 * @param task the user's task, named in S3 errors ('list', 'upload', 'download', 'names init').
 */
export function s3NamesKeyStorage(
  client: S3Client,
  bucket: string,
  task: string,
): NamesKeyStorage & { remove(key: string, signal?: AbortSignal): Promise<void> } {
  return {
    async read(key, signal) {
      try {
        const reply = await client.send(
          new GetObjectCommand({ Bucket: bucket, Key: key }),
          signal ? { abortSignal: signal } : {},
        );
        const body = reply.Body as ByteBody;
        return body ? await body.transformToByteArray() : new Uint8Array(0);
      } catch (error) {
        if (NO_OBJECT.has(errorName(error)) || httpStatusOf(error) === 404) return undefined;
        throw s3Failure(error, { task, operation: 'GetObject' });
      }
    },
    async createOnly(key, body, signal) {
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            IfNoneMatch: '*',
            ContentType: 'application/octet-stream',
          }),
          signal ? { abortSignal: signal } : {},
        );
        return true;
      } catch (error) {
        const status = httpStatusOf(error);
        if (status === 412 || status === 409) return false;
        throw s3Failure(error, { task, operation: 'PutObject' });
      }
    },
    async remove(key, signal) {
      try {
        await client.send(
          new DeleteObjectCommand({ Bucket: bucket, Key: key }),
          signal ? { abortSignal: signal } : {},
        );
      } catch (error) {
        throw s3Failure(error, { task, operation: 'DeleteObject' });
      }
    },
  };
}
