/** The Files selection: row ids, the target a selection means, and how the dialog names it. */
import { describe, expect, it } from 'vitest';
import type { Row } from '../../../../src/state/files/listing';
import { rowId, selectionLabel, targetOf } from '../../../../src/state/files/selection';

const file = (key: string): Row => ({
  kind: 'file',
  key,
  name: key.split('/').at(-1)!,
  sizeBytes: 1,
  lastModifiedMs: undefined,
  etag: undefined,
});
const folder = (prefix: string): Row => ({
  kind: 'folder',
  prefix,
  name: prefix.split('/').at(-2)!,
});

describe('selection', () => {
  it('keeps files and folders apart and names what they hold', () => {
    expect(rowId(file('a/b'))).not.toBe(rowId(folder('a/b')));
    const rows = [file('top/a.txt'), folder('top/sub/'), file('top/b.txt')];
    expect(targetOf(rows)).toEqual({ keys: ['top/a.txt', 'top/b.txt'], prefixes: ['top/sub/'] });
    expect(selectionLabel(rows)).toBe('2 files and 1 folder');
    expect(selectionLabel([file('top/a.txt')])).toBe('“a.txt”');
    expect(selectionLabel([folder('top/sub/')])).toBe('folder “sub”');
  });
});
