/**
 * `veil share --revoke`'s output: what was removed and, on a versioned bucket, that the version
 * the rewrap replaced still holds the link's key and how to delete it.
 */
import { describe, expect, it } from 'vitest';
import { revokeLines } from '../../../src/cli/share';

describe('revokeLines', () => {
  it('an unversioned bucket: the key was removed, nothing more', () => {
    expect(revokeLines('L', {})).toEqual(['revoked L: its key was removed from the file']);
  });

  it('a versioned bucket: the previous version still holds the key, named with its id', () => {
    const lines = revokeLines('L', { previousVersionId: 'v1' });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('the previous version (v1) still holds this link');
    expect(lines[1]).toContain('--version-id v1');
  });

  it('a file that no longer held the key', () => {
    expect(revokeLines('L', undefined)).toEqual([
      'revoked L: the file no longer held its key; removed from the list',
    ]);
  });
});
