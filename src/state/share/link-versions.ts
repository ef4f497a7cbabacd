/**
 * The Share dialog after a revoke ([Note: removed people and older versions] in
 * transfer/people-versions.ts): on a versioned bucket the revoke writes a new version, and every
 * older version written while the link existed still holds its key, so anyone with the link
 * and a way to read a version by its id still opens it. The dialog names those versions and
 * offers to delete them by versionId (confirmed in the view), never the current one; a deletion
 * that fails stays listed with why. When the versions cannot be listed (no
 * s3:ListBucketVersions) the version the revoke replaced, which is known to hold the key, is
 * still offered, and the view says the others were not looked for. Pure: the S3 calls come in
 * through LinkVersionsDeps (share.svelte.ts composes aws/older-versions.ts).
 */
import { VeilError } from '../../core/errors';
import type { VersionsDeleted } from '../../transfer/people-versions';

/** The S3 calls of the search and the deletion. */
export interface LinkVersionsDeps {
  /**
   * The older versions of the file at `key` that still hold link `linkId`'s key, newest first
   * (never the current one).
   * @throws the listing's failure.
   */
  olderVersionsHolding(key: string, linkId: string): Promise<string[]>;
  /**
   * Deletes those versions by versionId after reading the listing again, never the current one;
   * each failure on its own.
   * @throws the listing's failure (nothing was deleted).
   */
  deleteVersions(key: string, versionIds: readonly string[]): Promise<VersionsDeleted>;
  /**
   * Deletes one version after a HEAD shows it is not the current one (no listing needed).
   * @throws VeilError REWRAP_VERSION_CURRENT, S3_*.
   */
  deleteVersion(key: string, versionId: string): Promise<void>;
}

/** Older versions that still open with a revoked link. */
export interface KeptVersions {
  readonly linkId: string;
  /** The versions still to delete, newest first. */
  versionIds: string[];
  /** False when the versions could not be listed: only the replaced one is known. */
  readonly listed: boolean;
  state: 'kept' | 'deleting' | 'deleted';
  /** Versions whose last deletion failed, with why. */
  failed: { readonly versionId: string; readonly error: VeilError }[];
  /** How many were deleted so far. */
  deletedCount: number;
}

/**
 * What the dialog shows after revoking `linkId` of the file at `key`: the older versions that
 * still hold its key, or undefined when there are none (an unversioned bucket, a link made after
 * the last version). Never throws: a listing that fails falls back to `previousVersionId`.
 */
export async function keptAfterRevoke(
  deps: LinkVersionsDeps,
  key: string,
  linkId: string,
  previousVersionId: string | undefined,
): Promise<KeptVersions | undefined> {
  let versionIds: string[];
  let listed = true;
  try {
    versionIds = await deps.olderVersionsHolding(key, linkId);
  } catch {
    // Unversioned buckets need no listing; without permission only the replaced one is known.
    if (previousVersionId === undefined) return undefined;
    versionIds = [previousVersionId];
    listed = false;
  }
  if (versionIds.length === 0) return undefined;
  return { linkId, versionIds, listed, state: 'kept', failed: [], deletedCount: 0 };
}

/** Deletes each version on its own (the listing is not readable): what deleteVersions returns. */
async function deleteOneByOne(
  deps: LinkVersionsDeps,
  key: string,
  versionIds: readonly string[],
  shown: (error: unknown) => VeilError,
): Promise<VersionsDeleted> {
  const deleted: string[] = [];
  const failed: { versionId: string; error: VeilError }[] = [];
  for (const versionId of versionIds) {
    try {
      await deps.deleteVersion(key, versionId);
      deleted.push(versionId);
    } catch (error) {
      failed.push({ versionId, error: shown(error) });
    }
  }
  return { deleted, failed };
}

/**
 * Deletes the versions `kept` names (the view asked for confirmation) and updates it: the ones
 * that failed stay, with why; 'deleted' once none is left. Never throws.
 */
export async function deleteKept(
  deps: LinkVersionsDeps,
  key: string,
  kept: KeptVersions,
): Promise<void> {
  if (kept.state !== 'kept' || kept.versionIds.length === 0) return;
  kept.state = 'deleting';
  kept.failed = [];
  const shown = (error: unknown): VeilError =>
    error instanceof VeilError
      ? error
      : new VeilError('S3_REJECTED', error instanceof Error ? error.name : String(error));
  try {
    const result = kept.listed
      ? await deps.deleteVersions(key, kept.versionIds)
      : await deleteOneByOne(deps, key, kept.versionIds, shown);
    kept.deletedCount += result.deleted.length;
    kept.failed = result.failed.map((f) => ({ versionId: f.versionId, error: f.error }));
    kept.versionIds = kept.failed.map((f) => f.versionId);
  } catch (error) {
    // The listing before the deletion failed: nothing was deleted.
    kept.failed = kept.versionIds.map((versionId) => ({ versionId, error: shown(error) }));
  }
  kept.state = kept.versionIds.length === 0 ? 'deleted' : 'kept';
}
