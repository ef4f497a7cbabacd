/**
 * [Note: Model C encryption context] The encryption context Veil writes for an upload. It is
 * stored in clear in the object header and, with KMS, logged in CloudTrail on every
 * GenerateDataKey and Decrypt, so it never holds a file name, an object key, a path or any other
 * user content. It holds what a team's key policy can bind to:
 *
 * | key                | value                                          | a policy can ...                                  |
 * | ------------------ | ---------------------------------------------- | ------------------------------------------------- |
 * | `veil-app`         | `veil`                                         | allow the key only for Veil's data keys           |
 * | `veil-bucket`      | the bucket name                                | confine a key to one bucket's objects             |
 * | `veil-identity-id` | the Cognito identity id (absent for IAM keys)  | confine each identity to the data keys it made    |
 *
 * For example, in the IAM policy of the identity pool's roles (policy variables are evaluated
 * there, not in key policies):
 *
 * ```json
 * [{ "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
 *    "Resource": "arn:aws:kms:REGION:ACCOUNT:key/KEY-ID",
 *    "Condition": { "StringEquals": {
 *      "kms:EncryptionContext:veil-app": "veil",
 *      "kms:EncryptionContext:veil-identity-id": "${cognito-identity.amazonaws.com:sub}" } } },
 *  { "Effect": "Allow", "Action": "kms:DescribeKey",
 *    "Resource": "arn:aws:kms:REGION:ACCOUNT:key/KEY-ID" }]
 * ```
 *
 * The second statement is needed when config.json names the key by alias name or key id: Veil
 * then resolves it to the key ARN with DescribeKey (to check EDKs against it, and to limit the
 * download keyring to the key's account). DescribeKey carries no encryption context, so a
 * statement with `kms:EncryptionContext:` conditions never allows it; it reveals only the key's
 * metadata. With the key ARN (or an alias ARN) in config.json the downloads need no DescribeKey;
 * Settings' "Check KMS key" always uses it.
 *
 * KMS checks the context on Decrypt (a different one fails), which the local stack (moto)
 * enforces too; the policy conditions above are not evaluated by moto and are untested locally.
 * Keys use only letters and hyphens so they work in `kms:EncryptionContext:<key>` conditions.
 */
import { assertWritableContext } from '../core/encryption-context';
import { needs } from '../core/errors';

/** The context keys Veil writes for Model C. */
export const MODEL_C_CONTEXT_KEYS = {
  app: 'veil-app',
  bucket: 'veil-bucket',
  identityId: 'veil-identity-id',
} as const;

/** The value of `veil-app`. */
export const VEIL_APP = 'veil';

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
 * Builds the encryption context of an upload (see [Note: Model C encryption context]).
 * @throws VeilError BAD_ARGUMENT for an empty bucket or an extra pair that reuses one of Veil's
 *   keys; RESERVED_CONTEXT_KEY for an `aws-crypto-` key.
 */
export function buildUploadContext(input: UploadContextInput): Record<string, string> {
  // Precondition: a bucket name (the one thing every upload has).
  needs(typeof input.bucket === 'string' && input.bucket.length > 0, 'BAD_ARGUMENT', 'bucket');
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.extra ?? {})) {
    // Precondition: extra pairs cannot impersonate Veil's own keys.
    needs(!key.startsWith('veil-'), 'BAD_ARGUMENT', `context key "${key}" is reserved by Veil`);
    context[key] = value;
  }
  context[MODEL_C_CONTEXT_KEYS.app] = VEIL_APP;
  context[MODEL_C_CONTEXT_KEYS.bucket] = input.bucket;
  if (input.identityId) context[MODEL_C_CONTEXT_KEYS.identityId] = input.identityId;
  assertWritableContext(context);
  return context;
}
