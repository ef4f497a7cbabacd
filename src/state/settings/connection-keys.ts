/**
 * The key rows of "Check connection" (connection-checks.ts): the KMS key of Model C, the HSM
 * proxy's health and the user's HSM sign-in of Model B. Each checks the key uploads use ([Note:
 * key choice] in shared/key-choice.ts), never config.json's default behind the user's choice, so a row
 * cannot pass for another key than the one that wraps new files. The proxy is reached through
 * the shared contract ([Note: HSM API contract] in src/keyrings/hsm-api.ts).
 */
import { VeilError } from '../../core/errors';
import { HSM_ROUTES, type HsmUntrustedReply } from '../../keyrings/hsm-api';
import { listHsmKeyLabels } from '../../keyrings/hsm-proxy';
import type { KmsApi } from '../../keyrings/kms-api';
import { describeKmsKey } from '../../keyrings/kms-keys';
import { failed, ok, skipped, type CheckResult } from './connection-results';
import type { KeyChoice } from '../shared/key-choice';

/** What the KMS row needs of the session. */
export interface KmsCheckSession {
  kms(): KmsApi | undefined;
}

/** What the HSM sign-in row needs of the session. */
export interface HsmCheckSession {
  readonly hasIdToken: boolean;
  idToken(): Promise<string>;
}

/** DescribeKey of the chosen Model C key and its state. Never throws. */
export async function checkKmsKey(
  keys: Pick<KeyChoice, 'kmsKeyId'>,
  session: KmsCheckSession,
  region: string,
): Promise<CheckResult> {
  const keyId = keys.kmsKeyId;
  if (!keyId) return skipped('kms', 'No KMS key is configured: Model C is not offered.');
  try {
    const api = session.kms();
    if (!api) throw new VeilError('KMS_WRONG_REGION', region);
    const key = await describeKmsKey(api, keyId);
    if (key.problem) return failed('kms', key.problem);
    return ok('kms', `${keyId} is ${key.state} (${key.arn}).`);
  } catch (error) {
    return failed('kms', error);
  }
}

/** The HSM proxy's health route. Never throws. */
export async function checkHsmHealth(
  keys: Pick<KeyChoice, 'hsm'>,
  fetcher: typeof fetch,
): Promise<CheckResult> {
  const hsm = keys.hsm;
  if (!hsm) return skipped('hsm-health', 'No HSM proxy is configured: Model B is not offered.');
  let response: Response;
  try {
    response = await fetcher(`${hsm.proxyUrl}${HSM_ROUTES.health.path}`, { cache: 'no-store' });
  } catch (cause) {
    return failed('hsm-health', new VeilError('HSM_PROXY_UNREACHABLE', hsm.proxyUrl, { cause }));
  }
  let body: HsmUntrustedReply<'health'>;
  try {
    body = (await response.json()) as typeof body;
  } catch (cause) {
    return failed(
      'hsm-health',
      new VeilError('HSM_INVALID_RESPONSE', `HTTP ${response.status}`, { cause }),
    );
  }
  if (response.ok && body.status === 'ok') {
    const version = typeof body.apiVersion === 'string' || typeof body.apiVersion === 'number';
    const api = version ? ` (API version ${String(body.apiVersion)})` : '';
    return ok('hsm-health', `${hsm.proxyUrl} is up${api}.`);
  }
  if (response.status === 503 || body.status === 'degraded') {
    return failed('hsm-health', new VeilError('HSM_BUSY', 'the proxy reports itself degraded'));
  }
  return failed('hsm-health', new VeilError('HSM_PROXY_FAILED', `HTTP ${response.status}`));
}

/**
 * The user's sign-in at the proxy, and the chosen label among those it lets them use (`session`
 * undefined: no AWS session yet). Never throws.
 */
export async function checkHsmLogin(
  keys: Pick<KeyChoice, 'hsm'>,
  session: HsmCheckSession | undefined,
  fetcher: typeof fetch,
): Promise<CheckResult> {
  const hsm = keys.hsm;
  if (!hsm) return skipped('hsm-login', 'No HSM proxy is configured.');
  if (!session?.hasIdToken) {
    return skipped(
      'hsm-login',
      'Model B needs a sign-in with a user account (guests and IAM keys have no ID token for the proxy).',
    );
  }
  try {
    const labels = await listHsmKeyLabels({
      proxyUrl: hsm.proxyUrl,
      idToken: () => session.idToken(),
      fetch: fetcher,
    });
    if (!labels.includes(hsm.keyLabel)) {
      return failed('hsm-login', new VeilError('HSM_FORBIDDEN_LABEL', hsm.keyLabel));
    }
    return ok('hsm-login', `Signed in; you may use ${labels.join(', ')}.`);
  } catch (error) {
    return failed('hsm-login', error);
  }
}
