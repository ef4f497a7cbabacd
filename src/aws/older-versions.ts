/**
 * The S3 calls of [Note: removed people and older versions] (transfer/people-versions.ts), for
 * the app and the command line alike: ListObjectVersions and DeleteObject by versionId through
 * object-versions.ts, and a version's header through the download engine's header reader pinned
 * to that version (a ranged GET with the versionId). Failures are thrown as the SDK gave them.
 */
import { headerReader } from '../transfer/rewrap-batch-plan';
import type { PersonVersionsS3 } from '../transfer/people-versions';
import { versionsS3For } from './object-versions';

/** The older-versions seam of `bucket` over an SDK client. */
export function olderVersionsS3For(
  client: Parameters<typeof versionsS3For>[0],
  bucket: string,
): PersonVersionsS3 {
  const versions = versionsS3For(client, bucket);
  return {
    listVersions: (request, signal) => versions.listVersions(request, signal),
    headerOf: async (key, versionId, signal) =>
      (await headerReader(versions.downloadS3(versionId), bucket)(key, signal)).header,
    deleteVersion: (key, versionId, signal) => versions.deleteVersion(key, versionId, signal),
  };
}
