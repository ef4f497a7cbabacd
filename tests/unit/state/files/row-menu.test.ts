import { describe, expect, it } from 'vitest';
import type { FileRow, FolderRow } from '../../../../src/state/files/listing';
import {
  MAX_PRIMARY_ACTIONS,
  moreActionsName,
  splitRowActions,
  standardRowActions,
  type RowAction,
  type RowActionHandlers,
} from '../../../../src/state/files/row-actions';

const folder: FolderRow = { kind: 'folder', prefix: 'docs/', name: 'docs' };
const file: FileRow = {
  kind: 'file',
  key: 'docs/a.txt',
  name: 'a.txt',
  sizeBytes: 10,
  lastModifiedMs: 0,
  etag: '"e"',
};

const ignore = (): void => undefined;
/** Every optional handler given: the fullest row the Files view shows. */
const handlers: RowActionHandlers = {
  download: ignore,
  details: ignore,
  versions: ignore,
  protect: ignore,
  rename: ignore,
  move: ignore,
  remove: ignore,
  preview: ignore,
  sharePerson: ignore,
  shareLink: ignore,
};

describe('a row’s buttons and its “More actions” menu', () => {
  it('shows a file’s Download as a button and every other action in the menu, in order', () => {
    const { buttons, menu } = splitRowActions(standardRowActions(handlers), file);
    expect(buttons.map((action) => action.id)).toEqual(['download']);
    expect(menu.map((action) => action.id)).toEqual([
      'preview',
      'details',
      'versions',
      'share-link',
      'share-person',
      'protect',
      'rename',
      'move',
      'delete',
    ]);
  });

  it('puts Delete last in the menu, as its one dangerous item', () => {
    const { menu } = splitRowActions(standardRowActions(handlers), file);
    expect(menu.at(-1)?.id).toBe('delete');
    expect(menu.filter((action) => action.danger).map((action) => action.id)).toEqual(['delete']);
  });

  it('gives a folder no buttons: its name opens it, the menu holds the rest', () => {
    const { buttons, menu } = splitRowActions(standardRowActions(handlers), folder);
    expect(buttons).toEqual([]);
    expect(menu.map((action) => action.id)).toEqual(['protect', 'rename', 'move', 'delete']);
  });

  it('shows at most MAX_PRIMARY_ACTIONS buttons, the rest of the primary ones in the menu', () => {
    const primary = (id: string): RowAction => ({
      id,
      label: id,
      appliesTo: () => true,
      describe: () => id,
      run: ignore,
      primary: true,
    });
    const actions = ['a', 'b', 'c', 'd'].map(primary);
    const { buttons, menu } = splitRowActions(actions, file);
    expect(buttons.map((action) => action.id)).toEqual(['a', 'b'].slice(0, MAX_PRIMARY_ACTIONS));
    expect(menu.map((action) => action.id)).toEqual(['c', 'd']);
  });

  it('names the menu button after the row it acts on', () => {
    expect(moreActionsName(file)).toBe('More actions for a.txt');
    expect(moreActionsName(folder)).toBe('More actions for folder docs');
  });
});
