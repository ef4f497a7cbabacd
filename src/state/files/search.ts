/**
 * Finding files in the Files view, pure. The filter narrows the rows of the folder shown by
 * clear name, as the user types; "Search subfolders" lists everything under the folder (no
 * delimiter) and keeps the files and folders whose clear name matches, each with its folder path
 * below the folder shown.
 *
 * [Note: name matching] A name matches when the query is part of it, compared after Unicode
 * NFKC normalisation and lower-casing, so "CAFÉ" finds "café" typed decomposed (e + U+0301) and
 * "ﬁle" finds "file". Accents still count ("cafe" does not find "café"), as in the S3 console.
 */
import type { ListPage } from '../../aws/bucket-s3';
import { isReservedKey, type LocationNames } from '../../transfer/location-names';
import type { FileRow, FolderRow, Row } from './listing';

/** `text` as names are compared ([Note: name matching]). */
export function foldName(text: string): string {
  return text.normalize('NFKC').toLowerCase().normalize('NFKC');
}

/** True when `name` holds `query` ([Note: name matching]); an empty query matches all. */
export function nameMatches(name: string, query: string): boolean {
  const wanted = foldName(query.trim());
  return wanted === '' || foldName(name).includes(wanted);
}

/** The rows whose name matches `query`, in the order given. */
export function filterRows<T extends Row>(rows: readonly T[], query: string): T[] {
  return rows.filter((row) => nameMatches(row.name, query));
}

/** One match of a subfolder search: the row, and its folder below the folder searched. */
export interface SearchHit {
  readonly row: Row;
  /** The clear folder path below the folder searched, '' for the folder itself ('a/b'). */
  readonly folder: string;
}

/** A search's matches so far, and how many keys were seen and could not be named. */
export interface SearchFindings {
  readonly hits: readonly SearchHit[];
  readonly seenKeys: number;
  readonly unreadableKeys: number;
}

/** The clear path of `key` below `prefix` (undefined when it does not open). */
function clearBelow(
  prefix: string,
  key: string,
  names: LocationNames | undefined,
): string | undefined {
  if (!names?.isPrivate) return key.slice(prefix.length);
  const clearKey = names.clearPath(key);
  const clearPrefix = prefix === names.root ? '' : names.clearPath(prefix);
  if (clearKey === undefined || clearPrefix === undefined) return undefined;
  return clearKey.slice(clearPrefix.length);
}

/**
 * Adds the matches of one listing `page` (no delimiter) under `prefix` to `found`. Every folder
 * between the prefix and a key is a candidate (folder markers and implicit folders alike) and is
 * reported once; Veil's own `.veil/` folder is left out.
 */
export function searchPage(
  prefix: string,
  page: ListPage,
  query: string,
  names: LocationNames | undefined,
  found: SearchFindings,
  seenFolders: Set<string>,
): SearchFindings {
  const hits = [...found.hits];
  let unreadableKeys = found.unreadableKeys;
  for (const object of page.objects) {
    if (!object.key.startsWith(prefix) || object.key === prefix) continue;
    if (names && isReservedKey(names.root, object.key)) continue;
    const clear = clearBelow(prefix, object.key, names);
    if (clear === undefined) {
      unreadableKeys += 1;
      continue;
    }
    const stored = object.key.slice(prefix.length).split('/');
    const segments = clear.split('/');
    // Folders on the way: a/, a/b/ (for a/b/c.txt or the marker a/b/).
    for (let depth = 1; depth < segments.length; depth += 1) {
      const folderPrefix = `${prefix}${stored.slice(0, depth).join('/')}/`;
      if (seenFolders.has(folderPrefix)) continue;
      seenFolders.add(folderPrefix);
      const name = segments[depth - 1] ?? '';
      if (!nameMatches(name, query)) continue;
      const row: FolderRow = { kind: 'folder', prefix: folderPrefix, name };
      hits.push({ row, folder: segments.slice(0, depth - 1).join('/') });
    }
    const name = segments.at(-1) ?? '';
    if (name === '' || !nameMatches(name, query)) continue;
    const row: FileRow = {
      kind: 'file',
      key: object.key,
      name,
      sizeBytes: object.sizeBytes,
      lastModifiedMs: object.lastModifiedMs,
      etag: object.etag,
    };
    hits.push({ row, folder: segments.slice(0, -1).join('/') });
  }
  return { hits, seenKeys: found.seenKeys + page.objects.length, unreadableKeys };
}
