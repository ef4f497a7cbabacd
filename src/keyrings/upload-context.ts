/**
 * [Note: upload encryption context] The encryption context Veil writes for every new object,
 * whatever the key model: the same pairs for A (raw AES: the wrap's AAD), B (the HSM proxy: the
 * HSM wrap's AAD) and C (KMS: GenerateDataKey's context), so a policy, an audit line or another
 * ESDK can bind to them without knowing which key wrapped the data key. It is stored in clear in
 * the object header (and, with KMS, logged in CloudTrail on every call), so it never holds a
 * file name, an object key, a path or any other user content:
 *
 * | key                | value                                          |
 * | ------------------ | ---------------------------------------------- |
 * | `veil-app`         | `veil`                                         |
 * | `veil-bucket`      | the bucket name                                |
 * | `veil-identity-id` | the Cognito identity id (absent for IAM keys)  |
 *
 * Keys use only letters and hyphens, so they also work as `kms:EncryptionContext:<key>`
 * conditions (what a KMS key policy can do with them: [Note: Model C encryption context] in
 * kms-context.ts). Team-chosen extra pairs may be added; they cannot reuse a `veil-` key.
 */
import { assertWritableContext, type EncryptionContext } from '../core/encryption-context';
import { needs } from '../core/errors';

/** The context keys Veil writes for every upload. */
export const UPLOAD_CONTEXT_KEYS = {
  app: 'veil-app',
  bucket: 'veil-bucket',
  identityId: 'veil-identity-id',
} as const;

/** The value of `veil-app`. */
export const VEIL_APP = 'veil';

/** The prefix of every key Veil reserves for itself in a context. */
const VEIL_KEY_PREFIX = 'veil-';

/** What an upload's context is built from. */
export interface UploadContextInput {
  /** The bucket the object goes to. */
  readonly bucket: string;
  /** The Cognito identity id of the uploader, when the credentials came from an identity pool. */
  readonly identityId?: string | undefined;
  /** Team-chosen extra pairs (e.g. `project`); never file names. Cannot override Veil's keys. */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * Builds the encryption context of an upload, for any key model (see [Note: upload encryption
 * context]). An empty identity id counts as none.
 * @throws VeilError BAD_ARGUMENT for an empty bucket or an extra pair that reuses one of Veil's
 *   keys; RESERVED_CONTEXT_KEY for an `aws-crypto-` key.
 */
export function buildUploadContext(input: UploadContextInput): EncryptionContext {
  // Precondition: a bucket name (the one thing every upload has).
  needs(typeof input.bucket === 'string' && input.bucket.length > 0, 'BAD_ARGUMENT', 'bucket');
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.extra ?? {})) {
    // Precondition: extra pairs cannot impersonate Veil's own keys.
    needs(
      !key.startsWith(VEIL_KEY_PREFIX),
      'BAD_ARGUMENT',
      `context key "${key}" is reserved by Veil`,
    );
    context[key] = value;
  }
  context[UPLOAD_CONTEXT_KEYS.app] = VEIL_APP;
  context[UPLOAD_CONTEXT_KEYS.bucket] = input.bucket;
  if (input.identityId) context[UPLOAD_CONTEXT_KEYS.identityId] = input.identityId;
  assertWritableContext(context);
  return context;
}
