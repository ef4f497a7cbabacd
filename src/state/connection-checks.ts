/**
 * "Check connection" in Settings: each part Veil needs, tested for real and reported as a row
 * (ok, failed with a catalogued error and the fix, or skipped with the reason):
 *
 * 1. credentials: the current provider hands out AWS credentials;
 * 2. bucket: ListObjectsV2 (max-keys 1) under the prefix;
 * 3. CORS: a real cross-origin PutObject of a small probe (deleted after) whose response must
 *    let the page read ETag and the CRC32 checksum, which uploads need;
 * 4. KMS key: DescribeKey of the Model C key and its state;
 * 5. HSM proxy: GET /v1/health;
 * 6. HSM sign-in: GET /v1/keys with the user's ID token, and the chosen label among those allowed.
 *
 * [Note: telling CORS from an unreachable endpoint] A page cannot see why a cross-origin request
 * failed: a CORS refusal and a dead endpoint are the same TypeError. After such a failure the
 * check sends one `no-cors` request to the same endpoint: an (opaque) answer means S3 is there and
 * CORS is what blocks the page (CONNECTION_CORS_BLOCKED, with the rule to add); no answer means
 * the endpoint cannot be reached (S3_UNREACHABLE).
 *
 * Pure over injected clients (ConnectionDeps), so every branch has a unit test with fakes; the
 * adapter over the app's AWS clients is connection-s3.ts.
 */
import type { VeilConfig } from '../aws/config';
import { objectPrefix } from '../aws/config';
import { s3Error } from '../aws/self-test-s3';
import { VeilError } from '../core/errors';
import { listHsmKeyLabels } from '../keyrings/hsm-proxy';
import type { KmsApi } from '../keyrings/kms-api';
import { describeKmsKey } from '../keyrings/kms-keys';
import { corsRuleFor } from '../transfer/cors';
import { shownError } from '../views/ui/errors';

export type CheckId = 'credentials' | 'bucket' | 'cors' | 'kms' | 'hsm-health' | 'hsm-login';

export const CHECK_LABELS: Readonly<Record<CheckId, string>> = {
  credentials: 'AWS credentials',
  bucket: 'Bucket access',
  cors: 'Bucket CORS rules',
  kms: 'KMS key (Model C)',
  'hsm-health': 'HSM proxy (Model B)',
  'hsm-login': 'HSM sign-in (Model B)',
};

export type CheckResult =
  | { readonly id: CheckId; readonly status: 'ok'; readonly detail: string }
  | {
      readonly id: CheckId;
      readonly status: 'failed';
      readonly code: string;
      readonly message: string;
      /** Text to copy to fix it (the CORS configuration to add), when there is one. */
      readonly fix?: string;
    }
  | { readonly id: CheckId; readonly status: 'skipped'; readonly reason: string };

/** What a probe PutObject let the page read of the response. */
export interface ProbeAnswer {
  readonly etag: string | undefined;
  readonly checksumCrc32: string | undefined;
}

/** The S3 calls the checks make. Errors are the SDK's, mapped here. */
export interface CheckS3 {
  listOne(bucket: string, prefix: string): Promise<void>;
  putProbe(bucket: string, key: string, body: Uint8Array): Promise<ProbeAnswer>;
  deleteProbe(bucket: string, key: string): Promise<void>;
}

export interface ConnectionDeps {
  readonly config: VeilConfig;
  /** The page's origin, for the CORS rule. */
  readonly origin: string;
  /** The session's state: undefined when no credentials were chosen, else how they came. */
  readonly session:
    | { readonly state: 'signed-out' | 'working' }
    | { readonly state: 'failed'; readonly code: string; readonly message: string }
    | {
        readonly state: 'ready';
        readonly identityId: string;
        readonly hasIdToken: boolean;
        idToken(): Promise<string>;
        /** Resolves the current credentials (renewing them if due). */
        credentials(): Promise<{ readonly accessKeyId: string; readonly expiration?: Date }>;
        s3(): CheckS3;
        kms(): KmsApi | undefined;
      };
  /** The Model B label and Model C key chosen in Settings (undefined: config.json's). */
  readonly hsmKeyLabel: string | undefined;
  readonly kmsKeyId: string | undefined;
  readonly fetch: typeof fetch;
  /** A random id for the probe object's key. */
  readonly randomId: () => string;
}

/** The folder probes go in, under the prefix (the Model C self test uses one beside it). */
export const PROBE_FOLDER = '.veil-check/';

/** The S3 endpoint the page talks to, for the no-cors reachability probe. */
export function s3EndpointUrl(config: Pick<VeilConfig, 'endpoints' | 'bucket' | 'region'>): string {
  const endpoint = config.endpoints.s3;
  if (endpoint) return `${endpoint}/${config.bucket}`;
  return `https://${config.bucket}.s3.${config.region}.amazonaws.com/`;
}

/** The CORS configuration (a list of rules, as the S3 console takes it) for `origin`. */
export function corsConfigurationText(origin: string): string {
  return JSON.stringify([corsRuleFor(origin)], null, 2);
}

const ok = (id: CheckId, detail: string): CheckResult => ({ id, status: 'ok', detail });
const skipped = (id: CheckId, reason: string): CheckResult => ({ id, status: 'skipped', reason });
function failed(id: CheckId, error: unknown, fix?: string): CheckResult {
  const shown = shownError(error);
  return {
    id,
    status: 'failed',
    code: shown.code,
    message: shown.message,
    ...(fix ? { fix } : {}),
  };
}

/** See [Note: telling CORS from an unreachable endpoint]. */
async function networkFailure(
  deps: ConnectionDeps,
  operation: string,
  error: VeilError,
  id: CheckId,
): Promise<CheckResult> {
  if (error.code !== 'S3_UNREACHABLE') return failed(id, error);
  let reachable: boolean;
  try {
    await deps.fetch(s3EndpointUrl(deps.config), { mode: 'no-cors', cache: 'no-store' });
    reachable = true;
  } catch {
    reachable = false;
  }
  if (!reachable) return failed(id, error);
  return failed(
    id,
    new VeilError('CONNECTION_CORS_BLOCKED', `${operation} from ${deps.origin}`),
    corsConfigurationText(deps.origin),
  );
}

type Ready = Extract<ConnectionDeps['session'], { state: 'ready' }>;

async function checkCredentials(session: Ready): Promise<CheckResult> {
  try {
    const identity = await session.credentials();
    const hint = `${identity.accessKeyId.slice(0, 4)}…`;
    const expiry = identity.expiration
      ? `, valid until ${identity.expiration.toISOString().slice(11, 16)} UTC (renewed automatically)`
      : '';
    const who = session.identityId ? ` for identity ${session.identityId}` : '';
    return ok('credentials', `Key ${hint}${who}${expiry}.`);
  } catch (error) {
    return failed(
      'credentials',
      error instanceof VeilError ? error : s3Error(error, 'credentials'),
    );
  }
}

function prefixOf(deps: ConnectionDeps, session: Ready): string {
  return objectPrefix(deps.config.prefix, session.identityId || undefined);
}

async function checkBucket(deps: ConnectionDeps, session: Ready): Promise<CheckResult> {
  const { bucket } = deps.config;
  let prefix: string;
  try {
    prefix = prefixOf(deps, session);
    await session.s3().listOne(bucket, prefix);
  } catch (error) {
    return networkFailure(deps, 'ListObjectsV2', s3Error(error, 'ListObjectsV2'), 'bucket');
  }
  return ok('bucket', `Listed ${bucket}${prefix ? ` under ${prefix}` : ''}.`);
}

async function checkCors(deps: ConnectionDeps, session: Ready): Promise<CheckResult> {
  const { bucket } = deps.config;
  let key: string;
  let answer: ProbeAnswer;
  const s3 = session.s3();
  try {
    key = `${prefixOf(deps, session)}${PROBE_FOLDER}${deps.randomId()}`;
    answer = await s3.putProbe(bucket, key, new TextEncoder().encode('Veil connection check\n'));
  } catch (error) {
    return networkFailure(deps, 'PutObject', s3Error(error, 'PutObject'), 'cors');
  }
  // Best effort: the probe is 22 bytes; a failed delete changes nothing about CORS.
  await s3.deleteProbe(bucket, key).catch(() => undefined);
  const missing = [
    answer.etag ? '' : 'ETag',
    answer.checksumCrc32 ? '' : 'x-amz-checksum-crc32',
  ].filter((name) => name !== '');
  if (missing.length > 0) {
    return failed(
      'cors',
      new VeilError('UPLOAD_CORS_HEADERS', `the page cannot read ${missing.join(', ')}`),
      corsConfigurationText(deps.origin),
    );
  }
  return ok('cors', `This site (${deps.origin}) may call the bucket and read ETag and checksums.`);
}

async function checkKms(deps: ConnectionDeps, session: Ready): Promise<CheckResult> {
  const keyId = deps.kmsKeyId ?? deps.config.kms?.keyId;
  if (!keyId) return skipped('kms', 'No KMS key is configured: Model C is not offered.');
  try {
    const api = session.kms();
    if (!api) throw new VeilError('KMS_WRONG_REGION', deps.config.region);
    const key = await describeKmsKey(api, keyId);
    if (key.problem) return failed('kms', key.problem);
    return ok('kms', `${keyId} is ${key.state} (${key.arn}).`);
  } catch (error) {
    return failed('kms', error);
  }
}

async function checkHsmHealth(deps: ConnectionDeps): Promise<CheckResult> {
  const hsm = deps.config.hsm;
  if (!hsm) return skipped('hsm-health', 'No HSM proxy is configured: Model B is not offered.');
  let response: Response;
  try {
    response = await deps.fetch(`${hsm.proxyUrl}/v1/health`, { cache: 'no-store' });
  } catch (cause) {
    return failed('hsm-health', new VeilError('HSM_PROXY_UNREACHABLE', hsm.proxyUrl, { cause }));
  }
  let body: { status?: unknown; apiVersion?: unknown };
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

async function checkHsmLogin(
  deps: ConnectionDeps,
  session: Ready | undefined,
): Promise<CheckResult> {
  const hsm = deps.config.hsm;
  if (!hsm) return skipped('hsm-login', 'No HSM proxy is configured.');
  if (!session?.hasIdToken) {
    return skipped(
      'hsm-login',
      'Model B needs a sign-in with a user account (guests and IAM keys have no ID token for the proxy).',
    );
  }
  const label = deps.hsmKeyLabel ?? hsm.keyLabel;
  try {
    const labels = await listHsmKeyLabels({
      proxyUrl: hsm.proxyUrl,
      idToken: () => session.idToken(),
      fetch: deps.fetch,
    });
    if (!labels.includes(label)) {
      return failed('hsm-login', new VeilError('HSM_FORBIDDEN_LABEL', label));
    }
    return ok('hsm-login', `Signed in; you may use ${labels.join(', ')}.`);
  } catch (error) {
    return failed('hsm-login', error);
  }
}

/** Runs every check (those that need credentials after the credentials check). Never throws. */
export async function runConnectionChecks(deps: ConnectionDeps): Promise<CheckResult[]> {
  const session = deps.session;
  const health = checkHsmHealth(deps);
  if (session.state !== 'ready') {
    const credentials: CheckResult =
      session.state === 'failed'
        ? { id: 'credentials', status: 'failed', code: session.code, message: session.message }
        : failed('credentials', new VeilError('CREDENTIALS_MISSING'));
    const why = 'Needs AWS credentials first.';
    return [
      credentials,
      skipped('bucket', why),
      skipped('cors', why),
      skipped('kms', why),
      await health,
      await checkHsmLogin(deps, undefined),
    ];
  }
  const credentials = await checkCredentials(session);
  if (credentials.status !== 'ok') {
    const why = 'Needs working AWS credentials first.';
    return [
      credentials,
      skipped('bucket', why),
      skipped('cors', why),
      skipped('kms', why),
      await health,
      await checkHsmLogin(deps, session),
    ];
  }
  const rest = await Promise.all([
    checkBucket(deps, session),
    checkCors(deps, session),
    checkKms(deps, session),
    health,
    checkHsmLogin(deps, session),
  ]);
  return [credentials, ...rest];
}
