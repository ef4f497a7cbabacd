/**
 * KMS ReEncrypt for a rewrap ([Note: rewrap and KMS ReEncrypt] in core/rewrap-reencrypt.ts):
 * the EDK for a new KMS key made inside KMS from an old KMS EDK of the header, so the client does
 * not wrap the data key itself. Used for "move this file from KMS key K1 to K2": pass the
 * reEncrypter as `reEncrypt`, K2's keyring as `addWith` (the fallback when KMS refuses) and
 * `remove` K1.
 *
 * The old EDK's key ARN picks the region (ReEncrypt runs in the source key's region, and the
 * destination must be a key of that region: a destination ARN of another region is not tried).
 * Source and destination context are the message's encryption context. A refusal (access
 * denied, an endpoint without ReEncrypt) of every candidate answers undefined: the rewrap then
 * wraps with `addWith` (Encrypt). Other failures (network, throttling, a disabled key) throw.
 */
import { utf8, fromUtf8 } from '../core/bytes';
import { errorName } from '../core/aws-failure';
import { VeilError, needs } from '../core/errors';
import type { DecryptRequest, EncryptedDataKey } from '../core/keyring';
import type { EdkReEncrypter } from '../core/rewrap-reencrypt';
import type { KmsClientSupplier } from './kms-api';
import { asKeyArn, parseKmsKeyName, regionOfKeyName } from './kms-arn';
import { kmsError } from './kms-errors';
import { KMS_PROVIDER_ID } from './kms';

/** KMS answers that mean "not for you, or not here": the rewrap falls back to Encrypt. */
const REFUSALS: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'UnsupportedOperationException',
  'UnknownOperationException',
]);

/** Options of kmsReEncrypter. */
export interface KmsReEncrypterOptions {
  /** Gives a KMS client per region (the keyring's supplier). */
  readonly clients: KmsClientSupplier;
  /** The key the new EDK is for (alias name, alias ARN, key id or key ARN). */
  readonly destinationKeyId: string;
  /**
   * Key ARNs whose EDKs may be the source (for example the key being removed); default any KMS
   * EDK of the header, removed ones first as the rewrap offers them.
   */
  readonly sourceKeyArns?: readonly string[];
  /** KMS grant tokens passed on every call. */
  readonly grantTokens?: readonly string[];
}

/** What the last reEncrypt did, for tests and progress: the source key ARN, or why not. */
export interface KmsReEncrypter extends EdkReEncrypter {
  /** The key ARN of the EDK the last successful ReEncrypt read, else undefined. */
  readonly lastSourceKeyArn: string | undefined;
}

/**
 * An EdkReEncrypter over KMS ReEncrypt.
 * @throws VeilError BAD_ARGUMENT for missing options, KMS_KEY_INVALID for a destination that is
 *   none of the four key name forms.
 */
export function kmsReEncrypter(options: KmsReEncrypterOptions): KmsReEncrypter {
  // Precondition: a client supplier and a well-formed destination key name.
  needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
  needs(typeof options.clients === 'function', 'BAD_ARGUMENT', 'clients');
  const destination = parseKmsKeyName(options.destinationKeyId);
  const destinationRegion = regionOfKeyName(destination);
  const sources = options.sourceKeyArns ? new Set(options.sourceKeyArns) : undefined;
  const tokens = options.grantTokens ? { GrantTokens: [...options.grantTokens] } : {};
  const state = {
    lastSourceKeyArn: undefined as string | undefined,
    async reEncrypt(request: DecryptRequest): Promise<readonly EncryptedDataKey[] | undefined> {
      state.lastSourceKeyArn = undefined;
      const context = { ...request.encryptionContext };
      for (const edk of request.encryptedDataKeys) {
        if (edk.providerId !== KMS_PROVIDER_ID) continue;
        const arn = asKeyArn(decodeText(edk.providerInfo) ?? '');
        if (!arn || (sources && !sources.has(arn.text))) continue;
        if (destinationRegion !== undefined && destinationRegion !== arn.region) continue;
        const api = options.clients(arn.region);
        if (!api?.reEncrypt || api.region !== arn.region) continue;
        let answer: Awaited<ReturnType<NonNullable<typeof api.reEncrypt>>>;
        try {
          answer = await api.reEncrypt({
            CiphertextBlob: edk.ciphertext,
            SourceKeyId: arn.text,
            SourceEncryptionContext: context,
            DestinationKeyId: destination.text,
            DestinationEncryptionContext: context,
            ...tokens,
          });
        } catch (error) {
          if (REFUSALS.has(errorName(error))) continue;
          throw kmsError(error, 'ReEncrypt', `${arn.text} to ${destination.text}`);
        }
        state.lastSourceKeyArn = arn.text;
        return [toEdk(answer, arn.text)];
      }
      return undefined;
    },
  };
  return state;
}

/** Provider info as UTF-8 text, undefined when it is not valid UTF-8. */
function decodeText(info: Uint8Array): string | undefined {
  try {
    return fromUtf8(info, 'KMS provider info');
  } catch {
    return undefined;
  }
}

/**
 * The EDK from a ReEncrypt answer.
 * @throws VeilError KMS_INVALID_RESPONSE when it names another source key, no key ARN or no blob.
 */
function toEdk(
  answer: { KeyId?: string; SourceKeyId?: string; CiphertextBlob?: Uint8Array },
  sourceArn: string,
): EncryptedDataKey {
  if (answer.SourceKeyId !== undefined && answer.SourceKeyId !== sourceArn) {
    throw new VeilError('KMS_INVALID_RESPONSE', 'ReEncrypt answered for another source key');
  }
  if (answer.KeyId === undefined || !asKeyArn(answer.KeyId)) {
    throw new VeilError('KMS_INVALID_RESPONSE', 'ReEncrypt: KeyId is not a key ARN');
  }
  if (!(answer.CiphertextBlob instanceof Uint8Array) || answer.CiphertextBlob.length === 0) {
    throw new VeilError('KMS_INVALID_RESPONSE', 'ReEncrypt: no CiphertextBlob');
  }
  return {
    providerId: KMS_PROVIDER_ID,
    providerInfo: utf8(answer.KeyId),
    ciphertext: new Uint8Array(answer.CiphertextBlob),
  };
}
