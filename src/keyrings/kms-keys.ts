/**
 * What Settings shows about KMS keys: the aliases of the account and region that could serve
 * Model C, and one key's state. ListAliases shows every alias the caller may list; whether the
 * caller may also *use* a key is decided by its key policy and IAM, which only a real call (or
 * the round-trip self test) proves.
 */
import { VeilError } from '../core/errors';
import type { KmsApi } from './kms-api';
import { parseKmsKeyName } from './kms-arn';
import { keyStateErrorCode, kmsError } from './kms-errors';

/** An alias Veil could offer for Model C. */
export interface KmsAliasEntry {
  /** `alias/...` */
  readonly aliasName: string;
  readonly aliasArn: string;
  /** The key id (not ARN) the alias points at. */
  readonly targetKeyId: string;
}

/** One key as Settings shows it. */
export interface KmsKeyInfo {
  /** The full key ARN (what Model C EDKs record). */
  readonly arn: string;
  readonly keyId: string;
  /** Enabled, Disabled, PendingDeletion, PendingImport, Unavailable, ... */
  readonly state: string;
  readonly keyUsage: string;
  readonly keySpec: string;
  /** AWS (AWS managed) or CUSTOMER. */
  readonly keyManager: string;
  readonly description: string;
  readonly deletionDate: Date | undefined;
  /** Why Veil cannot use the key now, or undefined when it can (as far as its metadata says). */
  readonly problem: VeilError | undefined;
}

const MAX_PAGES = 20;

/**
 * Lists the aliases in the client's region that point at a key, without the AWS managed
 * `alias/aws/*` ones (those keys serve AWS services, not direct client calls).
 * @throws VeilError from kmsError (KMS_ACCESS_DENIED when the caller may not list aliases).
 */
export async function listKmsAliases(api: KmsApi): Promise<KmsAliasEntry[]> {
  const entries: KmsAliasEntry[] = [];
  let marker: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let answer;
    try {
      answer = await api.listAliases({ Limit: 100, ...(marker ? { Marker: marker } : {}) });
    } catch (error) {
      throw kmsError(error, 'ListAliases', api.region);
    }
    for (const alias of answer.Aliases ?? []) {
      const { AliasName: aliasName, AliasArn: aliasArn, TargetKeyId: targetKeyId } = alias;
      if (!aliasName || !aliasArn || !targetKeyId || aliasName.startsWith('alias/aws/')) continue;
      entries.push({ aliasName, aliasArn, targetKeyId });
    }
    if (!answer.Truncated || !answer.NextMarker) break;
    marker = answer.NextMarker;
  }
  return entries.sort((a, b) =>
    a.aliasName < b.aliasName ? -1 : a.aliasName > b.aliasName ? 1 : 0,
  );
}

/**
 * Describes a key named in any of the four forms and says whether Model C can use it: a
 * symmetric ENCRYPT_DECRYPT key in state Enabled.
 * @throws VeilError KMS_KEY_INVALID for a malformed name; kmsError codes for the call
 *   (KMS_KEY_NOT_FOUND, KMS_ACCESS_DENIED, ...); KMS_INVALID_RESPONSE without metadata.
 */
export async function describeKmsKey(api: KmsApi, keyName: string): Promise<KmsKeyInfo> {
  parseKmsKeyName(keyName);
  let answer;
  try {
    answer = await api.describeKey({ KeyId: keyName });
  } catch (error) {
    throw kmsError(error, 'DescribeKey', keyName);
  }
  const meta = answer.KeyMetadata;
  if (!meta?.Arn || !meta.KeyId) {
    throw new VeilError('KMS_INVALID_RESPONSE', 'DescribeKey returned no key metadata');
  }
  const state = meta.KeyState ?? (meta.Enabled === false ? 'Disabled' : 'Enabled');
  const keyUsage = meta.KeyUsage ?? 'ENCRYPT_DECRYPT';
  const keySpec = meta.KeySpec ?? 'SYMMETRIC_DEFAULT';
  const stateCode = keyStateErrorCode(state);
  let problem: VeilError | undefined;
  if (stateCode) problem = new VeilError(stateCode, `${meta.Arn}: ${state}`);
  else if (keyUsage !== 'ENCRYPT_DECRYPT' || keySpec !== 'SYMMETRIC_DEFAULT') {
    problem = new VeilError('KMS_KEY_INVALID', `${meta.Arn}: ${keySpec} ${keyUsage}`);
  }
  return {
    arn: meta.Arn,
    keyId: meta.KeyId,
    state,
    keyUsage,
    keySpec,
    keyManager: meta.KeyManager ?? 'CUSTOMER',
    description: meta.Description ?? '',
    deletionDate: meta.DeletionDate,
    problem,
  };
}
