/**
 * "Check connection" in Settings: each part Veil needs, tested for real and reported as a row
 * (ok, failed with a catalogued error and the fix, or skipped with the reason):
 *
 * 1. credentials: the current provider hands out AWS credentials (pasted IAM keys are checked by
 *    the signed request of the bucket check, and the row says so);
 * 2. bucket: ListObjectsV2 (max-keys 1) under the prefix;
 * 3. CORS: every kind of request uploads and downloads make, cross-origin, on a small probe
 *    object under the prefix ([Note: the CORS probe]);
 * 4. KMS key: DescribeKey of the Model C key and its state;
 * 5. HSM proxy: GET /v1/health;
 * 6. HSM sign-in: GET /v1/keys with the user's ID token, and the chosen label among those allowed.
 *
 * [Note: the CORS probe] A bucket's CORS rule lists methods and exposed headers, and a rule that
 * allows PUT but not POST or DELETE, or exposes ETag but not Veil's metadata, breaks uploads or
 * downloads while a simpler check goes green. So the probe does what the engines do: PutObject
 * with Veil's metadata (must expose ETag and x-amz-checksum-crc32), GetObject of its first byte
 * (must expose ETag, x-amz-meta-veil-format and x-amz-meta-veil-model, which Files and downloads
 * read), CreateMultipartUpload then AbortMultipartUpload (POST and DELETE, as multipart uploads
 * and their cancel), and DeleteObject. A probe that cannot be deleted is a failure that names the
 * object left behind. Every failure that CORS explains carries the rule to add.
 *
 * [Note: telling CORS from an unreachable endpoint] A page cannot see why a cross-origin request
 * failed: a CORS refusal and a dead endpoint are the same TypeError. After such a failure the
 * check sends one `no-cors` request to the bucket's URL as the S3 client addresses it
 * (s3BucketUrl, inside the policy's connect-src): an (opaque) answer means S3 is there and CORS
 * is what blocks the page (CONNECTION_CORS_BLOCKED, with the rule to add); no answer means the
 * endpoint cannot be reached (S3_UNREACHABLE).
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
import { s3BucketUrl } from '../hosting/csp';
import { corsRuleFor } from '../transfer/cors';
import { shownError } from './shown-error';

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

/** What a ranged GetObject of the probe let the page read. */
export interface ProbeRead {
  readonly etag: string | undefined;
  /** x-amz-meta-* headers the page could read, without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** The metadata the probe is written with; a GET must read it back (see [Note: the CORS probe]). */
export const PROBE_METADATA: Readonly<Record<string, string>> = {
  'veil-format': 'probe',
  'veil-model': 'probe',
};

/** The S3 calls the checks make. Errors are the SDK's, mapped here. */
export interface CheckS3 {
  listOne(bucket: string, prefix: string): Promise<void>;
  putProbe(
    bucket: string,
    key: string,
    body: Uint8Array,
    metadata: Readonly<Record<string, string>>,
  ): Promise<ProbeAnswer>;
  /** GetObject with `Range: bytes=0-0`. */
  getProbe(bucket: string, key: string): Promise<ProbeRead>;
  /** CreateMultipartUpload; resolves to the upload id. */
  startMultipart(bucket: string, key: string): Promise<string>;
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
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
        /** True for IAM keys pasted in Settings, which nothing has checked yet. */
        readonly pastedKeys?: boolean;
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

/** The bucket's URL as the S3 client addresses it, for the no-cors reachability probe. */
export function s3EndpointUrl(
  config: Pick<VeilConfig, 'endpoints' | 'bucket' | 'region' | 'forcePathStyle'>,
): string {
  return s3BucketUrl(config);
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
    if (session.pastedKeys) {
      return ok(
        'credentials',
        `Key ${hint} (pasted): present, not verified by this row; the bucket check below signs a request with it.`,
      );
    }
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

/** Codes of a signed request that say the credentials themselves were refused. */
const CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  'CREDENTIALS_INVALID',
  'CREDENTIALS_EXPIRED',
  'CREDENTIALS_FAILED',
]);

/**
 * The credentials row once the bucket check has signed a request with them: refused credentials
 * fail the row; pasted keys S3 accepted are verified.
 */
function credentialsAfterBucket(
  credentials: CheckResult,
  bucket: CheckResult,
  session: Ready,
): CheckResult {
  if (bucket.status === 'failed' && CREDENTIAL_CODES.has(bucket.code)) {
    return { ...bucket, id: 'credentials' };
  }
  if (credentials.status === 'ok' && session.pastedKeys && bucket.status === 'ok') {
    return ok(
      'credentials',
      credentials.detail.replace(
        /: present, not verified by this row; .*$/,
        ': accepted by S3 (the bucket check signed a request with it).',
      ),
    );
  }
  return credentials;
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

/** Says in a failed row that the probe object could not be deleted. */
function withLeftover(result: CheckResult, leftover: string | undefined): CheckResult {
  if (leftover === undefined || result.status !== 'failed') return result;
  return { ...result, message: `${result.message} ${leftover}` };
}

/** See [Note: the CORS probe]. */
async function checkCors(deps: ConnectionDeps, session: Ready): Promise<CheckResult> {
  const { bucket } = deps.config;
  const s3 = session.s3();
  const rule = corsConfigurationText(deps.origin);
  let key: string;
  let answer: ProbeAnswer;
  try {
    key = `${prefixOf(deps, session)}${PROBE_FOLDER}${deps.randomId()}`;
    const body = new TextEncoder().encode('Veil connection check\n');
    answer = await s3.putProbe(bucket, key, body, PROBE_METADATA);
  } catch (error) {
    return networkFailure(deps, 'PutObject', s3Error(error, 'PutObject'), 'cors');
  }
  const missing = new Set<string>();
  if (!answer.etag) missing.add('ETag');
  if (!answer.checksumCrc32) missing.add('x-amz-checksum-crc32');

  let failure: CheckResult | undefined;
  try {
    const read = await s3.getProbe(bucket, key);
    if (!read.etag) missing.add('ETag');
    for (const [name, value] of Object.entries(PROBE_METADATA)) {
      if (read.metadata[name] !== value) missing.add(`x-amz-meta-${name}`);
    }
  } catch (error) {
    failure = await networkFailure(deps, 'GetObject', s3Error(error, 'GetObject'), 'cors');
  }
  if (!failure) failure = await probeMultipart(deps, s3, key);

  let leftover: string | undefined;
  let deleteFailure: CheckResult | undefined;
  try {
    await s3.deleteProbe(bucket, key);
  } catch (error) {
    leftover = `The probe object ${key} was left in the bucket: delete it.`;
    deleteFailure = withLeftover(
      await networkFailure(deps, 'DeleteObject', s3Error(error, 'DeleteObject'), 'cors'),
      leftover,
    );
  }

  if (failure) return withLeftover(failure, leftover);
  if (missing.size > 0) {
    return withLeftover(
      failed(
        'cors',
        new VeilError('UPLOAD_CORS_HEADERS', `the page cannot read ${[...missing].join(', ')}`),
        rule,
      ),
      leftover,
    );
  }
  if (deleteFailure) return deleteFailure;
  return ok(
    'cors',
    `This site (${deps.origin}) may PUT, GET, POST and DELETE in the bucket and read ETag, checksums and Veil's metadata.`,
  );
}

/** CreateMultipartUpload then AbortMultipartUpload of the probe's key: POST and DELETE. */
async function probeMultipart(
  deps: ConnectionDeps,
  s3: CheckS3,
  key: string,
): Promise<CheckResult | undefined> {
  const { bucket } = deps.config;
  let uploadId: string;
  try {
    uploadId = await s3.startMultipart(bucket, key);
  } catch (error) {
    const operation = 'CreateMultipartUpload';
    return networkFailure(deps, operation, s3Error(error, operation), 'cors');
  }
  try {
    await s3.abortMultipart(bucket, key, uploadId);
  } catch (error) {
    const operation = 'AbortMultipartUpload';
    return withLeftover(
      await networkFailure(deps, operation, s3Error(error, operation), 'cors'),
      `An unfinished multipart upload of ${key} was left in the bucket (a lifecycle rule for incomplete uploads removes it).`,
    );
  }
  return undefined;
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
  const [bucket, ...rest] = await Promise.all([
    checkBucket(deps, session),
    checkCors(deps, session),
    checkKms(deps, session),
    health,
    checkHsmLogin(deps, session),
  ]);
  return [credentialsAfterBucket(credentials, bucket, session), bucket, ...rest];
}
