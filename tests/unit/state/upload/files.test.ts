import { describe, expect, test } from 'vitest';
import {
  droppedItems,
  pickedFromInput,
  walkDropped,
  type DirectoryEntryLike,
  type DropItemLike,
  type EntryLike,
  type FileEntryLike,
} from '../../../../src/state/upload/files';

function fileEntry(fullPath: string): FileEntryLike {
  const name = fullPath.split('/').at(-1) ?? '';
  return {
    isFile: true,
    isDirectory: false,
    name,
    fullPath,
    file: (ok) => ok(new File([fullPath], name)),
  };
}

/** A directory whose reader answers in batches of `batch`, as Chromium does (100). */
function dirEntry(fullPath: string, children: EntryLike[], batch = 2): DirectoryEntryLike {
  return {
    isFile: false,
    isDirectory: true,
    name: fullPath.split('/').at(-1) ?? '',
    fullPath,
    createReader: () => {
      let offset = 0;
      return {
        readEntries: (ok) => {
          const slice = children.slice(offset, offset + batch);
          offset += slice.length;
          setTimeout(() => ok(slice), 0);
        },
      };
    },
  };
}

describe('files from a picker', () => {
  test('a folder picker keeps webkitRelativePath, a file picker the name', () => {
    const inFolder = new File(['x'], 'a.txt');
    Object.defineProperty(inFolder, 'webkitRelativePath', { value: 'photos/2026/a.txt' });
    const alone = new File(['y'], 'b.txt');
    expect(pickedFromInput([inFolder, alone]).map((p) => p.relativePath)).toEqual([
      'photos/2026/a.txt',
      'b.txt',
    ]);
  });
});

describe('files from a drop', () => {
  test('walks folders depth first in name order, reading every batch of entries', async () => {
    const tree = dirEntry('/photos', [
      fileEntry('/photos/c.jpg'),
      dirEntry('/photos/2026', [fileEntry('/photos/2026/b.jpg'), fileEntry('/photos/2026/a.jpg')]),
      fileEntry('/photos/a.jpg'),
      dirEntry('/photos/empty', []),
      fileEntry('/photos/b.jpg'),
    ]);
    const picked = await walkDropped([{ entry: tree }, { entry: fileEntry('/top.txt') }]);
    expect(picked.map((p) => p.relativePath)).toEqual([
      'photos/2026/a.jpg',
      'photos/2026/b.jpg',
      'photos/a.jpg',
      'photos/b.jpg',
      'photos/c.jpg',
      'top.txt',
    ]);
    expect(await picked[0]?.file.text()).toBe('/photos/2026/a.jpg');
  });

  test('items without an entry fall back to their file; strings are ignored', async () => {
    const file = new File(['z'], 'z.bin');
    const items: DropItemLike[] = [
      { kind: 'string', getAsFile: () => null },
      { kind: 'file', webkitGetAsEntry: () => null, getAsFile: () => file },
      { kind: 'file', webkitGetAsEntry: () => fileEntry('/e.txt'), getAsFile: () => null },
    ];
    const dropped = droppedItems(items);
    expect(dropped).toHaveLength(2);
    const picked = await walkDropped(dropped);
    expect(picked.map((p) => p.relativePath)).toEqual(['z.bin', 'e.txt']);
  });

  test('a file that vanished since the drop rejects the walk', async () => {
    const gone: FileEntryLike = {
      ...fileEntry('/gone.txt'),
      file: (_ok, fail) => fail?.(new DOMException('gone', 'NotFoundError')),
    };
    await expect(walkDropped([{ entry: gone }])).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
