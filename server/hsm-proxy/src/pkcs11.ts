/**
 * The PKCS#11 token: loading the library, finding the token, opening logged-in sessions.
 * The same code serves SoftHSM2 (local) and the AWS CloudHSM PKCS#11 library (production).
 *
 * [Note: PKCS#11 facts] Measured on SoftHSM2 2.6.1 with pkcs11js 2.1.7: C_Initialize needs
 * CKF_OS_LOCKING_OK or concurrent calls crash the process; a session serves one operation at a
 * time (see pool.ts); key handles are per session, so keys are found by label in each session;
 * C_Login is per token and "already logged in" is success.
 */
import pkcs11js from 'pkcs11js';

export interface HsmOptions {
  /** Path of the PKCS#11 library (libsofthsm2.so, or CloudHSM's libcloudhsm_pkcs11.so). */
  libraryPath: string;
  /** Label of the token (SoftHSM2) or partition; the first token when absent. */
  tokenLabel?: string;
  /** The crypto user's PIN (CloudHSM: `user:password`). Never logged, never in a message. */
  pin: string;
  /**
   * Who picks the AES-GCM IV of a wrap: 'caller' fills it from the HSM's RNG (SoftHSM2);
   * 'hsm' passes a zeroed buffer that the HSM overwrites (CloudHSM). Either way the IV is read
   * back from the buffer after the call.
   */
  ivSource?: 'caller' | 'hsm';
}

export type HsmErrorCode =
  | 'HSM_LIBRARY'
  | 'HSM_TOKEN_NOT_FOUND'
  | 'HSM_LOGIN'
  | 'HSM_KEY_NOT_FOUND'
  | 'HSM_KEY_EXISTS'
  | 'HSM_UNWRAP_FAILED'
  | 'HSM_UNAVAILABLE'
  | 'HSM_FAILED';

/** A failure with a stable code; messages hold no PIN and no key material. */
export class HsmError extends Error {
  override readonly name = 'HsmError';
  constructor(
    readonly code: HsmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The CKR_* value of a PKCS#11 error, if it is one. */
export function ckr(error: unknown): number | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'number')
    return error.code;
  return undefined;
}

/** A loaded, initialised PKCS#11 library and the slot of our token. */
export class Pkcs11Token {
  readonly module: pkcs11js.PKCS11;
  readonly tokenLabel: string;
  readonly ivSource: 'caller' | 'hsm';
  readonly #slot: Buffer;
  readonly #pin: string;
  #finalized = false;

  private constructor(module: pkcs11js.PKCS11, slot: Buffer, options: HsmOptions) {
    this.module = module;
    this.#slot = slot;
    this.#pin = options.pin;
    this.ivSource = options.ivSource ?? 'caller';
    this.tokenLabel = module.C_GetTokenInfo(slot).label.trim();
  }

  /**
   * Loads the library and finds the token.
   * @throws HsmError HSM_LIBRARY or HSM_TOKEN_NOT_FOUND.
   */
  static open(options: HsmOptions): Pkcs11Token {
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
    const slot = module.C_GetSlotList(true).find((candidate) => {
      const label = module.C_GetTokenInfo(candidate).label.trim();
      return options.tokenLabel === undefined || label === options.tokenLabel;
    });
    if (!slot) {
      module.C_Finalize();
      throw new HsmError(
        'HSM_TOKEN_NOT_FOUND',
        `no initialised token${options.tokenLabel ? ` labelled "${options.tokenLabel}"` : ''}`,
      );
    }
    return new Pkcs11Token(module, slot, options);
  }

  /** Opens a read-write session and makes sure the user is logged in. */
  openSession(): Buffer {
    const session = this.module.C_OpenSession(
      this.#slot,
      pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION,
    );
    try {
      this.login(session);
    } catch (error) {
      this.module.C_CloseSession(session);
      throw error;
    }
    return session;
  }

  /**
   * Logs the crypto user in; "already logged in" is success (login is per token).
   * @throws HsmError HSM_LOGIN without the PIN in the message.
   */
  login(session: Buffer): void {
    try {
      this.module.C_Login(session, pkcs11js.CKU_USER, this.#pin);
    } catch (error) {
      if (ckr(error) !== pkcs11js.CKR_USER_ALREADY_LOGGED_IN) {
        throw new HsmError('HSM_LOGIN', `login to token "${this.tokenLabel}" failed`);
      }
    }
  }

  closeSession(session: Buffer): void {
    try {
      this.module.C_CloseSession(session);
    } catch {
      // The session is already gone (token removed, or closed by C_CloseAllSessions).
    }
  }

  /** Finalizes the library. Only after every session is closed and no call is in flight. */
  finalize(): void {
    if (this.#finalized) return;
    this.#finalized = true;
    this.module.C_Finalize();
  }
}
