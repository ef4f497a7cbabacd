/**
 * [Note: names on the command line] `veil ls` and `veil cp` follow a location's names on their
 * own: a location is private when its root holds a names key (`<root>.veil/names-key`, [Note:
 * names key object] in transfer/names-key.ts), and the command line has no settings, so it
 * looks for one. The path a user types in an s3:// URL is clear text; below a private root the
 * stored keys are encrypted, so the only places a names key can be found are the URL's clear
 * folder prefixes, from the bucket's top down to the URL's own folder.
 *
 * They are tried from the top down, one GetObject each, and the search stops at the first names
 * key found. Every request names its key in S3's access logs and in CloudTrail data events, so a
 * search from the bottom up would send the clear folder names below a private root to AWS, the
 * very names the location hides. From the top down, nothing below the root is ever asked for in
 * clear. The first key found is the location: `veil names init` refuses to make a location
 * inside a private one, so there is no nearer one to miss.
 *
 * A folder above the user's own may be closed to them: a hosted deployment gives each identity
 * `users/<id>/` only (infra/lib/veil-stack.ts), and S3 answers 403 for any key outside it,
 * present or not. Such an answer says nothing about a names key there, and one the user cannot
 * read could not open their names anyway, so the search goes on below it; any other failure
 * stops the command.
 *
 * The names key is opened with the keys the command was given (readNamesKey); nothing found
 * means plain names, as before names could be private. A private location's objects are then
 * addressed by their encrypted keys and must be bound to them ([Note: location binding]).
 */
import { httpStatusOf } from '../core/aws-failure';
import { VeilError } from '../core/errors';
import type { Keyring } from '../core/keyring';
import {
  NAMES_KEY_PATH,
  NEXT_NAMES_KEY_PATH,
  namesKeyObjectKey,
  readNamesKey,
  type NamesKeyStorage,
} from '../transfer/names-key';
import { plainNames, privateNames, type LocationNames } from '../transfer/location-names';
import type { S3Location } from './s3-url';

/** A names key found: the root that holds it and the stored message. */
export interface FoundNamesKey {
  /** The location's root ('' or ending in '/'). */
  readonly root: string;
  readonly message: Uint8Array;
  /**
   * Where below the root it was found: the names key, or (a rotation stopped between deleting
   * the current key and moving the next one into place) only the next one. Default the former.
   */
  readonly path?: string;
}

/**
 * The folder prefixes a names key may sit at for `key`, from the bucket's top down: '' and each
 * folder above the key; for a folder (`what` 'folder': a listing's prefix or `names init`), the
 * key itself taken as a folder too. Pure.
 */
export function candidateRoots(key: string, what: 'object' | 'folder'): string[] {
  const folders = what === 'folder' && key !== '' && !key.endsWith('/') ? `${key}/` : key;
  const roots = [''];
  for (let cut = folders.indexOf('/'); cut >= 0; cut = folders.indexOf('/', cut + 1)) {
    roots.push(folders.slice(0, cut + 1));
  }
  return roots;
}

/** True for S3's 403 (access denied) on a read, as s3Failure reports it. */
function isDenied(error: unknown): boolean {
  return (
    error instanceof VeilError && error.code === 'S3_REJECTED' && httpStatusOf(error.cause) === 403
  );
}

/**
 * The first names key at `roots`, tried in order ([Note: names on the command line]); a folder
 * that answers 403 is passed over. Where a root holds no names key, its next key is looked for
 * too, as readNamesKey does ([Note: names key rotation]): a rotation stopped in its last step
 * leaves only that one, and a location taken for plain there would get clear names.
 * @throws the storage's other errors (S3_REJECTED, S3_UNREACHABLE, CREDENTIALS_*).
 */
export async function findNamesKey(
  storage: NamesKeyStorage,
  bucket: string,
  roots: readonly string[],
): Promise<FoundNamesKey | undefined> {
  for (const root of roots) {
    try {
      for (const path of [NAMES_KEY_PATH, NEXT_NAMES_KEY_PATH]) {
        const message = await storage.read(namesKeyObjectKey({ bucket, root }, path));
        if (message !== undefined) return { root, message, path };
      }
    } catch (error) {
      if (isDenied(error)) continue;
      throw error;
    }
  }
  return undefined;
}

/**
 * The names of the location `found` belongs to: plain when no names key was found, else private
 * under the names key, opened with the keyring `keyring` gives (asked for only then).
 * @throws VeilError NAMES_KEY_UNREADABLE, NAMES_KEY_INVALID, OBJECT_MISMATCH (readNamesKey), and
 *   the keyring's errors.
 */
export async function openLocationNames(
  bucket: string,
  found: FoundNamesKey | undefined,
  keyring: () => Promise<Keyring>,
): Promise<LocationNames> {
  if (!found) return plainNames({ bucket, root: '' });
  const location = { bucket, root: found.root };
  // The message already read is opened as it is, where it was found: no second GetObject.
  const foundAt = namesKeyObjectKey(location, found.path ?? NAMES_KEY_PATH);
  const held: NamesKeyStorage = {
    read: (key) => Promise.resolve(key === foundAt ? found.message : undefined),
    createOnly: () => Promise.resolve(false),
  };
  const cipher = await readNamesKey(held, location, await keyring());
  return cipher ? privateNames(location, cipher) : plainNames({ bucket, root: '' });
}

/**
 * The names `url` is under: the names key searched for at its folder prefixes, then opened.
 * @param what 'object' for a key that names one object, 'folder' for a listing's prefix.
 * @throws the errors of findNamesKey and openLocationNames.
 */
export async function namesFor(
  storage: NamesKeyStorage,
  url: S3Location,
  what: 'object' | 'folder',
  keyring: () => Promise<Keyring>,
): Promise<LocationNames> {
  const found = await findNamesKey(storage, url.bucket, candidateRoots(url.key, what));
  return openLocationNames(url.bucket, found, keyring);
}

/**
 * The stored key of the clear key `clearKey` (as typed after the bucket) in `names`: the root
 * as it is, the path below it encrypted when the names are private.
 * @throws VeilError NAME_INVALID, NAME_TOO_LONG (LocationNames.objectKey).
 */
export function storedKeyOf(names: LocationNames, clearKey: string): string {
  return names.objectKey(clearKey.slice(names.root.length));
}
