/**
 * Which of the Files view's dialogs is asked for, and by what: each request is set by a row or
 * toolbar action (with the element that opened it, where focus returns) and cleared when its
 * dialog is done. views/files/FilesDialogs.svelte shows the dialogs of these requests.
 */
import type { FileRow, Row } from './listing';
import type { MoveKind } from './move.svelte';
import type { ProtectionTarget } from './protection-change.svelte';
import { selectionLabel, targetOf } from './selection';

/** A dialog's request: what it is about, and the element that opened it. */
export type Asked<T> = (T & { readonly trigger: HTMLElement }) | undefined;

/** What the requests read of the folder shown. */
export interface FolderShown {
  readonly prefix: string;
  readonly rows: readonly { readonly name: string }[];
}

/** The Files view's dialog requests. */
export class FilesDialogRequests {
  remove = $state<Asked<{ rows: Row[] }>>();
  details = $state<Asked<{ row: FileRow }>>();
  preview = $state<Asked<{ row: FileRow }>>();
  versions = $state<Asked<{ row: FileRow }>>();
  protect = $state<Asked<{ target: ProtectionTarget; label: string }>>();
  move = $state<Asked<{ kind: MoveKind; row: Row; prefix: string }>>();
  share = $state<Asked<{ row: FileRow; privateNames: boolean }>>();
  bulkShare = $state<Asked<{ rows: FileRow[]; privateNames: boolean }>>();
  sharePerson = $state<Asked<{ key: string; name: string }>>();
  newFolder = $state<Asked<{ prefix: string; taken: string[] }>>();

  readonly #folder: FolderShown;
  readonly #privateNames: () => boolean;

  /**
   * @param folder the folder shown (its prefix and rows, read when a dialog is asked for).
   * @param privateNames whether the location's names are private now.
   */
  constructor(folder: FolderShown, privateNames: () => boolean) {
    this.#folder = folder;
    this.#privateNames = privateNames;
  }

  askDetails(row: FileRow, trigger: HTMLElement): void {
    this.details = { row, trigger };
  }

  askRemove(rows: Row[], trigger: HTMLElement): void {
    this.remove = { rows, trigger };
  }

  askPreview(row: FileRow, trigger: HTMLElement): void {
    this.preview = { row, trigger };
  }

  askVersions(row: FileRow, trigger: HTMLElement): void {
    this.versions = { row, trigger };
  }

  /** "Change protection" of `rows` (nothing when none is selected). */
  askProtect(rows: Row[], trigger: HTMLElement): void {
    if (rows.length === 0) return;
    this.protect = { target: targetOf(rows), label: selectionLabel(rows), trigger };
  }

  askMove(kind: MoveKind, row: Row, trigger: HTMLElement): void {
    this.move = { kind, row, prefix: this.#folder.prefix, trigger };
  }

  askSharePerson(row: FileRow, trigger: HTMLElement): void {
    this.sharePerson = { key: row.key, name: row.name, trigger };
  }

  /** Share link…: one file its own dialog (with its links), several the bulk one. */
  askShareLinks(rows: FileRow[], trigger: HTMLElement): void {
    const privateNames = this.#privateNames();
    const [only] = rows;
    if (rows.length === 1 && only) this.share = { row: only, privateNames, trigger };
    else if (rows.length > 1) this.bulkShare = { rows, privateNames, trigger };
  }

  /** New folder… in the folder shown; the names taken there are refused. */
  askNewFolder(trigger: HTMLElement): void {
    this.newFolder = {
      prefix: this.#folder.prefix,
      taken: this.#folder.rows.map((row) => row.name),
      trigger,
    };
  }
}
