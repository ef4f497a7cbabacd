/**
 * What a "Download as ZIP" of a selection holds: the selected files, and every file under the
 * selected folders (all pages of ListObjectsV2 without a delimiter, as delete.ts lists a folder),
 * each with its clear path below the folder shown (private names opened through the location's
 * names). Folder marker objects and Veil's own `.veil/` folder are left out. The paths are made
 * safe and unique by zip-entries.ts.
 */
import type { FilesS3 } from '../../aws/bucket-s3';
import { isReservedKey, type LocationNames } from '../../transfer/location-names';
import type { Row } from './listing';
import { UNREADABLE_NAME, zipEntries, type ZipEntry, type ZipSource } from './zip-entries';

/**
 * The clear path of `keyOrPrefix` below `prefix` (the folder shown); undefined when a name does
 * not open.
 */
export function clearPathBelow(
  prefix: string,
  keyOrPrefix: string,
  names: LocationNames | undefined,
): string | undefined {
  if (!names?.isPrivate) return keyOrPrefix.slice(prefix.length);
  const clearKey = names.clearPath(keyOrPrefix);
  const clearPrefix = prefix === names.root ? '' : names.clearPath(prefix);
  if (clearKey === undefined || clearPrefix === undefined) return undefined;
  return clearKey.slice(clearPrefix.length);
}

/** The sources of one selected row (a folder is listed, all pages). */
async function sourcesOf(
  s3: Pick<FilesS3, 'list'>,
  prefix: string,
  row: Row,
  names: LocationNames | undefined,
  signal?: AbortSignal,
): Promise<ZipSource[]> {
  if (row.kind === 'file') {
    const clearPath = row.unreadable ? undefined : row.name;
    return [{ key: row.key, sizeBytes: row.sizeBytes, clearPath, under: '' }];
  }
  const under = row.unreadable ? UNREADABLE_NAME : row.name;
  const sources: ZipSource[] = [];
  let token: string | undefined;
  do {
    const page = await s3.list({ prefix: row.prefix, ...(token ? { token } : {}) }, signal);
    for (const object of page.objects) {
      // Folder markers (zero-byte keys ending in '/') are folders, not files.
      if (object.key.endsWith('/')) continue;
      if (names && isReservedKey(names.root, object.key)) continue;
      const clearPath = row.unreadable ? undefined : clearPathBelow(prefix, object.key, names);
      sources.push({ key: object.key, sizeBytes: object.sizeBytes, clearPath, under });
    }
    token = page.nextToken;
  } while (token);
  return sources;
}

/**
 * The ZIP entries of `rows` selected in the folder `prefix`: the files, and every file under the
 * folders, with safe, unique paths ([Note: safe ZIP paths] in zip-entries.ts).
 * @throws what `s3.list` throws when a folder cannot be listed.
 */
export async function planZip(
  s3: Pick<FilesS3, 'list'>,
  prefix: string,
  rows: readonly Row[],
  names: LocationNames | undefined,
  signal?: AbortSignal,
): Promise<ZipEntry[]> {
  const sources: ZipSource[] = [];
  for (const row of rows) sources.push(...(await sourcesOf(s3, prefix, row, names, signal)));
  return zipEntries(sources);
}
