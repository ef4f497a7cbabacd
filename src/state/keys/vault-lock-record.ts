/**
 * The shape check of the vault's lock record as it comes back from IndexedDB (vault-lock-core.ts
 * declares it): anything else, such as a record of a later version or one altered by hand, is
 * refused as a whole (VAULT_LOCK_INVALID) instead of half used. The record's secrets are
 * protected by their AES-GCM tags, not by this check ([Note: the vault envelope] in vault-seal.ts).
 */
import type { LockMethod, LockRecord } from './vault-lock-core';

/** The longest idle time a record may hold, in minutes (one day; setIdleMinutes allows no more). */
export const MAX_IDLE_MINUTES = 1440;

type Loose = Record<string, unknown>;

const isObject = (value: unknown): value is Loose => typeof value === 'object' && value !== null;
const isBytes = (value: unknown, min = 1): value is Uint8Array =>
  value instanceof Uint8Array && value.length >= min;

function isWrapped(value: unknown): boolean {
  return isObject(value) && isBytes(value.iv, 12) && isBytes(value.ciphertext, 32);
}

function isMethod(value: unknown): value is LockMethod {
  if (!isObject(value) || typeof value.id !== 'string' || !isWrapped(value.wrapped)) return false;
  if (typeof value.createdAtMs !== 'number') return false;
  if (value.kind === 'passphrase') {
    return (
      isBytes(value.salt, 16) &&
      Number.isSafeInteger(value.iterations) &&
      (value.iterations as number) >= 1000
    );
  }
  return value.kind === 'passkey' && isBytes(value.credentialId) && typeof value.label === 'string';
}

/** True when `value` is a version-1 lock record with one passphrase method. */
export function isLockRecord(value: unknown): value is LockRecord {
  if (!isObject(value) || value.version !== 1) return false;
  if (typeof value.vaultId !== 'string' || !isBytes(value.vaultSalt, 16)) return false;
  if (!Number.isInteger(value.idleMinutes)) return false;
  const idleMinutes = value.idleMinutes as number;
  if (idleMinutes < 1 || idleMinutes > MAX_IDLE_MINUTES) return false;
  if (value.entriesVouched !== undefined && value.entriesVouched !== true) return false;
  const methods = value.methods;
  return (
    Array.isArray(methods) &&
    methods.every(isMethod) &&
    methods.filter((m: LockMethod) => m.kind === 'passphrase').length === 1
  );
}
