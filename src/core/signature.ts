/**
 * The 0x0578 footer check: an ECDSA P-384 signature (DER) over SHA-384 of header || body. The
 * hash runs incrementally as bytes pass, so the message is never buffered; the public key is the
 * compressed point, base64, in the EC key `aws-crypto-public-key` (FORMAT.md section 5, Footer).
 */
import { p384 } from '@noble/curves/nist.js';
import { sha384 } from '@noble/hashes/sha2.js';
import { fromBase64 } from './bytes';
import { VeilError } from './errors';
import type { EncryptionContext } from './encryption-context';
import { PUBLIC_KEY_CONTEXT_KEY } from './suites';

/** Hashes the signed bytes as they stream by, then checks the footer signature. */
export class SignatureVerifier {
  private readonly hash = sha384.create();
  private readonly publicKey: Uint8Array;

  /**
   * @param encryptionContext the header EC, which must hold the verification key.
   * @throws VeilError MALFORMED when the key is missing or not a P-384 point.
   */
  constructor(encryptionContext: EncryptionContext) {
    const encoded = encryptionContext[PUBLIC_KEY_CONTEXT_KEY];
    if (encoded === undefined) {
      throw new VeilError('MALFORMED', `a signed message without ${PUBLIC_KEY_CONTEXT_KEY}`);
    }
    this.publicKey = fromBase64(encoded, PUBLIC_KEY_CONTEXT_KEY);
    try {
      p384.Point.fromBytes(this.publicKey).assertValidity();
    } catch (cause) {
      throw new VeilError('MALFORMED', `${PUBLIC_KEY_CONTEXT_KEY} is not a P-384 point`, { cause });
    }
  }

  /** Feeds bytes of the header or body, in message order. */
  update(bytes: Uint8Array): void {
    this.hash.update(bytes);
  }

  /**
   * Checks the DER signature against the bytes fed so far.
   * @throws VeilError SIGNATURE_INVALID when it does not verify.
   */
  verify(derSignature: Uint8Array): void {
    const digest = this.hash.digest();
    let valid: boolean;
    try {
      valid = p384.verify(derSignature, digest, this.publicKey, {
        prehash: false,
        lowS: false,
        format: 'der',
      });
    } catch (cause) {
      throw new VeilError('SIGNATURE_INVALID', 'the signature is not valid DER', { cause });
    }
    if (!valid) throw new VeilError('SIGNATURE_INVALID');
  }
}
