/**
 * [Note: Model C encryption context] What KMS does with the upload encryption context ([Note:
 * upload encryption context] in upload-context.ts: `veil-app`, `veil-bucket`, `veil-identity-id`,
 * the same for every model). KMS receives it with every GenerateDataKey and Decrypt, logs it in
 * CloudTrail, and lets a team's policy bind to it with `kms:EncryptionContext:<key>` conditions:
 *
 * | condition key                            | a policy can ...                               |
 * | ---------------------------------------- | ---------------------------------------------- |
 * | `kms:EncryptionContext:veil-app`         | allow the key only for Veil's data keys        |
 * | `kms:EncryptionContext:veil-bucket`      | confine a key to one bucket's objects          |
 * | `kms:EncryptionContext:veil-identity-id` | confine each identity to the data keys it made |
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
 */
import { UPLOAD_CONTEXT_KEYS, VEIL_APP } from './upload-context';

/** The prefix of a KMS policy condition on one encryption context key. */
export const KMS_CONTEXT_CONDITION_PREFIX = 'kms:EncryptionContext:';

/**
 * The KMS policy condition key for one encryption context key, e.g. `veil-app` ->
 * `kms:EncryptionContext:veil-app`.
 */
export function kmsContextConditionKey(contextKey: string): string {
  return `${KMS_CONTEXT_CONDITION_PREFIX}${contextKey}`;
}

/** What the conditions of [Note: Model C encryption context] bind a key's use to. */
export interface KmsContextBinding {
  /** The bucket whose objects the key may wrap data keys for. */
  readonly bucket: string;
  /**
   * The identity a caller must be, usually a policy variable such as
   * `${cognito-identity.amazonaws.com:sub}`; absent: any identity.
   */
  readonly identityId?: string;
}

/**
 * The `StringEquals` conditions that confine kms:GenerateDataKey and kms:Decrypt to Veil's data
 * keys for `binding`, keyed by condition key (see [Note: Model C encryption context]).
 */
export function kmsContextConditions(binding: KmsContextBinding): Record<string, string> {
  const conditions: Record<string, string> = {
    [kmsContextConditionKey(UPLOAD_CONTEXT_KEYS.app)]: VEIL_APP,
    [kmsContextConditionKey(UPLOAD_CONTEXT_KEYS.bucket)]: binding.bucket,
  };
  if (binding.identityId !== undefined) {
    conditions[kmsContextConditionKey(UPLOAD_CONTEXT_KEYS.identityId)] = binding.identityId;
  }
  return conditions;
}
