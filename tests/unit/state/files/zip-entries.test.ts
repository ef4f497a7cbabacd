/** ZIP entry paths: relative clear paths, collisions and hostile names ([Note: safe ZIP paths]). */
import { describe, expect, it } from 'vitest';
import {
  isSafeSegment,
  numbered,
  safeSegments,
  zipEntries,
  zipFileName,
  type ZipSource,
} from '../../../../src/state/files/zip-entries';

const source = (key: string, clearPath: string | undefined, under = ''): ZipSource => ({
  key,
  sizeBytes: 1,
  clearPath,
  under,
});
const paths = (sources: ZipSource[]): string[] => zipEntries(sources).map((entry) => entry.path);

describe('zipEntries', () => {
  it('keeps clear paths relative to the folder shown, folders as prefixes', () => {
    expect(
      paths([
        source('k1', 'a.txt'),
        source('k2', 'photos/b.jpg', 'photos'),
        source('k3', 'photos/2024/c.jpg', 'photos'),
      ]),
    ).toEqual(['a.txt', 'photos/b.jpg', 'photos/2024/c.jpg']);
  });

  it('numbers names that collide, before the extension, without regard to case', () => {
    expect(
      paths([
        source('k1', 'a.txt'),
        source('k2', 'a.txt'),
        source('k3', 'A.TXT'),
        source('k4', '.env'),
        source('k5', '.env'),
      ]),
    ).toEqual(['a.txt', 'a (2).txt', 'A (3).TXT', '.env', '.env (2)']);
  });

  it('never names a file like a folder of the ZIP', () => {
    expect(paths([source('k1', 'docs'), source('k2', 'docs/x', 'docs')])).toEqual([
      'docs (2)',
      'docs/x',
    ]);
  });

  it('keeps a key listed twice once', () => {
    expect(paths([source('k1', 'a/b', 'a'), source('k1', 'a/b')])).toEqual(['a/b']);
  });

  it('replaces hostile segments and never writes them as they are', () => {
    const written = paths([
      source('k1', '../../etc/passwd'),
      source('k2', '/abs/x'),
      source('k3', 'a\\..\\b'),
      source('k4', 'nul\u0000byte'),
      source('k5', 'bell\u0007/y'),
      source('k6', './z'),
      source('k7', 'c1\u0085/w'),
    ]);
    expect(written).toEqual([
      'unnamed/unnamed/etc/passwd',
      'abs/x',
      'unnamed (2)',
      'unnamed (3)',
      'unnamed/y',
      'unnamed/z',
      'unnamed/w',
    ]);
    for (const path of written) {
      expect(path.startsWith('/')).toBe(false);
      expect(path.split('/')).not.toContain('..');
      expect(path.split('/')).not.toContain('.');
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      expect(path).not.toMatch(/[\\\u0000-\u001f\u007f-\u009f]/u);
    }
  });

  it('names an unreadable file inside the folder it was selected with', () => {
    expect(
      paths([
        source('k1', undefined, 'photos'),
        source('k2', undefined, 'photos'),
        source('k3', undefined),
      ]),
    ).toEqual(['photos/unreadable', 'photos/unreadable (2)', 'unreadable']);
  });

  it('never gives an empty path', () => {
    expect(paths([source('k1', ''), source('k2', '//')])).toEqual(['unnamed', 'unnamed (2)']);
  });
});

describe('segments', () => {
  it('tells safe segments from hostile ones', () => {
    expect(isSafeSegment('report (final).pdf')).toBe(true);
    expect(isSafeSegment('日本語.txt')).toBe(true);
    for (const bad of ['', '.', '..', 'a\\b', 'a/b', 'x\u0000', '\u001b[31m', 'del\u007f'])
      expect(isSafeSegment(bad)).toBe(false);
  });

  it('drops empty segments and replaces hostile ones', () => {
    expect(safeSegments('/a//b/../c/')).toEqual(['a', 'b', 'unnamed', 'c']);
  });

  it('numbers before the last extension', () => {
    expect(numbered('a.txt', 2)).toBe('a (2).txt');
    expect(numbered('archive.tar.gz', 3)).toBe('archive.tar (3).gz');
    expect(numbered('README', 2)).toBe('README (2)');
  });

  it('names the ZIP after the folder, safely', () => {
    expect(zipFileName('photos')).toBe('photos.zip');
    expect(zipFileName('..')).toBe('unnamed.zip');
    expect(zipFileName('')).toBe('files.zip');
  });
});
