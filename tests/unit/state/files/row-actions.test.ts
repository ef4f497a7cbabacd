import { describe, expect, it } from 'vitest';
import type { FileRow, FolderRow, Row } from '../../../../src/state/files/listing';
import {
  actionsOf,
  rowNoun,
  standardRowActions,
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
const unreadable: FileRow = { ...file, key: 'x', name: 'AbCd', unreadable: true };
const trigger = {} as HTMLElement;

function recorder(): { calls: string[]; handlers: RowActionHandlers } {
  const calls: string[] = [];
  const handlers: RowActionHandlers = {
    download: (row) => calls.push(`download ${row.key}`),
    details: (row) => calls.push(`details ${row.key}`),
    protect: (rows) => calls.push(`protect ${rows.length}`),
    rename: (row: Row) => calls.push(`rename ${row.name}`),
    move: (row: Row) => calls.push(`move ${row.name}`),
    remove: (row: Row) => calls.push(`delete ${row.name}`),
  };
  return { calls, handlers };
}

describe('row actions', () => {
  it('offers a file every action and a folder no download or details, in order', () => {
    const actions = standardRowActions(recorder().handlers);
    expect(actionsOf(actions, file).map((action) => action.id)).toEqual([
      'download',
      'details',
      'protect',
      'rename',
      'move',
      'delete',
    ]);
    expect(actionsOf(actions, folder).map((action) => action.id)).toEqual([
      'protect',
      'rename',
      'move',
      'delete',
    ]);
  });

  it('offers no rename or move of a row whose private name does not open', () => {
    const ids = actionsOf(standardRowActions(recorder().handlers), unreadable).map((a) => a.id);
    expect(ids).not.toContain('rename');
    expect(ids).not.toContain('move');
    expect(ids).toContain('delete');
  });

  it('leaves out rename and move when no handler is given', () => {
    const { handlers } = recorder();
    const ids = standardRowActions({ ...handlers, rename: undefined, move: undefined }).map(
      (action) => action.id,
    );
    expect(ids).toEqual(['download', 'details', 'protect', 'delete']);
  });

  it('names each button for a screen reader with the row it acts on', () => {
    const actions = standardRowActions(recorder().handlers);
    expect(actionsOf(actions, folder).map((action) => action.describe(folder))).toEqual([
      'Change protection of folder docs',
      'Rename folder docs',
      'Move folder docs',
      'Delete folder docs',
    ]);
    expect(actionsOf(actions, file).map((action) => action.describe(file))[0]).toBe(
      'Download a.txt',
    );
    expect(rowNoun(file)).toBe('a.txt');
  });

  it('runs the handler of the action with its row, and only delete is destructive', () => {
    const { calls, handlers } = recorder();
    const actions = standardRowActions(handlers);
    for (const action of actionsOf(actions, file)) action.run(file, trigger);
    expect(calls).toEqual([
      'download docs/a.txt',
      'details docs/a.txt',
      'protect 1',
      'rename a.txt',
      'move a.txt',
      'delete a.txt',
    ]);
    expect(actions.filter((action) => action.danger).map((action) => action.id)).toEqual([
      'delete',
    ]);
  });

  it('offers Versions… of a file after Details when a handler is given, named for the file', () => {
    const { calls, handlers } = recorder();
    const actions = standardRowActions({
      ...handlers,
      versions: (row) => calls.push(`versions ${row.key}`),
    });
    expect(actionsOf(actions, file).map((action) => action.id)).toEqual([
      'download',
      'details',
      'versions',
      'protect',
      'rename',
      'move',
      'delete',
    ]);
    expect(actionsOf(actions, folder).map((action) => action.id)).not.toContain('versions');
    const versions = actions.find((action) => action.id === 'versions');
    expect(versions?.label).toBe('Versions…');
    expect(versions?.describe(file)).toBe('Versions of a.txt');
    versions?.run(file, trigger);
    versions?.run(folder, trigger);
    expect(calls).toEqual(['versions docs/a.txt']);
    expect(versions?.danger).toBeUndefined();
  });
});

describe('the preview row action', () => {
  it('follows Download on a readable file, named "Preview <name>", and opens with the trigger', () => {
    const { calls, handlers } = recorder();
    const opened: [string, HTMLElement][] = [];
    const actions = standardRowActions({
      ...handlers,
      preview: (row, from) => opened.push([row.key, from]),
    });
    expect(actionsOf(actions, file).map((action) => action.id)).toEqual([
      'download',
      'preview',
      'details',
      'protect',
      'rename',
      'move',
      'delete',
    ]);
    const entry = actionsOf(actions, file)[1];
    expect(entry?.describe(file)).toBe('Preview a.txt');
    entry?.run(file, trigger);
    expect(opened).toEqual([['docs/a.txt', trigger]]);
    expect(calls).toEqual([]);
  });

  it('is not offered on folders, nor on a file whose private name does not open', () => {
    const actions = standardRowActions({ ...recorder().handlers, preview: () => undefined });
    expect(actionsOf(actions, folder).map((action) => action.id)).not.toContain('preview');
    expect(actionsOf(actions, unreadable).map((action) => action.id)).not.toContain('preview');
  });
});

describe('the share link row action', () => {
  it('comes before Protection on a readable file, named "Share link to <name>"', () => {
    const { calls, handlers } = recorder();
    const opened: [string, HTMLElement][] = [];
    const actions = standardRowActions({
      ...handlers,
      shareLink: (row, from) => opened.push([row.key, from]),
    });
    const ids = actionsOf(actions, file).map((action) => action.id);
    expect(ids).toEqual([
      'download',
      'details',
      'share-link',
      'protect',
      'rename',
      'move',
      'delete',
    ]);
    const entry = actionsOf(actions, file).find((action) => action.id === 'share-link');
    expect(entry?.label).toBe('Share link…');
    expect(entry?.describe(file)).toBe('Share link to a.txt');
    entry?.run(file, trigger);
    expect(opened).toEqual([['docs/a.txt', trigger]]);
    expect(calls).toEqual([]);
  });

  it('is not offered on folders, nor on a file whose private name does not open', () => {
    const actions = standardRowActions({ ...recorder().handlers, shareLink: () => undefined });
    expect(actionsOf(actions, folder).map((action) => action.id)).not.toContain('share-link');
    expect(actionsOf(actions, unreadable).map((action) => action.id)).not.toContain('share-link');
  });
});

describe('the share-with-a-person row action', () => {
  it('is offered on a readable file only, named "Share <name> with a person", after Details', () => {
    const { calls, handlers } = recorder();
    const opened: [string, HTMLElement][] = [];
    const actions = standardRowActions({
      ...handlers,
      sharePerson: (row, from) => opened.push([row.key, from]),
    });
    const ids = actionsOf(actions, file).map((action) => action.id);
    expect(ids.indexOf('share-person')).toBeGreaterThan(ids.indexOf('details'));
    expect(ids.indexOf('share-person')).toBeLessThan(ids.indexOf('protect'));
    expect(actionsOf(actions, folder).map((action) => action.id)).not.toContain('share-person');
    expect(actionsOf(actions, unreadable).map((action) => action.id)).not.toContain('share-person');
    const share = actions.find((action) => action.id === 'share-person');
    expect(share?.label).toBe('Share with a person…');
    expect(share?.describe(file)).toBe('Share a.txt with a person');
    share?.run(file, trigger);
    share?.run(folder, trigger);
    expect(opened).toEqual([['docs/a.txt', trigger]]);
    expect(calls).toEqual([]);
    expect(share?.danger).toBeUndefined();
  });

  it('is absent without a handler', () => {
    const actions = standardRowActions(recorder().handlers);
    expect(actions.map((action) => action.id)).not.toContain('share-person');
  });
});
