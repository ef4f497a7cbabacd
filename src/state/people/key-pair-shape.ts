/**
 * What a stored key pair (key-pair-core.ts) is checked for before it is used: its shape as it
 * comes back from the store, that its info's fingerprint is its public key's, and how it is
 * protected for the view.
 */
import { spkiFingerprint } from '../../keyrings/rsa-keys';
import type { SealedEntry } from '../keys/vault-seal';
import type { KeyPairInfo, PlainKeyPair, SealedKeyPair } from './key-pair-core';

/** How the key pair is protected, for the view. */
export type KeyPairProtection =
  /** The vault has no lock: a non-extractable key, usable at any time. */
  | 'no-lock'
  /** The vault has a lock but the pair was stored before it: not under it yet. */
  | 'before-lock'
  /** Under the lock, the vault locked: the private key cannot be used. */
  | 'locked'
  /** Under the lock, the vault unlocked. */
  | 'unlocked'
  /** The stored pair failed its check (VAULT_ENTRY_TAMPERED): never used. */
  | 'tampered';

/** The protection of `info` given the vault's lock status (pure). */
export function keyPairProtection(
  info: Pick<KeyPairInfo, 'underLock'>,
  tampered: boolean,
  lockStatus: 'none' | 'locked' | 'unlocked',
): KeyPairProtection {
  if (tampered) return 'tampered';
  if (!info.underLock) return lockStatus === 'none' ? 'no-lock' : 'before-lock';
  return lockStatus === 'unlocked' ? 'unlocked' : 'locked';
}

function hasInfo(v: { info?: Partial<KeyPairInfo> }): boolean {
  return typeof v.info?.fingerprint === 'string' && v.info.publicKeySpki instanceof Uint8Array;
}

export function isPlain(value: unknown): value is PlainKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<PlainKeyPair>;
  return typeof v.backup === 'string' && v.privateKey instanceof CryptoKey && hasInfo(v);
}

export function isSealed(value: unknown): value is SealedKeyPair {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { info?: Partial<KeyPairInfo>; sealed?: Partial<SealedEntry> };
  return (
    hasInfo(v) &&
    v.sealed?.iv instanceof Uint8Array &&
    v.sealed.ciphertext instanceof Uint8Array &&
    !('privateKey' in v)
  );
}

/** True when the info's fingerprint is that of its public key (else the info was rewritten). */
export async function infoMatchesKey(info: KeyPairInfo): Promise<boolean> {
  return (await spkiFingerprint(info.publicKeySpki)) === info.fingerprint;
}
