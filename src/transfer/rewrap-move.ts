/**
 * [Note: move by rewrap] S3 has no rename: a move is a copy, then a delete. Veil's objects are
 * bound to their key ([Note: location binding] in core/location.ts), so a plain CopyObject
 * would leave the copy bound to the old key, and every reader would refuse it. A move is a
 * rewrap with a destination instead (rewrap.ts, RewrapSetup.destinationKey):
 * 1. the source's header is opened with any key of the object and its binding checked against
 *    the source key (a swapped object is never bound anew);
 * 2. a new header, bound to the destination, fronts the same body, written at the destination
 *    with If-None-Match: * (a move never overwrites: an object already there is kept and the
 *    move fails with S3's PreconditionFailed, which the caller shows as "a file of that name
 *    exists");
 * 3. only once the new object is complete is the source deleted, with If-Match on the ETag that
 *    was read, after one more look at it: if it changed meanwhile, both are kept and the result
 *    says so (`movedFrom.deleted` false). A failure before step 3 leaves the source as it was.
 *
 * Moves keep no resume record (a failed multipart move is aborted and can be run again). On a
 * versioned bucket the source's versions stay under the old key, behind a delete marker.
 */
import { targetKey, type RewrapSetup } from './rewrap-options';
import type { RewrapSession } from './rewrap-session';

/**
 * Deletes the source of a finished move when it is still the version that was read.
 * @returns true when deleted; false when it changed or the delete was refused (both kept).
 */
export async function deleteMovedSource(
  session: RewrapSession<RewrapSetup>,
  sourceEtag: string,
): Promise<boolean> {
  const { s3, bucket, key } = session.setup;
  const deleteObject = s3.deleteObject?.bind(s3);
  if (targetKey(session.setup) === key || deleteObject === undefined) return false;
  try {
    const now = await session.send('HeadObject', (signal) => s3.headObject(bucket, key, signal));
    if (now.etag !== undefined && now.etag !== sourceEtag) return false;
    await session.send('DeleteObject', (signal) =>
      deleteObject({ Bucket: bucket, Key: key, IfMatch: sourceEtag }, signal),
    );
    return true;
  } catch {
    // The new object is complete: a source that cannot be deleted is kept, not an error.
    return false;
  }
}
