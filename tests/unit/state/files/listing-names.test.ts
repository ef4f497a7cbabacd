/**
 * The listing through a location's names ([Note: names of the current location]): private names
 * are shown clear while rows keep their stored keys, `.veil/` is hidden, a name that does not open
 * is shown as stored and counted, and crumbs and the hash go both ways in clear names.
 */
import { describe, expect, test } from 'vitest';
import { createNameCipher } from '../../../../src/core';
import { plainNames, privateNames } from '../../../../src/transfer/location-names';
import {
  breadcrumbs,
  hashPathFor,
  prefixFromHashPath,
  rowsOf,
  unreadableCount,
} from '../../../../src/state/files/listing';
import type { ListPage } from '../../../../src/aws/bucket-s3';

const PLACE = { bucket: 'veil-files', root: 'team/' };
const names = privateNames(PLACE, createNameCipher(new Uint8Array(64).fill(7)));
const otherNames = privateNames(PLACE, createNameCipher(new Uint8Array(64).fill(8)));
const listed = (key: string) => ({ key, sizeBytes: 5, lastModifiedMs: 1, etag: '"e"' });

describe('listing with private names', () => {
  const folder = names.objectKey('reports 2026/');
  const inFolder = names.objectKey('reports 2026/plan Q3.txt');
  const top = names.objectKey('notes.txt');
  const foreign = otherNames.objectKey('secret.txt');

  test('shows clear names, keeps stored keys, hides .veil/ and marks what does not open', () => {
    const page: ListPage = {
      folders: [folder, 'team/.veil/'],
      objects: [listed(top), listed(foreign), listed('team/.veil/names-key')],
      nextToken: undefined,
    };
    const rows = rowsOf('team/', page, names);
    expect(rows.map((row) => [row.kind, row.name, row.unreadable ?? false])).toEqual([
      ['folder', 'reports 2026', false],
      ['file', 'notes.txt', false],
      ['file', foreign.slice('team/'.length), true],
    ]);
    expect(rows[1]).toMatchObject({ key: top });
    expect(rows[0]).toMatchObject({ prefix: folder });
    expect(unreadableCount(rows)).toBe(1);
    // No clear name is in a stored key.
    expect([folder, inFolder, top].join(' ')).not.toMatch(/reports|plan|notes/);
  });

  test('a file inside a private folder is named under its parent', () => {
    const rows = rowsOf(
      folder,
      { folders: [], objects: [listed(inFolder)], nextToken: undefined },
      names,
    );
    expect(rows.map((row) => row.name)).toEqual(['plan Q3.txt']);
  });

  test('crumbs are clear; the hash is the clear path and opens the stored prefix again', () => {
    expect(breadcrumbs('team/', folder, 'veil-files', names).map((crumb) => crumb.label)).toEqual([
      'veil-files',
      'reports 2026',
    ]);
    expect(hashPathFor('team/', folder, names)).toBe('reports%202026/');
    expect(prefixFromHashPath('team/', 'reports%202026/', names)).toBe(folder);
    expect(prefixFromHashPath('team/', '../..', names)).toBe('team/');
    expect(hashPathFor('team/', otherNames.objectKey('x/'), names)).toBeUndefined();
  });

  test('plain names list as before, without .veil/', () => {
    const plain = plainNames(PLACE);
    const rows = rowsOf(
      'team/',
      {
        folders: ['team/a/', 'team/.veil/'],
        objects: [listed('team/b.txt')],
        nextToken: undefined,
      },
      plain,
    );
    expect(rows.map((row) => row.name)).toEqual(['a', 'b.txt']);
    expect(prefixFromHashPath('team/', 'a%20b/', plain)).toBe('team/a b/');
    expect(hashPathFor('team/', 'team/a b/', plain)).toBe('a%20b/');
  });
});
