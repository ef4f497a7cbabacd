import { describe, expect, test } from 'vitest';
import {
  breadcrumbs,
  hashPathFor,
  mergeRows,
  nextSort,
  parentPrefix,
  prefixFromHashPath,
  rowsOf,
  sortRows,
  type Row,
} from '../../../../src/state/files/listing';
import type { ListPage } from '../../../../src/aws/bucket-s3';

const page = (over: Partial<ListPage> = {}): ListPage => ({
  objects: [],
  folders: [],
  nextToken: undefined,
  ...over,
});

const file = (key: string, sizeBytes: number, lastModifiedMs?: number) => ({
  key,
  sizeBytes,
  lastModifiedMs,
  etag: `"${key}"`,
});

describe('rowsOf', () => {
  test('folders and files relative to the prefix; the folder marker object is left out', () => {
    const rows = rowsOf(
      'team/docs/',
      page({
        folders: ['team/docs/2026/', 'team/docs/old/'],
        objects: [file('team/docs/', 0), file('team/docs/a.pdf', 10, 5)],
      }),
    );
    expect(rows).toEqual([
      { kind: 'folder', prefix: 'team/docs/2026/', name: '2026' },
      { kind: 'folder', prefix: 'team/docs/old/', name: 'old' },
      {
        kind: 'file',
        key: 'team/docs/a.pdf',
        name: 'a.pdf',
        sizeBytes: 10,
        lastModifiedMs: 5,
        etag: '"team/docs/a.pdf"',
      },
    ]);
  });

  test('keys outside the prefix are ignored', () => {
    expect(rowsOf('a/', page({ objects: [file('b/x', 1)], folders: ['b/c/'] }))).toEqual([]);
  });
});

describe('mergeRows', () => {
  test('a later page adds only rows not shown yet', () => {
    const first = rowsOf('', page({ folders: ['x/'], objects: [file('a', 1)] }));
    const second = rowsOf('', page({ folders: ['x/', 'y/'], objects: [file('b', 2)] }));
    expect(mergeRows(first, second).map((row) => row.name)).toEqual(['x', 'a', 'y', 'b']);
  });
});

describe('sortRows', () => {
  const rows: Row[] = rowsOf(
    '',
    page({
      folders: ['zeta/', 'Alpha/'],
      objects: [file('file10.txt', 5, 300), file('file2.txt', 50, 100), file('b.txt', 5, 200)],
    }),
  );
  const names = (sorted: Row[]): string[] => sorted.map((row) => row.name);

  test('by name: folders first, natural and case-insensitive order', () => {
    expect(names(sortRows(rows))).toEqual(['Alpha', 'zeta', 'b.txt', 'file2.txt', 'file10.txt']);
    expect(names(sortRows(rows, { by: 'name', descending: true }))).toEqual([
      'zeta',
      'Alpha',
      'file10.txt',
      'file2.txt',
      'b.txt',
    ]);
  });

  test('by size with ties broken by name; by date; folders stay by name', () => {
    expect(names(sortRows(rows, { by: 'size', descending: false }))).toEqual([
      'Alpha',
      'zeta',
      'b.txt',
      'file10.txt',
      'file2.txt',
    ]);
    expect(names(sortRows(rows, { by: 'date', descending: true }))).toEqual([
      'Alpha',
      'zeta',
      'file10.txt',
      'b.txt',
      'file2.txt',
    ]);
  });

  test('by size: plaintext sizes where known, else the stored size', () => {
    // Stored sizes 300, 280, 290; b.txt and big.bin are encrypted, their plaintext is known.
    const stored: Row[] = rowsOf(
      '',
      page({ objects: [file('big.bin', 300), file('b.txt', 280), file('plain.txt', 290)] }),
    );
    const plaintext = new Map([
      ['big.bin', 10],
      ['b.txt', 200],
    ]);
    const sorted = sortRows(stored, { by: 'size', descending: false }, (row) =>
      plaintext.get(row.key),
    );
    expect(names(sorted)).toEqual(['big.bin', 'b.txt', 'plain.txt']);
    expect(names(sortRows(stored, { by: 'size', descending: false }))).toEqual([
      'b.txt',
      'plain.txt',
      'big.bin',
    ]);
  });

  test('the same column flips the direction, another starts ascending', () => {
    expect(nextSort({ by: 'name', descending: false }, 'name')).toEqual({
      by: 'name',
      descending: true,
    });
    expect(nextSort({ by: 'name', descending: true }, 'size')).toEqual({
      by: 'size',
      descending: false,
    });
  });
});

describe('breadcrumbs and parents', () => {
  test('the trail from the root label to the folder', () => {
    expect(breadcrumbs('team/', 'team/docs/2026/', 'bucket')).toEqual([
      { label: 'bucket', prefix: 'team/' },
      { label: 'docs', prefix: 'team/docs/' },
      { label: '2026', prefix: 'team/docs/2026/' },
    ]);
    expect(breadcrumbs('team/', 'other/', 'bucket')).toEqual([
      { label: 'bucket', prefix: 'team/' },
    ]);
    expect(breadcrumbs('', '', 'bucket')).toEqual([{ label: 'bucket', prefix: '' }]);
  });

  test('the parent never leaves the root', () => {
    expect(parentPrefix('', 'a/b/')).toBe('a/');
    expect(parentPrefix('', 'a/')).toBe('');
    expect(parentPrefix('r/', 'r/')).toBe('r/');
    expect(parentPrefix('r/', 'x/')).toBe('r/');
  });
});

describe('folders in the hash', () => {
  test('round trip with encoded segments', () => {
    const prefix = 'root/photos 2026/a#b%/';
    const path = hashPathFor('root/', prefix);
    expect(path).toBe('photos%202026/a%23b%25/');
    expect(prefixFromHashPath('root/', path ?? '')).toBe(prefix);
  });

  test('empty, dot and malformed paths stay at the root', () => {
    expect(prefixFromHashPath('root/', '')).toBe('root/');
    expect(prefixFromHashPath('root/', '../../etc/')).toBe('root/etc/');
    expect(prefixFromHashPath('root/', '%E0%A4%A')).toBe('root/');
    expect(prefixFromHashPath('', 'a//b')).toBe('a/b/');
    expect(hashPathFor('root/', 'elsewhere/')).toBe('');
  });
});
