/**
 * Upload here: the folder shown becomes the queue's destination as its clear path (encrypted by
 * the queue where names are private), never a stored (encrypted) segment, and nothing when a name
 * on the way does not open.
 */
import { describe, expect, test } from 'vitest';
import { createNameCipher } from '../../../../src/core';
import { plainNames, privateNames } from '../../../../src/transfer/location-names';
import {
  destinationOf,
  dragHasFiles,
  finishedCount,
} from '../../../../src/state/files/upload-here';

const PLACE = { bucket: 'b', root: 'team/' };

describe('destinationOf', () => {
  test('plain: the path below the root, without the trailing slash', () => {
    const names = plainNames(PLACE);
    expect(destinationOf('team/', 'team/', names)).toBe('');
    expect(destinationOf('team/', 'team/a/b c/', names)).toBe('a/b c');
    expect(destinationOf('team/', 'team/a/', undefined)).toBe('a');
    // A prefix outside the root is the root.
    expect(destinationOf('team/', 'other/', names)).toBe('');
  });

  test('private: the clear path, not the stored segments', () => {
    const names = privateNames(PLACE, createNameCipher(new Uint8Array(64).fill(5)));
    const prefix = names.objectKey('plans/q3/');
    expect(destinationOf('team/', prefix, names)).toBe('plans/q3');
  });

  test('private: a folder whose name does not open gives nothing to upload into', () => {
    const names = privateNames(PLACE, createNameCipher(new Uint8Array(64).fill(5)));
    const other = privateNames(PLACE, createNameCipher(new Uint8Array(64).fill(6)));
    expect(destinationOf('team/', other.objectKey('theirs/'), names)).toBeUndefined();
  });
});

describe('drags and finished uploads', () => {
  test('only a drag that carries files is a drop of files', () => {
    expect(dragHasFiles(['Files'])).toBe(true);
    expect(dragHasFiles(['text/plain', 'Files'])).toBe(true);
    expect(dragHasFiles(['text/plain'])).toBe(false);
    expect(dragHasFiles(undefined)).toBe(false);
  });

  test('finishedCount counts done rows only', () => {
    expect(finishedCount(['done', 'active', 'failed', 'done', 'cancelled'])).toBe(2);
    expect(finishedCount([])).toBe(0);
  });
});
