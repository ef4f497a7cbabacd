/**
 * Model A: the ESDK raw AES keyring (FORMAT.md section 6), on WebCrypto only.
 *
 * EDK: provider id = key namespace; provider info = UTF-8(key name) || u32 128 (tag bits) ||
 * u32 12 (IV bytes) || IV; ciphertext = AES-GCM(wrapping key, IV, AAD = serialized EC without
 * the length prefix, data key) = 32 + 16 bytes. Wrapping keys of 128, 192 or 256 bits.
 */
import { asBufferSource, compareBytes, utf8 } from '../core/bytes';
import {
  LOCATION_PROVIDER_ID,
  RAW_AES_IV_BYTES as IV_BYTES,
  RAW_AES_TAG_BITS as TAG_BITS,
  VeilError,
  needs,
  parseRawAesProviderInfo,
  serializeEncryptionContext,
  serializeRawAesProviderInfo,
} from '../core';
import type {
  DecryptRequest,
  EncryptRequest,
  EncryptResult,
  EncryptedDataKey,
  Keyring,
  RawAesKeyMaterial,
} from '../core';
const DATA_KEY_BYTES = 32;

/** Options of a raw AES keyring built around an existing key. */
export interface RawAesKeyringOptions {
  /** The provider id (e.g. `veil`); must not start with `aws-kms`. */
  readonly keyNamespace: string;
  /** The key name recorded in each EDK (the key file's `kid`). */
  readonly keyName: string;
  /** An AES-GCM key of 128, 192 or 256 bits with encrypt and decrypt usages; best non-extractable. */
  readonly wrappingKey: CryptoKey;
}

/** The raw AES keyring. Build it with `new` from a CryptoKey, or `RawAesKeyring.fromBytes`. */
export class RawAesKeyring implements Keyring {
  readonly keyNamespace: string;
  readonly keyName: string;
  private readonly wrappingKey: CryptoKey;
  private readonly keyNameBytes: Uint8Array;

  /**
   * @throws VeilError KEYRING_INVALID for an empty or reserved namespace, an empty name, or a
   *   key that is not AES-GCM; BAD_ARGUMENT when it is not a CryptoKey.
   */
  constructor(options: RawAesKeyringOptions) {
    // Precondition: names are non-empty strings; the namespace is not reserved for KMS.
    needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
    const { keyNamespace, keyName, wrappingKey } = options;
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
      keyNamespace !== LOCATION_PROVIDER_ID,
      'KEYRING_INVALID',
      `namespace "${LOCATION_PROVIDER_ID}" is reserved for the location binding`,
    );
    needs(typeof keyName === 'string' && keyName.length > 0, 'KEYRING_INVALID', 'key name');
    // Precondition: an AES-GCM CryptoKey (WebCrypto AES keys are 128, 192 or 256 bits).
    needs(wrappingKey instanceof CryptoKey, 'BAD_ARGUMENT', 'wrappingKey');
    needs(
      wrappingKey.algorithm.name === 'AES-GCM',
      'KEYRING_INVALID',
      'the wrapping key must be AES-GCM',
    );
    this.keyNamespace = keyNamespace;
    this.keyName = keyName;
    this.wrappingKey = wrappingKey;
    this.keyNameBytes = utf8(keyName);
  }

  /**
   * Imports raw key bytes (16, 24 or 32) as a non-extractable key and builds the keyring.
   * Takes ownership of `material.keyBytes`: the buffer is zeroed, also on failure.
   * @throws VeilError KEYRING_INVALID as the constructor, OUT_OF_RANGE for a wrong key length.
   */
  static async fromBytes(material: RawAesKeyMaterial): Promise<RawAesKeyring> {
    const { keyBytes } = material;
    try {
      // Precondition: 16, 24 or 32 key bytes.
      needs(keyBytes instanceof Uint8Array, 'BAD_ARGUMENT', 'keyBytes');
      needs([16, 24, 32].includes(keyBytes.length), 'OUT_OF_RANGE', 'keyBytes: 16, 24 or 32');
      const wrappingKey = await crypto.subtle.importKey(
        'raw',
        asBufferSource(keyBytes),
        { name: 'AES-GCM' },
        false,
        ['encrypt', 'decrypt'],
      );
      return new RawAesKeyring({
        keyNamespace: material.keyNamespace,
        keyName: material.keyName,
        wrappingKey,
      });
    } finally {
      if (keyBytes instanceof Uint8Array) keyBytes.fill(0);
    }
  }

  /** Wraps the data key (generating one when none is given) into one EDK. */
  async onEncrypt(request: EncryptRequest): Promise<EncryptResult> {
    const generated = request.dataKey === undefined;
    const dataKey = request.dataKey ?? crypto.getRandomValues(new Uint8Array(DATA_KEY_BYTES));
    try {
      // Precondition: a 32-byte data key.
      needs(dataKey.length === DATA_KEY_BYTES, 'KEYRING_INVALID', 'data key must be 32 bytes');
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const aad = serializeEncryptionContext(request.encryptionContext);
      const ciphertext = new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv, additionalData: asBufferSource(aad), tagLength: TAG_BITS },
          this.wrappingKey,
          asBufferSource(dataKey),
        ),
      );
      const edk: EncryptedDataKey = {
        providerId: this.keyNamespace,
        providerInfo: serializeRawAesProviderInfo(this.keyNameBytes, iv),
        ciphertext,
      };
      return { dataKey, encryptedDataKeys: [edk] };
    } catch (error) {
      if (generated) dataKey.fill(0);
      throw error;
    }
  }

  /**
   * The wrap IV when `edk` names this keyring's namespace and key with the ESDK's parameters
   * ([Note: raw AES provider info] in src/core/provider-info.ts), else undefined.
   */
  private ivIfMine(edk: EncryptedDataKey): Uint8Array | undefined {
    if (edk.providerId !== this.keyNamespace) return undefined;
    const info = parseRawAesProviderInfo(edk.providerInfo);
    return info && compareBytes(info.keyNameBytes, this.keyNameBytes) === 0 ? info.iv : undefined;
  }

  /**
   * Unwraps the first EDK addressed to this key that opens.
   * Returns undefined when no EDK names this namespace and key.
   * @throws VeilError WRONG_KEY when EDKs name this key but none opens.
   */
  async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const candidates = request.encryptedDataKeys.flatMap((edk) => {
      const iv = this.ivIfMine(edk);
      return iv ? [{ edk, iv }] : [];
    });
    if (candidates.length === 0) return undefined;
    const aad = asBufferSource(serializeEncryptionContext(request.encryptionContext));
    for (const { edk, iv } of candidates) {
      try {
        const dataKey = new Uint8Array(
          await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv: asBufferSource(iv), additionalData: aad, tagLength: TAG_BITS },
            this.wrappingKey,
            asBufferSource(edk.ciphertext),
          ),
        );
        if (dataKey.length === DATA_KEY_BYTES) return dataKey;
        dataKey.fill(0);
      } catch {
        // Try the next candidate; WRONG_KEY below if none opens.
      }
    }
    throw new VeilError('WRONG_KEY', `key "${this.keyName}" in namespace "${this.keyNamespace}"`);
  }
}
