/**
 * How a location names its objects: plain (the object key is the path) or private (every
 * segment encrypted, [Note: private names] in core/names.ts). Everything that turns a path a
 * person typed into an object key, or an object key into a path to show, goes through one of
 * these, so the app and the command line agree on names.
 *
 * A private location also requires every object to be bound to its key ([Note: location
 * binding]); a plain one checks bindings where present (objects from before bindings have none).
 */
import {
  privateObjectKey,
  VeilError,
  type BindingRule,
  type NameCipher,
  type ObjectLocation,
} from '../core';
import { RESERVED_FOLDER, type NamesLocation } from './names-key';

/** The names of one location. */
export interface LocationNames {
  readonly bucket: string;
  /** The root prefix ('' or ending in '/'). */
  readonly root: string;
  readonly isPrivate: boolean;
  /** How strictly downloads check an object's binding. */
  readonly bindingRule: BindingRule;
  /**
   * The object key of a clear path below the root (a folder ends in '/').
   * @throws VeilError NAME_INVALID, NAME_TOO_LONG (private), BAD_ARGUMENT for Veil's own folder.
   */
  objectKey(clearPath: string): string;
  /**
   * The clear path below the root of an object key or folder prefix under the root; undefined
   * when its name cannot be opened (another names key, or not an encrypted name).
   */
  clearPath(objectKey: string): string | undefined;
  /** Where an object of this location is stored, for its binding. */
  locationOf(objectKey: string): ObjectLocation;
}

function relativeTo(root: string, objectKey: string): string {
  if (!objectKey.startsWith(root)) {
    throw new VeilError('BAD_ARGUMENT', 'the key is not under the location’s root');
  }
  return objectKey.slice(root.length);
}

function refuseReserved(clearPath: string): void {
  // Precondition: nothing is written into Veil's own folder by path.
  if (clearPath === RESERVED_FOLDER.slice(0, -1) || clearPath.startsWith(RESERVED_FOLDER)) {
    throw new VeilError('NAME_INVALID', `"${RESERVED_FOLDER}" is reserved for Veil`);
  }
}

/**
 * True for Veil's own objects and folder under a root (`.veil/`: the names key): listings leave
 * them out, whatever the names.
 */
export function isReservedKey(root: string, objectKey: string): boolean {
  return objectKey.startsWith(`${root}${RESERVED_FOLDER}`);
}

/** Plain names: the object key is the root plus the path. */
export function plainNames(location: NamesLocation): LocationNames {
  return {
    bucket: location.bucket,
    root: location.root,
    isPrivate: false,
    bindingRule: 'if-present',
    objectKey(clearPath) {
      refuseReserved(clearPath);
      return `${location.root}${clearPath}`;
    },
    clearPath: (objectKey) => relativeTo(location.root, objectKey),
    locationOf: (key) => ({ bucket: location.bucket, key }),
  };
}

/** Most opened prefixes remembered (a folder's children share their parent's prefix). */
const PREFIX_CACHE_SIZE = 4096;

/** Private names under `cipher` ([Note: private names]). */
export function privateNames(location: NamesLocation, cipher: NameCipher): LocationNames {
  const openedPrefixes = new Map<string, string | undefined>();
  const openPrefix = (storedPrefix: string): string | undefined => {
    if (storedPrefix === '') return '';
    if (openedPrefixes.has(storedPrefix)) return openedPrefixes.get(storedPrefix);
    let clear: string | undefined;
    try {
      clear = cipher.decryptPath(storedPrefix);
    } catch {
      clear = undefined;
    }
    if (openedPrefixes.size >= PREFIX_CACHE_SIZE) openedPrefixes.clear();
    openedPrefixes.set(storedPrefix, clear);
    return clear;
  };
  return {
    bucket: location.bucket,
    root: location.root,
    isPrivate: true,
    bindingRule: 'required',
    objectKey(clearPath) {
      refuseReserved(clearPath);
      return privateObjectKey(location.root, cipher, clearPath);
    },
    clearPath(objectKey) {
      const relative = relativeTo(location.root, objectKey);
      const folder = relative.endsWith('/');
      const body = folder ? relative.slice(0, -1) : relative;
      const cut = body.lastIndexOf('/');
      const parent = cut < 0 ? '' : openPrefix(body.slice(0, cut + 1));
      if (parent === undefined) return undefined;
      try {
        const clearParent = parent.endsWith('/') ? parent.slice(0, -1) : parent;
        const name = cipher.decryptSegment(body.slice(cut + 1), clearParent);
        return `${parent}${name}${folder ? '/' : ''}`;
      } catch {
        return undefined;
      }
    },
    locationOf: (key) => ({ bucket: location.bucket, key }),
  };
}
