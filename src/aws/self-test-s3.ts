/**
 * The S3 leg of the Model C self test in Settings: store a message under the prefix, read it
 * back, delete it; S3 failures become catalogue errors (S3_REJECTED, S3_UNREACHABLE,
 * CREDENTIALS_*; [Note: AWS failures]) instead of raw SDK errors.
 */
import { s3Failure } from '../core';
import { bucketS3For } from './bucket-s3';
import type { AwsClients } from './clients';

/**
 * PutObject, GetObject, DeleteObject of the self-test message. A failed DeleteObject is reported
 * only when nothing failed before it (the first failure is the one that explains).
 * @throws VeilError from s3Failure ([Note: AWS failures]), the operation in the detail.
 */
export async function storeAndFetch(
  aws: Pick<AwsClients, 's3'>,
  bucket: string,
  key: string,
  message: Uint8Array,
): Promise<Uint8Array> {
  const s3 = bucketS3For(aws.s3(), bucket);
  const send = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw s3Failure(error, { operation });
    }
  };
  await send('PutObject', () =>
    s3.put(key, { body: message, contentType: 'application/octet-stream' }),
  );
  let fetched: Uint8Array;
  try {
    fetched = await send('GetObject', async () => (await s3.getAll(key)).bytes);
  } catch (error) {
    // Best effort: the read already failed, and that is what the user needs to see.
    await s3.deleteKey(key).catch(() => undefined);
    throw error;
  }
  await send('DeleteObject', () => s3.deleteKey(key));
  return fetched;
}
