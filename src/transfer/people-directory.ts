/**
 * The people directory of a bucket: one small JSON object per person who published a public key,
 * at `<root>.veil/people/<fingerprint>.json`:
 *
 *   {"v":1,"name":"Bea","publicKey":"<base64 SPKI DER>","fingerprint":"<64 hex>","created":"<ISO>"}
 *
 * [Note: the people directory is untrusted] Storage (and anyone who may write to the bucket)
 * can change these objects, so nothing in them is believed on its own: an entry is used only
 * when its fingerprint is the SHA-256 of its own public key and is also its object's name
 * (PERSON_ENTRY_INVALID otherwise; that the key is RSA of >= 2048 bits is checked where it is
 * imported, RawRsaKeyring.forPublicKey), and the app pins the fingerprint it saw per name and flags a
 * change ([Note: pinned people] in src/state/people/pins.ts). People check fingerprints out of
 * band; the name is whatever the publisher typed. Publishing is PutObject with If-None-Match, so
 * an entry is never overwritten in place.
 *
 * [Note: the people root] The directory sits under the location's root. With a per-identity
 * prefix (`users/{identityId}/`) each identity has its own root, so the directory is under the
 * part before the placeholder (`users/`), shared by every identity of the bucket.
 */
import {
  asBufferSource,
  escapeUntrusted,
  fromBase64,
  isFingerprint,
  needs,
  toBase64,
  toHex,
  utf8,
  VeilError,
} from '../core';
import type { NamesKeyStorage } from './names-key';
import { PERSON_NAME_PROBLEMS, personNameProblem } from './people-names';

/** The folder of the directory under a root. */
export const PEOPLE_FOLDER = '.veil/people/';
/** Longest display name, in characters. */
export const MAX_PERSON_NAME_CHARS = 64;
/** Largest entry read, in bytes (a 4096-bit SPKI is 550 bytes). */
const MAX_ENTRY_BYTES = 16 * 1024;

/** One person as published. */
export interface PersonEntry {
  readonly name: string;
  /** SubjectPublicKeyInfo DER of the person's RSA public key. */
  readonly publicKeySpki: Uint8Array;
  /** SHA-256 of publicKeySpki, 64 hex digits ([Note: a person's key]). */
  readonly fingerprint: string;
  /** When it was published, as the publisher said (ISO 8601). */
  readonly created: string;
}

/**
 * Where the directory, the entries and the inboxes live: `read` and `createOnly` as the names
 * key uses them (GetObject, PutObject If-None-Match), and the keys under a prefix.
 */
export interface PeopleStorage extends NamesKeyStorage {
  /** Every object key under `prefix` (all pages), newest first where the storage can tell. */
  list(prefix: string, signal?: AbortSignal): Promise<string[]>;
  /**
   * At most `capBytes` of an object ([Note: capped reads] in src/aws/capped-read.ts): undefined
   * when there is none, RECORD_TOO_LARGE past the cap. Without it, `read` reads the whole object
   * and its size is checked after.
   */
  readCapped?(key: string, capBytes: number, signal?: AbortSignal): Promise<Uint8Array | undefined>;
}

/**
 * A small record of the directory or an inbox, never more than `capBytes` of it when the storage
 * can cap its reads.
 * @throws VeilError RECORD_TOO_LARGE when it is larger than `capBytes`; what the storage throws.
 */
export async function readRecord(
  storage: PeopleStorage,
  key: string,
  capBytes: number,
  signal?: AbortSignal,
): Promise<Uint8Array | undefined> {
  const bytes = storage.readCapped
    ? await storage.readCapped(key, capBytes, signal)
    : await storage.read(key, signal);
  if (bytes && bytes.length > capBytes) {
    throw new VeilError('RECORD_TOO_LARGE', `${key} is larger than ${capBytes} bytes`);
  }
  return bytes;
}

/** The people root of a location root ([Note: the people root]): '' or ending in '/'. */
export function peopleRoot(rootPrefix: string): string {
  return `${rootPrefix}${PEOPLE_FOLDER}`;
}

/** The object key of a person's entry. */
export function entryKey(peoplePrefix: string, fingerprint: string): string {
  needs(isFingerprint(fingerprint), 'BAD_ARGUMENT', 'fingerprint');
  return `${peoplePrefix}${fingerprint}.json`;
}

/**
 * A display name as entered: trimmed, 1..64 characters, none of the characters or mixes of
 * scripts that [Note: person names are shown text] refuses.
 * @throws VeilError BAD_ARGUMENT naming what is wrong.
 */
export function checkPersonName(name: string): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  needs(trimmed.length > 0, 'BAD_ARGUMENT', 'the name is empty');
  needs([...trimmed].length <= MAX_PERSON_NAME_CHARS, 'BAD_ARGUMENT', 'the name is too long');
  // Checked before trimming: trim() drops a byte order mark, which must not pass unseen.
  const problem = personNameProblem(typeof name === 'string' ? name : '');
  needs(problem === undefined, 'BAD_ARGUMENT', problem && PERSON_NAME_PROBLEMS[problem]);
  return trimmed;
}

/** The JSON bytes of an entry. */
export function serializeEntry(entry: PersonEntry): Uint8Array {
  return utf8(
    `${JSON.stringify({
      v: 1,
      name: entry.name,
      publicKey: toBase64(entry.publicKeySpki),
      fingerprint: entry.fingerprint,
      created: entry.created,
    })}\n`,
  );
}

/**
 * Reads and checks an entry ([Note: the people directory is untrusted]): the fields, the
 * fingerprint against the public key, and, when given, against the object's name.
 * @throws VeilError PERSON_ENTRY_INVALID naming what does not hold.
 */
export async function parseEntry(
  bytes: Uint8Array,
  nameFingerprint?: string,
): Promise<PersonEntry> {
  const invalid = (detail: string): never => {
    throw new VeilError('PERSON_ENTRY_INVALID', detail);
  };
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_ENTRY_BYTES) invalid('size');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    invalid('not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) invalid('not an object');
  const fields = json as Record<string, unknown>;
  if (fields.v !== 1) invalid('"v" must be 1');
  if (typeof fields.name !== 'string') invalid('"name"');
  let name = '';
  try {
    name = checkPersonName(fields.name as string);
  } catch (error) {
    // The reason names what is wrong, never the hostile text itself.
    invalid(`"name": ${error instanceof VeilError ? (error.detail ?? '') : ''}`);
  }
  if (typeof fields.publicKey !== 'string') invalid('"publicKey"');
  let publicKeySpki: Uint8Array = new Uint8Array(0);
  try {
    publicKeySpki = fromBase64(fields.publicKey as string, '"publicKey"');
  } catch {
    invalid('"publicKey" is not base64');
  }
  if (!isFingerprint(fields.fingerprint)) invalid('"fingerprint"');
  const fingerprint = fields.fingerprint as string;
  const actual = toHex(
    new Uint8Array(await crypto.subtle.digest('SHA-256', asBufferSource(publicKeySpki))),
  );
  if (actual !== fingerprint) invalid('its fingerprint is not that of its public key');
  if (nameFingerprint !== undefined && nameFingerprint !== fingerprint) {
    invalid('it is stored under another fingerprint than its own');
  }
  const created = typeof fields.created === 'string' ? fields.created.slice(0, 40) : '';
  return { name, publicKeySpki, fingerprint, created: escapeUntrusted(created) };
}

/** A directory entry that could not be used, and why. */
export interface RefusedEntry {
  /** The fingerprint its object's name claims (or the object key when it names none). */
  readonly claimed: string;
  readonly error: VeilError;
}

/** The directory as read: the valid entries by name, and the refused ones. */
export interface PeopleListing {
  readonly people: readonly PersonEntry[];
  readonly refused: readonly RefusedEntry[];
}

/** The fingerprint an entry's object key claims, if it has the form `<root><fp>.json`. */
function claimedFingerprint(peoplePrefix: string, key: string): string | undefined {
  const rest = key.slice(peoplePrefix.length);
  const match = /^([0-9a-f]{64})\.json$/.exec(rest);
  return match?.[1];
}

/**
 * Reads every entry of the directory (each checked by parseEntry), sorted by name.
 * @throws what the storage throws for the listing; an entry that fails is refused, not thrown.
 */
export async function listPeople(
  storage: PeopleStorage,
  peoplePrefix: string,
  signal?: AbortSignal,
): Promise<PeopleListing> {
  const keys = (await storage.list(peoplePrefix, signal)).filter(
    (key) => !key.slice(peoplePrefix.length).includes('/'),
  );
  const people: PersonEntry[] = [];
  const refused: RefusedEntry[] = [];
  for (const key of keys) {
    const claimed = claimedFingerprint(peoplePrefix, key);
    try {
      if (!claimed) throw new VeilError('PERSON_ENTRY_INVALID', 'not named by a fingerprint');
      const bytes = await readRecord(storage, key, MAX_ENTRY_BYTES, signal);
      if (!bytes) continue;
      people.push(await parseEntry(bytes, claimed));
    } catch (error) {
      if (!(error instanceof VeilError)) throw error;
      refused.push({ claimed: claimed ?? escapeUntrusted(key), error });
    }
  }
  people.sort((a, b) => a.name.localeCompare(b.name) || a.fingerprint.localeCompare(b.fingerprint));
  return { people, refused };
}

/**
 * The entry of the person with `fingerprint`.
 * @throws VeilError PERSON_UNKNOWN when the directory has no such entry; PERSON_ENTRY_INVALID when
 *   the entry stored there does not hold.
 */
export async function findPerson(
  storage: PeopleStorage,
  peoplePrefix: string,
  fingerprint: string,
  signal?: AbortSignal,
): Promise<PersonEntry> {
  if (!isFingerprint(fingerprint)) {
    throw new VeilError('PERSON_UNKNOWN', `“${escapeUntrusted(fingerprint)}” is not a fingerprint`);
  }
  const bytes = await readRecord(
    storage,
    entryKey(peoplePrefix, fingerprint),
    MAX_ENTRY_BYTES,
    signal,
  );
  if (!bytes) throw new VeilError('PERSON_UNKNOWN', fingerprint);
  return parseEntry(bytes, fingerprint);
}

/**
 * Publishes an entry (PutObject If-None-Match). An entry already there for the same key is left
 * as it is ("already published").
 * @returns 'published' or 'already'.
 */
export async function publishEntry(
  storage: PeopleStorage,
  peoplePrefix: string,
  entry: PersonEntry,
  signal?: AbortSignal,
): Promise<'published' | 'already'> {
  const key = entryKey(peoplePrefix, entry.fingerprint);
  const created = await storage.createOnly(key, serializeEntry(entry), signal);
  return created ? 'published' : 'already';
}
