/**
 * The S3 calls of [Note: removed people and older versions] (transfer/people-versions.ts) in the
 * app's people dialog: the seam the command line uses too (aws/older-versions.ts), under the
 * name the people state knows it by.
 */
import { olderVersionsS3For } from '../../aws/older-versions';
import type { PersonVersionsS3 } from '../../transfer/people-versions';

/** The versions seam of `bucket` over an SDK client. */
export function personVersionsS3For(
  client: Parameters<typeof olderVersionsS3For>[0],
  bucket: string,
): PersonVersionsS3 {
  return olderVersionsS3For(client, bucket);
}
