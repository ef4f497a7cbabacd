/**
 * The size of a file shared with the user, for "Shared with me": what the file holds, learned
 * as the Files badges learn it ([Note: plaintext size from the header] in
 * src/state/files/sizes.ts: HeadObject, the header's first bytes and the final frame's fields,
 * nothing decrypted). The download's save path and progress go by it (a service-worker download
 * states it as the file's length, the in-memory fallback checks it against its limit), so the
 * list learns it when the inbox is read, before Download is pressed: a probe after the click would
 * spend the click's user activation that the save dialog needs. Pure over its S3 seam.
 */
import { probeBadge } from '../files/badges';
import type { FilesS3 } from '../../aws/bucket-s3';
import type { SizeS3 } from '../files/sizes';

/** The probe's S3 calls (the Files view's). */
export type SharedSizeS3 = Pick<FilesS3, 'head'> & SizeS3;

/**
 * The plaintext size in bytes of the object `key`: exact, the bound of a padded file, or, when
 * the header does not tell it (a cut or signed message), the object's size, which is never less.
 * @throws the S3 client's errors (no such object, access denied).
 */
export async function sharedFileBytes(
  s3: SharedSizeS3,
  key: string,
  signal?: AbortSignal,
): Promise<number> {
  const head = await s3.head(key, signal);
  const objectBytes = head.sizeBytes ?? 0;
  const probed = await probeBadge(s3, key, objectBytes, signal);
  return probed.size.kind === 'unknown' ? objectBytes : probed.size.plaintextBytes;
}
