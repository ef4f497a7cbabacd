/**
 * The versions of one file as the Versions dialog lists them, pure ([Note: a file's versions] in
 * versions-core.ts): a ListObjectVersions page holds every key that starts with the file's key
 * ("a.txt" and "a.txt.bak"), versions and delete markers in two lists; this keeps exactly the
 * file's key, newest first, and tells when its versions are all listed. It also says what
 * deleting one version does to the file, which the confirmation must name.
 */
import type { ListedVersion, VersionsPage } from '../../aws/object-versions';

/** One version of the file, as the dialog shows it. */
export type FileVersion = Omit<ListedVersion, 'key'>;

/**
 * The versions of exactly `key` in `page`, newest first: the current one first, then by date,
 * S3's order kept between equal dates (versions before delete markers of the same instant).
 */
export function versionsOfKey(page: VersionsPage, key: string): FileVersion[] {
  return page.versions
    .map((version, index) => ({ version, index }))
    .filter(({ version }) => version.key === key)
    .sort((a, b) => {
      if (a.version.isLatest !== b.version.isLatest) return a.version.isLatest ? -1 : 1;
      const dateA = a.version.lastModifiedMs ?? -Infinity;
      const dateB = b.version.lastModifiedMs ?? -Infinity;
      return dateA !== dateB ? dateB - dateA : a.index - b.index;
    })
    .map(({ version }) => ({
      versionId: version.versionId,
      isLatest: version.isLatest,
      deleteMarker: version.deleteMarker,
      lastModifiedMs: version.lastModifiedMs,
      sizeBytes: version.sizeBytes,
      etag: version.etag,
    }));
}

/**
 * True when `page` is the last one that can hold versions of `key`: S3 lists keys in order and
 * `key` is the smallest key under the prefix `key`, so once another key shows up, or the listing
 * ends, no version of `key` follows.
 */
export function isLastPageOf(page: VersionsPage, key: string): boolean {
  return page.next === undefined || page.versions.some((version) => version.key !== key);
}

/** Appends a later page's versions, dropping any already listed (a retried page). */
export function appendVersions(
  listed: readonly FileVersion[],
  more: readonly FileVersion[],
): FileVersion[] {
  const seen = new Set(listed.map((version) => version.versionId));
  return [...listed, ...more.filter((version) => !seen.has(version.versionId))];
}

/** What deleting one version does to the file, which the confirmation says before it runs. */
export type DeleteEffect =
  /** A previous version: the file stays as it is. */
  | { readonly kind: 'previous' }
  /**
   * The current version, with an older version left: that one becomes current (`next`
   * undefined: it is on a page not listed yet).
   */
  | { readonly kind: 'current'; readonly next: FileVersion | undefined }
  /** The current version, and the next is a delete marker: the file shows as deleted. */
  | { readonly kind: 'current-then-deleted' }
  /** The only version: the file is deleted for good. */
  | { readonly kind: 'only' }
  /** A delete marker that is current: the version before it becomes current again. */
  | { readonly kind: 'undelete'; readonly next: FileVersion | undefined }
  /** An older delete marker: nothing changes for the file. */
  | { readonly kind: 'marker' };

/**
 * What deleting `version` does, from the versions listed (newest first). `complete` is false
 * while older versions may still be unlisted: then "the only version" is never claimed.
 */
export function deleteEffect(
  versions: readonly FileVersion[],
  version: FileVersion,
  complete: boolean,
): DeleteEffect {
  const at = versions.findIndex((other) => other.versionId === version.versionId);
  const next = at >= 0 ? versions[at + 1] : undefined;
  if (version.deleteMarker) {
    return version.isLatest ? { kind: 'undelete', next } : { kind: 'marker' };
  }
  if (!version.isLatest) return { kind: 'previous' };
  if (next === undefined) {
    return complete ? { kind: 'only' } : { kind: 'current', next: undefined };
  }
  return next.deleteMarker ? { kind: 'current-then-deleted' } : { kind: 'current', next };
}

/** True when the file exists after the change: some version is current and not a marker. */
export function fileExists(versions: readonly FileVersion[]): boolean {
  return versions.some((version) => version.isLatest && !version.deleteMarker);
}
