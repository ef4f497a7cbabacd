/**
 * The Files view's dialog requests: each action sets its dialog's request with the element that
 * opened it; Share link… of one file opens its own dialog and of several the bulk one, with the
 * location's names as they are when asked; Change protection of nothing opens nothing; Move and
 * New folder… read the folder shown when asked.
 */
import { describe, expect, it } from 'vitest';
import { FilesDialogRequests } from '../../../../src/state/files/dialog-requests.svelte';
import type { FileRow, Row } from '../../../../src/state/files/listing';

const trigger = {} as HTMLElement;
const file = (name: string): FileRow =>
  ({ kind: 'file', key: `team/${name}`, name }) as unknown as FileRow;
const folder = (name: string): Row => ({ kind: 'folder', prefix: `team/${name}/`, name });

function requests() {
  const shown = { prefix: 'team/', rows: [file('a.txt'), folder('docs')] };
  const names = { private: false };
  return { shown, names, dialogs: new FilesDialogRequests(shown, () => names.private) };
}

describe('FilesDialogRequests', () => {
  it('Share link… of one file: its own dialog; of several: the bulk one', () => {
    const { dialogs, names } = requests();
    dialogs.askShareLinks([file('a.txt')], trigger);
    expect(dialogs.share).toEqual({ row: file('a.txt'), privateNames: false, trigger });
    expect(dialogs.bulkShare).toBeUndefined();
    names.private = true;
    dialogs.askShareLinks([file('a.txt'), file('b.txt')], trigger);
    expect(dialogs.bulkShare?.rows).toHaveLength(2);
    expect(dialogs.bulkShare?.privateNames).toBe(true);
  });

  it('Share link… of nothing opens nothing', () => {
    const { dialogs } = requests();
    dialogs.askShareLinks([], trigger);
    expect(dialogs.share).toBeUndefined();
    expect(dialogs.bulkShare).toBeUndefined();
  });

  it('Change protection: the selection as a target and a label; nothing for none', () => {
    const { dialogs } = requests();
    dialogs.askProtect([], trigger);
    expect(dialogs.protect).toBeUndefined();
    dialogs.askProtect([file('a.txt'), folder('docs')], trigger);
    expect(dialogs.protect).toEqual({
      target: { keys: ['team/a.txt'], prefixes: ['team/docs/'] },
      label: '1 file and 1 folder',
      trigger,
    });
  });

  it('Move and New folder… read the folder shown when asked', () => {
    const { dialogs, shown } = requests();
    shown.prefix = 'team/docs/';
    dialogs.askMove('rename', file('a.txt'), trigger);
    expect(dialogs.move).toMatchObject({ kind: 'rename', prefix: 'team/docs/' });
    dialogs.askNewFolder(trigger);
    expect(dialogs.newFolder).toEqual({
      prefix: 'team/docs/',
      taken: ['a.txt', 'docs'],
      trigger,
    });
  });

  it('each row action sets its own request', () => {
    const { dialogs } = requests();
    const row = file('a.txt');
    dialogs.askDetails(row, trigger);
    dialogs.askPreview(row, trigger);
    dialogs.askVersions(row, trigger);
    dialogs.askRemove([row], trigger);
    dialogs.askSharePerson(row, trigger);
    expect(dialogs.details?.row).toBe(row);
    expect(dialogs.preview?.row).toBe(row);
    expect(dialogs.versions?.row).toBe(row);
    expect(dialogs.remove?.rows).toEqual([row]);
    expect(dialogs.sharePerson).toEqual({ key: 'team/a.txt', name: 'a.txt', trigger });
  });
});
