/**
 * Sharing one file with a person, and taking it back, on the rewrap engine ([Note: rewrap keeps
 * the body] in core/rewrap-header.ts):
 * 1. rewrap adds an EDK for the person's public key (`addWith` = the raw RSA keyring with that
 *    public key only, injected: transfer does not import keyrings), opening the header with the
 *    sharer's keys; the lock-out check is passed by the sharer's own kept EDK ([Note: rewrap
 *    lock-out check]), and the 16-EDK limit of the header holds (TOO_MANY_EDKS before any write);
 * 2. a note in the person's inbox says what was shared, under which clear name, by whom
 *    (people-inbox.ts), so no clear name is stored anywhere.
 * Removing a person's access is a rewrap that removes the EDK named by their fingerprint; the
 * note stays, and opening the file with their key then fails NO_MATCHING_EDK. In a versioned
 * bucket the previous version still holds the EDK ([Note: removed keys in versioned buckets]).
 */
import { PERSON_PROVIDER_ID, VeilError } from '../core';
import type { Keyring } from '../core';
import type { PersonEntry, PeopleStorage } from './people-directory';
import { writeInboxNote } from './people-inbox';
import { rewrapObject } from './rewrap';
import type { RewrapResult, RewrapSetup } from './rewrap-options';

/** What sharing one file with one person needs. */
export interface ShareWithPersonInput {
  /** The rewrap of the object: S3 seam, bucket, key, the sharer's keys (`openWith`), binding rule. */
  readonly rewrap: Omit<RewrapSetup, 'addWith' | 'remove'>;
  /** The recipient's directory entry, already checked against the pins. */
  readonly recipient: PersonEntry;
  /** Wraps for the recipient's public key (a raw RSA keyring named by their fingerprint). */
  readonly recipientKeyring: Keyring;
  /** The file's clear name, for the note only. */
  readonly clearName: string;
  /** Who shares: the name and fingerprint of the sharer's own key pair. */
  readonly from: { readonly name: string; readonly fingerprint: string };
  readonly storage: PeopleStorage;
  readonly peoplePrefix: string;
  readonly nowMs?: number;
}

/** What sharing did. */
export interface SharedWithPerson {
  readonly rewrap: RewrapResult;
  /** The inbox note's object key. */
  readonly noteKey: string;
}

/**
 * Shares a file with a person: rewrap adding their EDK, then the inbox note. Sharing again
 * replaces their EDK instead of adding a second one (the rewrap first tries to remove it, and on
 * REWRAP_KEY_NOT_FOUND, checked before any write, only adds).
 * @throws the errors of rewrapObject (TOO_MANY_EDKS when the header would hold more than 16
 *   EDKs, NO_MATCHING_EDK / WRONG_KEY when the sharer's keys do not open it, REWRAP_*), and what
 *   the storage throws for the note (the EDK is then added but no note written: sharing again
 *   writes the note).
 */
export async function shareWithPerson(input: ShareWithPersonInput): Promise<SharedWithPerson> {
  const fingerprint = input.recipient.fingerprint;
  const setup: RewrapSetup = { ...input.rewrap, addWith: input.recipientKeyring };
  const rewrap = await rewrapObject({
    ...setup,
    remove: [{ providerId: PERSON_PROVIDER_ID, keyName: fingerprint }],
  }).catch((error: unknown) => {
    if (error instanceof VeilError && error.code === 'REWRAP_KEY_NOT_FOUND') {
      return rewrapObject(setup);
    }
    throw error;
  });
  const noteKey = await writeInboxNote(
    input.storage,
    input.peoplePrefix,
    { fingerprint, keyring: input.recipientKeyring },
    {
      key: rewrap.key,
      name: input.clearName,
      from: input.from,
      shared: new Date(input.nowMs ?? Date.now()).toISOString(),
    },
    input.rewrap.signal,
  );
  return { rewrap, noteKey };
}

/**
 * Removes a person's access to a file: a rewrap dropping the EDK of their fingerprint.
 * @throws the errors of rewrapObject (REWRAP_KEY_NOT_FOUND when the file holds no EDK for them).
 */
export function removePersonAccess(
  rewrap: Omit<RewrapSetup, 'addWith' | 'remove'>,
  fingerprint: string,
): Promise<RewrapResult> {
  return rewrapObject({
    ...rewrap,
    remove: [{ providerId: PERSON_PROVIDER_ID, keyName: fingerprint }],
  });
}
