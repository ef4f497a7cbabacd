/**
 * The S3 calls of [Note: removed people and older versions] (transfer/people-versions.ts) in the
 * app: ListObjectVersions and DeleteObject by versionId through aws/object-versions.ts, and a
 * version's header through the download engine's header reader pinned to that version (a ranged
 * GET with the versionId). The command line composes the same function over its own client.
 */
import { versionsS3For } from '../../aws/object-versions';
import { headerReader } from '../../transfer/rewrap-batch-plan';
import type { PersonVersionsS3 } from '../../transfer/people-versions';

/** The versions seam of `bucket` over an SDK client. */
export function personVersionsS3For(
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
