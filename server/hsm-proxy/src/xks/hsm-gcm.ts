/**
 * AES-256-GCM on the HSM for the XKS API: any plaintext length, the IV, ciphertext and tag kept
 * apart (KMS assembles its own ciphertext blob from them), under the same non-extractable keys
 * and the same session pool as Model B's wraps. Also the token facts and the probe behind
 * GetHealthStatus.
 */
import { timingSafeEqual } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { TAG_BYTES, UNWRAP_REFUSED, type HsmKeys } from '../keys';
import { ckr, HsmError, type Pkcs11Token } from '../pkcs11';

/** The IV length this proxy makes (96 bits); Decrypt also accepts the spec's 128-bit IVs. */
export const GCM_IV_BYTES = 12;

export interface GcmSealed {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** What the health answer says about the token (PKCS#11 C_GetTokenInfo, trimmed). */
export interface TokenFacts {
  label: string;
  manufacturer: string;
  model: string;
  serialNumber: string;
  firmware: string;
}

/** The AES-GCM operations the XKS routes need; HsmGcm implements them over PKCS#11. */
export interface GcmService {
  /**
   * Encrypts; with `check`, then calls it on the output and decrypts that output again in the
   * same session, comparing with the plaintext (the spec's Appendix C order).
   */
  encrypt(
    label: string,
    plaintext: Buffer,
    aad: Buffer,
    check?: (sealed: GcmSealed) => void,
  ): Promise<GcmSealed>;
  /** @throws HsmError HSM_UNWRAP_FAILED when the tag does not verify. */
  decrypt(label: string, sealed: GcmSealed, aad: Buffer): Promise<Buffer>;
  /** Asks the token: a pooled session that is logged in, and the token's facts. */
  probe(): Promise<TokenFacts>;
}

function gcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  const parameter: pkcs11js.AesGCM = {
    type: pkcs11js.CK_PARAMS_AES_GCM,
    iv,
    aad,
    ivBits: iv.length * 8,
    tagBits: TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

/** CKS_RO_USER_FUNCTIONS (1) and CKS_RW_USER_FUNCTIONS (3) of PKCS#11 (pkcs11js names no CKS_*). */
const LOGGED_IN = new Set<number>([1, 3]);

export class HsmGcm implements GcmService {
  readonly #token: Pkcs11Token;
  readonly #keys: HsmKeys;

  constructor(token: Pkcs11Token, keys: HsmKeys) {
    this.#token = token;
    this.#keys = keys;
  }

  /**
   * Encrypts under the key labelled `label` with a fresh 96-bit IV (from the HSM's RNG, or
   * written by the HSM itself when ivSource is 'hsm'). With `check`, calls it on the output,
   * then decrypts the output in the same session (one checkout, not two) and compares.
   * @throws HsmError HSM_KEY_NOT_FOUND; HSM_FAILED when the check does not give the plaintext.
   */
  encrypt(
    label: string,
    plaintext: Buffer,
    aad: Buffer,
    check?: (sealed: GcmSealed) => void,
  ): Promise<GcmSealed> {
    const module = this.#token.module;
    return this.#keys.withKey(label, async (session, key) => {
      const iv = Buffer.alloc(GCM_IV_BYTES);
      if (this.#token.ivSource === 'caller') module.C_GenerateRandom(session, iv);
      module.C_EncryptInit(session, gcm(iv, aad), key);
      const output = await module.C_EncryptAsync(
        session,
        plaintext,
        Buffer.alloc(plaintext.length + TAG_BYTES),
      );
      if (iv.every((byte) => byte === 0))
        throw new HsmError('HSM_FAILED', 'the HSM returned no AES-GCM IV');
      if (output.length !== plaintext.length + TAG_BYTES)
        throw new HsmError('HSM_FAILED', 'the HSM returned a ciphertext of the wrong length');
      const sealed = {
        iv,
        ciphertext: Buffer.from(output.subarray(0, plaintext.length)),
        tag: Buffer.from(output.subarray(plaintext.length)),
      };
      if (!check) return sealed;
      check(sealed);
      const opened = await this.#decryptIn(session, key, sealed, aad);
      const same = opened.length === plaintext.length && timingSafeEqual(opened, plaintext);
      opened.fill(0);
      if (!same) throw new HsmError('HSM_FAILED', 'the HSM could not decrypt its own ciphertext');
      return sealed;
    });
  }

  /**
   * Decrypts and checks the tag inside the HSM.
   * @throws HsmError HSM_UNWRAP_FAILED when the ciphertext, IV, tag or AAD does not match;
   *   HSM_KEY_NOT_FOUND.
   */
  decrypt(label: string, sealed: GcmSealed, aad: Buffer): Promise<Buffer> {
    return this.#keys.withKey(label, (session, key) => this.#decryptIn(session, key, sealed, aad));
  }

  async #decryptIn(session: Buffer, key: Buffer, sealed: GcmSealed, aad: Buffer): Promise<Buffer> {
    const module = this.#token.module;
    module.C_DecryptInit(session, gcm(Buffer.from(sealed.iv), aad), key);
    try {
      const plaintext = await module.C_DecryptAsync(
        session,
        Buffer.concat([sealed.ciphertext, sealed.tag]),
        Buffer.alloc(sealed.ciphertext.length + TAG_BYTES),
      );
      return Buffer.from(plaintext);
    } catch (error) {
      // As in keys.ts: only a failed tag check means "does not open".
      if (!UNWRAP_REFUSED.has(ckr(error) ?? -1)) throw error;
      throw new HsmError('HSM_UNWRAP_FAILED', 'the ciphertext does not open with this key', {
        cause: error,
      });
    }
  }

  /**
   * Checks that a pooled session is alive and logged in, and reads the token's facts.
   * @throws HsmError HSM_LOGIN when the session is not logged in; PKCS#11 errors pass through.
   */
  probe(): Promise<TokenFacts> {
    const module = this.#token.module;
    return this.#keys.withSession((session) => {
      const info = module.C_GetSessionInfo(session);
      if (!LOGGED_IN.has(info.state))
        throw new HsmError('HSM_LOGIN', 'the HSM session is not logged in');
      const token = module.C_GetTokenInfo(info.slotID);
      return Promise.resolve({
        label: token.label.trim(),
        manufacturer: token.manufacturerID.trim(),
        model: token.model.trim(),
        serialNumber: token.serialNumber.trim(),
        firmware: `${token.firmwareVersion.major}.${token.firmwareVersion.minor}`,
      });
    });
  }
}
