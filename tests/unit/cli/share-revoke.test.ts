/**
 * `veil share --revoke`'s output of the current version (what was removed), and the lines that
 * name the older versions still holding a link's or a person's key (older-versions.ts; the
 * search and the deletion against moto in tests/integration/cli-older-versions.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { olderVersionsLines } from '../../../src/cli/older-versions';
import { revokeLines } from '../../../src/cli/share';

describe('revokeLines', () => {
  it('an unversioned bucket: the key was removed, nothing more', () => {
    expect(revokeLines('L', {})).toEqual(['revoked L: its key was removed from the file']);
  });

  it('a versioned bucket: only what was removed (older-versions.ts names the versions)', () => {
    expect(revokeLines('L', { previousVersionId: 'v1' })).toEqual([
      'revoked L: its key was removed from the file',
    ]);
  });

  it('a file that no longer held the key', () => {
    expect(revokeLines('L', undefined)).toEqual([
      'revoked L: the file no longer held its key; removed from the list',
    ]);
  });
});

describe('olderVersionsLines', () => {
  const version = (versionId: string, unread?: true) => ({
    key: 'k',
    versionId,
    isLatest: false,
    deleteMarker: false,
    lastModifiedMs: Date.UTC(2026, 11, 6, 2, 0, 0),
    ...(unread ? { unread } : {}),
  });

  it('none found: nothing to say', () => {
    expect(olderVersionsLines('s3://b/k', { kind: 'link', linkId: 'L' }, [])).toEqual([]);
  });

  it('names each version with when it was written, and how to delete them', () => {
    const lines = olderVersionsLines('s3://b/k', { kind: 'person', fingerprint: 'f' }, [
      version('v2'),
      version('v1', true),
    ]);
    expect(lines[0]).toBe(
      '2 older versions of s3://b/k still hold this person’s key and open with it (version id, written):',
    );
    expect(lines[1]).toBe('  v2  2026-12-06T02:00:00.000Z');
    expect(lines[2]).toMatch(
      /^ {2}v1 {2}2026-12-06T02:00:00.000Z {2}\(its header could not be read/,
    );
    expect(lines[3]).toContain('--delete-older-versions');
  });

  it('one version of a link', () => {
    const lines = olderVersionsLines('s3://b/k', { kind: 'link', linkId: 'L' }, [version('v1')]);
    expect(lines[0]).toContain('1 older version of s3://b/k still holds this link’s key and opens');
  });
});
