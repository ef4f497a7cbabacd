/**
 * New folder: the name is checked as typed, the marker key is the folder's prefix (encrypted
 * where names are private, so no clear segment reaches the bucket), the marker is a zero-byte
 * object, and the listing shows it as the folder, never as a file.
 */
import { describe, expect, test } from 'vitest';
import { VeilError, createNameCipher } from '../../../../src/core';
import type { BucketS3, PutRequest } from '../../../../src/aws/bucket-s3';
import { plainNames, privateNames } from '../../../../src/transfer/location-names';
import { rowsOf } from '../../../../src/state/files/listing';
import {
  createFolderMarker,
  folderMarkerKey,
  folderNameProblem,
} from '../../../../src/state/files/new-folder';

const PLACE = { bucket: 'b', root: 'team/' };
const secret = privateNames(PLACE, createNameCipher(new Uint8Array(64).fill(3)));

describe('folderNameProblem', () => {
  test.each([
    ['', 'Type a name'],
    ['   ', 'Type a name'],
    ['.', 'cannot be'],
    ['..', 'cannot be'],
    ['a/b', 'cannot be'],
    ['/abs', 'cannot be'],
    ['nul\u0000here', 'cannot be'],
    ['tab\there', 'cannot be'],
  ])('%j is refused', (name, said) => {
    expect(folderNameProblem(name, [])).toContain(said);
  });

  test('a name already in the folder is refused, compared as NFC', () => {
    expect(folderNameProblem('café', ['cafe\u0301'])).toContain('already');
    expect(folderNameProblem('photos', ['Photos'])).toBeUndefined();
    expect(folderNameProblem(' 2026 plans ', [])).toBeUndefined();
  });
});

describe('folderMarkerKey', () => {
  test('plain: the prefix, the trimmed name and a slash', () => {
    expect(folderMarkerKey('team/docs/', ' new ', plainNames(PLACE))).toBe('team/docs/new/');
    expect(folderMarkerKey('team/', 'x', undefined)).toBe('team/x/');
  });

  test('private: the clear path encrypted, opening back to the folder', () => {
    const parent = secret.objectKey('plans/');
    const key = folderMarkerKey(parent, 'secret q3', secret);
    expect(key.startsWith(parent)).toBe(true);
    expect(key.endsWith('/')).toBe(true);
    expect(key).not.toContain('secret q3');
    expect(key).not.toContain('plans');
    expect(secret.clearPath(key)).toBe('plans/secret q3/');
    expect(folderMarkerKey(secret.root, 'top', secret)).toBe(secret.objectKey('top/'));
  });

  test('a private folder whose name does not open, a bad name, a too long key are refused', () => {
    const other = privateNames(PLACE, createNameCipher(new Uint8Array(64).fill(4)));
    const foreign = other.objectKey('theirs/');
    expect(() => folderMarkerKey(foreign, 'x', secret)).toThrow(VeilError);
    expect(() => folderMarkerKey('team/', '..', undefined)).toThrow(VeilError);
    expect(() => folderMarkerKey('team/', 'x'.repeat(1100), undefined)).toThrow(
      expect.objectContaining({ code: 'NAME_TOO_LONG' }) as Error,
    );
    expect(() => folderMarkerKey(secret.root, '.veil', secret)).toThrow(VeilError);
  });
});

describe('the marker', () => {
  test('is a zero-byte object whose key ends in a slash', async () => {
    const puts: [string, PutRequest][] = [];
    const s3: Pick<BucketS3, 'put'> = {
      put(key, request) {
        puts.push([key, request]);
        return Promise.resolve({ etag: undefined, checksumCrc32: undefined });
      },
    };
    await createFolderMarker(s3, 'team/new/');
    expect(puts).toHaveLength(1);
    expect(puts[0]?.[0]).toBe('team/new/');
    expect(puts[0]?.[1].body.byteLength).toBe(0);
    await expect(createFolderMarker(s3, 'team/file')).rejects.toThrow(VeilError);
  });

  test('is listed as the folder one level up and never as a file inside it', () => {
    const marker = folderMarkerKey(secret.root, 'empty', secret);
    // One level up S3 rolls the marker into a common prefix.
    const up = rowsOf(
      secret.root,
      { objects: [], folders: [marker], nextToken: undefined },
      secret,
    );
    expect(up).toEqual([{ kind: 'folder', prefix: marker, name: 'empty' }]);
    // Inside, the marker is the folder itself: no row.
    const inside = rowsOf(
      marker,
      {
        objects: [{ key: marker, sizeBytes: 0, lastModifiedMs: 1, etag: undefined }],
        folders: [],
        nextToken: undefined,
      },
      secret,
    );
    expect(inside).toEqual([]);
  });
});
