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
 * An object that is not a message (an unencrypted file, an empty folder marker) has no header
 * to bind: outside a private-names location it is moved with CopyObject (If-None-Match on the
 * destination, CopySourceIfMatch on the source) and the same delete; in a private-names location
 * such an object should not exist and the move fails (REWRAP_NOT_A_MESSAGE).
 *
 * Moves keep no resume record (a failed multipart move is aborted and can be run again). On a
 * versioned bucket the source's versions stay under the old key, behind a delete marker.
 */
import { VeilError, httpStatusOf } from '../core';
import { copySource } from './rewrap-multipart';
import { targetKey, type RewrapResult, type RewrapSetup } from './rewrap-options';
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

/** True when a failed move may go on as a copy: an unencrypted object outside private names. */
export function movesAsCopy(setup: RewrapSetup, error: unknown): boolean {
  return (
    error instanceof VeilError &&
    error.code === 'REWRAP_NOT_A_MESSAGE' &&
    targetKey(setup) !== setup.key &&
    setup.bindingRule !== 'required'
  );
}

/**
 * Refuses a destination that exists before CopyObject. S3 refuses the copy itself
 * (If-None-Match: *, kept on the request), but not every S3-compatible store does: moto ignores
 * If-None-Match on CopyObject and would overwrite (tests/integration/rewrap-moto-conditions
 * pins it). A file written in the moment between this look and the copy is left to the
 * condition.
 * @throws VeilError MOVE_DESTINATION_EXISTS
 */
async function refuseTakenDestination(
  session: RewrapSession<RewrapSetup>,
  destination: string,
): Promise<void> {
  const { s3, bucket } = session.setup;
  // A 404 is the answer hoped for, taken here before the session reads it as a vanished source.
  const taken = await session.send('HeadObject', (signal) =>
    s3.headObject(bucket, destination, signal).then(
      () => true,
      (error: unknown) => {
        const answer = error instanceof VeilError ? error.cause : error;
        if (httpStatusOf(answer) === 404) return false;
        throw error;
      },
    ),
  );
  if (taken) throw new VeilError('MOVE_DESTINATION_EXISTS', destination);
}

/**
 * Moves an object that is not a message with CopyObject, then deletes the source
 * ([Note: move by rewrap]).
 * @throws VeilError MOVE_DESTINATION_EXISTS, REWRAP_SOURCE_CHANGED, BAD_ARGUMENT for a seam
 *   without copyObject, and the S3 codes of withRetry.
 */
export async function moveByCopy(session: RewrapSession<RewrapSetup>): Promise<RewrapResult> {
  const { s3, bucket, key } = session.setup;
  const copyObject = s3.copyObject?.bind(s3);
  if (copyObject === undefined) throw new VeilError('BAD_ARGUMENT', 's3.copyObject');
  const destination = targetKey(session.setup);
  const head = await session.send('HeadObject', (signal) => s3.headObject(bucket, key, signal));
  const etag = head.etag;
  if (etag === undefined) throw new VeilError('DOWNLOAD_CORS_HEADERS', 'move: no ETag');
  await refuseTakenDestination(session, destination);
  session.report('copying');
  const copied = await session.send('PutObject', (signal) =>
    copyObject(
      {
        Bucket: bucket,
        Key: destination,
        CopySource: copySource(bucket, key, undefined),
        CopySourceIfMatch: etag,
        IfNoneMatch: '*',
        MetadataDirective: 'COPY',
      },
      signal,
    ),
  );
  session.copiedBytes += head.contentLength;
  const deleted = await deleteMovedSource(session, etag);
  session.report('done');
  return {
    bucket,
    key: destination,
    method: 'copy',
    partCount: 1,
    etag: copied.CopyObjectResult?.ETag,
    oldEtag: etag,
    objectBytes: head.contentLength,
    oldObjectBytes: head.contentLength,
    removed: [],
    added: [],
    receivedBytes: 0,
    sentBytes: 0,
    copiedBytes: head.contentLength,
    movedFrom: { key, deleted },
  };
}
