/**
 * The paths inside a "Download as ZIP": each selected file's clear path relative to the folder
 * shown, folders as path prefixes (no entries of their own). Pure.
 *
 * [Note: safe ZIP paths] A ZIP path is written by Veil but read by whatever unpacks it, so a
 * path never climbs out of the folder it is unpacked into and never hides what it is:
 * - segments are separated by '/' only; empty segments (a leading '/', '//') are dropped;
 * - a segment that is '.' or '..', or holds a backslash, a NUL or any control character, is
 *   replaced by "unnamed" (never written as it is, never partly cleaned into something else);
 * - a file whose name could not be opened (private names under another names key) is
 *   "unreadable" inside the folder it was selected with;
 * - two files that would unpack to the same path (compared without case, as on the common
 *   case-insensitive disks), or a file named like a folder of the ZIP, get " (2)", " (3)"… before
 *   the extension of the later one.
 */

/** What replaces a hostile segment. */
export const UNNAMED_SEGMENT = 'unnamed';
/** The name of a file whose clear name could not be opened. */
export const UNREADABLE_NAME = 'unreadable';

/** One file to put in the ZIP, as the selection found it. */
export interface ZipSource {
  readonly key: string;
  /** Stored (ciphertext) size, for progress. */
  readonly sizeBytes: number;
  /**
   * The clear path below the folder shown ('notes/a.txt'); undefined when the name does not
   * open.
   */
  readonly clearPath: string | undefined;
  /** The clear path of the selected folder it was found under ('' for a selected file). */
  readonly under: string;
}

/** One file of the ZIP: its object and the path it has inside the ZIP. */
export interface ZipEntry {
  readonly key: string;
  readonly sizeBytes: number;
  /** The safe, unique path inside the ZIP ([Note: safe ZIP paths]). */
  readonly path: string;
}

/** True when `segment` may be written as it is ([Note: safe ZIP paths]). */
export function isSafeSegment(segment: string): boolean {
  if (segment === '' || segment === '.' || segment === '..') return false;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  return !/[\u0000-\u001f\u007f-\u009f\\/]/u.test(segment);
}

/** The safe segments of a clear path: empty ones dropped, hostile ones replaced. */
export function safeSegments(clearPath: string): string[] {
  return clearPath
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => (isSafeSegment(segment) ? segment : UNNAMED_SEGMENT));
}

/** `name` with " (n)" before its extension: "a.txt" → "a (2).txt", ".env" → ".env (2)". */
export function numbered(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return `${name} (${n})`;
  return `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}

/** The safe segments of one source (before collisions are resolved). */
function segmentsOf(source: ZipSource): string[] {
  const segments =
    source.clearPath === undefined
      ? [...safeSegments(source.under), UNREADABLE_NAME]
      : safeSegments(source.clearPath);
  return segments.length > 0 ? segments : [UNNAMED_SEGMENT];
}

/**
 * The ZIP entries of `sources`, in their order, each path safe and unique ([Note: safe ZIP
 * paths]). A key listed twice (a file selected and also under a selected folder) is kept once.
 */
export function zipEntries(sources: readonly ZipSource[]): ZipEntry[] {
  const seenKeys = new Set<string>();
  const planned: { source: ZipSource; segments: string[] }[] = [];
  for (const source of sources) {
    if (seenKeys.has(source.key)) continue;
    seenKeys.add(source.key);
    planned.push({ source, segments: segmentsOf(source) });
  }
  // Every folder of the ZIP is taken first, so no file is named like one.
  const taken = new Set<string>();
  for (const { segments } of planned) {
    for (let depth = 1; depth < segments.length; depth += 1) {
      taken.add(segments.slice(0, depth).join('/').toLowerCase());
    }
  }
  return planned.map(({ source, segments }) => {
    const folder = segments.slice(0, -1).join('/');
    const name = segments.at(-1) ?? UNNAMED_SEGMENT;
    const join = (last: string): string => (folder ? `${folder}/${last}` : last);
    let path = join(name);
    for (let n = 2; taken.has(path.toLowerCase()); n += 1) path = join(numbered(name, n));
    taken.add(path.toLowerCase());
    return { key: source.key, sizeBytes: source.sizeBytes, path };
  });
}

/** The ZIP's file name: "<folder or bucket name>.zip", made safe. */
export function zipFileName(folderName: string): string {
  const [segment] = safeSegments(folderName.replaceAll('/', ' '));
  return `${segment ?? 'files'}.zip`;
}
