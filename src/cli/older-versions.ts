/**
 * `veil share --unshare-person FP` and `--revoke LINK_ID` on a versioned bucket ([Note: removed
 * people and older versions] in transfer/people-versions.ts): taking a key out writes a new
 * version, and every older version written while the person (or link) had access still holds
 * their key, so they still open it by its version id. After the rewrap the command names those
 * versions (the app's search: versionsHoldingPerson, versionsHoldingLink over
 * aws/older-versions.ts), never the current one, each with when it was written, and how to
 * delete them; with --delete-older-versions it deletes them by versionId (the listing read
 * again: a version that became current is refused, REWRAP_VERSION_CURRENT). Each version whose
 * deletion failed is named on stderr, and the command then fails with the first failure.
 *
 * A bucket whose versions cannot be listed (no s3:ListBucketVersions; S3-compatible stores
 * without versions): without the flag, when the rewrap wrote a version, a warning on stderr and
 * the version it replaced (with how to delete it), else nothing; with the flag, the listing's
 * error (nothing was deleted).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { s3Failure } from '../core/aws-failure';
import { olderVersionsS3For } from '../aws/older-versions';
import {
  deleteOlderVersions,
  versionsHoldingLink,
  versionsHoldingPerson,
  type HoldingVersion,
} from '../transfer/people-versions';
import { errorLine } from './error-line';

/** Whose key the older versions are searched for. */
export type KeyHolder =
  | { readonly kind: 'person'; readonly fingerprint: string }
  | { readonly kind: 'link'; readonly linkId: string };

/** One file after its rewrap. */
export interface OlderVersionsRun {
  readonly client: S3Client;
  readonly bucket: string;
  /** The stored key (encrypted where names are private). */
  readonly key: string;
  /** The file as the user named it (s3://BUCKET/KEY, the clear key). */
  readonly url: string;
  readonly holder: KeyHolder;
  /** The version the rewrap replaced, when it wrote one (a versioned bucket). */
  readonly previousVersionId?: string | undefined;
  /** --delete-older-versions. */
  readonly deleteOlder: boolean;
  readonly print: (line: string) => void;
  readonly warn: (line: string) => void;
}

/** "this person's key" or "this link's key". */
function whose(holder: KeyHolder): string {
  return holder.kind === 'person' ? 'this person’s key' : 'this link’s key';
}

/** One version's line: its id, when it was written, and whether its header was read. */
export function versionLine(version: HoldingVersion): string {
  const when =
    version.lastModifiedMs === undefined ? '-' : new Date(version.lastModifiedMs).toISOString();
  const unread = version.unread ? '  (its header could not be read: it may hold the key)' : '';
  return `  ${version.versionId}  ${when}${unread}`;
}

/**
 * The lines naming the older versions found, without deleting them (see the header).
 */
export function olderVersionsLines(
  url: string,
  holder: KeyHolder,
  found: readonly HoldingVersion[],
): string[] {
  if (found.length === 0) return [];
  const count = found.length;
  return [
    `${count} older ${count === 1 ? 'version' : 'versions'} of ${url} still ${count === 1 ? 'holds' : 'hold'} ${whose(holder)} and ${count === 1 ? 'opens' : 'open'} with it (version id, written):`,
    ...found.map(versionLine),
    `delete ${count === 1 ? 'it' : 'them'}: run the same command again with --delete-older-versions (the current version is kept)`,
  ];
}

/**
 * Names, or with `deleteOlder` deletes, the older versions of one file that still hold the
 * holder's key (see the header).
 * @throws VeilError with `deleteOlder`: the listing's S3 error; the first deletion's failure.
 */
export async function handleOlderVersions(run: OlderVersionsRun): Promise<void> {
  const s3 = olderVersionsS3For(run.client, run.bucket);
  let found: HoldingVersion[];
  try {
    found =
      run.holder.kind === 'person'
        ? await versionsHoldingPerson(s3, run.key, run.holder.fingerprint)
        : await versionsHoldingLink(s3, run.key, run.holder.linkId);
  } catch (error) {
    const failure = s3Failure(error, { task: 'share', operation: 'ListObjectVersions' });
    if (run.deleteOlder) throw failure;
    // No version written (an unversioned bucket): nothing to say about older ones.
    if (!run.previousVersionId) return;
    run.warn(`the older versions of ${run.url} could not be listed: ${errorLine(failure)}`);
    run.print(
      `the bucket keeps versions: the previous version (${run.previousVersionId}) still holds ` +
        `${whose(run.holder)}; delete it in the app's Versions… or with aws s3api delete-object ` +
        `--version-id ${run.previousVersionId}`,
    );
    return;
  }
  if (!run.deleteOlder) {
    for (const line of olderVersionsLines(run.url, run.holder, found)) run.print(line);
    return;
  }
  if (found.length === 0) {
    run.print(`no older version of ${run.url} holds ${whose(run.holder)}`);
    return;
  }
  let result;
  try {
    result = await deleteOlderVersions(
      s3,
      run.key,
      found.map((v) => v.versionId),
    );
  } catch (error) {
    throw s3Failure(error, { task: 'share', operation: 'ListObjectVersions' });
  }
  for (const versionId of result.deleted) run.print(`deleted version ${versionId} of ${run.url}`);
  for (const failure of result.failed) {
    run.warn(
      `could not delete version ${failure.versionId} of ${run.url}: ${errorLine(failure.error)}`,
    );
  }
  const first = result.failed[0];
  if (first) throw first.error;
  run.print(
    `deleted ${result.deleted.length} older ${result.deleted.length === 1 ? 'version' : 'versions'} of ${run.url}: no version of it holds ${whose(run.holder)} any more`,
  );
}
