/**
 * The HSM behind the proxy, through PKCS#11 (pkcs11js): SoftHSM2 locally, the AWS CloudHSM
 * PKCS#11 library in production; the same code for both, chosen by library path.
 *
 * [Note: PKCS#11 facts] Measured on SoftHSM2 2.6.1 with pkcs11js 2.1.7: C_Initialize needs
 * CKF_OS_LOCKING_OK or concurrent calls crash; a session serves one request at a time; objects are
 * found by label in each session; C_Login is per token and "already logged in" is success.
 */
import pkcs11js from 'pkcs11js';

export interface HsmOptions {
  /** Path of the PKCS#11 library (libsofthsm2.so, or CloudHSM's libcloudhsm_pkcs11.so). */
  libraryPath: string;
  /** Label of the token (SoftHSM2) or partition; the first token when absent. */
  tokenLabel?: string;
  /** The crypto user's PIN (CloudHSM: `user:password`). Never logged. */
  pin: string;
}

/** Public facts about a key: nothing that could reveal its value. */
export interface HsmKeyInfo {
  label: string;
  bits: number;
  extractable: boolean;
  sensitive: boolean;
  canEncrypt: boolean;
  canDecrypt: boolean;
}

export class HsmError extends Error {
  override readonly name = 'HsmError';
  constructor(
    readonly code: 'HSM_LIBRARY' | 'HSM_TOKEN_NOT_FOUND' | 'HSM_LOGIN' | 'HSM_KEY_NOT_FOUND',
    message: string,
  ) {
    super(message);
  }
}

const CKR_USER_ALREADY_LOGGED_IN = 0x100;

function pkcs11Code(error: unknown): number | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'number')
    return error.code;
  return undefined;
}

/** A CK_ULONG attribute value (4 or 8 bytes, native little-endian on the platforms we run on). */
function ulong(value: Buffer): number {
  return value.length === 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

/** One open PKCS#11 module with a logged-in session for administrative and health work. */
export class Hsm {
  readonly #module: pkcs11js.PKCS11;
  readonly #session: Buffer;
  readonly tokenLabel: string;
  #closed = false;

  private constructor(module: pkcs11js.PKCS11, session: Buffer, tokenLabel: string) {
    this.#module = module;
    this.#session = session;
    this.tokenLabel = tokenLabel;
  }

  /**
   * Loads the library, finds the token and logs in as the crypto user.
   * @throws HsmError when the library, token or login fails (the PIN is never in the message).
   */
  static open(options: HsmOptions): Hsm {
    const module = new pkcs11js.PKCS11();
    try {
      module.load(options.libraryPath);
      module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (error) {
      throw new HsmError(
        'HSM_LIBRARY',
        `cannot load PKCS#11 library ${options.libraryPath}: ${String(error)}`,
      );
    }
    try {
      const slot = module.C_GetSlotList(true).find((candidate) => {
        const label = module.C_GetTokenInfo(candidate).label.trim();
        return options.tokenLabel === undefined || label === options.tokenLabel;
      });
      if (!slot) {
        throw new HsmError(
          'HSM_TOKEN_NOT_FOUND',
          `no initialised token${options.tokenLabel ? ` labelled "${options.tokenLabel}"` : ''}`,
        );
      }
      const tokenLabel = module.C_GetTokenInfo(slot).label.trim();
      const session = module.C_OpenSession(
        slot,
        pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION,
      );
      try {
        module.C_Login(session, pkcs11js.CKU_USER, options.pin);
      } catch (error) {
        if (pkcs11Code(error) !== CKR_USER_ALREADY_LOGGED_IN) {
          throw new HsmError('HSM_LOGIN', `login to token "${tokenLabel}" failed`);
        }
      }
      return new Hsm(module, session, tokenLabel);
    } catch (error) {
      module.C_Finalize();
      throw error;
    }
  }

  /** Handles of secret keys with this label (normally zero or one). */
  #find(label: string): Buffer[] {
    const module = this.#module;
    module.C_FindObjectsInit(this.#session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    try {
      return module.C_FindObjects(this.#session, 16);
    } finally {
      module.C_FindObjectsFinal(this.#session);
    }
  }

  /** Describes the key with this label, or returns undefined when there is none. */
  describeKey(label: string): HsmKeyInfo | undefined {
    const [handle] = this.#find(label);
    if (!handle) return undefined;
    const attrs = this.#module.C_GetAttributeValue(this.#session, handle, [
      { type: pkcs11js.CKA_VALUE_LEN },
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_SENSITIVE },
      { type: pkcs11js.CKA_ENCRYPT },
      { type: pkcs11js.CKA_DECRYPT },
    ]);
    const buf = (index: number): Buffer => attrs[index]?.value as Buffer;
    const flag = (index: number): boolean => buf(index)[0] === 1;
    return {
      label,
      bits: ulong(buf(0)) * 8,
      extractable: flag(1),
      sensitive: flag(2),
      canEncrypt: flag(3),
      canDecrypt: flag(4),
    };
  }

  /**
   * Creates a non-extractable, sensitive AES-256 token key under `label` unless one exists.
   * @returns whether a key was created.
   */
  ensureAesKey(label: string): boolean {
    if (this.#find(label).length > 0) return false;
    this.#module.C_GenerateKey(this.#session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
      { type: pkcs11js.CKA_WRAP, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
    ]);
    return true;
  }

  /**
   * Proves the key can wrap: AES-GCM encrypts 32 random bytes with an AAD inside the HSM, decrypts
   * them again, and checks they match and that a changed AAD is refused. Nothing leaves the call.
   * @throws HsmError HSM_KEY_NOT_FOUND when there is no key with this label.
   */
  selfTest(label: string): { ivBytes: number; wrappedBytes: number; aadBound: boolean } {
    const [key] = this.#find(label);
    if (!key) throw new HsmError('HSM_KEY_NOT_FOUND', `no key labelled "${label}"`);
    const module = this.#module;
    const session = this.#session;
    const plaintext = module.C_GenerateRandom(session, Buffer.alloc(32));
    const gcm = (iv: Buffer, aad: Buffer): pkcs11js.Mechanism => {
      const parameter: pkcs11js.AesGCM = {
        type: pkcs11js.CK_PARAMS_AES_GCM,
        iv,
        aad,
        ivBits: 96,
        tagBits: 128,
      };
      return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
    };
    // CloudHSM writes its own IV into this buffer; SoftHSM2 uses what is there. Read it back.
    const iv = module.C_GenerateRandom(session, Buffer.alloc(12));
    const aad = Buffer.from('veil-self-test');
    module.C_EncryptInit(session, gcm(iv, aad), key);
    const wrapped = Buffer.from(module.C_Encrypt(session, plaintext, Buffer.alloc(32 + 16)));
    module.C_DecryptInit(session, gcm(iv, aad), key);
    const unwrapped = module.C_Decrypt(session, wrapped, Buffer.alloc(32 + 16));
    if (!unwrapped.equals(plaintext))
      throw new Error('HSM AES-GCM round trip returned other bytes');
    let aadBound = false;
    try {
      module.C_DecryptInit(session, gcm(iv, Buffer.from('veil-other-aad')), key);
      module.C_Decrypt(session, wrapped, Buffer.alloc(32 + 16));
    } catch {
      aadBound = true;
    }
    plaintext.fill(0);
    unwrapped.fill(0);
    return { ivBytes: iv.length, wrappedBytes: wrapped.length, aadBound };
  }

  /** Logs out, closes the session and finalizes the library. Call with no request in flight. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#module.C_Logout(this.#session);
    } catch {
      // Already logged out (another session of this process may have logged out the token).
    }
    this.#module.C_CloseSession(this.#session);
    this.#module.C_Finalize();
  }
}
