/**
 * After "Remove access" of a person on a versioned bucket ([Note: rewrap and versions] in
 * rewrap-versions.ts): the older versions of the file that still hold that person's EDK, and
 * their deletion.
 *
 * [Note: removed people and older versions] Removing a person's EDK writes a new version; S3
 * keeps the older ones, and each that holds their EDK still opens with their private key, which
 * a person who can read the bucket may use (GetObject with a versionId). So the app and the
 * command line list the versions that still hold it (ListObjectVersions of the exact key, then
 * each version's header by versionId) and offer to delete them by versionId. The current version
 * is never listed nor deleted, even if it were to hold the EDK (a deletion re-reads the listing
 * and refuses it: REWRAP_VERSION_CURRENT), and each deletion that fails is reported on its own.
 * The S3 calls come in through PersonVersionsS3 (aws/object-versions.ts and the download
 * engine's header reader, composed by the caller).
 */
import { PERSON_PROVIDER_ID, VeilError, keysNeeded, needs } from '../core';
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

/**
 * The older versions of `key` whose header still holds the EDK of `fingerprint`, newest first
 * ([Note: removed people and older versions]). The current version and delete markers are left
 * out; a version whose header cannot be read is listed too (it may hold the EDK: deleting it is
 * the user's choice), with `unread` set.
 * @throws what the listing throws.
 */
export async function versionsHoldingPerson(
  s3: PersonVersionsS3,
  key: string,
  fingerprint: string,
  signal?: AbortSignal,
): Promise<(PersonVersion & { readonly unread?: true })[]> {
  needs(typeof key === 'string' && key.length > 0, 'BAD_ARGUMENT', 'key');
  const older = (await versionsOfKey(s3, key, signal)).filter(
    (v) => !v.isLatest && !v.deleteMarker,
  );
  const found: (PersonVersion & { readonly unread?: true })[] = [];
  for (const version of older) {
    let header: MessageHeader | undefined;
    try {
      header = await s3.headerOf(key, version.versionId, signal);
    } catch {
      found.push({ ...version, unread: true });
      continue;
    }
    if (header && holdsPerson(header, fingerprint)) found.push(version);
  }
  return found.sort((a, b) => (b.lastModifiedMs ?? 0) - (a.lastModifiedMs ?? 0));
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
