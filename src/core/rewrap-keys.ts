/**
 * Which encrypted data keys a rewrap keeps: every EDK of the header stays verbatim (no new wrap)
 * unless it names a key the caller removes. A key is named as `keysNeeded` (and `veil inspect`)
 * names it: the raw AES key name, else the provider info as text (an HSM key label, a KMS ARN).
 */
import { VeilError, needs } from './errors';
import type { MessageHeader } from './header';
import type { EncryptedDataKey } from './keyring';
import { isLocationEdk } from './location';
import { keysNeeded, neededKeyOf } from './provider-info';
import { LINK_PROVIDER_ID } from './share-link';
import { quoteUntrusted } from './untrusted-text';

/** A key to remove from a header: its name, and optionally the provider id it must have. */
export interface KeyToRemove {
  /** The key name as keysNeeded shows it (raw AES key name, HSM key label, KMS key ARN). */
  readonly keyName: string;
  /** When given, only EDKs of this provider id match (a raw AES namespace, `aws-kms`, ...). */
  readonly providerId?: string;
}

/** The header's EDKs split into those kept and those removed, each in header order. */
export interface KeySplit {
  readonly kept: readonly EncryptedDataKey[];
  readonly removed: readonly EncryptedDataKey[];
}

/**
 * Splits the header's EDKs by `remove`: an EDK is removed when any entry names its key (and, when
 * the entry gives one, its provider id). Every entry must match at least one EDK. The kept list
 * may be empty here; the rewrap refuses an empty result once the added keys are known.
 * @throws VeilError BAD_ARGUMENT for a malformed entry, REWRAP_KEY_NOT_FOUND when an entry names
 *   no EDK of the header.
 */
export function splitEncryptedDataKeys(
  header: MessageHeader,
  remove: readonly KeyToRemove[],
): KeySplit {
  // Precondition: a list of entries, each with a non-empty key name.
  const isList: boolean = Array.isArray(remove);
  needs(isList, 'BAD_ARGUMENT', 'remove');
  for (const entry of remove) {
    needs(
      typeof entry?.keyName === 'string' && entry.keyName.length > 0,
      'BAD_ARGUMENT',
      'remove: keyName',
    );
    needs(
      entry.providerId === undefined || typeof entry.providerId === 'string',
      'BAD_ARGUMENT',
      'remove: providerId',
    );
  }
  const matched = new Set<KeyToRemove>();
  const kept: EncryptedDataKey[] = [];
  const removed: EncryptedDataKey[] = [];
  for (const edk of header.encryptedDataKeys) {
    // The location binding is not a key: never removed here ([Note: location binding]).
    const name = isLocationEdk(edk) ? undefined : neededKeyOf(edk);
    const hits = remove.filter(
      (entry) =>
        name !== undefined &&
        entry.keyName === name.keyName &&
        (entry.providerId === undefined || entry.providerId === edk.providerId),
    );
    for (const hit of hits) matched.add(hit);
    (hits.length > 0 ? removed : kept).push(edk);
  }
  const missing = remove.filter((entry) => !matched.has(entry));
  if (missing.length > 0) {
    const named = missing.map((entry) => quoteUntrusted(entry.keyName)).join(', ');
    const present = keysNeeded(header)
      .map((name) => quoteUntrusted(name.keyName))
      .join(', ');
    throw new VeilError('REWRAP_KEY_NOT_FOUND', `not found: ${named}; the file has: ${present}`);
  }
  return { kept, removed };
}

/**
 * [Note: a move ends its links] `remove` and, besides, every share link's EDK of the header
 * (`veil-link`) that `remove` does not name already. A move or rename drops its file's links: a
 * link's URL names the old stored key, so it stops opening there; were its EDK kept, moving the
 * file back (or storage copying it back) would bring every revoked-by-rename link back to life.
 * Links are made again after a move; people shared with (`veil-person`) keep their access.
 */
export function removingLinks(
  header: MessageHeader,
  remove: readonly KeyToRemove[],
): readonly KeyToRemove[] {
  const links: KeyToRemove[] = [];
  for (const edk of header.encryptedDataKeys) {
    if (edk.providerId !== LINK_PROVIDER_ID || isLocationEdk(edk)) continue;
    const { keyName } = neededKeyOf(edk);
    const named = [...remove, ...links].some(
      (entry) =>
        entry.keyName === keyName &&
        (entry.providerId === undefined || entry.providerId === LINK_PROVIDER_ID),
    );
    if (!named) links.push({ keyName, providerId: LINK_PROVIDER_ID });
  }
  return [...remove, ...links];
}
