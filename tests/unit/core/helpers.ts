/**
 * Shared test helpers: the vector directory, the vectors' raw AES key, keyrings for the core and
 * for the live peer @aws-crypto/client-node, and small byte utilities.
 */
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import { expect } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import type { ErrorCode } from '../../../src/core/errors';
import type { Keyring } from '../../../src/core/keyring';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';

/** ../shared/esdk/vectors next to the repo (CI clones main with shared/ beside it). */
export const VECTORS_DIR = new URL('../../../../shared/esdk/vectors/', import.meta.url);

/** The raw AES-256 key of the official vector sets. */
export const VECTOR_KEY_BASE64 = 'AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=';
export const VECTOR_NAMESPACE = 'aws-raw-vectors-persistant';
export const VECTOR_KEY_NAME = 'aes-256';

export function vectorKeyBytes(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(VECTOR_KEY_BASE64, 'base64'));
}

/** A fixed test key of `bits` bits (deterministic, so failures reproduce). */
export function testKeyBytes(bits: 128 | 192 | 256, seed = 1): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: bits / 8 }, (_, i) => (i * 7 + seed * 13) & 0xff);
}

/** Our raw AES keyring over a copy of `keyBytes`. */
export function ourKeyring(
  keyBytes: Uint8Array,
  keyName = VECTOR_KEY_NAME,
  keyNamespace = VECTOR_NAMESPACE,
): Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({ keyBytes: keyBytes.slice(), keyName, keyNamespace });
}

const WRAPPING_SUITES = {
  16: RawAesWrappingSuiteIdentifier.AES128_GCM_IV12_TAG16_NO_PADDING,
  24: RawAesWrappingSuiteIdentifier.AES192_GCM_IV12_TAG16_NO_PADDING,
  32: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
} as const;

/** client-node's raw AES keyring (utf8Sorting: true) over a copy of `keyBytes` (it zeroes it). */
export function peerKeyring(
  keyBytes: Uint8Array,
  keyName = VECTOR_KEY_NAME,
  keyNamespace = VECTOR_NAMESPACE,
): RawAesKeyringNode {
  const wrappingSuite = WRAPPING_SUITES[keyBytes.length as 16 | 24 | 32];
  return new RawAesKeyringNode({
    keyName,
    keyNamespace,
    unencryptedMasterKey: keyBytes.slice(),
    wrappingSuite,
    utf8Sorting: true,
  });
}

/** The live peer, requiring key commitment. */
export const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
export const PEER_SUITE_0478 =
  AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
export const PEER_SUITE_0578 =
  AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384;

/** A keyring that returns a known plaintext data key for any message (js-v2-compat vectors). */
export function staticKeyring(dataKey: Uint8Array): Keyring {
  return {
    onEncrypt: () => Promise.reject(new Error('static keyring is decrypt-only')),
    onDecrypt: () => Promise.resolve(dataKey.slice()),
  };
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(lengthBytes: number, seed = 1): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(lengthBytes);
  let state = seed * 2654435761;
  for (let i = 0; i < lengthBytes; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

/** Flips bits `mask` of byte `index` in place. */
export function flipByte(bytes: Uint8Array, index: number, mask = 1): void {
  bytes[index] = (bytes[index] ?? 0) ^ mask;
}

/** Asserts that `promise` rejects with a VeilError of one of `codes`. */
export async function expectCode(
  promise: Promise<unknown>,
  ...codes: ErrorCode[]
): Promise<VeilError> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error, `expected a rejection with ${codes.join('|')}`).toBeInstanceOf(VeilError);
  const veilError = error as VeilError;
  expect(codes).toContain(veilError.code);
  return veilError;
}

/** Asserts that `run` throws a VeilError with `code` synchronously. */
export function expectThrowsCode(run: () => unknown, code: ErrorCode): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(VeilError);
  expect((caught as VeilError).code).toBe(code);
}
