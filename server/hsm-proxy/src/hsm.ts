/**
 * The HSM behind the proxy as one object: the token, its session pool and the key operations.
 * `close` drains the pool before it finalizes the library.
 */
import { HsmKeys } from './keys';
import { Pkcs11Token, type HsmOptions } from './pkcs11';
import { SessionPool } from './pool';
import { HsmGcm } from './xks/hsm-gcm';

export { HsmError, type HsmOptions } from './pkcs11';
export type { HsmKeyInfo } from './keys';

export class Hsm {
  readonly keys: HsmKeys;
  /** AES-GCM on data of any length, for the XKS API (on the same pool). */
  readonly gcm: HsmGcm;
  readonly #token: Pkcs11Token;
  readonly #pool: SessionPool;
  #closing: Promise<void> | undefined;

  private constructor(token: Pkcs11Token, poolSize: number) {
    this.#token = token;
    this.#pool = new SessionPool(token, poolSize);
    this.keys = new HsmKeys(token, this.#pool);
    this.gcm = new HsmGcm(token, this.keys);
  }

  get tokenLabel(): string {
    return this.#token.tokenLabel;
  }

  get inFlight(): number {
    return this.#pool.inFlight;
  }

  /**
   * Opens the token and checks the PIN with one session.
   * @throws HsmError HSM_LIBRARY, HSM_TOKEN_NOT_FOUND or HSM_LOGIN.
   */
  static async open(options: HsmOptions, poolSize = 8): Promise<Hsm> {
    const token = Pkcs11Token.open(options);
    const hsm = new Hsm(token, poolSize);
    try {
      await hsm.#pool.use(() => Promise.resolve());
    } catch (error) {
      await hsm.close();
      throw error;
    }
    return hsm;
  }

  /** Waits for operations in flight, closes the sessions, finalizes the library. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.drain().then(() => this.#token.finalize());
    return this.#closing;
  }
}
