/**
 * The Files view's listing, pure: S3 keys under the app's root prefix shown as folders and files
 * (one level at a time, '/' as the folder separator), sorted, with breadcrumbs and the folder
 * in the URL hash (`#/files/<folder>`, each segment URI-encoded).
 *
 * With the location's names (LocationNames, [Note: names of the current location]) every name
 * shown, every crumb and the hash are clear names, while rows, prefixes and keys stay the stored
 * ones the bucket knows; Veil's own `.veil/` folder is left out. A name that does not open is
 * shown as its stored segment and marked `unreadable`.
 */
import type { ListPage } from '../../aws/bucket-s3';
import { isReservedKey, type LocationNames } from '../../transfer/location-names';

/** A sub-folder of the folder shown (an S3 common prefix). */
export interface FolderRow {
  readonly kind: 'folder';
  /** The full prefix, ending in '/'. */
  readonly prefix: string;
  /** The folder's own name, without the slash (clear, or the stored segment when unreadable). */
  readonly name: string;
  /** True when the name is private and does not open with this location's names key. */
  readonly unreadable?: boolean;
}

/** An object of the folder shown. */
export interface FileRow {
  readonly kind: 'file';
  readonly key: string;
  /** The last segment of the key (clear, or the stored segment when unreadable). */
  readonly name: string;
  /** True when the name is private and does not open with this location's names key. */
  readonly unreadable?: boolean;
  /** The stored object's size (for an encrypted file, more than the file: see sizes.ts). */
  readonly sizeBytes: number;
  readonly lastModifiedMs: number | undefined;
  readonly etag: string | undefined;
}

export type Row = FolderRow | FileRow;

/** What the listing is sorted by. */
export type SortKey = 'name' | 'size' | 'date';

export interface SortOrder {
  readonly by: SortKey;
  readonly descending: boolean;
}

export const DEFAULT_SORT: SortOrder = { by: 'name', descending: false };

/** The last segment of a key or prefix (without a trailing slash). */
export function baseName(keyOrPrefix: string): string {
  const trimmed = keyOrPrefix.endsWith('/') ? keyOrPrefix.slice(0, -1) : keyOrPrefix;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/** The shown name of a stored key or prefix: its clear last segment, or the stored one. */
function shownName(
  keyOrPrefix: string,
  names: LocationNames | undefined,
): { name: string; unreadable?: boolean } {
  if (!names?.isPrivate || !keyOrPrefix.startsWith(names.root))
    return { name: baseName(keyOrPrefix) };
  const clear = names.clearPath(keyOrPrefix);
  return clear === undefined
    ? { name: baseName(keyOrPrefix), unreadable: true }
    : { name: baseName(clear) };
}

/**
 * The rows of one listing page under `prefix`: folders and objects, named through `names` when
 * given. The folder's own marker object (a zero-byte key equal to the prefix, which the S3
 * console creates) and Veil's own `.veil/` folder are left out.
 */
export function rowsOf(prefix: string, page: ListPage, names?: LocationNames): Row[] {
  const reserved = (key: string): boolean => names !== undefined && isReservedKey(names.root, key);
  const folders: Row[] = page.folders
    .filter((folder) => folder.startsWith(prefix) && folder !== prefix && !reserved(folder))
    .map((folder) => ({ kind: 'folder', prefix: folder, ...shownName(folder, names) }));
  const files: Row[] = page.objects
    .filter((object) => object.key.startsWith(prefix) && object.key !== prefix)
    .filter((object) => !reserved(object.key))
    .map((object) => ({
      kind: 'file',
      key: object.key,
      ...(names?.isPrivate
        ? shownName(object.key, names)
        : { name: object.key.slice(prefix.length) }),
      sizeBytes: object.sizeBytes,
      lastModifiedMs: object.lastModifiedMs,
      etag: object.etag,
    }));
  return [...folders, ...files];
}

/** How many rows show a name that does not open. */
export function unreadableCount(rows: readonly Row[]): number {
  return rows.filter((row) => row.unreadable === true).length;
}

/** The identity of a row (prefix or key; a folder's ends in '/', so they never collide). */
export function rowId(row: Row): string {
  return row.kind === 'folder' ? row.prefix : row.key;
}

/** `rows` followed by the rows of `more` not already in it (pages may repeat a folder). */
export function mergeRows(rows: readonly Row[], more: readonly Row[]): Row[] {
  const seen = new Set(rows.map(rowId));
  return [...rows, ...more.filter((row) => !seen.has(rowId(row)))];
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * Folders first, by name (descending only when sorting by name descending), then files by
 * `order`; ties broken by name so the order is stable. Files without a date sort as oldest.
 * Sizes are plaintext sizes: `plaintextBytesOf` gives a file's where it is known ([Note:
 * plaintext size from the header] in sizes.ts); until then a file sorts by its stored size,
 * which is within a header and 32 bytes a frame of it.
 */
export function sortRows(
  rows: readonly Row[],
  order: SortOrder = DEFAULT_SORT,
  plaintextBytesOf: (row: FileRow) => number | undefined = () => undefined,
): Row[] {
  const sign = order.descending ? -1 : 1;
  const byName = (a: Row, b: Row): number => collator.compare(a.name, b.name);
  const folderSign = order.by === 'name' ? sign : 1;
  const folders = rows
    .filter((row) => row.kind === 'folder')
    .sort((a, b) => folderSign * byName(a, b));
  const files = rows
    .filter((row): row is FileRow => row.kind === 'file')
    .sort((a, b) => {
      let primary = 0;
      if (order.by === 'size') {
        primary = (plaintextBytesOf(a) ?? a.sizeBytes) - (plaintextBytesOf(b) ?? b.sizeBytes);
      } else if (order.by === 'date') primary = (a.lastModifiedMs ?? 0) - (b.lastModifiedMs ?? 0);
      return sign * (primary !== 0 ? primary : byName(a, b));
    });
  return [...folders, ...files];
}

/** The order after the user activates the column `by`: same column flips, another starts asc. */
export function nextSort(current: SortOrder, by: SortKey): SortOrder {
  return current.by === by ? { by, descending: !current.descending } : { by, descending: false };
}

/** One step of the breadcrumb trail. */
export interface Crumb {
  readonly label: string;
  /** The prefix it opens. */
  readonly prefix: string;
}

/**
 * The trail from the root (labelled `rootLabel`) to `prefix`, each step named through `names`
 * when given. A prefix outside the root shows the root alone.
 */
export function breadcrumbs(
  root: string,
  prefix: string,
  rootLabel: string,
  names?: LocationNames,
): Crumb[] {
  const trail: Crumb[] = [{ label: rootLabel, prefix: root }];
  if (!prefix.startsWith(root)) return trail;
  let at = root;
  for (const segment of prefix.slice(root.length).split('/')) {
    if (segment === '') continue;
    at = `${at}${segment}/`;
    trail.push({ label: shownName(at, names).name, prefix: at });
  }
  return trail;
}

/** The folder above `prefix`, not above `root`. */
export function parentPrefix(root: string, prefix: string): string {
  if (!prefix.startsWith(root) || prefix === root) return root;
  const inner = prefix.slice(root.length, -1);
  const cut = inner.lastIndexOf('/');
  return cut < 0 ? root : `${root}${inner.slice(0, cut + 1)}`;
}

/**
 * The hash path of a folder below the root: `photos/2026/` → `photos/2026/` (URI-encoded); with
 * private `names`, the clear path (undefined when the folder's name does not open).
 */
export function hashPathFor(
  root: string,
  prefix: string,
  names?: LocationNames,
): string | undefined {
  if (!prefix.startsWith(root)) return '';
  const path =
    names?.isPrivate && prefix !== root ? names.clearPath(prefix) : prefix.slice(root.length);
  if (path === undefined) return undefined;
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/**
 * The folder a hash path names, below `root` ('' or malformed → the root). Empty, `.` and `..`
 * segments are dropped, so a hash never leaves the root. With private `names` the path is clear
 * and its folder's stored prefix is returned (the root when the names refuse it).
 */
export function prefixFromHashPath(root: string, path: string, names?: LocationNames): string {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return root;
    }
    if (segment === '' || segment === '.' || segment === '..') continue;
    segments.push(segment);
  }
  if (segments.length === 0) return root;
  if (!names?.isPrivate) return `${root}${segments.join('/')}/`;
  try {
    return names.objectKey(`${segments.join('/')}/`);
  } catch {
    return root;
  }
}
