/**
 * Sharing with a person: the ESDK raw RSA keyring, on WebCrypto only, byte-compatible with the
 * official one (client-node's `RawRsaKeyringNode` with `oaepHash: 'sha256'` opens what it writes
 * and the other way round).
 *
 * EDK: provider id = key namespace (`veil-person` for Veil's people); provider info = UTF-8(key
 * name), nothing else (unlike raw AES there is no IV); ciphertext = RSA-OAEP(public key, data
 * key) with SHA-256 and MGF1-SHA-256 ([Note: RSA-OAEP parameters] in rsa-keys.ts), as long as
 * the modulus (512 bytes for 4096 bits). The key name of a person's key is its fingerprint
 * ([Note: a person's key] in src/core/provider-info.ts).
 *
 * [Note: RSA wraps are not bound to the context] Unlike AES-GCM, RSA-OAEP takes no associated
 * data, so the EDK is not bound to the encryption context (the ESDK's raw RSA keyring is the
 * same). The header authentication tag and key commitment still bind the whole header, context
 * included, to the data key, so a changed context fails HEADER_TAMPERED as for any other key.
 *
 * A keyring with only a public key wraps (sharing: rewrap's `addWith`) and answers undefined on
 * decrypt; one with a private key unwraps.
 */
import { asBufferSource, utf8 } from '../core/bytes';
import { VeilError, needs } from '../core/errors';
import type {
  DecryptRequest,
  EncryptRequest,
  EncryptResult,
  EncryptedDataKey,
  Keyring,
} from '../core/keyring';
import { PERSON_PROVIDER_ID } from '../core/provider-info';
import { RSA_OAEP_SHA256, importPublicKey, spkiFingerprint } from './rsa-keys';

const DATA_KEY_BYTES = 32;

/** Options of a raw RSA keyring. */
export interface RawRsaKeyringOptions {
  /** The provider id; default `veil-person`. Must not start with `aws-kms`. */
  readonly keyNamespace?: string;
  /** The key name recorded in each EDK (for a person: their key's fingerprint). */
  readonly keyName: string;
  /** RSA-OAEP SHA-256 public key with the `encrypt` usage: wraps data keys. */
  readonly publicKey?: CryptoKey;
  /** RSA-OAEP SHA-256 private key with the `decrypt` usage: unwraps them. Best non-extractable. */
  readonly privateKey?: CryptoKey;
}

function checkKey(key: CryptoKey | undefined, usage: KeyUsage, what: string): void {
  if (key === undefined) return;
  // Precondition: an RSA-OAEP CryptoKey with SHA-256 that allows `usage`.
  needs(key instanceof CryptoKey, 'BAD_ARGUMENT', what);
  const algorithm = key.algorithm as RsaHashedKeyAlgorithm;
  needs(
    algorithm.name === RSA_OAEP_SHA256.name && algorithm.hash?.name === RSA_OAEP_SHA256.hash,
    'KEYRING_INVALID',
    `the ${what} must be RSA-OAEP with SHA-256`,
  );
  needs(key.usages.includes(usage), 'KEYRING_INVALID', `the ${what} must allow ${usage}`);
}

/** The raw RSA keyring. */
export class RawRsaKeyring implements Keyring {
  readonly keyNamespace: string;
  readonly keyName: string;
  readonly #publicKey: CryptoKey | undefined;
  readonly #privateKey: CryptoKey | undefined;
  readonly #keyNameBytes: Uint8Array;

  /**
   * @throws VeilError KEYRING_INVALID for an empty or reserved namespace, an empty name, no key,
   *   or a key that is not RSA-OAEP SHA-256 with the right usage; BAD_ARGUMENT for a non-key.
   */
  constructor(options: RawRsaKeyringOptions) {
    needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
    const keyNamespace = options.keyNamespace ?? PERSON_PROVIDER_ID;
    // Precondition: non-empty names; the namespace is not reserved for KMS.
    needs(
      typeof keyNamespace === 'string' && keyNamespace.length > 0,
      'KEYRING_INVALID',
      'namespace',
    );
    needs(
      !keyNamespace.startsWith('aws-kms'),
      'KEYRING_INVALID',
      'namespace "aws-kms" is reserved',
    );
    needs(
      typeof options.keyName === 'string' && options.keyName.length > 0,
      'KEYRING_INVALID',
      'key name',
    );
    needs(
      options.publicKey !== undefined || options.privateKey !== undefined,
      'KEYRING_INVALID',
      'a public or a private key',
    );
    checkKey(options.publicKey, 'encrypt', 'public key');
    checkKey(options.privateKey, 'decrypt', 'private key');
    this.keyNamespace = keyNamespace;
    this.keyName = options.keyName;
    this.#publicKey = options.publicKey;
    this.#privateKey = options.privateKey;
    this.#keyNameBytes = utf8(options.keyName);
  }

  /**
   * A keyring that wraps for a person's public key (SPKI DER), named by its fingerprint.
   * @throws VeilError PERSON_ENTRY_INVALID when the bytes are not an RSA key of >= 2048 bits.
   */
  static async forPublicKey(spki: Uint8Array): Promise<RawRsaKeyring> {
    const publicKey = await importPublicKey(spki);
    return new RawRsaKeyring({ keyName: await spkiFingerprint(spki), publicKey });
  }

  /** Wraps the data key (generating one when none is given) into one EDK. */
  async onEncrypt(request: EncryptRequest): Promise<EncryptResult> {
    if (this.#publicKey === undefined) {
      throw new VeilError(
        'KEYRING_INVALID',
        `key "${this.keyName}" has no public key to wrap with`,
      );
    }
    const generated = request.dataKey === undefined;
    const dataKey = request.dataKey ?? crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
    try {
      // Precondition: a 32-byte data key.
      needs(dataKey.length === DATA_KEY_BYTES, 'KEYRING_INVALID', 'data key must be 32 bytes');
      const ciphertext = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: RSA_OAEP_SHA256.name },
          this.#publicKey,
          asBufferSource(dataKey),
        ),
      );
      const edk: EncryptedDataKey = {
        providerId: this.keyNamespace,
        providerInfo: this.#keyNameBytes.slice(),
        ciphertext,
      };
      return { dataKey, encryptedDataKeys: [edk] };
    } catch (error) {
      if (generated) dataKey.fill(0);
      throw error;
    }
  }

  /** True when `edk` names this keyring's namespace and key name exactly. */
  #isMine(edk: EncryptedDataKey): boolean {
    if (edk.providerId !== this.keyNamespace) return false;
    const info = edk.providerInfo;
    return (
      info.length === this.#keyNameBytes.length &&
      info.every((byte, index) => byte === this.#keyNameBytes[index])
    );
  }

  /**
   * Unwraps the first EDK addressed to this key that opens. Undefined when no EDK names this
   * namespace and key, or when the keyring has no private key.
   * @throws VeilError WRONG_KEY when EDKs name this key but none opens with the private key.
   */
  async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const privateKey = this.#privateKey;
    if (privateKey === undefined) return undefined;
    const candidates = request.encryptedDataKeys.filter((edk) => this.#isMine(edk));
    if (candidates.length === 0) return undefined;
    for (const edk of candidates) {
      try {
        const dataKey = new Uint8Array(
          await crypto.subtle.decrypt(
            { name: RSA_OAEP_SHA256.name },
            privateKey,
            asBufferSource(edk.ciphertext),
          ),
        );
        if (dataKey.length === DATA_KEY_BYTES) return dataKey;
        dataKey.fill(0);
      } catch {
        // Try the next candidate; WRONG_KEY below if none opens.
      }
    }
    throw new VeilError(
      'WRONG_KEY',
      `person key ${this.keyName} in namespace "${this.keyNamespace}"`,
    );
  }
}
