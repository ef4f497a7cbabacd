/** The Files toolbar's bulk actions: which are offered, when enabled, how they are named. */
import { describe, expect, it, vi } from 'vitest';
import type { Row } from '../../../../src/state/files/listing';
import {
  downloadsAsZip,
  shareableFiles,
  standardToolbarActions,
} from '../../../../src/state/files/toolbar-actions';

const file = (name: string, unreadable = false): Row => ({
  kind: 'file',
  key: `t/${name}`,
  name,
  sizeBytes: 1,
  lastModifiedMs: undefined,
  etag: undefined,
  ...(unreadable ? { unreadable } : {}),
});
const folder = (name: string): Row => ({ kind: 'folder', prefix: `t/${name}/`, name });
const trigger = {} as HTMLElement;

describe('standardToolbarActions', () => {
  it('lists download, change protection and delete in order; absent handlers leave theirs out', () => {
    const all = standardToolbarActions({ download: vi.fn(), protect: vi.fn(), remove: vi.fn() });
    expect(all.map((action) => action.id)).toEqual(['download', 'protect', 'delete']);
    expect(all.find((action) => action.id === 'delete')?.danger).toBe(true);
    const bare = standardToolbarActions({ protect: vi.fn() });
    expect(bare.map((action) => action.id)).toEqual(['protect']);
  });

  it('every action is disabled without a selection', () => {
    for (const action of standardToolbarActions({
      download: vi.fn(),
      protect: vi.fn(),
      remove: vi.fn(),
    })) {
      expect(action.enabledFor([])).toBe(false);
      expect(action.enabledFor([file('a')])).toBe(true);
    }
  });

  it('a file whose name does not open cannot be downloaded in a selection', () => {
    const [download] = standardToolbarActions({ download: vi.fn(), protect: vi.fn() });
    expect(download?.enabledFor([file('a'), file('x', true)])).toBe(false);
  });

  it('names itself by what it acts on, and says when a download is one ZIP', () => {
    const [download, protect, remove] = standardToolbarActions({
      download: vi.fn(),
      protect: vi.fn(),
      remove: vi.fn(),
    });
    expect(download?.describe([file('a.txt')])).toBe('Download “a.txt”');
    expect(download?.describe([file('a'), folder('s')])).toBe(
      'Download 1 file and 1 folder as one ZIP',
    );
    expect(protect?.describe([folder('s')])).toBe('Change protection of folder “s”');
    expect(remove?.describe([file('a'), file('b')])).toBe('Delete 2 files');
  });

  it('runs its handler with the rows and the trigger', () => {
    const remove = vi.fn();
    const actions = standardToolbarActions({ protect: vi.fn(), remove });
    const rows = [file('a')];
    actions.find((action) => action.id === 'delete')?.run(rows, trigger);
    expect(remove).toHaveBeenCalledWith(rows, trigger);
  });
});

describe('downloadsAsZip', () => {
  it('one file downloads as itself; several files or any folder as one ZIP', () => {
    expect(downloadsAsZip([file('a')])).toBe(false);
    expect(downloadsAsZip([file('a'), file('b')])).toBe(true);
    expect(downloadsAsZip([folder('s')])).toBe(true);
  });
});

describe('Share link… of the selection', () => {
  const actionOf = (shareLinks = vi.fn()) =>
    standardToolbarActions({ download: vi.fn(), shareLinks, protect: vi.fn() }).find(
      (action) => action.id === 'share-links',
    );

  it('comes after Download, for files only: a folder or an unreadable name disables it', () => {
    const ids = standardToolbarActions({
      download: vi.fn(),
      shareLinks: vi.fn(),
      protect: vi.fn(),
    }).map((action) => action.id);
    expect(ids).toEqual(['download', 'share-links', 'protect']);
    const share = actionOf();
    expect(share?.enabledFor([])).toBe(false);
    expect(share?.enabledFor([file('a'), file('b')])).toBe(true);
    expect(share?.enabledFor([file('a'), folder('s')])).toBe(false);
    expect(share?.enabledFor([file('a'), file('x', true)])).toBe(false);
    expect(shareableFiles([folder('s')])).toBeUndefined();
  });

  it('names one link or several, and hands the handler the files', () => {
    const handler = vi.fn();
    const share = actionOf(handler);
    expect(share?.labelFor?.([file('a')])).toBe('Share link…');
    expect(share?.labelFor?.([file('a'), file('b')])).toBe('Share links…');
    expect(share?.describe([file('a')])).toBe('Share a link to “a”');
    expect(share?.describe([file('a'), file('b')])).toBe('Share links to 2 files');
    const rows = [file('a'), file('b')];
    share?.run(rows, trigger);
    expect(handler).toHaveBeenCalledWith(rows, trigger);
    share?.run([file('a'), folder('s')], trigger);
    expect(handler).toHaveBeenCalledTimes(1);
  });
});
