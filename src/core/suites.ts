/**
 * The algorithm suites Veil knows. It writes only 0x0478 and reads 0x0478 and 0x0578 (both
 * message format version 2, both committing). The older suites are recognised only to name them
 * in the error that refuses them (see FORMAT.md sections 1 and 9).
 */
import { VeilError } from './errors';

/** AES-256-GCM, HKDF-SHA512, key commitment, no signature: the suite Veil writes. */
export const SUITE_COMMIT_KEY = 0x0478;
/** As 0x0478 plus an ECDSA P-384 signature over the whole message (read only). */
export const SUITE_COMMIT_KEY_ECDSA_P384 = 0x0578;

export type CommittingSuiteId = typeof SUITE_COMMIT_KEY | typeof SUITE_COMMIT_KEY_ECDSA_P384;

/** The fixed properties of a committing suite. */
export interface SuiteInfo {
  readonly id: CommittingSuiteId;
  readonly dataKeyBytes: 32;
  readonly ivBytes: 12;
  readonly tagBytes: 16;
  readonly commitKeyBytes: 32;
  readonly signed: boolean;
}

const SUITES: ReadonlyMap<number, SuiteInfo> = new Map([
  [
    SUITE_COMMIT_KEY,
    {
      id: SUITE_COMMIT_KEY,
      dataKeyBytes: 32,
      ivBytes: 12,
      tagBytes: 16,
      commitKeyBytes: 32,
      signed: false,
    },
  ],
  [
    SUITE_COMMIT_KEY_ECDSA_P384,
    {
      id: SUITE_COMMIT_KEY_ECDSA_P384,
      dataKeyBytes: 32,
      ivBytes: 12,
      tagBytes: 16,
      commitKeyBytes: 32,
      signed: true,
    },
  ],
]);

/** The ESDK suites without key commitment (message format version 1). */
const NON_COMMITTING_SUITES: ReadonlySet<number> = new Set([
  0x0014, 0x0046, 0x0078, 0x0114, 0x0146, 0x0178, 0x0214, 0x0346, 0x0378,
]);

/** `0x0478` style name of a suite id. */
export function suiteName(suiteId: number): string {
  return `0x${suiteId.toString(16).padStart(4, '0')}`;
}

/**
 * The suite info for a suite id found in a message.
 * @throws VeilError NON_COMMITTING_SUITE for the older ESDK suites, UNSUPPORTED_SUITE otherwise.
 */
export function committingSuite(suiteId: number): SuiteInfo {
  const suite = SUITES.get(suiteId);
  if (suite) return suite;
  if (NON_COMMITTING_SUITES.has(suiteId)) {
    throw new VeilError('NON_COMMITTING_SUITE', `suite ${suiteName(suiteId)}`);
  }
  throw new VeilError('UNSUPPORTED_SUITE', `suite ${suiteName(suiteId)}`);
}

/** The regular and final frame AAD labels, and the non-framed one (FORMAT.md section 5). */
export const BODY_AAD_LABEL = {
  frame: 'AWSKMSEncryptionClient Frame',
  finalFrame: 'AWSKMSEncryptionClient Final Frame',
  singleBlock: 'AWSKMSEncryptionClient Single Block',
} as const;

/** The final-frame marker: a sequence-number field of 0xFFFFFFFF. */
export const FINAL_FRAME_MARKER = 0xffff_ffff;

/** Bytes a regular frame adds to its plaintext: u32 seq, IV(12), tag(16). */
export const REGULAR_FRAME_OVERHEAD_BYTES = 4 + 12 + 16;
/** Bytes the final frame adds to its plaintext: marker, u32 seq, IV(12), u32 length, tag(16). */
export const FINAL_FRAME_OVERHEAD_BYTES = 4 + 4 + 12 + 4 + 16;
/** Bytes of the v2 header authentication (just the GCM tag). */
export const HEADER_AUTH_TAG_BYTES = 16;
/** Bytes of a message id in format version 2. */
export const MESSAGE_ID_BYTES = 32;

/**
 * Veil's default frame length in plaintext bytes: 512 KiB. One frame is one AES-GCM call; calls
 * of 256 to 768 KiB run fastest in Chromium (see bench/core.ts), so the default sits in the middle.
 */
export const DEFAULT_FRAME_BYTES = 512 * 1024;

/** The EC key that carries the 0x0578 verification key (compressed P-384 point, base64). */
export const PUBLIC_KEY_CONTEXT_KEY = 'aws-crypto-public-key';
