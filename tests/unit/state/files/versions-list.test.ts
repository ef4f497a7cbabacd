/**
 * The Versions dialog's list, pure ([Note: a file's versions]): exactly the file's key, newest
 * first with the current one first and delete markers in place, when the listing is complete,
 * and what deleting one version does to the file.
 */
import { describe, expect, it } from 'vitest';
import type { ListedVersion, VersionsPage } from '../../../../src/aws/object-versions';
import {
  appendVersions,
  deleteEffect,
  fileExists,
  isLastPageOf,
  versionsOfKey,
  type FileVersion,
} from '../../../../src/state/files/versions-list';

const at = (minute: number): number => Date.UTC(2026, 0, 2, 3) + minute * 60_000;

function listed(key: string, versionId: string, minute: number, more: Partial<ListedVersion> = {}) {
  return {
    key,
    versionId,
    isLatest: false,
    deleteMarker: false,
    lastModifiedMs: at(minute),
    sizeBytes: 10,
    etag: `"${versionId}"`,
    ...more,
  } satisfies ListedVersion;
}

const page = (versions: ListedVersion[], next?: VersionsPage['next']): VersionsPage => ({
  versions,
  next,
});

describe('versionsOfKey', () => {
  it('keeps exactly the key, newest first, the current one first, markers in date order', () => {
    const ids = versionsOfKey(
      page([
        listed('a.txt', 'v1', 1),
        listed('a.txt', 'v3', 3, { isLatest: true }),
        listed('a.txt.bak', 'b1', 9, { isLatest: true }),
        listed('a.txt', 'v2', 2),
        // S3 lists delete markers apart; this one was written between v1 and v2.
        listed('a.txt', 'm1', 1.5, { deleteMarker: true, sizeBytes: 0, etag: undefined }),
      ]),
      'a.txt',
    );
    expect(ids.map((version) => version.versionId)).toEqual(['v3', 'v2', 'm1', 'v1']);
    expect(ids[0]?.isLatest).toBe(true);
    expect(ids.find((version) => version.versionId === 'm1')?.deleteMarker).toBe(true);
    expect(ids.some((version) => 'key' in version)).toBe(false);
  });

  it('puts a current delete marker first even when a version shares its instant', () => {
    const ids = versionsOfKey(
      page([listed('k', 'v1', 5), listed('k', 'm', 5, { isLatest: true, deleteMarker: true })]),
      'k',
    ).map((version) => version.versionId);
    expect(ids).toEqual(['m', 'v1']);
  });

  it('keeps S3 order between versions of the same instant and dateless ones last', () => {
    const ids = versionsOfKey(
      page([
        listed('k', 'x', 4),
        listed('k', 'y', 4),
        listed('k', 'z', 0, { lastModifiedMs: undefined }),
      ]),
      'k',
    ).map((version) => version.versionId);
    expect(ids).toEqual(['x', 'y', 'z']);
  });
});

describe('isLastPageOf', () => {
  const more = { keyMarker: 'k', versionIdMarker: 'v' };
  it('is the last page when S3 says so, or once another key under the prefix shows up', () => {
    expect(isLastPageOf(page([listed('k', 'v', 1)]), 'k')).toBe(true);
    expect(isLastPageOf(page([listed('k', 'v', 1)], more), 'k')).toBe(false);
    expect(isLastPageOf(page([listed('k', 'v', 1), listed('k2', 'w', 1)], more), 'k')).toBe(true);
    expect(isLastPageOf(page([], more), 'k')).toBe(false);
  });
});

describe('appendVersions', () => {
  it('adds a later page and drops versions listed already', () => {
    const a = versionsOfKey(page([listed('k', 'v3', 3), listed('k', 'v2', 2)]), 'k');
    const b = versionsOfKey(page([listed('k', 'v2', 2), listed('k', 'v1', 1)]), 'k');
    expect(appendVersions(a, b).map((version) => version.versionId)).toEqual(['v3', 'v2', 'v1']);
  });
});

describe('deleteEffect', () => {
  const v = (id: string, more: Partial<FileVersion> = {}): FileVersion => ({
    versionId: id,
    isLatest: false,
    deleteMarker: false,
    lastModifiedMs: 0,
    sizeBytes: 1,
    etag: undefined,
    ...more,
  });
  const current = v('c', { isLatest: true });
  const previous = v('p');
  const marker = v('m', { deleteMarker: true });

  it('says what follows for each kind of version', () => {
    expect(deleteEffect([current, previous], previous, true)).toEqual({ kind: 'previous' });
    expect(deleteEffect([current, previous], current, true)).toEqual({
      kind: 'current',
      next: previous,
    });
    expect(deleteEffect([current], current, true)).toEqual({ kind: 'only' });
    expect(deleteEffect([current, marker, previous], current, true)).toEqual({
      kind: 'current-then-deleted',
    });
    const hiding = v('h', { isLatest: true, deleteMarker: true });
    expect(deleteEffect([hiding, previous], hiding, true)).toEqual({
      kind: 'undelete',
      next: previous,
    });
    expect(deleteEffect([current, marker, previous], marker, true)).toEqual({ kind: 'marker' });
  });

  it('never claims the only version while older ones may be unlisted', () => {
    expect(deleteEffect([current], current, false)).toEqual({ kind: 'current', next: undefined });
  });

  it('tells whether the file exists', () => {
    expect(fileExists([current, previous])).toBe(true);
    expect(fileExists([v('h', { isLatest: true, deleteMarker: true }), previous])).toBe(false);
    expect(fileExists([])).toBe(false);
  });
});
