/**
 * [Note: names key object] The names key of a location (64 random bytes, [Note: private names]
 * in core/names.ts) is stored in the bucket, under the location's root, at `.veil/names-key`:
 * a tiny AWS Encryption SDK message wrapped by the same keyrings as the files (A, B and/or C),
 * so each key model opens names the way it opens files, and an official ESDK can open it too.
 *
 * - Its encryption context is the upload context plus `veil-purpose: names-key`, and it is bound
 *   to its own location ([Note: location binding]), so a file's message copied over it, or a
 *   names key of another location copied here, is refused (NAMES_KEY_INVALID / OBJECT_MISMATCH).
 * - It is created on first use with PutObject If-None-Match: *, so two tabs or a tab and the
 *   command line racing to create it end with one key: the loser reads the winner's.
 * - Its existence marks the location private for every reader (the app whatever its settings,
 *   the command line by looking for it). Deleting it does not reveal anything (names stay
 *   encrypted) but makes them unreadable: keep the bucket versioned.
 * - `.veil/` never collides with an encrypted name: base64url has no `.`.
 */
import {
  NAMES_KEY_BYTES,
  VeilError,
  createNameCipher,
  decryptBytes,
  encryptBytes,
  errorName,
  type EncryptionContext,
  type Keyring,
  type NameCipher,
} from '../core';

/** The names key's object key below a location's root. */
export const NAMES_KEY_PATH = '.veil/names-key';
/** The next names key while a rotation runs ([Note: names key rotation] in names-rotate.ts). */
export const NEXT_NAMES_KEY_PATH = '.veil/names-key.next';
/** The folder below a root that Veil reserves for itself. */
export const RESERVED_FOLDER = '.veil/';

const PURPOSE_KEY = 'veil-purpose';
const PURPOSE = 'names-key';

/** Where a location's objects live: a bucket and a root prefix ('' or ending in '/'). */
export interface NamesLocation {
  readonly bucket: string;
  readonly root: string;
}

/** The two S3 calls the names key needs. */
export interface NamesKeyStorage {
  /** The whole object, or undefined when no object has this key. */
  read(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** Writes only when no object has this key (If-None-Match: *); false when one does. */
  createOnly(key: string, body: Uint8Array, signal?: AbortSignal): Promise<boolean>;
}

/** A location's names, opened. */
export interface OpenedNames {
  readonly cipher: NameCipher;
  /** True when this call created the names key. */
  readonly created: boolean;
}

/** The object key of a location's names key (or of the next one, during a rotation). */
export function namesKeyObjectKey(location: NamesLocation, path = NAMES_KEY_PATH): string {
  return `${location.root}${path}`;
}

async function openStored(
  location: NamesLocation,
  path: string,
  message: Uint8Array,
  keyring: Keyring,
): Promise<NameCipher> {
  const objectKey = namesKeyObjectKey(location, path);
  let context: Readonly<Record<string, string>> = {};
  let namesKey: Uint8Array;
  try {
    namesKey = await decryptBytes(message, {
      keyring,
      location: { expected: { bucket: location.bucket, key: objectKey }, rule: 'required' },
      onHeader: (header) => (context = header.encryptionContext),
    });
  } catch (cause) {
    const code = cause instanceof VeilError ? cause.code : errorName(cause);
    if (code === 'OBJECT_MISMATCH') throw cause;
    throw new VeilError('NAMES_KEY_UNREADABLE', `${objectKey}: ${code}`, { cause });
  }
  try {
    if (context[PURPOSE_KEY] !== PURPOSE || namesKey.length !== NAMES_KEY_BYTES) {
      throw new VeilError('NAMES_KEY_INVALID', objectKey);
    }
    return createNameCipher(namesKey);
  } finally {
    namesKey.fill(0);
  }
}

/** Opens the names key stored at `path` below the root, if there is one. */
export async function readAt(
  storage: NamesKeyStorage,
  location: NamesLocation,
  path: string,
  keyring: Keyring,
  signal?: AbortSignal,
): Promise<NameCipher | undefined> {
  const message = await storage.read(namesKeyObjectKey(location, path), signal);
  return message === undefined ? undefined : openStored(location, path, message, keyring);
}

/**
 * Opens a location's names key, if it has one. A rotation stopped between its last two steps
 * leaves only the next key ([Note: names key rotation] in names-rotate.ts): that one is used.
 * @returns undefined when the location has no names key (its names are plain).
 * @throws VeilError NAMES_KEY_UNREADABLE (no key at hand opens it, the HSM or KMS refused, ...:
 *   the cause's code is in the detail), NAMES_KEY_INVALID, OBJECT_MISMATCH, and storage errors.
 */
export async function readNamesKey(
  storage: NamesKeyStorage,
  location: NamesLocation,
  keyring: Keyring,
  signal?: AbortSignal,
): Promise<NameCipher | undefined> {
  return (
    (await readAt(storage, location, NAMES_KEY_PATH, keyring, signal)) ??
    (await readAt(storage, location, NEXT_NAMES_KEY_PATH, keyring, signal))
  );
}

/**
 * Opens the next names key of a rotation, if one was started.
 * @throws the errors of readNamesKey.
 */
export function readNextNamesKey(
  storage: NamesKeyStorage,
  location: NamesLocation,
  keyring: Keyring,
  signal?: AbortSignal,
): Promise<NameCipher | undefined> {
  return readAt(storage, location, NEXT_NAMES_KEY_PATH, keyring, signal);
}

/**
 * Opens a location's names key, creating it first when there is none ([Note: names key
 * object]). `keyring` wraps a new key (its generator makes the data key) and opens an existing
 * one; `context` is the upload context the new key is written with.
 * @throws the errors of readNamesKey; VeilError NAMES_KEY_UNREADABLE when a key created by
 *   someone else at the same moment does not open with `keyring`.
 */
export async function ensureNamesKey(
  storage: NamesKeyStorage,
  location: NamesLocation,
  keyring: Keyring,
  context: EncryptionContext,
  signal?: AbortSignal,
): Promise<OpenedNames> {
  const existing = await readNamesKey(storage, location, keyring, signal);
  if (existing) return { cipher: existing, created: false };
  return createAt(storage, location, NAMES_KEY_PATH, keyring, context, signal);
}

/**
 * Opens the next names key of a rotation, creating it when there is none (a rotation started
 * again reuses the key of the one that stopped).
 * @throws as ensureNamesKey.
 */
export async function ensureNextNamesKey(
  storage: NamesKeyStorage,
  location: NamesLocation,
  keyring: Keyring,
  context: EncryptionContext,
  signal?: AbortSignal,
): Promise<OpenedNames> {
  const existing = await readNextNamesKey(storage, location, keyring, signal);
  if (existing) return { cipher: existing, created: false };
  return createAt(storage, location, NEXT_NAMES_KEY_PATH, keyring, context, signal);
}

async function createAt(
  storage: NamesKeyStorage,
  location: NamesLocation,
  path: string,
  keyring: Keyring,
  context: EncryptionContext,
  signal?: AbortSignal,
): Promise<OpenedNames> {
  const objectKey = namesKeyObjectKey(location, path);
  const namesKey = crypto.getRandomValues(new Uint8Array(NAMES_KEY_BYTES));
  try {
    const message = await encryptBytes(namesKey, {
      keyring,
      encryptionContext: { ...context, [PURPOSE_KEY]: PURPOSE },
      location: { bucket: location.bucket, key: objectKey },
    });
    if (await storage.createOnly(objectKey, message, signal)) {
      return { cipher: createNameCipher(namesKey), created: true };
    }
  } finally {
    namesKey.fill(0);
  }
  // Another writer created it first: use theirs.
  const theirs = await readAt(storage, location, path, keyring, signal);
  if (!theirs) throw new VeilError('NAMES_KEY_UNREADABLE', `${objectKey} vanished while created`);
  return { cipher: theirs, created: false };
}
