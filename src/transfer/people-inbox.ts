/**
 * A person's inbox: how a recipient learns what was shared with them without any clear name in
 * the bucket. Sharing a file writes one note at `<people root><recipient fingerprint>/inbox/<random
 * id>`: an ESDK message (suite 0x0478) encrypted to the recipient's public key only (the raw RSA
 * keyring, injected), whose plaintext is
 *
 *   {"v":1,"key":"<object key>","name":"<clear file name>","from":{"name":"…","fingerprint":"…"},
 *    "shared":"<ISO time>"}
 *
 * and whose encryption context is `veil-purpose: inbox-note` (no name in it). The recipient lists
 * their inbox and opens each note with their private key.
 *
 * [Note: inbox notes are claims] Anyone who may write to the bucket can put a note in anyone's
 * inbox, and notes are not signed: the sharer's name and fingerprint in a note are what its writer
 * says. A note only points at an object; the object opens only if it really holds an EDK for the
 * recipient's key, checked by the ESDK as for any download. The app shows the sharer as the note
 * names them, beside the fingerprint it claims, and always as not verified, even when that
 * fingerprint is one the recipient pinned: the note may copy it (src/state/people/inbox-view.ts).
 */
import {
  decryptBytes,
  encryptBytes,
  escapeUntrusted,
  fromUtf8,
  isFingerprint,
  needs,
  toHex,
  utf8,
  VeilError,
} from '../core';
import type { Keyring } from '../core';
import { readRecord, type PeopleStorage } from './people-directory';

/** The encryption context of every note (nothing secret, no name). */
export const INBOX_NOTE_CONTEXT = { 'veil-purpose': 'inbox-note' } as const;
/** Largest note read, in bytes (an object key is at most 1 KiB). */
export const MAX_NOTE_BYTES = 64 * 1024;
/**
 * Notes read in one view of an inbox, by default: anyone may write to anyone's inbox, and
 * thousands of notes, each a GET and an RSA decryption, would hang the page. The listing says how
 * many more there are; the storage lists newest first where it can tell.
 */
export const INBOX_NOTES_PER_VIEW = 100;

/** What a note says. */
export interface InboxNote {
  /** The object key of the shared file in this bucket. */
  readonly key: string;
  /** The file's clear name, as the sharer saw it. */
  readonly name: string;
  readonly from: { readonly name: string; readonly fingerprint: string };
  /** When it was shared (ISO 8601), as the sharer said. */
  readonly shared: string;
}

/** A note as read from an inbox. */
export interface ReadNote extends InboxNote {
  /** The note's own object key (to remove it). */
  readonly noteKey: string;
}

/** The inbox prefix of a person. */
export function inboxPrefix(peoplePrefix: string, fingerprint: string): string {
  needs(isFingerprint(fingerprint), 'BAD_ARGUMENT', 'fingerprint');
  return `${peoplePrefix}${fingerprint}/inbox/`;
}

/** New note ids tried before giving up (each is 128 random bits: a clash is storage lying). */
const NOTE_WRITE_ATTEMPTS = 4;

/**
 * Writes a note for the recipient whose public key `recipientKeyring` wraps for (a raw RSA keyring
 * with the public key only), under a fresh random id.
 * @returns the note's object key.
 * @throws VeilError BAD_ARGUMENT for a note without key or name; what the keyring and storage
 *   throw.
 */
export async function writeInboxNote(
  storage: PeopleStorage,
  peoplePrefix: string,
  recipient: { readonly fingerprint: string; readonly keyring: Keyring },
  note: InboxNote,
  signal?: AbortSignal,
): Promise<string> {
  // Precondition: a note naming an object and a file.
  needs(typeof note.key === 'string' && note.key.length > 0, 'BAD_ARGUMENT', 'note.key');
  needs(typeof note.name === 'string' && note.name.length > 0, 'BAD_ARGUMENT', 'note.name');
  const plaintext = utf8(JSON.stringify({ v: 1, ...note }));
  const message = await encryptBytes(plaintext, {
    keyring: recipient.keyring,
    encryptionContext: { ...INBOX_NOTE_CONTEXT },
  });
  plaintext.fill(0);
  // A fresh random id is taken at most a few times; storage that says every one is taken is
  // not to be believed forever.
  for (let attempt = 0; attempt < NOTE_WRITE_ATTEMPTS; attempt += 1) {
    const id = toHex(crypto.getRandomValues(new Uint8Array(16)));
    const noteKey = `${inboxPrefix(peoplePrefix, recipient.fingerprint)}${id}`;
    if (await storage.createOnly(noteKey, message, signal)) return noteKey;
  }
  throw new VeilError(
    'S3_REJECTED',
    `the bucket refused ${NOTE_WRITE_ATTEMPTS} new inbox notes as already there`,
  );
}

function parseNote(bytes: Uint8Array): InboxNote {
  const invalid = (detail: string): never => {
    throw new VeilError('INBOX_ENTRY_INVALID', detail);
  };
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(bytes, 'note'));
  } catch {
    invalid('not JSON');
  }
  const fields = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const from = (
    typeof fields.from === 'object' && fields.from !== null ? fields.from : {}
  ) as Record<string, unknown>;
  if (fields.v !== 1) invalid('"v"');
  if (typeof fields.key !== 'string' || fields.key.length === 0) invalid('"key"');
  if (typeof fields.name !== 'string' || fields.name.length === 0) invalid('"name"');
  if (typeof from.name !== 'string' || !isFingerprint(from.fingerprint)) invalid('"from"');
  return {
    key: fields.key as string,
    // Whoever can write to the bucket can write a note (notes are not signed): its text is shown
    // escaped ([Note: untrusted text]), as a claim.
    name: escapeUntrusted(fields.name as string),
    from: { name: escapeUntrusted(from.name as string), fingerprint: from.fingerprint as string },
    shared: typeof fields.shared === 'string' ? escapeUntrusted(fields.shared.slice(0, 40)) : '',
  };
}

/** An inbox as read: the notes that opened, and those that did not (with why). */
export interface InboxListing {
  readonly notes: readonly ReadNote[];
  readonly unreadable: readonly { readonly noteKey: string; readonly error: VeilError }[];
  /** Notes of the inbox beyond `maxNotes`, not read in this view. */
  readonly notRead: number;
}

/**
 * Reads the first `maxNotes` notes of an inbox (in the storage's order, newest first where it
 * can tell) with the recipient's keyring (private key), and sorts them newest first. A note that
 * does not open or parse is listed as unreadable (INBOX_ENTRY_INVALID), and one larger than
 * MAX_NOTE_BYTES too (RECORD_TOO_LARGE, [Note: capped reads] in src/aws/capped-read.ts), not
 * thrown.
 * @throws what the storage throws for the listing.
 */
export async function readInbox(
  storage: PeopleStorage,
  peoplePrefix: string,
  me: { readonly fingerprint: string; readonly keyring: Keyring },
  signal?: AbortSignal,
  maxNotes = INBOX_NOTES_PER_VIEW,
): Promise<InboxListing> {
  needs(Number.isSafeInteger(maxNotes) && maxNotes > 0, 'BAD_ARGUMENT', 'maxNotes');
  const notes: ReadNote[] = [];
  const unreadable: { noteKey: string; error: VeilError }[] = [];
  const keys = await storage.list(inboxPrefix(peoplePrefix, me.fingerprint), signal);
  for (const noteKey of keys.slice(0, maxNotes)) {
    try {
      const bytes = await readRecord(storage, noteKey, MAX_NOTE_BYTES, signal);
      if (!bytes) continue;
      let plaintext: Uint8Array;
      try {
        plaintext = await decryptBytes(bytes, {
          keyring: me.keyring,
          reproducedContext: INBOX_NOTE_CONTEXT,
        });
      } catch (cause) {
        const code = cause instanceof VeilError ? cause.code : 'unknown';
        throw new VeilError('INBOX_ENTRY_INVALID', code, { cause });
      }
      notes.push({ ...parseNote(plaintext), noteKey });
    } catch (error) {
      if (!(error instanceof VeilError)) throw error;
      unreadable.push({ noteKey, error });
    }
  }
  notes.sort((a, b) => b.shared.localeCompare(a.shared));
  return { notes, unreadable, notRead: Math.max(0, keys.length - maxNotes) };
}
