/**
 * How "Shared with me" names who shared a file ([Note: inbox notes are claims] in
 * src/transfer/people-inbox.ts). Notes are not signed, so every sender is shown as not verified,
 * whatever the note claims: a writer to the bucket can drop a note "Al shared invoice.pdf with
 * you" that names Al and Al's real fingerprint (the directory is public), pointing at a file they
 * encrypted to the recipient's public key (also public). That the file opens with the
 * recipient's key proves only that someone had their public key. A fingerprint the recipient
 * pinned is therefore not shown as a sign of trust either: the note may simply copy it. Pure.
 */
import type { InboxNote } from '../../transfer/people-inbox';

/** Why no sender is verified, for the list and a screen reader. */
export const UNVERIFIED_SENDER_WHY =
  'Notes about shared files are not signed: anyone who can write to this bucket can leave one under any name and fingerprint, pointing at a file they encrypted to your public key. Download a file only if you expected it, and ask the sender by another channel when in doubt.';

/** What the list shows of a note's sender. */
export interface NoteSender {
  /** The sender as the note names them (escaped when the note was read). */
  readonly claimedName: string;
  /** The fingerprint the note claims (64 hex digits). */
  readonly claimedFingerprint: string;
  /** Always false: notes carry no signature ([Note: inbox notes are claims]). */
  readonly verified: false;
  /** The line shown, e.g. "says it is from Al (sender not verified)". */
  readonly text: string;
}

/** The sender of `note` as the list shows it: a claim, never verified. */
export function noteSender(note: Pick<InboxNote, 'from'>): NoteSender {
  return {
    claimedName: note.from.name,
    claimedFingerprint: note.from.fingerprint,
    verified: false,
    text: `says it is from ${note.from.name} (sender not verified)`,
  };
}
