/**
 * [Note: share links list] Each file's active share links are listed in the bucket, encrypted,
 * so the app and the command line can show and revoke them: one small AWS Encryption SDK message
 * per file at `<root>.veil/links/<hex SHA-256 of the file's stored object key>`, wrapped by the
 * location's keyrings as the names key is ([Note: names key object] in names-key.ts), with
 * `veil-purpose: share-links` in its context and bound to its own object key. The object key
 * holds only a hash, so no clear name appears; the list holds, per link, its id, when it was
 * made and when it expires, the sharer's label and whether the name was included, never the
 * link key (the key lives only in the link).
 *
 * Writes are conditional: a new list with If-None-Match: *, a changed one with If-Match on the
 * ETag read, and a write that loses a race (412, or 409) reads again and applies its change once
 * more, so two writers never drop each other's entries. An empty list is deleted (If-Match).
 */
import {
  VeilError,
  decryptBytes,
  encryptBytes,
  errorName,
  fromUtf8,
  isLinkId,
  toHex,
  utf8,
  type EncryptionContext,
  type Keyring,
} from '../core';
import { RESERVED_FOLDER, type NamesLocation } from './names-key';

/** The folder of the lists below a location's root. */
export const LINKS_FOLDER = `${RESERVED_FOLDER}links/`;
const PURPOSE_KEY = 'veil-purpose';
const PURPOSE = 'share-links';
/** Tries of a change that keeps losing races before it gives up. */
const MAX_TRIES = 5;

/** One active link, as listed. */
export interface LinkEntry {
  readonly id: string;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  /** The sharer's label (untrusted text when shown). */
  readonly label: string;
  /** Whether the link carries the clear file name. */
  readonly nameIncluded: boolean;
  /**
   * Set on an entry a rebuilt list made from the header's link key (share-list-rebuild.ts): its
   * details were lost, `createdAtMs` is when the list was rebuilt (the link is older) and
   * `expiresAtMs` the latest its URL can work (7 days later).
   */
  readonly detailsUnknown?: true;
}

/** A stored list and its ETag, for the conditional write. */
export interface StoredList {
  readonly body: Uint8Array;
  readonly etag: string;
}

/** The S3 calls a list needs. */
export interface LinkListStorage {
  /** The object and its ETag, or undefined when there is none. */
  read(key: string, signal?: AbortSignal): Promise<StoredList | undefined>;
  /** Writes under a condition; false when the condition failed (412 or 409). */
  write(
    key: string,
    body: Uint8Array,
    condition: { readonly ifMatch: string } | { readonly ifNoneMatch: '*' },
    signal?: AbortSignal,
  ): Promise<boolean>;
  /** Deletes if the ETag still matches; false when it does not. */
  remove(key: string, ifMatch: string, signal?: AbortSignal): Promise<boolean>;
}

/** The list's object key for a file stored at `objectKey` in `location`. */
export async function linkListKey(location: NamesLocation, objectKey: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', utf8(objectKey) as Uint8Array<ArrayBuffer>);
  return `${location.root}${LINKS_FOLDER}${toHex(new Uint8Array(digest))}`;
}

function checkEntry(value: unknown): value is LinkEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    isLinkId(entry.id) &&
    Number.isSafeInteger(entry.createdAtMs) &&
    Number.isSafeInteger(entry.expiresAtMs) &&
    typeof entry.label === 'string' &&
    typeof entry.nameIncluded === 'boolean' &&
    (entry.detailsUnknown === undefined || entry.detailsUnknown === true)
  );
}

/** The list's JSON, checked. */
export function parseEntries(bytes: Uint8Array, listKey: string): LinkEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes, 'links'));
  } catch {
    parsed = undefined;
  }
  const entries = (parsed as { links?: unknown } | undefined)?.links;
  if (!Array.isArray(entries) || !entries.every(checkEntry)) {
    throw new VeilError('MALFORMED', `${listKey} is not a list of share links`);
  }
  return entries.map((e) => ({
    id: e.id,
    createdAtMs: e.createdAtMs,
    expiresAtMs: e.expiresAtMs,
    label: e.label,
    nameIncluded: e.nameIncluded,
    ...(e.detailsUnknown ? { detailsUnknown: true as const } : {}),
  }));
}

/** Where a file's list is and what reads and writes it. */
export interface LinkListTarget {
  readonly storage: LinkListStorage;
  readonly location: NamesLocation;
  /** The file's stored object key. */
  readonly objectKey: string;
  /** Opens the list (any key of the session). */
  readonly openWith: Keyring;
  /** Wraps a list written (the upload's keys). */
  readonly wrapWith: Keyring;
  /** The upload context the list is written with (no name in it). */
  readonly context: EncryptionContext;
  readonly signal?: AbortSignal;
}

async function readList(
  target: LinkListTarget,
  listKey: string,
): Promise<{ entries: LinkEntry[]; etag: string | undefined }> {
  const stored = await target.storage.read(listKey, target.signal);
  if (!stored) return { entries: [], etag: undefined };
  return { entries: await openList(target, listKey, stored), etag: stored.etag };
}

/** A stored list's entries, authenticated and bound to `listKey`. */
export async function openList(
  target: LinkListTarget,
  listKey: string,
  stored: StoredList,
): Promise<LinkEntry[]> {
  let context: Readonly<Record<string, string>> = {};
  let bytes: Uint8Array;
  try {
    bytes = await decryptBytes(stored.body, {
      keyring: target.openWith,
      location: { expected: { bucket: target.location.bucket, key: listKey }, rule: 'required' },
      onHeader: (header) => (context = header.encryptionContext),
    });
  } catch (cause) {
    const code = cause instanceof VeilError ? cause.code : errorName(cause);
    if (code === 'OBJECT_MISMATCH') throw cause;
    throw new VeilError('MALFORMED', `${listKey} could not be opened: ${code}`, { cause });
  }
  if (context[PURPOSE_KEY] !== PURPOSE) {
    throw new VeilError('MALFORMED', `${listKey} is not a list of share links`);
  }
  return parseEntries(bytes, listKey);
}

/**
 * A file's active links, as stored (expired ones included: the caller shows them as expired).
 * @throws VeilError MALFORMED when the list does not open or parse, OBJECT_MISMATCH for a list
 *   copied from elsewhere, and storage errors.
 */
export async function readLinks(target: LinkListTarget): Promise<LinkEntry[]> {
  const listKey = await linkListKey(target.location, target.objectKey);
  return (await readList(target, listKey)).entries;
}

/** The stored form of `entries`: the list encrypted and bound to `listKey`. */
export function sealList(
  target: LinkListTarget,
  listKey: string,
  entries: readonly LinkEntry[],
): Promise<Uint8Array> {
  return encryptBytes(utf8(JSON.stringify({ links: entries })), {
    keyring: target.wrapWith,
    encryptionContext: { ...target.context, [PURPOSE_KEY]: PURPOSE },
    location: { bucket: target.location.bucket, key: listKey },
  });
}

/**
 * Changes a file's list: `change` gets the entries read and returns the new ones; the write is
 * conditional and a lost race reads and changes again ([Note: share links list]).
 * @returns the entries written.
 * @throws VeilError S3_REJECTED after MAX_TRIES lost races, and the errors of readLinks.
 */
export async function changeLinks(
  target: LinkListTarget,
  change: (entries: readonly LinkEntry[]) => LinkEntry[],
): Promise<LinkEntry[]> {
  const listKey = await linkListKey(target.location, target.objectKey);
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const { entries, etag } = await readList(target, listKey);
    const next = change(entries);
    if (next.length === 0) {
      if (etag === undefined || (await target.storage.remove(listKey, etag, target.signal))) {
        return next;
      }
      continue;
    }
    const body = await sealList(target, listKey, next);
    const condition = etag === undefined ? { ifNoneMatch: '*' as const } : { ifMatch: etag };
    if (await target.storage.write(listKey, body, condition, target.signal)) return next;
  }
  throw new VeilError('S3_REJECTED', `${listKey}: other writers kept changing the list`);
}

/**
 * [Note: links from the header] The file's header is the truth of which links open it: each
 * `veil-link` EDK is one. The list only adds what a header cannot say (when a link was made, when
 * it expires, its label), and it can be wrong: a rewrap that failed after the entry was written,
 * a list write that was lost, a file moved without its list, or a list deleted or replaced by
 * whoever can write to the bucket. So the dialog lists the header's link keys joined with the
 * list: a key the list lacks is shown as unknown and can be revoked, and an entry whose key the
 * file no longer holds is shown as such (removing it touches only the list).
 */

/** A link as the file and its list know it. */
export interface FileLink {
  /** The link id: the EDK's key name, or the entry's id. */
  readonly id: string;
  /** The list's entry; absent for a link key the list lacks. */
  readonly entry?: LinkEntry;
  /** Whether the file's header holds the link's key (the link opens the file). */
  readonly inFile: boolean;
}

/**
 * The header's link ids joined with the list's entries ([Note: links from the header]): links
 * the list lacks first (they need a look), then the listed ones by when they were made.
 */
export function joinLinks(
  headerLinkIds: readonly string[],
  entries: readonly LinkEntry[],
): FileLink[] {
  const inHeader = new Set(headerLinkIds);
  const listed = new Map(entries.map((entry) => [entry.id, entry]));
  const unknown = [...inHeader]
    .filter((id) => !listed.has(id))
    .map((id): FileLink => ({ id, inFile: true }));
  const known = [...listed.values()]
    .sort((a, b) => a.createdAtMs - b.createdAtMs)
    .map((entry): FileLink => ({ id: entry.id, entry, inFile: inHeader.has(entry.id) }));
  return [...unknown, ...known];
}
