/**
 * Key operations on the HSM: make a data key and wrap it, unwrap a data key, list, describe and
 * create wrapping keys. Wrapping is AES-256-GCM inside the HSM (CKM_AES_GCM through
 * C_Encrypt/C_Decrypt) under a non-extractable token key found by label, bound to the caller's
 * AAD. A wrapped key is `iv (12) || ciphertext (32) || tag (16)`, 60 bytes.
 */
import pkcs11js from 'pkcs11js';
import { ckr, HsmError, type Pkcs11Token } from './pkcs11';
import type { PooledSession, SessionPool } from './pool';

export const DATA_KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const WRAPPED_BYTES = IV_BYTES + DATA_KEY_BYTES + TAG_BYTES;

/**
 * What C_Decrypt answers when the AES-GCM tag does not verify (wrong AAD, altered blob, another
 * key): SoftHSM2 2.6.1 says CKR_GENERAL_ERROR, the standard and CloudHSM CKR_ENCRYPTED_DATA_*.
 */
export const UNWRAP_REFUSED = new Set<number>([
  pkcs11js.CKR_ENCRYPTED_DATA_INVALID,
  pkcs11js.CKR_ENCRYPTED_DATA_LEN_RANGE,
  pkcs11js.CKR_GENERAL_ERROR,
]);

/** Public facts about a key: nothing that could reveal its value. */
export interface HsmKeyInfo {
  label: string;
  bits: number;
  extractable: boolean;
  sensitive: boolean;
  canEncrypt: boolean;
  canDecrypt: boolean;
}

/** A CK_ULONG attribute value (4 or 8 bytes, little-endian on the platforms we run on). */
function ulong(value: Buffer): number {
  return value.length === 8 ? Number(value.readBigUInt64LE(0)) : value.readUInt32LE(0);
}

function gcm(iv: Buffer, aad: Buffer): pkcs11js.Mechanism {
  const parameter: pkcs11js.AesGCM = {
    type: pkcs11js.CK_PARAMS_AES_GCM,
    iv,
    aad,
    ivBits: IV_BYTES * 8,
    tagBits: TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

/** The key operations the HTTP layer needs; HsmKeys implements them on a PKCS#11 token. */
export interface KeyService {
  generateDataKey(label: string, aad: Buffer): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  encryptDataKey(label: string, plaintext: Buffer, aad: Buffer): Promise<Buffer>;
  decryptDataKey(label: string, wrapped: Buffer, aad: Buffer): Promise<Buffer>;
  listLabels(): Promise<string[]>;
  describeKey(label: string): Promise<HsmKeyInfo | undefined>;
  createKey(label: string): Promise<void>;
}

export class HsmKeys implements KeyService {
  readonly #token: Pkcs11Token;
  readonly #pool: SessionPool;
  #creating: Promise<unknown> = Promise.resolve();

  constructor(token: Pkcs11Token, pool: SessionPool) {
    this.#token = token;
    this.#pool = pool;
  }

  /** Secret-key handles with this label in this session (normally zero or one). */
  #find(session: Buffer, label: string): Buffer[] {
    const module = this.#token.module;
    module.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_LABEL, value: label },
    ]);
    try {
      return module.C_FindObjects(session, 16);
    } finally {
      module.C_FindObjectsFinal(session);
    }
  }

  #keyHandle(session: PooledSession, label: string): Buffer {
    const cached = session.keys.get(label);
    if (cached) return cached;
    const handles = this.#find(session.handle, label);
    const [handle] = handles;
    if (!handle) throw new HsmError('HSM_KEY_NOT_FOUND', `no key labelled "${label}"`);
    if (handles.length > 1) {
      throw new HsmError(
        'HSM_FAILED',
        `the label "${label}" names ${handles.length} keys; an administrator must resolve it`,
      );
    }
    session.keys.set(label, handle);
    return handle;
  }

  /**
   * Runs `op` with the key's handle in a pooled session. Retries once after
   * CKR_OBJECT_HANDLE_INVALID (the key is looked up again) and after CKR_USER_NOT_LOGGED_IN
   * (the session logs in again). Public for the XKS operations (xks/hsm-gcm.ts).
   * @throws HsmError HSM_KEY_NOT_FOUND.
   */
  withKey<T>(label: string, op: (session: Buffer, key: Buffer) => Promise<T>): Promise<T> {
    return this.#pool.use(async (session) => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await op(session.handle, this.#keyHandle(session, label));
        } catch (error) {
          const code = ckr(error);
          if (attempt > 0) throw error;
          if (
            code === pkcs11js.CKR_OBJECT_HANDLE_INVALID ||
            code === pkcs11js.CKR_KEY_HANDLE_INVALID
          ) {
            session.keys.delete(label);
          } else if (code === pkcs11js.CKR_USER_NOT_LOGGED_IN) {
            this.#token.login(session.handle);
          } else {
            throw error;
          }
        }
      }
    });
  }

  /**
   * 32 random bytes from the HSM, returned in clear and wrapped under `label` with `aad`.
   * The caller owns both buffers and zeroes the plaintext after use.
   * @throws HsmError HSM_KEY_NOT_FOUND.
   */
  generateDataKey(label: string, aad: Buffer): Promise<{ plaintext: Buffer; wrapped: Buffer }> {
    const module = this.#token.module;
    return this.withKey(label, async (session, key) => {
      const plaintext = module.C_GenerateRandom(session, Buffer.alloc(DATA_KEY_BYTES));
      return { plaintext, wrapped: await this.#wrap(session, key, plaintext, aad) };
    });
  }

  /**
   * Wraps a data key the caller already has (a second EDK for the same message).
   * @throws HsmError HSM_KEY_NOT_FOUND.
   */
  encryptDataKey(label: string, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    if (plaintext.length !== DATA_KEY_BYTES) {
      return Promise.reject(new HsmError('HSM_FAILED', `a data key is ${DATA_KEY_BYTES} bytes`));
    }
    return this.withKey(label, (session, key) => this.#wrap(session, key, plaintext, aad));
  }

  async #wrap(session: Buffer, key: Buffer, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
    const module = this.#token.module;
    const iv = Buffer.alloc(IV_BYTES);
    if (this.#token.ivSource === 'caller') module.C_GenerateRandom(session, iv);
    module.C_EncryptInit(session, gcm(iv, aad), key);
    const sealed = await module.C_EncryptAsync(
      session,
      plaintext,
      Buffer.alloc(DATA_KEY_BYTES + TAG_BYTES),
    );
    // The IV is read back now: an HSM that picks its own IV (CloudHSM) wrote it into `iv`.
    if (iv.every((byte) => byte === 0))
      throw new HsmError('HSM_FAILED', 'the HSM returned no AES-GCM IV');
    return Buffer.concat([iv, sealed]);
  }

  /**
   * Unwraps a data key wrapped by generateDataKey under `label` with the same `aad`.
   * @throws HsmError HSM_UNWRAP_FAILED when the blob, the AAD or the key does not match.
   */
  decryptDataKey(label: string, wrapped: Buffer, aad: Buffer): Promise<Buffer> {
    if (wrapped.length !== WRAPPED_BYTES) {
      return Promise.reject(
        new HsmError('HSM_UNWRAP_FAILED', `a wrapped key is ${WRAPPED_BYTES} bytes`),
      );
    }
    const module = this.#token.module;
    return this.withKey(label, async (session, key) => {
      module.C_DecryptInit(session, gcm(Buffer.from(wrapped.subarray(0, IV_BYTES)), aad), key);
      let plaintext: Buffer;
      try {
        plaintext = await module.C_DecryptAsync(
          session,
          wrapped.subarray(IV_BYTES),
          Buffer.alloc(DATA_KEY_BYTES + TAG_BYTES),
        );
      } catch (error) {
        // Only a failed tag check means "does not open"; anything else is the HSM's own failure
        // and passes through (the pool replaces lost sessions, the API answers 503).
        if (!UNWRAP_REFUSED.has(ckr(error) ?? -1)) throw error;
        throw new HsmError(
          'HSM_UNWRAP_FAILED',
          'the wrapped key does not open with this key label and AAD',
          { cause: error },
        );
      }
      if (plaintext.length !== DATA_KEY_BYTES) {
        plaintext.fill(0);
        throw new HsmError('HSM_UNWRAP_FAILED', 'the unwrapped key has the wrong length');
      }
      return plaintext;
    });
  }

  /** Runs `op` with a pooled session of its own (the XKS health check asks the token). */
  withSession<T>(op: (session: Buffer) => Promise<T>): Promise<T> {
    return this.#pool.use((session) => op(session.handle));
  }

  /** Labels of the AES secret keys on the token, sorted. */
  listLabels(): Promise<string[]> {
    const module = this.#token.module;
    return this.#pool.use((session) => {
      module.C_FindObjectsInit(session.handle, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      ]);
      let handles: Buffer[];
      try {
        handles = module.C_FindObjects(session.handle, 1024);
      } finally {
        module.C_FindObjectsFinal(session.handle);
      }
      const labels = handles.map((handle) => {
        const [attr] = module.C_GetAttributeValue(session.handle, handle, [
          { type: pkcs11js.CKA_LABEL },
        ]);
        return attr?.value?.toString('utf8') ?? '';
      });
      return Promise.resolve([...new Set(labels.filter(Boolean))].sort());
    });
  }

  /** Describes the key with this label, or returns undefined when there is none. */
  describeKey(label: string): Promise<HsmKeyInfo | undefined> {
    const module = this.#token.module;
    return this.#pool.use((session) => {
      const [handle] = this.#find(session.handle, label);
      if (!handle) return Promise.resolve(undefined);
      const attrs = module.C_GetAttributeValue(session.handle, handle, [
        { type: pkcs11js.CKA_VALUE_LEN },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_ENCRYPT },
        { type: pkcs11js.CKA_DECRYPT },
      ]);
      const buf = (index: number): Buffer => attrs[index]?.value as Buffer;
      const flag = (index: number): boolean => buf(index)[0] === 1;
      return Promise.resolve({
        label,
        bits: ulong(buf(0)) * 8,
        extractable: flag(1),
        sensitive: flag(2),
        canEncrypt: flag(3),
        canDecrypt: flag(4),
      });
    });
  }

  /**
   * Creates a non-extractable, sensitive AES-256 token key under `label`.
   * @throws HsmError HSM_KEY_EXISTS when the label is taken.
   */
  createKey(label: string): Promise<void> {
    const module = this.#token.module;
    // One create at a time: the check for an existing label and the creation are not atomic.
    const created = this.#creating.then(() =>
      this.#pool.use(async (session) => {
        if (this.#find(session.handle, label).length > 0) {
          throw new HsmError('HSM_KEY_EXISTS', `a key labelled "${label}" already exists`);
        }
        await module.C_GenerateKeyAsync(session.handle, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
          { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
          { type: pkcs11js.CKA_LABEL, value: label },
          { type: pkcs11js.CKA_VALUE_LEN, value: DATA_KEY_BYTES },
          { type: pkcs11js.CKA_TOKEN, value: true },
          { type: pkcs11js.CKA_PRIVATE, value: true },
          { type: pkcs11js.CKA_SENSITIVE, value: true },
          { type: pkcs11js.CKA_EXTRACTABLE, value: false },
          { type: pkcs11js.CKA_ENCRYPT, value: true },
          { type: pkcs11js.CKA_DECRYPT, value: true },
          { type: pkcs11js.CKA_WRAP, value: false },
          { type: pkcs11js.CKA_UNWRAP, value: false },
        ]);
      }),
    );
    this.#creating = created.catch(() => undefined);
    return created;
  }
}
