/**
 * The keys of Models B and C as the Keys and Settings views list them: the HSM key labels the
 * proxy lets the signed-in user use (GET /v1/keys), and the KMS aliases of the region with the
 * state of the key behind each (ListAliases, then DescribeKey per alias). Pure over injected
 * clients, so the rules have unit tests with fakes.
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { listHsmKeyLabels } from '../../keyrings/hsm-proxy';
import type { KmsApi } from '../../keyrings/kms-api';
import { describeKmsKey, listKmsAliases } from '../../keyrings/kms-keys';
import { shownError, type ShownError } from '../app/shown-error';

/** An alias and the state of its key. */
export interface KmsAliasRow {
  readonly aliasName: string;
  readonly targetKeyId: string;
  /** Enabled, Disabled, PendingDeletion... or undefined when DescribeKey failed. */
  readonly state: string | undefined;
  /** Why Model C cannot use it (key state, key type, or the DescribeKey failure). */
  readonly problem: ShownError | undefined;
}

/** Aliases described at most; a region with more shows the first ones and says so. */
export const MAX_DESCRIBED_ALIASES = 25;

/** The KMS keys Model C could use, as the Keys and Settings views list them. */
export interface KmsAliasList {
  readonly rows: KmsAliasRow[];
  /** Aliases listed but not described (beyond MAX_DESCRIBED_ALIASES). */
  readonly more: number;
  /**
   * True when ListAliases was denied, so `rows` hold only the configured keys (see
   * [Note: listing KMS aliases without kms:ListAliases]).
   */
  readonly listDenied: boolean;
}

async function describedRow(api: KmsApi, aliasName: string, targetKeyId: string) {
  try {
    const key = await describeKmsKey(api, aliasName);
    return {
      aliasName,
      targetKeyId: targetKeyId || key.keyId,
      state: key.state,
      problem: key.problem ? shownError(key.problem) : undefined,
    } satisfies KmsAliasRow;
  } catch (error) {
    return { aliasName, targetKeyId, state: undefined, problem: shownError(error) };
  }
}

/**
 * The aliases Model C could use, each with its key's state. One alias failing DescribeKey (no
 * permission, say) shows as a problem on its row.
 *
 * [Note: listing KMS aliases without kms:ListAliases] ListAliases cannot be limited to one key
 * (it lists every alias of the account and region), so the reference deployment (infra/) does
 * not grant it: its users get only DescribeKey, GenerateDataKey and Decrypt on the one key. When
 * the list is denied, the rows are the keys the deployment names (`configuredKeyIds`: config.json's
 * and the one chosen in Settings), each described, and `listDenied` says why nothing else shows.
 * @throws VeilError from listKmsAliases (KMS_ACCESS_DENIED when no key is configured, ...).
 */
export async function kmsAliasesWithState(
  api: KmsApi,
  configuredKeyIds: readonly (string | undefined)[] = [],
): Promise<KmsAliasList> {
  let aliases;
  try {
    aliases = await listKmsAliases(api);
  } catch (error) {
    const known = [...new Set(configuredKeyIds.filter((id): id is string => !!id))];
    if (!(error instanceof VeilError) || error.code !== 'KMS_ACCESS_DENIED' || known.length === 0) {
      throw error;
    }
    const rows = await Promise.all(known.map((keyId) => describedRow(api, keyId, '')));
    return { rows, more: 0, listDenied: true };
  }
  const shown = aliases.slice(0, MAX_DESCRIBED_ALIASES);
  const rows = await Promise.all(
    shown.map((alias) => describedRow(api, alias.aliasName, alias.targetKeyId)),
  );
  return { rows, more: aliases.length - shown.length, listDenied: false };
}

/** What listing HSM labels needs of the session. */
export interface HsmSession {
  readonly hasIdToken: boolean;
  idToken(): Promise<string>;
}

/**
 * The HSM key labels the signed-in user may use.
 * @throws VeilError MODEL_NOT_CONFIGURED without an HSM proxy in config.json;
 *   HSM_UNAUTHENTICATED when the session has no user sign-in; HSM_* codes from the proxy.
 */
export async function hsmKeyLabels(
  config: Pick<VeilConfig, 'hsm'>,
  session: HsmSession,
  fetcher?: typeof fetch,
): Promise<string[]> {
  if (!config.hsm) throw new VeilError('MODEL_NOT_CONFIGURED', 'config.json has no hsm');
  if (!session.hasIdToken) {
    throw new VeilError('HSM_UNAUTHENTICATED', 'sign in with a user account in Settings');
  }
  const labels = await listHsmKeyLabels({
    proxyUrl: config.hsm.proxyUrl,
    idToken: () => session.idToken(),
    ...(fetcher ? { fetch: fetcher } : {}),
  });
  return [...labels].sort();
}
