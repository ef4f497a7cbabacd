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
 * 5. HSM proxy: its health route;
 * 6. HSM sign-in: the labels the user's ID token may use, and the chosen label among them.
 *
 * Rows 4 to 6 (connection-keys.ts) check the keys uploads use: ConnectionDeps.keys is the one
 * resolved choice ([Note: key choice] in shared/key-choice.ts). The rows' types are connection-results.ts.
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
import type { VeilConfig } from '../../aws/config';
import { objectPrefix } from '../../aws/config';
import { VeilError, s3Failure } from '../../core';
import type { KmsApi } from '../../keyrings/kms-api';
import { s3BucketUrl } from '../../hosting/csp';
import { corsRuleFor } from '../../transfer/cors';
import { checkHsmHealth, checkHsmLogin, checkKmsKey } from './connection-keys';
import { failed, ok, skipped, type CheckId, type CheckResult } from './connection-results';
import type { KeyChoice } from '../shared/key-choice';

export { CHECK_LABELS, type CheckId, type CheckResult } from './connection-results';

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
  /** The keys uploads use (resolveKeyChoice), which the key rows check. */
  readonly keys: KeyChoice;
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

/** The credentials row, and for pasted keys the key's hint (the bucket row verifies them). */
interface CredentialsRow {
  readonly result: CheckResult;
  readonly pastedHint?: string;
}

/** The row of pasted keys: not verified by itself, or accepted once S3 signed a request. */
function pastedKeysRow(hint: string, acceptedByS3: boolean): CheckResult {
  return ok(
    'credentials',
    acceptedByS3
      ? `Key ${hint} (pasted): accepted by S3 (the bucket check signed a request with it).`
      : `Key ${hint} (pasted): present, not verified by this row; the bucket check below signs a request with it.`,
  );
}

async function checkCredentials(session: Ready): Promise<CredentialsRow> {
  try {
    const identity = await session.credentials();
    const hint = `${identity.accessKeyId.slice(0, 4)}…`;
    if (session.pastedKeys) return { result: pastedKeysRow(hint, false), pastedHint: hint };
    const expiry = identity.expiration
      ? `, valid until ${identity.expiration.toISOString().slice(11, 16)} UTC (renewed automatically)`
      : '';
    const who = session.identityId ? ` for identity ${session.identityId}` : '';
    return { result: ok('credentials', `Key ${hint}${who}${expiry}.`) };
  } catch (error) {
    return { result: failed('credentials', s3Failure(error, { operation: 'credentials' })) };
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
function credentialsAfterBucket(credentials: CredentialsRow, bucket: CheckResult): CheckResult {
  if (bucket.status === 'failed' && CREDENTIAL_CODES.has(bucket.code)) {
    return { ...bucket, id: 'credentials' };
  }
  if (credentials.pastedHint !== undefined && bucket.status === 'ok') {
    return pastedKeysRow(credentials.pastedHint, true);
  }
  return credentials.result;
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
    return networkFailure(
      deps,
      'ListObjectsV2',
      s3Failure(error, { operation: 'ListObjectsV2' }),
      'bucket',
    );
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
    return networkFailure(deps, 'PutObject', s3Failure(error, { operation: 'PutObject' }), 'cors');
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
    failure = await networkFailure(
      deps,
      'GetObject',
      s3Failure(error, { operation: 'GetObject' }),
      'cors',
    );
  }
  if (!failure) failure = await probeMultipart(deps, s3, key);

  let leftover: string | undefined;
  let deleteFailure: CheckResult | undefined;
  try {
    await s3.deleteProbe(bucket, key);
  } catch (error) {
    leftover = `The probe object ${key} was left in the bucket: delete it.`;
    deleteFailure = withLeftover(
      await networkFailure(
        deps,
        'DeleteObject',
        s3Failure(error, { operation: 'DeleteObject' }),
        'cors',
      ),
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
    return networkFailure(deps, operation, s3Failure(error, { operation }), 'cors');
  }
  try {
    await s3.abortMultipart(bucket, key, uploadId);
  } catch (error) {
    const operation = 'AbortMultipartUpload';
    return withLeftover(
      await networkFailure(deps, operation, s3Failure(error, { operation }), 'cors'),
      `An unfinished multipart upload of ${key} was left in the bucket (a lifecycle rule for incomplete uploads removes it).`,
    );
  }
  return undefined;
}

/** Runs every check (those that need credentials after the credentials check). Never throws. */
export async function runConnectionChecks(deps: ConnectionDeps): Promise<CheckResult[]> {
  const session = deps.session;
  const health = checkHsmHealth(deps.keys, deps.fetch);
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
      await checkHsmLogin(deps.keys, undefined, deps.fetch),
    ];
  }
  const credentials = await checkCredentials(session);
  if (credentials.result.status !== 'ok') {
    const why = 'Needs working AWS credentials first.';
    return [
      credentials.result,
      skipped('bucket', why),
      skipped('cors', why),
      skipped('kms', why),
      await health,
      await checkHsmLogin(deps.keys, session, deps.fetch),
    ];
  }
  const [bucket, ...rest] = await Promise.all([
    checkBucket(deps, session),
    checkCors(deps, session),
    checkKmsKey(deps.keys, session, deps.config.region),
    health,
    checkHsmLogin(deps.keys, session, deps.fetch),
  ]);
  return [credentialsAfterBucket(credentials, bucket), bucket, ...rest];
}
