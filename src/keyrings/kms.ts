/**
 * Model C: the AWS KMS keyring, byte for byte the official ESDK KMS keyring's format
 * (FORMAT.md section 7), so any ESDK with access to the key decrypts Veil's objects and Veil
 * decrypts theirs.
 *
 * EDK: provider id `aws-kms`; provider info = UTF-8 of the full key ARN that KMS returned as
 * `KeyId`; ciphertext = the KMS `CiphertextBlob`. Encrypt: `GenerateDataKey` (32 bytes) with
 * the message's encryption context for the generator, `Encrypt` of the same data key for each
 * extra key. Decrypt: `Decrypt` with `KeyId` = the EDK's key ARN (which matched a configured
 * key) and the context; the response `KeyId` must equal it and the plaintext must be 32 bytes.
 *
 * [Note: KMS key names] Keys may be configured by alias name, alias ARN, key id or key ARN, but
 * an EDK always records the key ARN. On decrypt a configured key ARN is compared as is; any
 * other form is resolved once per keyring with DescribeKey and the result cached, as the
 * official keyring cannot (it matches only ARNs). A keyring in discovery mode has no keys: it
 * tries every `aws-kms` EDK whose ARN passes the optional account filter (decrypt only).
 *
 * Retries of throttled calls happen in the SDK client (see src/aws/clients.ts); what reaches
 * this file has already been retried, and becomes KMS_THROTTLED.
 */
import { fromUtf8, utf8 } from '../core/bytes';
import type { EncryptionContext } from '../core/encryption-context';
import { errorName } from '../core/aws-failure';
import { VeilError, needs } from '../core/errors';
import type {
  DecryptRequest,
  EncryptRequest,
  EncryptResult,
  EncryptedDataKey,
  Keyring,
} from '../core/keyring';
import type { KmsApi, KmsClientSupplier } from './kms-api';
import type { KmsKeyName } from './kms-arn';
import { asKeyArn, parseKmsKeyName, regionOfKeyName } from './kms-arn';
import { keyStateErrorCode, kmsError } from './kms-errors';

/** The provider id of every KMS EDK. */
export const KMS_PROVIDER_ID = 'aws-kms';
const DATA_KEY_BYTES = 32;

/** Which EDKs a discovery keyring may try. */
export interface KmsDiscoveryFilter {
  /** The AWS partition, e.g. `aws`. */
  readonly partition: string;
  /** Accounts whose keys may be used. */
  readonly accountIds: readonly string[];
}

/** Options of a KMS keyring. */
export interface KmsKeyringOptions {
  /** Gives a KMS client per region (see KmsClientSupplier). */
  readonly clients: KmsClientSupplier;
  /** The key that generates the data key (any of the four name forms). */
  readonly generatorKeyId?: string;
  /** More keys that each wrap the same data key (one EDK each). */
  readonly keyIds?: readonly string[];
  /**
   * Decrypt-only mode without configured keys: try any `aws-kms` EDK (optionally only keys of
   * these accounts). Used to open a file when the reader does not know which key wrapped it.
   */
  readonly discovery?: boolean | KmsDiscoveryFilter;
  /**
   * With `discovery: true`: the filter, found only when a file has a KMS EDK to try (the command
   * line asks STS for the caller's account then, not for files of other models); asked once, a
   * failure not kept.
   */
  readonly discoveryFilter?: () => Promise<KmsDiscoveryFilter>;
  /** KMS grant tokens passed on every call. */
  readonly grantTokens?: readonly string[];
}

/** The keyring for Model C. */
export class KmsKeyring implements Keyring {
  readonly generatorKeyId: string | undefined;
  readonly keyIds: readonly string[];
  readonly discovery: boolean | KmsDiscoveryFilter;
  private readonly clients: KmsClientSupplier;
  private readonly findFilter: (() => Promise<KmsDiscoveryFilter>) | undefined;
  private foundFilter: Promise<KmsDiscoveryFilter> | undefined;
  private readonly grantTokens: string[] | undefined;
  private readonly names: readonly KmsKeyName[];
  /** Configured keys resolved to key ARNs ([Note: KMS key names]); one lookup per keyring. */
  private resolved: Promise<ResolvedKeys> | undefined;

  /**
   * @throws VeilError BAD_ARGUMENT for missing options, KMS_KEY_INVALID for a key name in none
   *   of the four forms, KEYRING_INVALID for keys together with discovery or neither.
   */
  constructor(options: KmsKeyringOptions) {
    // Precondition: an options object with a client supplier.
    needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
    needs(typeof options.clients === 'function', 'BAD_ARGUMENT', 'clients');
    const keyIds = [...(options.keyIds ?? [])];
    const discovery = options.discovery ?? false;
    const all = options.generatorKeyId === undefined ? keyIds : [options.generatorKeyId, ...keyIds];
    // Precondition: either keys or discovery, never both (as the ESDK's keyring).
    needs(
      discovery ? all.length === 0 : all.length > 0,
      'KEYRING_INVALID',
      discovery ? 'a discovery KMS keyring takes no keys' : 'a KMS keyring needs a key',
    );
    if (typeof discovery === 'object') {
      // Precondition: a filter names a partition and at least one account.
      needs(
        typeof discovery.partition === 'string' && discovery.accountIds.length > 0,
        'KEYRING_INVALID',
        'discovery filter',
      );
    }
    // Precondition: a filter to find only on a discovery keyring without one.
    needs(
      options.discoveryFilter === undefined ||
        (discovery === true && typeof options.discoveryFilter === 'function'),
      'KEYRING_INVALID',
      'discoveryFilter needs discovery: true',
    );
    this.findFilter = options.discoveryFilter;
    this.names = all.map((text) => parseKmsKeyName(text));
    this.generatorKeyId = options.generatorKeyId;
    this.keyIds = keyIds;
    this.discovery = discovery;
    this.clients = options.clients;
    this.grantTokens = options.grantTokens ? [...options.grantTokens] : undefined;
  }

  /**
   * Generates the data key with the generator (when none is given) and wraps it under every key.
   * @throws VeilError KEYRING_INVALID in discovery mode or when there is neither a generator nor
   *   a data key; the KMS_* and CREDENTIALS_* codes of kmsError; KMS_INVALID_RESPONSE when KMS
   *   answers without an ARN or with a data key that is not 32 bytes; KMS_WRONG_REGION.
   */
  async onEncrypt(request: EncryptRequest): Promise<EncryptResult> {
    // Precondition: keys to encrypt with.
    needs(!this.discovery, 'KEYRING_INVALID', 'a discovery KMS keyring cannot encrypt');
    const context = plainContext(request.encryptionContext);
    const edks: EncryptedDataKey[] = [];
    let dataKey = request.dataKey;
    const generated = dataKey === undefined;
    try {
      let wrapWith = this.names;
      if (dataKey === undefined) {
        const [generator, ...rest] = this.names;
        // Precondition: only a generator may produce the data key.
        needs(
          this.generatorKeyId !== undefined && generator,
          'KEYRING_INVALID',
          'no generator key',
        );
        const made = await this.call(generator, 'GenerateDataKey', (api) =>
          api.generateDataKey({
            KeyId: generator.text,
            NumberOfBytes: DATA_KEY_BYTES,
            EncryptionContext: context,
            ...this.tokens(),
          }),
        );
        dataKey = takePlaintext(made.Plaintext, 'GenerateDataKey');
        edks.push(toEdk(made.KeyId, made.CiphertextBlob, 'GenerateDataKey'));
        wrapWith = rest;
      }
      // Precondition: a 32-byte data key from the caller.
      needs(dataKey.length === DATA_KEY_BYTES, 'KEYRING_INVALID', 'data key must be 32 bytes');
      const plaintext = dataKey;
      for (const name of wrapWith) {
        const wrapped = await this.call(name, 'Encrypt', (api) =>
          api.encrypt({
            KeyId: name.text,
            Plaintext: plaintext,
            EncryptionContext: context,
            ...this.tokens(),
          }),
        );
        edks.push(toEdk(wrapped.KeyId, wrapped.CiphertextBlob, 'Encrypt'));
      }
      return { dataKey, encryptedDataKeys: edks };
    } catch (error) {
      if (generated && dataKey) dataKey.fill(0);
      throw error;
    }
  }

  /**
   * Unwraps the first KMS EDK addressed to a configured key (or, in discovery mode, any KMS
   * EDK the filter allows). Returns undefined when no EDK is addressed to this keyring.
   * @throws VeilError with the first failure when EDKs were addressed to it but none opened
   *   (KMS_CONTEXT_MISMATCH, KMS_ACCESS_DENIED, KMS_KEY_DISABLED, KMS_INVALID_RESPONSE, ...);
   *   each EDK is tried before that.
   */
  async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const kmsEdks = request.encryptedDataKeys.filter((edk) => edk.providerId === KMS_PROVIDER_ID);
    if (kmsEdks.length === 0) return undefined;
    const allowed = this.discovery ? undefined : await this.resolveKeys();
    const filter = typeof this.discovery === 'object' ? this.discovery : await this.filterFound();
    const context = plainContext(request.encryptionContext);
    const errors: VeilError[] = [...(allowed?.errors ?? [])];
    let tried = 0;
    for (const edk of kmsEdks) {
      const arnText = decodeArn(edk.providerInfo);
      const arn = arnText === undefined ? undefined : asKeyArn(arnText);
      // The spec's precondition: provider info is a key ARN; anything else is not for us.
      if (!arn || !this.mayTry(arn, allowed, filter)) continue;
      tried += 1;
      try {
        const opened = await this.call(arn, 'Decrypt', (api) =>
          api.decrypt({
            KeyId: arn.text,
            CiphertextBlob: edk.ciphertext,
            EncryptionContext: context,
            ...this.tokens(),
          }),
        );
        if (opened.KeyId !== arn.text) {
          opened.Plaintext?.fill(0);
          throw new VeilError('KMS_INVALID_RESPONSE', 'Decrypt answered for another key');
        }
        return takePlaintext(opened.Plaintext, 'Decrypt');
      } catch (error) {
        // As the ESDK: any failure, an unusable answer included, is kept and the next EDK tried.
        errors.push(kmsError(error, 'Decrypt', arn.text));
      }
    }
    if (tried === 0 && errors.length === 0) return undefined;
    const [first] = errors;
    if (first) throw first;
    return undefined;
  }

  /** True when the EDK's ARN is one this keyring may send to KMS. */
  private mayTry(
    arn: Extract<KmsKeyName, { kind: 'key-arn' }>,
    allowed: ResolvedKeys | undefined,
    filter: KmsDiscoveryFilter | undefined,
  ): boolean {
    if (allowed) return allowed.arns.has(arn.text);
    if (filter)
      return arn.partition === filter.partition && filter.accountIds.includes(arn.accountId);
    return true;
  }

  /** The discovery filter to find, found once (a failure is not kept); undefined when none. */
  private async filterFound(): Promise<KmsDiscoveryFilter | undefined> {
    if (!this.findFilter) return undefined;
    const pending = (this.foundFilter ??= this.findFilter());
    try {
      const filter = await pending;
      // Precondition: a filter names a partition and at least one account.
      needs(
        typeof filter?.partition === 'string' && filter.accountIds.length > 0,
        'KEYRING_INVALID',
        'discovery filter',
      );
      return filter;
    } catch (error) {
      if (this.foundFilter === pending) this.foundFilter = undefined;
      throw error;
    }
  }

  /** Resolves configured keys to key ARNs once ([Note: KMS key names]). */
  private resolveKeys(): Promise<ResolvedKeys> {
    if (this.resolved) return this.resolved;
    const pending = (async (): Promise<ResolvedKeys> => {
      const arns = new Set<string>();
      const errors: VeilError[] = [];
      for (const name of this.names) {
        if (name.kind === 'key-arn') {
          arns.add(name.text);
          continue;
        }
        try {
          const described = await this.call(name, 'DescribeKey', (api) =>
            api.describeKey({ KeyId: name.text }),
          );
          const arn = described.KeyMetadata?.Arn;
          if (arn && asKeyArn(arn)) arns.add(arn);
          else errors.push(new VeilError('KMS_INVALID_RESPONSE', 'DescribeKey without a key ARN'));
        } catch (error) {
          errors.push(kmsError(error, 'DescribeKey', name.text));
        }
      }
      return { arns, errors };
    })();
    this.resolved = pending;
    // A failed lookup (network, credentials) should not stick: try again next time.
    void pending.then((result) => {
      if (result.errors.length > 0 && this.resolved === pending) this.resolved = undefined;
    });
    return pending;
  }

  /**
   * Runs one KMS call with the client for the key's region and maps failures; when KMS says the
   * key is in an unusable state, DescribeKey tells which (disabled, pending deletion, ...).
   */
  private async call<T>(
    name: KmsKeyName,
    operation: string,
    run: (api: KmsApi) => Promise<T>,
  ): Promise<T> {
    const region = regionOfKeyName(name);
    const api = this.clients(region);
    if (!api) throw new VeilError('KMS_WRONG_REGION', `${name.text} is in ${region ?? '?'}`);
    if (region !== undefined && region !== api.region) {
      throw new VeilError('KMS_WRONG_REGION', `${name.text} is not in ${api.region}`);
    }
    try {
      return await run(api);
    } catch (error) {
      const mapped = kmsError(error, operation, name.text);
      if (
        operation !== 'DescribeKey' &&
        (errorName(error) === 'KMSInvalidStateException' ||
          errorName(error) === 'DisabledException')
      ) {
        throw await refineState(api, name.text, mapped);
      }
      throw mapped;
    }
  }

  private tokens(): { GrantTokens?: string[] } {
    return this.grantTokens ? { GrantTokens: [...this.grantTokens] } : {};
  }
}

interface ResolvedKeys {
  readonly arns: Set<string>;
  readonly errors: readonly VeilError[];
}

/** Asks DescribeKey for the key state behind an invalid-state error; keeps `fallback` if unknown. */
async function refineState(api: KmsApi, keyId: string, fallback: VeilError): Promise<VeilError> {
  try {
    const described = await api.describeKey({ KeyId: keyId });
    const state = described.KeyMetadata?.KeyState;
    const code = keyStateErrorCode(state);
    if (code) return new VeilError(code, `${keyId}: ${state ?? ''}`, { cause: fallback });
  } catch {
    // Keep the original error: DescribeKey may itself be denied.
  }
  return fallback;
}

/** The EC as the plain string map the SDK serializes. */
function plainContext(context: EncryptionContext): Record<string, string> {
  return { ...context };
}

/** Provider info as UTF-8 text, undefined when it is not valid UTF-8. */
function decodeArn(info: Uint8Array): string | undefined {
  try {
    return fromUtf8(info, 'KMS provider info');
  } catch {
    return undefined;
  }
}

/**
 * Copies a KMS plaintext into a buffer of its own and zeroes the SDK's (which may be a view
 * into a shared buffer).
 * @throws VeilError KMS_INVALID_RESPONSE when it is missing or not 32 bytes.
 */
function takePlaintext(plaintext: Uint8Array | undefined, operation: string): Uint8Array {
  if (!(plaintext instanceof Uint8Array) || plaintext.length !== DATA_KEY_BYTES) {
    plaintext?.fill(0);
    throw new VeilError('KMS_INVALID_RESPONSE', `${operation}: data key is not 32 bytes`);
  }
  const copy = new Uint8Array(plaintext);
  plaintext.fill(0);
  return copy;
}

/**
 * Builds the EDK from a KMS response.
 * @throws VeilError KMS_INVALID_RESPONSE when the key id is not a key ARN or the blob is missing.
 */
function toEdk(
  keyId: string | undefined,
  blob: Uint8Array | undefined,
  operation: string,
): EncryptedDataKey {
  if (keyId === undefined || !asKeyArn(keyId)) {
    throw new VeilError('KMS_INVALID_RESPONSE', `${operation}: KeyId is not a key ARN`);
  }
  if (!(blob instanceof Uint8Array) || blob.length === 0) {
    throw new VeilError('KMS_INVALID_RESPONSE', `${operation}: no CiphertextBlob`);
  }
  return {
    providerId: KMS_PROVIDER_ID,
    providerInfo: utf8(keyId),
    ciphertext: new Uint8Array(blob),
  };
}
