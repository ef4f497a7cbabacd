/**
 * The narrow KMS interface the Model C keyring and the key helpers need: five operations (and
 * ReEncrypt, optional, for a rewrap) with plain inputs and outputs. `kmsApiFor` in
 * `src/aws/clients.ts` adapts the SDK's KMSClient to it; unit tests pass a fake. (Like the
 * ESDK's `kms_types.ts` and its `clientProvider`.)
 */

/** A KMS endpoint in one region. */
export interface KmsApi {
  /** The region this client talks to (the wrong-region check compares key ARNs with it). */
  readonly region: string;
  generateDataKey(input: {
    KeyId: string;
    NumberOfBytes: number;
    EncryptionContext: Record<string, string>;
    GrantTokens?: string[];
  }): Promise<{ KeyId?: string; Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array }>;
  encrypt(input: {
    KeyId: string;
    Plaintext: Uint8Array;
    EncryptionContext: Record<string, string>;
    GrantTokens?: string[];
  }): Promise<{ KeyId?: string; CiphertextBlob?: Uint8Array }>;
  decrypt(input: {
    KeyId: string;
    CiphertextBlob: Uint8Array;
    EncryptionContext: Record<string, string>;
    GrantTokens?: string[];
  }): Promise<{ KeyId?: string; Plaintext?: Uint8Array }>;
  /**
   * Optional: KMS ReEncrypt, which unwraps a ciphertext and wraps its plaintext under another key
   * inside KMS ([Note: rewrap and KMS ReEncrypt] in core/rewrap-reencrypt.ts).
   */
  reEncrypt?(input: {
    CiphertextBlob: Uint8Array;
    SourceKeyId: string;
    SourceEncryptionContext: Record<string, string>;
    DestinationKeyId: string;
    DestinationEncryptionContext: Record<string, string>;
    GrantTokens?: string[];
  }): Promise<{ KeyId?: string; SourceKeyId?: string; CiphertextBlob?: Uint8Array }>;
  describeKey(input: { KeyId: string }): Promise<{ KeyMetadata?: KmsKeyMetadata }>;
  listAliases(input: { Marker?: string; Limit?: number }): Promise<{
    Aliases?: { AliasName?: string; AliasArn?: string; TargetKeyId?: string }[];
    NextMarker?: string;
    Truncated?: boolean;
  }>;
}

/** The DescribeKey fields Veil reads. */
export interface KmsKeyMetadata {
  KeyId?: string;
  Arn?: string;
  Enabled?: boolean;
  KeyState?: string;
  KeyUsage?: string;
  KeySpec?: string;
  KeyManager?: string;
  Description?: string;
  DeletionDate?: Date;
  MultiRegion?: boolean;
}

/**
 * Gives the KMS client for a region (undefined: the default region), or undefined when that
 * region cannot be reached from here (for example a KMS endpoint override pinned to one region);
 * the keyring then reports KMS_WRONG_REGION.
 */
export type KmsClientSupplier = (region: string | undefined) => KmsApi | undefined;
