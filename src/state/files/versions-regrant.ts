/**
 * What a version would give back if made current: the share keys (a link's, a person's) it
 * holds that the newer version does not ([Note: restore and revoked access]). Pure but for
 * reading headers through the function it is given.
 */
/*
 * [Note: restore and revoked access] Revoking a share link or removing a person's access is a
 * rewrap that writes a new version without that key's EDK (`veil-link`, `veil-person`); on a
 * versioned bucket the version it replaced still holds the EDK. Making such a version current
 * again, by restoring it or by deleting the versions after it, gives that access back in silence:
 * the revoked link's presigned URL reads the current object and opens again, the person opens the
 * file again, and the links list no longer shows the link. So before either, the share keys of
 * the version that would become current are compared with those of the newest version after it
 * that is not a delete marker (the current one, when there is one), by provider id and key name
 * (neededKeyOf): any share key only the older version holds refuses the change
 * (VERSION_RESTORE_REGRANTS), naming the keys. Other keys (key files, HSM, KMS) are not share
 * access and are not compared. Getting the content back without them is a download and a new
 * upload, which writes a fresh data key.
 */
import type { MessageHeader } from '../../core';
import {
  PERSON_PROVIDER_ID,
  formatFingerprint,
  neededKeyOf,
  type NeededKey,
} from '../../core/provider-info';
import { LINK_PROVIDER_ID } from '../../core/share-link';
import { VeilError } from '../../core';
import { quoteUntrusted } from '../../core/untrusted-text';
import { humanDate } from './format';
import type { FileVersion } from './versions-list';

/** The provider ids of keys that give people access: a share link's, a person's. */
const SHARE_PROVIDER_IDS: readonly string[] = [LINK_PROVIDER_ID, PERSON_PROVIDER_ID];

/** The share keys ([Note: restore and revoked access]) a header names; none without a header. */
export function shareKeysOf(header: MessageHeader | undefined): NeededKey[] {
  if (!header) return [];
  return header.encryptedDataKeys
    .filter((edk) => SHARE_PROVIDER_IDS.includes(edk.providerId))
    .map(neededKeyOf);
}

/** The share keys of `older` that `newer` does not hold (same provider id and key name). */
export function regrantedKeys(
  older: readonly NeededKey[],
  newer: readonly NeededKey[],
): NeededKey[] {
  const held = new Set(newer.map((key) => `${key.providerId}\u0000${key.keyName}`));
  return older.filter((key) => !held.has(`${key.providerId}\u0000${key.keyName}`));
}

/** A share key in words, its name from the unauthenticated header quoted. */
function shareKeyWords(key: NeededKey): string {
  if (key.providerId === LINK_PROVIDER_ID)
    return `a share link (id ${quoteUntrusted(key.keyName)})`;
  const fingerprint = formatFingerprint(key.keyName).slice(0, 19);
  return `a person’s key (fingerprint ${quoteUntrusted(fingerprint)}…)`;
}

/**
 * Refuses to make `versionId` current when it holds a share key that the newest version after
 * it which is not a delete marker lacks. `versions` is the file's listing, newest first;
 * `header` is the header of `versionId` when already read.
 * @throws VeilError VERSION_RESTORE_REGRANTS naming at most four keys; what readHeader throws.
 */
export async function checkNoRegrant(
  versions: readonly FileVersion[],
  versionId: string,
  readHeader: (versionId: string) => Promise<MessageHeader | undefined>,
  header?: MessageHeader,
): Promise<void> {
  const at = versions.findIndex((other) => other.versionId === versionId);
  const newer = (at >= 0 ? versions.slice(0, at) : versions).find((v) => !v.deleteMarker);
  if (!newer) return;
  const older = shareKeysOf(header ?? (await readHeader(versionId)));
  if (older.length === 0) return;
  const regranted = regrantedKeys(older, shareKeysOf(await readHeader(newer.versionId)));
  if (regranted.length === 0) return;
  const named = regranted.slice(0, 4).map(shareKeyWords);
  const more = regranted.length - named.length;
  throw new VeilError(
    'VERSION_RESTORE_REGRANTS',
    `that version holds ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}, which the version of ${humanDate(newer.lastModifiedMs)} does not`,
  );
}
