/**
 * Model C for the app's upload and download code: the KMS keyrings and the upload encryption
 * context from the runtime config and the session's clients, so callers need not know how keys
 * are named or which client serves which region.
 */
import { KmsKeyring } from '../keyrings/kms';
import { asKeyArn } from '../keyrings/kms-arn';
import { buildUploadContext } from '../keyrings/kms-context';
import { VeilError } from '../core/errors';
import type { AwsClients } from './clients';
import type { VeilConfig } from './config';

/**
 * The keyring that writes Model C objects with the configured KMS key (generator).
 * @throws VeilError CONFIG_INVALID when config.json has no `kms.keyId`.
 */
export function modelCWriteKeyring(clients: AwsClients, config: VeilConfig): KmsKeyring {
  if (!config.kms) throw new VeilError('CONFIG_INVALID', 'kms.keyId is not set');
  return new KmsKeyring({ clients: clients.kmsSupplier(), generatorKeyId: config.kms.keyId });
}

/**
 * The keyring that reads Model C objects: discovery (any KMS key the credentials may use, as the
 * object names it), limited to the configured key's account when the config names it by ARN.
 */
export function modelCReadKeyring(clients: AwsClients, config: VeilConfig): KmsKeyring {
  const arn = config.kms ? asKeyArn(config.kms.keyId) : undefined;
  return new KmsKeyring({
    clients: clients.kmsSupplier(),
    discovery: arn ? { partition: arn.partition, accountIds: [arn.accountId] } : true,
  });
}

/** The encryption context of an upload ([Note: Model C encryption context]). */
export function modelCUploadContext(
  config: VeilConfig,
  identityId: string | undefined,
): Record<string, string> {
  return buildUploadContext({ bucket: config.bucket, identityId });
}
