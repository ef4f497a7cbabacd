/**
 * What the Files toolbar offers for the selected rows: one list of bulk actions, like the row
 * actions of row-actions.ts. Each says when it is enabled for a selection and how it names itself
 * for the selection (the accessible name counts what it acts on). Features add an entry here and
 * a handler in Files.svelte. Pure.
 */
import type { FileRow, Row } from './listing';
import { selectionLabel } from './selection';

/** One action of the toolbar. */
export interface ToolbarAction {
  /** Stable id, used as the button's `data-action`. */
  readonly id: string;
  /** The visible text, e.g. "Delete…". */
  readonly label: string;
  /** The visible text for a selection, when it depends on it (else `label`). */
  readonly labelFor?: (rows: readonly Row[]) => string;
  /** Whether the selection allows it (a disabled button otherwise). */
  readonly enabledFor: (rows: readonly Row[]) => boolean;
  /** The button's accessible name for the selection, e.g. "Delete 2 files and 1 folder". */
  readonly describe: (rows: readonly Row[]) => string;
  /** Runs it on the selected rows; `trigger` is the button, for dialogs to return focus to. */
  readonly run: (rows: Row[], trigger: HTMLElement) => void;
  /** Shown as destructive. */
  readonly danger?: boolean;
}

/** What the standard toolbar actions call; an absent handler leaves its action out. */
export interface ToolbarActionHandlers {
  /** One file: the normal download; more, or any folder: one ZIP. */
  readonly download?: (rows: Row[], trigger: HTMLElement) => void;
  /**
   * "Share link…": one link per selected file ([Note: share links]); one file opens its own
   * dialog (with its links), several the bulk dialog. Offered for files only.
   */
  readonly shareLinks?: (rows: FileRow[], trigger: HTMLElement) => void;
  readonly protect: (rows: Row[], trigger: HTMLElement) => void;
  readonly remove?: (rows: Row[], trigger: HTMLElement) => void;
}

const some = (rows: readonly Row[]): boolean => rows.length > 0;
const named = (verb: string) => (rows: readonly Row[]) =>
  rows.length === 0 ? verb : `${verb} ${selectionLabel(rows)}`;

/**
 * True when a download of `rows` would be one ZIP rather than one file (several rows, or any
 * folder: zip-download.svelte.ts); one file is the normal download.
 */
export function downloadsAsZip(rows: readonly Row[]): boolean {
  return rows.length > 1 || rows.some((row) => row.kind === 'folder');
}

/** The files of `rows` when every row is a file whose name opens (a link is made per file). */
export function shareableFiles(rows: readonly Row[]): FileRow[] | undefined {
  const files = rows.filter((row): row is FileRow => row.kind === 'file' && !row.unreadable);
  return files.length > 0 && files.length === rows.length ? files : undefined;
}

/** The toolbar's actions, in the order shown. */
export function standardToolbarActions(handlers: ToolbarActionHandlers): ToolbarAction[] {
  const actions: ToolbarAction[] = [];
  const { download, remove, shareLinks } = handlers;
  if (download) {
    actions.push({
      id: 'download',
      label: 'Download',
      labelFor: (rows) => (downloadsAsZip(rows) ? 'Download as ZIP' : 'Download'),
      enabledFor: (rows) => some(rows) && rows.every((row) => !row.unreadable),
      describe: (rows) =>
        downloadsAsZip(rows) ? `${named('Download')(rows)} as one ZIP` : named('Download')(rows),
      run: download,
    });
  }
  if (shareLinks) {
    actions.push({
      id: 'share-links',
      label: 'Share link…',
      labelFor: (rows) => (rows.length > 1 ? 'Share links…' : 'Share link…'),
      enabledFor: (rows) => shareableFiles(rows) !== undefined,
      describe: (rows) =>
        rows.length > 1 ? `Share links to ${selectionLabel(rows)}` : named('Share a link to')(rows),
      run: (rows, trigger) => {
        const files = shareableFiles(rows);
        if (files) shareLinks(files, trigger);
      },
    });
  }
  actions.push({
    id: 'protect',
    label: 'Change protection…',
    enabledFor: some,
    describe: named('Change protection of'),
    run: handlers.protect,
  });
  if (remove) {
    actions.push({
      id: 'delete',
      label: 'Delete…',
      enabledFor: some,
      describe: named('Delete'),
      run: remove,
      danger: true,
    });
  }
  return actions;
}
