/**
 * The files a user hands to Upload, with the path each keeps below the destination folder: from
 * a file picker (`webkitRelativePath` for a folder picker, else the name) or from a drop, where
 * folders arrive as FileSystemDirectoryEntry trees (DataTransferItem.webkitGetAsEntry()) that are
 * walked here. Folder paths become key prefixes (objectKeyFor); empty folders make no object, as
 * S3 has no folders of its own.
 *
 * The entry types are narrowed to what the walk needs, so tests can pass plain objects.
 */

/** A file and its path relative to what the user picked (`photos/2026/a.jpg`, or `a.jpg`). */
export interface PickedFile {
  readonly file: File;
  readonly relativePath: string;
}

/** What the walk needs of a FileSystemEntry. */
export interface EntryLike {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly name: string;
  /** The path from the drop's root, starting with '/' (`/photos/a.jpg`). */
  readonly fullPath: string;
}

/** What the walk needs of a FileSystemFileEntry. */
export interface FileEntryLike extends EntryLike {
  file(success: (file: File) => void, failure?: (error: unknown) => void): void;
}

/** What the walk needs of a FileSystemDirectoryEntry. */
export interface DirectoryEntryLike extends EntryLike {
  createReader(): {
    readEntries(success: (entries: EntryLike[]) => void, failure?: (error: unknown) => void): void;
  };
}

/** One dropped item: an entry when the browser gives one, else just the file. */
export type DroppedItem = { readonly entry: EntryLike } | { readonly file: File };

/** What the walk needs of a DataTransferItem. */
export interface DropItemLike {
  readonly kind: string;
  webkitGetAsEntry?(): EntryLike | null;
  getAsFile(): File | null;
}

/** The relative path of a picked file: its folder path under a folder picker, else its name. */
export function relativePathOf(file: File): string {
  const path = (file as File & { webkitRelativePath?: string }).webkitRelativePath;
  return path && path.length > 0 ? path : file.name;
}

/** Files from an `<input type="file">` (with or without `webkitdirectory`). */
export function pickedFromInput(files: Iterable<File>): PickedFile[] {
  return [...files].map((file) => ({ file, relativePath: relativePathOf(file) }));
}

/**
 * The items of a drop, read at once: a DataTransfer's items are only readable while its drop
 * event is being handled, so call this synchronously in the handler and walk the result later.
 */
export function droppedItems(items: ArrayLike<DropItemLike>): DroppedItem[] {
  const dropped: DroppedItem[] = [];
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (!item || item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.() ?? null;
    if (entry) {
      dropped.push({ entry });
      continue;
    }
    const file = item.getAsFile();
    if (file) dropped.push({ file });
  }
  return dropped;
}

function isFileEntry(entry: EntryLike): entry is FileEntryLike {
  return entry.isFile && typeof (entry as Partial<FileEntryLike>).file === 'function';
}

function isDirectoryEntry(entry: EntryLike): entry is DirectoryEntryLike {
  return (
    entry.isDirectory && typeof (entry as Partial<DirectoryEntryLike>).createReader === 'function'
  );
}

function fileOf(entry: FileEntryLike): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

/** Every child of a directory: readEntries answers in batches (100 in Chromium) until empty. */
async function childrenOf(entry: DirectoryEntryLike): Promise<EntryLike[]> {
  const reader = entry.createReader();
  const children: EntryLike[] = [];
  for (;;) {
    const batch = await new Promise<EntryLike[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return children;
    children.push(...batch);
  }
}

/**
 * Walks dropped items into files with their relative paths (a dropped folder `photos` gives
 * `photos/…`), depth first, in name order within each folder.
 * @throws what the browser's entry API rejects with (a file removed since the drop).
 */
export async function walkDropped(items: readonly DroppedItem[]): Promise<PickedFile[]> {
  const picked: PickedFile[] = [];
  const visit = async (entry: EntryLike): Promise<void> => {
    if (isFileEntry(entry)) {
      const file = await fileOf(entry);
      picked.push({ file, relativePath: entry.fullPath.replace(/^\/+/, '') || file.name });
    } else if (isDirectoryEntry(entry)) {
      const children = await childrenOf(entry);
      children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const child of children) await visit(child);
    }
  };
  for (const item of items) {
    if ('file' in item) picked.push({ file: item.file, relativePath: item.file.name });
    else await visit(item.entry);
  }
  return picked;
}
