/**
 * The keyring interface: how a data key gets wrapped into encrypted data keys (EDKs) when a
 * message is written, and unwrapped from one of them when it is read. Model A (raw AES), Model B
 * (HSM proxy) and Model C (AWS KMS) are keyrings; a multi-keyring combines several on one message.
 * Keyrings are async and injected, so clients (KMS, fetch) come in through their constructors.
 */
import type { EncryptionContext } from './encryption-context';
import type { CommittingSuiteId } from './suites';

/** One EDK as stored in the header (FORMAT.md section 2, field 7). */
export interface EncryptedDataKey {
  /** UTF-8 provider id, e.g. the raw AES key namespace or `aws-kms`. */
  readonly providerId: string;
  /** Provider info bytes, e.g. key name || tag bits || IV bytes || IV for raw AES. */
  readonly providerInfo: Uint8Array;
  /** The wrapped data key. */
  readonly ciphertext: Uint8Array;
}

/** What a keyring gets when a message is written. */
export interface EncryptRequest {
  readonly suiteId: CommittingSuiteId;
  /** The full EC of the message (the wrap must be bound to it). */
  readonly encryptionContext: EncryptionContext;
  /**
   * The plaintext data key (32 bytes) when another keyring already produced it; absent when this
   * keyring is the generator and must produce one. Do not keep or modify it.
   */
  readonly dataKey?: Uint8Array;
}

/** What a keyring returns when a message is written. */
export interface EncryptResult {
  /** The data key: the one given, or a fresh one from the generator. Owned by the caller. */
  readonly dataKey: Uint8Array;
  /** The EDKs this keyring adds to the header (at least one). */
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
}

/** What a keyring gets when a message is read. */
export interface DecryptRequest {
  readonly suiteId: CommittingSuiteId;
  /** The EC the message was written with (header EC plus any reproduced EC). */
  readonly encryptionContext: EncryptionContext;
  /** All EDKs of the header, in order. */
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
}

/**
 * A keyring. `onDecrypt` returns the plaintext data key (owned by the caller, who zeroes it) or
 * `undefined` when none of the EDKs is one it can try; it throws VeilError WRONG_KEY when EDKs
 * addressed to it would not open.
 */
export interface Keyring {
  onEncrypt(request: EncryptRequest): Promise<EncryptResult>;
  onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined>;
}
