/**
 * The bytes of the XKS API: what the HSM authenticates as AAD, the ciphertext metadata this
 * proxy returns, the Ciphertext Data Integrity Value, and the spec's size limits. Pure functions.
 *
 * [Note: XKS and Model B on one label] One HSM key may serve Veil's Model B (wraps through
 * /v1/data-keys) and a KMS key (through this API). The two never open each other's ciphertexts,
 * because what the HSM authenticates differs from the first byte: a bound Model B wrap's AAD
 * starts with "VH" (0x5648), while an XKS AAD starts with the AAD's length as u16be, at most
 * 8,192 (0x2000). A legacy Model B unwrap takes its whole AAD from the caller, so a label that
 * accepts legacy wraps could be made to open an XKS ciphertext of 32 bytes (a KMS data key)
 * for anyone the policy grants the label: the proxy refuses to start when an XKS key's label
 * accepts legacy wraps (see main.ts).
 */
import { createHash } from 'node:crypto';

/** The spec's minimum the proxy must accept, and what this proxy accepts: 4,300 bytes. */
export const MAX_PLAINTEXT_BYTES = 4300;
/** The spec's AAD limit: 8,192 bytes. */
export const MAX_AAD_BYTES = 8192;
/** The spec's limit on ciphertext metadata: 20 bytes. */
export const MAX_METADATA_BYTES = 20;
/** IV lengths the spec allows on Decrypt (this proxy makes 12-byte IVs). */
export const IV_LENGTHS_BYTES: ReadonlySet<number> = new Set([12, 16]);
export const TAG_LENGTH_BYTES = 16;

/**
 * The ciphertext metadata of every Encrypt answer: names how this proxy built the HSM's AAD
 * (format 1: with both lengths, as the spec recommends), so a later format can tell its own
 * ciphertexts from these. The tag covers it; Decrypt refuses any other value.
 */
export const CIPHERTEXT_METADATA = Buffer.from('veil-xks-1', 'ascii');

/**
 * The AAD the HSM authenticates: u16be(len(aad)) || aad || u8(len(metadata)) || metadata, as
 * the spec's Encrypt section gives it (a missing field counts as empty).
 * @throws RangeError when the AAD or the metadata is over its limit.
 */
export function hsmAad(aad: Buffer, metadata: Buffer): Buffer {
  if (aad.length > MAX_AAD_BYTES) throw new RangeError(`aad is over ${MAX_AAD_BYTES} bytes`);
  if (metadata.length > MAX_METADATA_BYTES)
    throw new RangeError(`metadata is over ${MAX_METADATA_BYTES} bytes`);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(aad.length);
  return Buffer.concat([length, aad, Buffer.from([metadata.length]), metadata]);
}

/**
 * The Ciphertext Data Integrity Value (the spec's Appendix C): base64 of
 * SHA-256(aad || metadata || iv || ciphertext || tag), lengths not included.
 */
export function integrityValue(
  aad: Buffer,
  metadata: Buffer,
  iv: Buffer,
  ciphertext: Buffer,
  tag: Buffer,
): string {
  return createHash('sha256')
    .update(aad)
    .update(metadata)
    .update(iv)
    .update(ciphertext)
    .update(tag)
    .digest('base64');
}
