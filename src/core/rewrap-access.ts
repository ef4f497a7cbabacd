/**
 * Who can open a rewrapped header: openDataKey (a header's data key, once it is authentic), the
 * opening of the old header preferring the EDKs the new one keeps, and the lock-out check on the
 * new EDK list ([Note: rewrap lock-out check]).
 *
 * [Note: rewrap lock-out check] Removing a key must never leave the user unable to open the file:
 * an EDK list that is not empty is not enough (a KMS EDK the user may not use, another person's
 * key). So before anything is written the new EDK list must open to the same data key with a key
 * the user holds, at the lowest cost that is still a real unwrap:
 * 1. The old header is opened with `openWith` offered one EDK at a time, the kept ones first
 *    (they stay verbatim in the new header, under the same encryption context). If that opens, the check is passed by the
 *    very unwrap the rewrap needs anyway: no extra call.
 * 2. Only if `openWith` opens none of the kept EDKs is the old header opened with the removed
 *    ones; then the new list must be proven by a second unwrap: `canOpenWith` when the caller
 *    gives it (the keys the user will still hold), else `addWith` on the added EDKs, else
 *    `openWith` on the added EDKs. Each tries local EDKs (raw AES) before remote ones (HSM, KMS),
 *    so a key added from a local file is proven without a network call. The key it opens must be
 *    the data key (compared in constant time), so an added EDK that would not open is caught too.
 * When `canOpenWith` is given it is the only proof accepted: the caller says which keys will be
 *    left, and `openWith` may hold a key about to be retired.
 * If no proof holds the rewrap fails with REWRAP_WOULD_LOCK_OUT before any write.
 */
import { constantTimeEqual } from './bytes';
import type { EncryptionContext } from './encryption-context';
import { VeilError, needs, type ErrorCode } from './errors';
import type { MessageHeader } from './header';
import type { EncryptedDataKey, Keyring } from './keyring';
import { parseRawAesProviderInfo } from './provider-info';
import { openMessageKeys } from './message';
import type { OpenOptions } from './message';

/**
 * Unwraps a header's plaintext data key with `options.keyring`, after the same checks as
 * openMessageKeys (key commitment, then the header auth tag): the key is returned only for an
 * authentic header. The caller owns it and zeroes it after use.
 * @throws the errors of openMessageKeys (SIGNATURE_UNCHECKED for a signed header unless
 *   `allowUnverifiedSignature`, NO_MATCHING_EDK, WRONG_KEY, COMMITMENT_MISMATCH,
 *   HEADER_TAMPERED, CONTEXT_MISMATCH, and what the keyring throws).
 */
export async function openDataKey(
  header: MessageHeader,
  options: OpenOptions,
): Promise<Uint8Array> {
  // Precondition: a keyring (openMessageKeys checks the rest).
  needs(typeof options?.keyring?.onDecrypt === 'function', 'BAD_ARGUMENT', 'keyring');
  const keyring = options.keyring;
  let captured: Uint8Array | undefined;
  // openMessageKeys zeroes the key the keyring returns; this keeps a copy of it, released only
  // once the commitment and the header tag verified.
  const capturing: Keyring = {
    onEncrypt: (request) => keyring.onEncrypt(request),
    async onDecrypt(request) {
      const dataKey = await keyring.onDecrypt(request);
      captured?.fill(0);
      captured = dataKey instanceof Uint8Array ? dataKey.slice() : undefined;
      return dataKey;
    },
  };
  try {
    await openMessageKeys(header, { ...options, keyring: capturing });
  } catch (error) {
    captured?.fill(0);
    throw error;
  }
  if (captured === undefined) throw new VeilError('INTERNAL_ERROR', 'no data key was captured');
  return captured;
}

/** Failures of an opening that say the header itself is bad: no other EDK is tried after them. */
const HEADER_FAILURES: ReadonlySet<ErrorCode> = new Set([
  'COMMITMENT_MISMATCH',
  'HEADER_TAMPERED',
  'CONTEXT_MISMATCH',
  'SIGNATURE_UNCHECKED',
]);

/** A keyring that sees only `edks` of any request. */
function limitedTo(keyring: Keyring, edks: readonly EncryptedDataKey[]): Keyring {
  return {
    onEncrypt: (request) => keyring.onEncrypt(request),
    onDecrypt: (request) => keyring.onDecrypt({ ...request, encryptedDataKeys: edks }),
  };
}

/** The data key of an opened header, and whether a kept EDK gave it. */
export interface RewrapOpening {
  /** The plaintext data key; the caller zeroes it. */
  readonly dataKey: Uint8Array;
  /** True when `openWith` opened one of the kept EDKs: the new header opens for the user. */
  readonly opensKept: boolean;
}

/**
 * Opens `header` with `keyring` as openDataKey does, offering it one EDK at a time: the kept
 * EDKs first, then the removed ones, local keys before remote ones in each ([Note: rewrap
 * lock-out check]). So a keyring that holds a kept key opens it with no call for a removed one.
 * @throws VeilError HEADER_TAMPERED, COMMITMENT_MISMATCH, CONTEXT_MISMATCH or SIGNATURE_UNCHECKED
 *   at once; else, when no EDK opened, the first failure other than NO_MATCHING_EDK (WRONG_KEY,
 *   KMS_*, HSM_*), or NO_MATCHING_EDK.
 */
export async function openPreferringKept(
  header: MessageHeader,
  keyring: Keyring,
  kept: readonly EncryptedDataKey[],
  removed: readonly EncryptedDataKey[],
  reproducedContext: EncryptionContext,
): Promise<RewrapOpening> {
  const order = [
    ...localFirst(kept).map((edk) => ({ edk, opensKept: true })),
    ...localFirst(removed).map((edk) => ({ edk, opensKept: false })),
  ];
  let failure: Error | undefined;
  let noMatch: Error | undefined;
  for (const { edk, opensKept } of order) {
    try {
      const dataKey = await openDataKey(header, {
        keyring: limitedTo(keyring, [edk]),
        reproducedContext,
      });
      return { dataKey, opensKept };
    } catch (error) {
      const code = error instanceof VeilError ? error.code : undefined;
      if (code !== undefined && HEADER_FAILURES.has(code)) throw error;
      const reason =
        error instanceof Error ? error : new VeilError('INTERNAL_ERROR', String(error));
      if (code === 'NO_MATCHING_EDK') noMatch ??= reason;
      else failure ??= reason;
    }
  }
  throw failure ?? noMatch ?? new VeilError('NO_MATCHING_EDK', 'the file has no key');
}

/** 0 for a raw AES EDK (a local key), 2 for KMS, 1 for anything else (an HSM, another service). */
function remoteness(edk: EncryptedDataKey): number {
  if (edk.providerId.startsWith('aws-kms')) return 2;
  return parseRawAesProviderInfo(edk.providerInfo) ? 0 : 1;
}

/** `edks` with local keys first ([Note: rewrap lock-out check]); stable otherwise. */
export function localFirst(edks: readonly EncryptedDataKey[]): EncryptedDataKey[] {
  return edks
    .map((edk, index) => ({ edk, index }))
    .sort((a, b) => remoteness(a.edk) - remoteness(b.edk) || a.index - b.index)
    .map(({ edk }) => edk);
}

/** One way to prove the new EDK list opens: a keyring and the EDKs it is offered. */
export interface AccessProof {
  readonly by: 'openWith' | 'addWith' | 'canOpenWith';
  readonly keyring: Keyring;
  readonly edks: readonly EncryptedDataKey[];
}

/** What every proof is asked with: the header's suite and full encryption context. */
export interface AccessRequest {
  readonly suiteId: MessageHeader['suiteId'];
  readonly encryptionContext: EncryptionContext;
  /** The data key the new header is written for; not kept, not modified. */
  readonly dataKey: Uint8Array;
}

/**
 * Tries `proofs` in order until one unwraps the data key ([Note: rewrap lock-out check]), each
 * offered one EDK at a time, local keys first.
 * @returns which proof held.
 * @throws VeilError REWRAP_WOULD_LOCK_OUT when none did (the detail names the first failure's
 *   code, or says that no key the user holds is among them).
 */
export async function proveAccess(
  request: AccessRequest,
  proofs: readonly AccessProof[],
): Promise<AccessProof['by']> {
  const failures: string[] = [];
  for (const proof of proofs) {
    for (const edk of localFirst(proof.edks)) {
      let opened: Uint8Array | undefined;
      try {
        opened = await proof.keyring.onDecrypt({
          suiteId: request.suiteId,
          encryptionContext: request.encryptionContext,
          encryptedDataKeys: [edk],
        });
      } catch (error) {
        failures.push(`${proof.by}: ${error instanceof VeilError ? error.code : 'failed'}`);
        continue;
      }
      if (opened === undefined) continue;
      const same =
        opened.length === request.dataKey.length && constantTimeEqual(opened, request.dataKey);
      opened.fill(0);
      if (same) return proof.by;
      failures.push(`${proof.by}: another data key`);
    }
  }
  throw new VeilError(
    'REWRAP_WOULD_LOCK_OUT',
    failures.length > 0 ? failures.join('; ') : 'no key given opens the keys that would be left',
  );
}
