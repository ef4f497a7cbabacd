/**
 * What a row of the Files view offers: one list of actions, each saying which rows it applies
 * to and how it names itself to a screen reader. The table renders the list in order
 * (views/files/RowActions.svelte): the primary actions as buttons, the rest as the items of
 * the row's "More actions" menu; features add an entry here and a handler in Files.svelte,
 * instead of another button written twice (once for folders, once for files). Pure.
 */
import type { FileRow, Row } from './listing';

/** One action of a row: its button text, its accessible name, and what it does. */
export interface RowAction {
  /** Stable id, used as the button's `data-action`. */
  readonly id: string;
  /** The visible text, e.g. "Rename…" (an ellipsis when a dialog asks more). */
  readonly label: string;
  /** Whether the row offers it. */
  readonly appliesTo: (row: Row) => boolean;
  /** The button's accessible name for this row, e.g. "Rename folder photos". */
  readonly describe: (row: Row) => string;
  /** Runs it; `trigger` is the button, for dialogs to return focus to. */
  readonly run: (row: Row, trigger: HTMLElement) => void;
  /** Shown as destructive. */
  readonly danger?: boolean;
  /** Shown as a button on the row; the others are items of its "More actions" menu. */
  readonly primary?: boolean;
}

/** What the standard actions call; an absent handler leaves its action out. */
export interface RowActionHandlers {
  readonly download: (row: FileRow) => void;
  readonly details: (row: FileRow, trigger: HTMLElement) => void;
  /** Opens the file's versions (a versioned bucket's earlier copies of it). */
  readonly versions?: (row: FileRow, trigger: HTMLElement) => void;
  readonly protect: (rows: Row[], trigger: HTMLElement) => void;
  readonly rename?: (row: Row, trigger: HTMLElement) => void;
  readonly move?: (row: Row, trigger: HTMLElement) => void;
  readonly remove: (row: Row, trigger: HTMLElement) => void;
  /** Opens the file in the preview dialog (views/files/PreviewDialog.svelte). */
  readonly preview?: (row: FileRow, trigger: HTMLElement) => void;
  /** Opens "Share with a person…" of a file (views/people/SharePersonDialog.svelte). */
  readonly sharePerson?: (row: FileRow, trigger: HTMLElement) => void;
  /** Opens the share link dialog of a file (views/share/ShareDialog.svelte). */
  readonly shareLink?: (row: FileRow, trigger: HTMLElement) => void;
}

/** "folder photos" for a folder, "photos.jpg" for a file: how an accessible name ends. */
export function rowNoun(row: Row): string {
  return row.kind === 'folder' ? `folder ${row.name}` : row.name;
}

const isFile = (row: Row): row is FileRow => row.kind === 'file';
const isReadable = (row: Row): boolean => !row.unreadable;

/** The actions every Files view has, in the order the row shows them. */
export function standardRowActions(handlers: RowActionHandlers): RowAction[] {
  const actions: RowAction[] = [
    {
      id: 'download',
      label: 'Download',
      appliesTo: isFile,
      describe: (row) => `Download ${row.name}`,
      run: (row) => {
        if (isFile(row)) handlers.download(row);
      },
      primary: true,
    },
    {
      id: 'details',
      label: 'Details',
      appliesTo: isFile,
      describe: (row) => `Details of ${row.name}`,
      run: (row, trigger) => {
        if (isFile(row)) handlers.details(row, trigger);
      },
    },
  ];
  const { preview } = handlers;
  if (preview) {
    // Right after Download: both read the file.
    actions.splice(1, 0, {
      id: 'preview',
      label: 'Preview',
      appliesTo: (row) => isFile(row) && isReadable(row),
      describe: (row) => `Preview ${row.name}`,
      run: (row, trigger) => {
        if (isFile(row)) preview(row, trigger);
      },
    });
  }
  const { versions, rename, move } = handlers;
  if (versions) {
    actions.push({
      id: 'versions',
      label: 'Versions…',
      appliesTo: isFile,
      describe: (row) => `Versions of ${row.name}`,
      run: (row, trigger) => {
        if (isFile(row)) versions(row, trigger);
      },
    });
  }
  const { shareLink } = handlers;
  if (shareLink) {
    actions.push({
      id: 'share-link',
      label: 'Share link…',
      appliesTo: (row) => isFile(row) && isReadable(row),
      describe: (row) => `Share link to ${row.name}`,
      run: (row, trigger) => {
        if (isFile(row)) shareLink(row, trigger);
      },
    });
  }
  const { sharePerson } = handlers;
  if (sharePerson) {
    actions.push({
      id: 'share-person',
      label: 'Share with a person…',
      appliesTo: (row) => isFile(row) && isReadable(row),
      describe: (row) => `Share ${row.name} with a person`,
      run: (row, trigger) => {
        if (isFile(row)) sharePerson(row, trigger);
      },
    });
  }
  actions.push({
    id: 'protect',
    label: 'Protection…',
    appliesTo: () => true,
    describe: (row) => `Change protection of ${rowNoun(row)}`,
    run: (row, trigger) => handlers.protect([row], trigger),
  });
  if (rename) {
    actions.push({
      id: 'rename',
      label: 'Rename…',
      appliesTo: isReadable,
      describe: (row) => `Rename ${rowNoun(row)}`,
      run: rename,
    });
  }
  if (move) {
    actions.push({
      id: 'move',
      label: 'Move…',
      appliesTo: isReadable,
      describe: (row) => `Move ${rowNoun(row)}`,
      run: move,
    });
  }
  actions.push({
    id: 'delete',
    label: 'Delete',
    appliesTo: () => true,
    describe: (row) => `Delete ${rowNoun(row)}`,
    run: handlers.remove,
    danger: true,
  });
  return actions;
}

/** The actions `row` offers, in order. */
export function actionsOf(actions: readonly RowAction[], row: Row): RowAction[] {
  return actions.filter((action) => action.appliesTo(row));
}

/** At most this many actions show as buttons on a row; the rest go in its menu. */
export const MAX_PRIMARY_ACTIONS = 2;

/**
 * The actions `row` offers, split into the buttons shown on the row (the first
 * MAX_PRIMARY_ACTIONS marked primary) and the items of its "More actions" menu, each in order.
 */
export function splitRowActions(
  actions: readonly RowAction[],
  row: Row,
): { buttons: RowAction[]; menu: RowAction[] } {
  const buttons: RowAction[] = [];
  const menu: RowAction[] = [];
  for (const action of actionsOf(actions, row)) {
    if (action.primary && buttons.length < MAX_PRIMARY_ACTIONS) buttons.push(action);
    else menu.push(action);
  }
  return { buttons, menu };
}

/** The accessible name of a row's menu button: "More actions for folder photos". */
export function moreActionsName(row: Row): string {
  return `More actions for ${rowNoun(row)}`;
}
