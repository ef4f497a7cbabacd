/**
 * Model C for the app's upload and download code: the KMS keyrings from the runtime config and
 * the session's clients, so callers need not know how keys are named or which client serves which
 * region. (The encryption context is the same for every model: src/keyrings/upload-context.ts.)
 */
import type { KmsDiscoveryFilter } from '../keyrings/kms';
import { KmsKeyring } from '../keyrings/kms';
import { asKeyArn, parseKmsKeyName } from '../keyrings/kms-arn';
import { kmsError } from '../keyrings/kms-errors';
import { VeilError } from '../core/errors';
import type { AwsClients } from './clients';
import type { VeilConfig } from './config';

/**
 * The keyring that writes Model C objects with `keyId` (generator): the chosen key, [Note: key
 * choice] in src/state/shared/key-choice.ts.
 * @throws VeilError MODEL_NOT_CONFIGURED without a key; KMS_KEY_INVALID for a malformed one.
 */
export function modelCWriteKeyring(
  clients: Pick<AwsClients, 'kmsSupplier'>,
  keyId: string | undefined,
): KmsKeyring {
  if (!keyId) throw new VeilError('MODEL_NOT_CONFIGURED', 'config.json has no kms.keyId');
  return new KmsKeyring({ clients: clients.kmsSupplier(), generatorKeyId: keyId });
}

/**
 * The keyring that reads Model C objects: discovery (any KMS key the credentials may use, as the
 * object names it), limited to the partition and account of the configured key. A key ARN or
 * alias ARN names them; an alias name or key id is resolved once per set of clients with
 * DescribeKey (which the key policy must allow, see [Note: Model C encryption context]). Without
 * a configured key the discovery is unfiltered.
 * @throws VeilError from the DescribeKey lookup (KMS_ACCESS_DENIED, KMS_KEY_NOT_FOUND,
 *   CREDENTIALS_*, ...); KMS_INVALID_RESPONSE when it answers without a key ARN.
 */
export async function modelCReadKeyring(
  clients: KmsClientSource,
  config: VeilConfig,
): Promise<KmsKeyring> {
  const discovery = config.kms ? await discoveryFilterOf(clients, config.kms.keyId) : true;
  return new KmsKeyring({ clients: clients.kmsSupplier(), discovery });
}

/** What the read keyring needs of the client factory. */
export type KmsClientSource = Pick<AwsClients, 'kmsApi' | 'kmsSupplier'>;

/** Resolved filters per set of clients (one per session) and key name; failures are not kept. */
const resolvedFilters = new WeakMap<KmsClientSource, Map<string, Promise<KmsDiscoveryFilter>>>();

/** The partition and account of a configured key, named in any of the four forms. */
function discoveryFilterOf(clients: KmsClientSource, keyName: string): Promise<KmsDiscoveryFilter> {
  const name = parseKmsKeyName(keyName);
  if (name.kind === 'key-arn' || name.kind === 'alias-arn') {
    // An alias lives in the account of the key it points at.
    return Promise.resolve({ partition: name.partition, accountIds: [name.accountId] });
  }
  let byName = resolvedFilters.get(clients);
  if (!byName) {
    byName = new Map<string, Promise<KmsDiscoveryFilter>>();
    resolvedFilters.set(clients, byName);
  }
  const cached = byName.get(keyName);
  if (cached) return cached;
  const lookup = describeKeyArn(clients, keyName);
  byName.set(keyName, lookup);
  lookup.catch(() => {
    if (byName.get(keyName) === lookup) byName.delete(keyName);
  });
  return lookup;
}

async function describeKeyArn(
  clients: KmsClientSource,
  keyName: string,
): Promise<KmsDiscoveryFilter> {
  const api = clients.kmsApi();
  if (!api) throw new VeilError('KMS_WRONG_REGION', keyName);
  let arn: string | undefined;
  try {
    arn = (await api.describeKey({ KeyId: keyName })).KeyMetadata?.Arn;
  } catch (error) {
    throw kmsError(error, 'DescribeKey', keyName);
  }
  const parsed = arn === undefined ? undefined : asKeyArn(arn);
  if (!parsed) throw new VeilError('KMS_INVALID_RESPONSE', 'DescribeKey without a key ARN');
  return { partition: parsed.partition, accountIds: [parsed.accountId] };
}
