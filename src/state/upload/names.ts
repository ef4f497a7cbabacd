/**
 * Names for uploads: the destination folder the user types, the key of a picked file (plain, or
 * through the location's private names), and a free key when the chosen one is taken.
 *
 * [Note: existing objects] An upload never silently replaces an object. Before a file is queued,
 * its key is looked up (in the bucket, and among the uploads already queued); when it is taken the
 * row waits for the user: Replace, Keep both (the file goes to the first free "name (n).ext", as
 * browsers name downloads) or Skip, per file or for every waiting file at once. The lookup lists
 * the key (ListObjectsV2 with the key as prefix) rather than HeadObject: without s3:ListBucket S3
 * answers a HEAD on a missing key with 403, not 404, so only a listing tells "free" from "not
 * allowed to know".
 */

import type { VeilConfig } from '../../aws/config';
import type { LocationNames } from '../../transfer/location-names';
import { objectKeyFor } from '../shared/object-paths';

/** The key of a picked file. */
export interface FileKey {
  /** The object key; '' when the private names refused the name (see nameError). */
  readonly key: string;
  /** With private names: the clear path below the root the key encrypts. */
  readonly shownPath?: string;
  /** Why private names refused the path (NAME_INVALID, NAME_TOO_LONG), for the row. */
  readonly nameError?: unknown;
}

/**
 * The key of the file at `relativePath` in `folder` (below the root): through `names` when they
 * are private, else objectKeyFor's plain key.
 * @throws the errors of objectKeyFor (plain names only).
 */
export function fileKey(
  config: Pick<VeilConfig, 'prefix'>,
  relativePath: string,
  folder: string,
  options: { readonly identityId?: string | undefined; readonly names?: LocationNames | undefined },
): FileKey {
  const { names } = options;
  if (!names?.isPrivate) {
    return { key: objectKeyFor(config, relativePath, folder, options.identityId) };
  }
  const shownPath = [folder, relativePath].filter((part) => part !== '').join('/');
  try {
    return { key: names.objectKey(shownPath), shownPath };
  } catch (error) {
    // Shown on the row: nothing of it is sent.
    return { key: '', shownPath, nameError: error };
  }
}

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

/**
 * Keep both: the first free numbered key for `row`. Under private `names` the clear name is
 * numbered ("a (1).txt") and then encrypted, so the numbering never shows in the bucket.
 * @throws the errors of freeKey, and NAME_TOO_LONG when the numbered name is too long.
 */
export async function keepBothKey(
  row: { readonly key: string; readonly shownPath?: string | undefined },
  names: LocationNames | undefined,
  taken: (key: string) => Promise<boolean>,
): Promise<{ key: string; shownPath?: string }> {
  if (!names?.isPrivate || row.shownPath === undefined)
    return { key: await freeKey(row.key, taken) };
  const shownPath = await freeKey(row.shownPath, (candidate) => taken(names.objectKey(candidate)));
  return { key: names.objectKey(shownPath), shownPath };
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
