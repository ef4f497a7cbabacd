/**
 * [Note: the command line's KMS discovery] Without `--kms-key`, `veil` opens a KMS-wrapped file
 * with a discovery keyring: it sends the EDK to whichever KMS key the file's header names. The
 * header is chosen by whoever wrote the object, so an unfiltered discovery would let anyone who
 * can write to the bucket plant a file wrapped under a key of their own account (with a key
 * policy that lets anyone decrypt), which the reader would then open and accept: the planter
 * knows the data key, so the location binding holds too, and their CloudTrail would log the
 * reader's identity. The app limits discovery to the configured key's account
 * (aws/model-c.ts); the command line limits it to the accounts in VEIL_KMS_ACCOUNTS
 * (comma-separated 12-digit ids), else to the caller's own account, asked of STS
 * (GetCallerIdentity) only when a file has a KMS EDK to try, so files of other models never
 * need STS. A key of another account is then never asked: the file gives NO_MATCHING_EDK.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { kmsFailure } from '../core/aws-failure';
import { VeilError } from '../core/errors';
import type { KmsDiscoveryFilter } from '../keyrings/kms';

/** The environment variable naming the accounts whose KMS keys discovery may use. */
export const KMS_ACCOUNTS_ENV = 'VEIL_KMS_ACCOUNTS';

const ACCOUNT_ID = /^\d{12}$/;

/** The AWS partition of a region (`aws` when unknown or none). */
export function partitionOfRegion(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The accounts VEIL_KMS_ACCOUNTS names, or undefined when it is unset or empty.
 * @throws VeilError USAGE for an entry that is not a 12-digit account id.
 */
export function accountsFromEnv(text: string | undefined): readonly string[] | undefined {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) return undefined;
  const bad = entries.find((entry) => !ACCOUNT_ID.test(entry));
  if (bad !== undefined) {
    throw new VeilError('USAGE', `${KMS_ACCOUNTS_ENV}: "${bad}" is not a 12-digit account id`);
  }
  return [...new Set(entries)];
}

/** The partition and account of an STS caller ARN (`arn:PARTITION:sts::ACCOUNT:...`). */
export function filterOfCallerArn(arn: string | undefined): KmsDiscoveryFilter | undefined {
  const [prefix, partition, , , account] = (arn ?? '').split(':');
  if (prefix !== 'arn' || !partition || !account || !ACCOUNT_ID.test(account)) return undefined;
  return { partition, accountIds: [account] };
}

/** Where STS is asked: the region, and the endpoint when one is pinned (a local stack). */
export interface StsPlace {
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
}

/**
 * The discovery filter to find for the command line ([Note: the command line's KMS
 * discovery]): VEIL_KMS_ACCOUNTS when set (read now, so a bad value fails at once), else the
 * caller's account from STS when first needed.
 * @throws VeilError USAGE for a malformed VEIL_KMS_ACCOUNTS; the returned function rejects with
 *   the CREDENTIALS_* codes or KMS_FAILED when STS cannot say who the caller is.
 */
export function cliDiscoveryFilter(
  env: Readonly<Record<string, string | undefined>>,
  place: StsPlace,
): () => Promise<KmsDiscoveryFilter> {
  const accounts = accountsFromEnv(env[KMS_ACCOUNTS_ENV]);
  if (accounts) {
    const filter = { partition: partitionOfRegion(place.region), accountIds: accounts };
    return () => Promise.resolve(filter);
  }
  return () => callerAccount(place);
}

async function callerAccount(place: StsPlace): Promise<KmsDiscoveryFilter> {
  const sts = new STSClient({
    ...(place.region ? { region: place.region } : { region: 'us-east-1' }),
    ...(place.endpoint ? { endpoint: place.endpoint } : {}),
  });
  const operation = `STS GetCallerIdentity, to limit KMS discovery to your account (or set ${KMS_ACCOUNTS_ENV})`;
  try {
    const answer = await sts.send(new GetCallerIdentityCommand({}));
    const filter = filterOfCallerArn(answer.Arn);
    if (!filter) throw new VeilError('KMS_INVALID_RESPONSE', `${operation}: no caller ARN`);
    return filter;
  } catch (error) {
    throw kmsFailure(error, { operation });
  } finally {
    sts.destroy();
  }
}
