/**
 * Finding files: the filter's matching ([Note: name matching]) and a subfolder search over a
 * listing without a delimiter, with plain and private names.
 */
import { describe, expect, test } from 'vitest';
import { createNameCipher } from '../../../../src/core';
import type { ListPage } from '../../../../src/aws/bucket-s3';
import type { Row } from '../../../../src/state/files/listing';
import { plainNames, privateNames } from '../../../../src/transfer/location-names';
import {
  filterRows,
  foldName,
  nameMatches,
  searchPage,
  type SearchFindings,
} from '../../../../src/state/files/search';

const NONE: SearchFindings = { hits: [], seenKeys: 0, unreadableKeys: 0 };
const listed = (key: string) => ({ key, sizeBytes: 3, lastModifiedMs: 1, etag: '"e"' });
const page = (keys: string[]): ListPage => ({
  objects: keys.map(listed),
  folders: [],
  nextToken: undefined,
});

describe('nameMatches', () => {
  test('case-insensitive and Unicode-normalised, part of the name', () => {
    expect(nameMatches('Report 2026.PDF', 'report')).toBe(true);
    expect(nameMatches('Report 2026.PDF', '.pdf')).toBe(true);
    // Composed and decomposed é are one letter; the ﬁ ligature is "fi".
    expect(nameMatches('Café.txt', 'cafe\u0301')).toBe(true);
    expect(nameMatches('cafe\u0301.txt', 'CAFÉ')).toBe(true);
    expect(nameMatches('ﬁle.txt', 'file')).toBe(true);
    expect(nameMatches('ÉTÉ', 'été')).toBe(true);
    // Accents count.
    expect(nameMatches('café', 'cafe')).toBe(false);
    expect(nameMatches('notes', 'report')).toBe(false);
  });

  test('an empty or blank query matches everything', () => {
    expect(nameMatches('x', '')).toBe(true);
    expect(nameMatches('x', '   ')).toBe(true);
    expect(foldName('ÀB')).toBe('àb');
  });

  test('filterRows keeps the order given', () => {
    const rows: Row[] = ['b-report', 'a', 'A-REPORT'].map((name) => ({
      kind: 'folder',
      prefix: `${name}/`,
      name,
    }));
    expect(filterRows(rows, 'report').map((row) => row.name)).toEqual(['b-report', 'A-REPORT']);
  });
});

describe('searchPage', () => {
  const plain = plainNames({ bucket: 'b', root: 'r/' });

  test('files and folders below the prefix that match, with their folder path', () => {
    const found = searchPage(
      'r/top/',
      page([
        'r/top/report.txt',
        'r/top/a/Report-2.txt',
        'r/top/a/b/notes.txt',
        'r/top/reports/',
        'r/top/reports/x.bin',
        'r/top/',
        'r/elsewhere/report.txt',
      ]),
      'report',
      plain,
      NONE,
      new Set(),
    );
    const shown = found.hits.map((hit) => `${hit.row.kind}:${hit.folder}|${hit.row.name}`);
    expect(shown.sort()).toEqual(['file:a|Report-2.txt', 'file:|report.txt', 'folder:|reports']);
    const folder = found.hits.find((hit) => hit.row.kind === 'folder')?.row;
    expect(folder).toEqual({ kind: 'folder', prefix: 'r/top/reports/', name: 'reports' });
    expect(found.seenKeys).toBe(7);
  });

  test('a folder is reported once across pages; .veil/ is left out', () => {
    const seen = new Set<string>();
    const first = searchPage('r/', page(['r/deep/a.txt', 'r/.veil/names']), 'e', plain, NONE, seen);
    const second = searchPage('r/', page(['r/deep/b.txt']), 'e', plain, first, seen);
    expect(second.hits.map((hit) => hit.row.name)).toEqual(['deep']);
    expect(second.seenKeys).toBe(3);
  });

  test('private names are matched clear; a name that does not open is counted, not shown', () => {
    const place = { bucket: 'b', root: 'r/' };
    const names = privateNames(place, createNameCipher(new Uint8Array(64).fill(1)));
    const other = privateNames(place, createNameCipher(new Uint8Array(64).fill(2)));
    const prefix = names.objectKey('plans/');
    const found = searchPage(
      prefix,
      page([
        names.objectKey('plans/q3/Budget.xlsx'),
        names.objectKey('plans/misc.txt'),
        // A segment written under another names key, in this folder.
        `${prefix}${other.objectKey('budget-theirs.txt').slice(place.root.length)}`,
      ]),
      'budget',
      names,
      NONE,
      new Set(),
    );
    expect(found.hits.map((hit) => [hit.folder, hit.row.name])).toEqual([['q3', 'Budget.xlsx']]);
    expect(found.hits[0]?.row.kind === 'file' && found.hits[0].row.key).toBe(
      names.objectKey('plans/q3/Budget.xlsx'),
    );
    expect(found.unreadableKeys).toBe(1);
  });
});
