/**
 * The S3 leg of the Model C self test in Settings: store a message under the prefix, read it
 * back, delete it; S3 failures become catalogue errors (S3_REJECTED, S3_UNREACHABLE,
 * CREDENTIALS_*) instead of raw SDK errors.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { VeilError } from '../core/errors';
import { credentialErrorCode, errorName } from '../keyrings/kms-errors';
import type { AwsClients } from './clients';

/**
 * Maps a failed S3 call: credential problems to their CREDENTIALS_* code, an S3 answer to
 * S3_REJECTED (its error name in the detail), anything without an answer to S3_UNREACHABLE.
 */
export function s3Error(error: unknown, operation: string): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  const credentialCode = credentialErrorCode(error);
  if (credentialCode)
    return new VeilError(credentialCode, `${operation}: ${name}`, { cause: error });
  const answered =
    typeof error === 'object' && error !== null && ('$metadata' in error || '$fault' in error);
  return new VeilError(answered ? 'S3_REJECTED' : 'S3_UNREACHABLE', `${operation}: ${name}`, {
    cause: error,
  });
}

/**
 * PutObject, GetObject, DeleteObject of the self-test message. A failed DeleteObject is reported
 * only when nothing failed before it (the first failure is the one that explains).
 * @throws VeilError from s3Error.
 */
export async function storeAndFetch(
  aws: Pick<AwsClients, 's3'>,
  bucket: string,
  key: string,
  message: Uint8Array,
): Promise<Uint8Array> {
  const s3 = aws.s3();
  const send = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw s3Error(error, operation);
    }
  };
  await send('PutObject', () =>
    s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: message,
        ContentType: 'application/octet-stream',
      }),
    ),
  );
  let fetched: Uint8Array;
  try {
    fetched = await send('GetObject', async () => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      // The SDK's streaming body type resolves differently per platform; this part is common.
      const body = got.Body as { transformToByteArray(): Promise<Uint8Array> } | undefined;
      if (!body) throw new VeilError('S3_REJECTED', 'GetObject returned no body');
      return await body.transformToByteArray();
    });
  } catch (error) {
    // Best effort: the read already failed, and that is what the user needs to see.
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    throw error;
  }
  await send('DeleteObject', () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
  return fetched;
}
