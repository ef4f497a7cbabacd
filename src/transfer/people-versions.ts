/**
 * After "Remove access" of a person, or the revoke of a share link, on a versioned bucket ([Note:
 * rewrap and versions] in rewrap-versions.ts): the older versions of the file that still hold
 * that person's EDK (or that link's key), and their deletion.
 *
 * [Note: removed people and older versions] Removing a person's EDK writes a new version; S3
 * keeps the older ones, and each that holds their EDK still opens with their private key, which
 * a person who can read the bucket may use (GetObject with a versionId). So the app and the
 * command line list the versions that still hold it (ListObjectVersions of the exact key, then
 * each version's header by versionId) and offer to delete them by versionId. The current version
 * is never listed nor deleted, even if it were to hold the EDK (a deletion re-reads the listing
 * and refuses it: REWRAP_VERSION_CURRENT), and each deletion that fails is reported on its own.
 * The S3 calls come in through PersonVersionsS3 (aws/older-versions.ts: aws/object-versions.ts
 * and the download engine's header reader).
 *
 * A revoked link is the same case: its key (a `veil-link` EDK named by the link id) stays in
 * every older version written while the link existed, and anyone holding the link and a way to
 * read a version by its id opens it. versionsHoldingLink finds them with the same search.
 */
import { LINK_PROVIDER_ID, PERSON_PROVIDER_ID, VeilError, keysNeeded, needs } from '../core';
import type { MessageHeader } from '../core';

/** One version of a listing, as the search needs it. */
export interface PersonVersion {
  readonly key: string;
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
  readonly lastModifiedMs: number | undefined;
}

/** The S3 calls of the search and the deletion. */
export interface PersonVersionsS3 {
  /** One page of ListObjectVersions under `prefix` (the file's key). */
  listVersions(
    request: {
      prefix: string;
      marker?: { keyMarker: string; versionIdMarker: string | undefined };
    },
    signal?: AbortSignal,
  ): Promise<{
    versions: readonly PersonVersion[];
    next: { keyMarker: string; versionIdMarker: string | undefined } | undefined;
  }>;
  /** The header of one version; undefined when it is not an ESDK message. */
  headerOf(
    key: string,
    versionId: string,
    signal?: AbortSignal,
  ): Promise<MessageHeader | undefined>;
  /** DeleteObject with VersionId. */
  deleteVersion(key: string, versionId: string, signal?: AbortSignal): Promise<void>;
}

async function versionsOfKey(
  s3: PersonVersionsS3,
  key: string,
  signal?: AbortSignal,
): Promise<PersonVersion[]> {
  const all: PersonVersion[] = [];
  let marker: { keyMarker: string; versionIdMarker: string | undefined } | undefined;
  do {
    const page = await s3.listVersions({ prefix: key, ...(marker ? { marker } : {}) }, signal);
    all.push(...page.versions.filter((v) => v.key === key));
    marker = page.next;
  } while (marker);
  return all;
}

/** True when `header` holds an EDK of the person with `fingerprint`. */
export function holdsPerson(header: MessageHeader, fingerprint: string): boolean {
  return keysNeeded(header).some(
    (k) => k.providerId === PERSON_PROVIDER_ID && k.keyName === fingerprint,
  );
}

/** True when `header` holds the key of the share link `linkId` (a `veil-link` EDK). */
export function holdsLink(header: MessageHeader, linkId: string): boolean {
  return keysNeeded(header).some((k) => k.providerId === LINK_PROVIDER_ID && k.keyName === linkId);
}

/** An older version found by the search; `unread` when its header could not be read. */
export type HoldingVersion = PersonVersion & { readonly unread?: true };

/**
 * The older versions of `key` whose header `holds` says yes to, newest first ([Note: removed
 * people and older versions]). The current version and delete markers are left out; a version
 * whose header cannot be read is listed too (it may hold the EDK: deleting it is the user's
 * choice), with `unread` set.
 * @throws what the listing throws.
 */
export async function versionsHolding(
  s3: PersonVersionsS3,
  key: string,
  holds: (header: MessageHeader) => boolean,
  signal?: AbortSignal,
): Promise<HoldingVersion[]> {
  needs(typeof key === 'string' && key.length > 0, 'BAD_ARGUMENT', 'key');
  const older = (await versionsOfKey(s3, key, signal)).filter(
    (v) => !v.isLatest && !v.deleteMarker,
  );
  const found: HoldingVersion[] = [];
  for (const version of older) {
    let header: MessageHeader | undefined;
    try {
      header = await s3.headerOf(key, version.versionId, signal);
    } catch {
      found.push({ ...version, unread: true });
      continue;
    }
    if (header && holds(header)) found.push(version);
  }
  return found.sort((a, b) => (b.lastModifiedMs ?? 0) - (a.lastModifiedMs ?? 0));
}

/**
 * The older versions of `key` whose header still holds the EDK of `fingerprint`, newest first
 * (versionsHolding).
 * @throws what the listing throws.
 */
export function versionsHoldingPerson(
  s3: PersonVersionsS3,
  key: string,
  fingerprint: string,
  signal?: AbortSignal,
): Promise<HoldingVersion[]> {
  return versionsHolding(s3, key, (header) => holdsPerson(header, fingerprint), signal);
}

/**
 * The older versions of `key` whose header still holds the key of link `linkId`, newest first
 * (versionsHolding).
 * @throws what the listing throws.
 */
export function versionsHoldingLink(
  s3: PersonVersionsS3,
  key: string,
  linkId: string,
  signal?: AbortSignal,
): Promise<HoldingVersion[]> {
  needs(typeof linkId === 'string' && linkId.length > 0, 'BAD_ARGUMENT', 'linkId');
  return versionsHolding(s3, key, (header) => holdsLink(header, linkId), signal);
}

/** What a deletion did, version by version. */
export interface VersionsDeleted {
  readonly deleted: readonly string[];
  readonly failed: readonly { readonly versionId: string; readonly error: VeilError }[];
}

/**
 * Deletes the given versions of `key` by versionId, never the current one (the listing is read
 * again first: a version that became current is refused, REWRAP_VERSION_CURRENT). A failure is
 * reported for its version and the others go on.
 * @throws what the listing throws.
 */
export async function deleteOlderVersions(
  s3: PersonVersionsS3,
  key: string,
  versionIds: readonly string[],
  signal?: AbortSignal,
): Promise<VersionsDeleted> {
  const current = new Set(
    (await versionsOfKey(s3, key, signal)).filter((v) => v.isLatest).map((v) => v.versionId),
  );
  const deleted: string[] = [];
  const failed: { versionId: string; error: VeilError }[] = [];
  for (const versionId of versionIds) {
    try {
      if (current.has(versionId)) {
        throw new VeilError('REWRAP_VERSION_CURRENT', `version ${versionId}`);
      }
      await s3.deleteVersion(key, versionId, signal);
      deleted.push(versionId);
    } catch (error) {
      const shown =
        error instanceof VeilError
          ? error
          : new VeilError('S3_REJECTED', error instanceof Error ? error.name : String(error), {
              cause: error,
            });
      failed.push({ versionId, error: shown });
    }
  }
  return { deleted, failed };
}
