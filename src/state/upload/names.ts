/**
 * Names for uploads: the destination folder the user types, and a free key when the chosen one
 * is taken.
 *
 * [Note: existing objects] An upload never silently replaces an object. Before a file is queued,
 * its key is looked up (in the bucket, and among the uploads already queued); when it is taken the
 * row waits for the user: Replace, Keep both (the file goes to the first free "name (n).ext", as
 * browsers name downloads) or Skip, per file or for every waiting file at once. The lookup lists
 * the key (ListObjectsV2 with the key as prefix) rather than HeadObject: without s3:ListBucket S3
 * answers a HEAD on a missing key with 403, not 404, so only a listing tells "free" from "not
 * allowed to know".
 */

/** Largest n tried for "name (n).ext" before giving up. */
export const MAX_NUMBERED_NAMES = 999;

/** Extensions kept whole when numbering ("a (1).tar.gz", not "a.tar (1).gz"). */
const DOUBLE_EXTENSIONS = /\.tar\.(gz|bz2|xz|zst|lz|lzma|z)$/i;

/**
 * The key with " (n)" before the file name's extension: `docs/a.txt` → `docs/a (1).txt`,
 * `docs/.env` → `docs/.env (1)`, `x.tar.gz` → `x (1).tar.gz`.
 */
export function numberedKey(key: string, n: number): string {
  const slash = key.lastIndexOf('/');
  const folder = key.slice(0, slash + 1);
  const name = key.slice(slash + 1);
  const double = DOUBLE_EXTENSIONS.exec(name);
  const dot = double ? double.index : name.lastIndexOf('.');
  // A leading dot is a hidden file's name, not an extension.
  const split = dot > 0 ? dot : name.length;
  return `${folder}${name.slice(0, split)} (${n})${name.slice(split)}`;
}

/**
 * The first of `key (1)`, `key (2)`, … that `taken` says is free.
 * @throws Error when the first MAX_NUMBERED_NAMES are all taken, or what `taken` throws.
 */
export async function freeKey(
  key: string,
  taken: (candidate: string) => Promise<boolean>,
): Promise<string> {
  for (let n = 1; n <= MAX_NUMBERED_NAMES; n++) {
    const candidate = numberedKey(key, n);
    if (!(await taken(candidate))) return candidate;
  }
  throw new Error(`no free name for ${key}`);
}

/** A destination folder as the user typed it, cleaned; or why it cannot be used. */
export type FolderInput = { readonly ok: true; readonly folder: string } | { readonly ok: false };

/**
 * Cleans a typed folder: trims, drops empty segments and surrounding slashes (`/a//b/` → `a/b`).
 * Refuses `.` and `..` segments and control characters.
 */
export function parseFolder(text: string): FolderInput {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) return { ok: false };
  const segments = text
    .trim()
    .split('/')
    .map((segment) => segment.trim())
    .filter((segment) => segment.length > 0);
  if (segments.some((segment) => segment === '.' || segment === '..')) return { ok: false };
  return { ok: true, folder: segments.join('/') };
}
