/**
 * [Note: AWS failures] The one place where a failed AWS call (S3, KMS, STS, Cognito) or a failed
 * network request becomes a catalogue code. It reads only the shape the AWS SDK v3 gives its
 * errors (`name` = the service's error code, `$metadata.httpStatusCode`, `$fault`), and fetch's
 * TypeError, so it imports no SDK and lives in the core: transfer, keyrings, aws and state all
 * call it.
 *
 * The codes are neutral: the same S3 answer gives the same code on upload, download, listing and
 * the Settings checks. What the caller was doing travels as data (an `AwsCallContext`, written
 * into the detail as "upload UploadPart: SlowDown"), never as a different code. The detail names
 * the task, the operation and the AWS error name, never a message body.
 */
import { VeilError } from './errors';
import type { ErrorCode } from './errors';

/** What the caller was doing when an AWS call failed; it goes into the error's detail. */
export interface AwsCallContext {
  /** The user's task, e.g. 'upload', 'download', 'list', 'self-test'. */
  readonly task?: string;
  /** The API operation or what it acted on, e.g. 'UploadPart', 'GetObject', 'alias/veil'. */
  readonly operation?: string;
  /**
   * What S3's 412 means to this caller: the code for a conditional request (If-Match) whose
   * condition failed. Without it a 412 is S3_REJECTED like any other refusal.
   */
  readonly preconditionFailed?: ErrorCode;
}

/** Error names that mean the credentials themselves are the problem (any AWS service). */
const CREDENTIAL_ERRORS: Readonly<Record<string, ErrorCode>> = {
  ExpiredTokenException: 'CREDENTIALS_EXPIRED',
  ExpiredToken: 'CREDENTIALS_EXPIRED',
  RequestExpired: 'CREDENTIALS_EXPIRED',
  TokenRefreshRequired: 'CREDENTIALS_EXPIRED',
  UnrecognizedClientException: 'CREDENTIALS_INVALID',
  InvalidClientTokenId: 'CREDENTIALS_INVALID',
  InvalidAccessKeyId: 'CREDENTIALS_INVALID',
  InvalidSignatureException: 'CREDENTIALS_INVALID',
  SignatureDoesNotMatch: 'CREDENTIALS_INVALID',
  IncompleteSignature: 'CREDENTIALS_INVALID',
  CredentialsProviderError: 'CREDENTIALS_MISSING',
};

/**
 * KMS error names (the API's exception shapes, plus throttling which it sends unmodelled).
 * LimitExceededException is a quota on resources (keys, aliases, grants), not a request rate:
 * it stays KMS_FAILED, not KMS_THROTTLED.
 */
const KMS_ERRORS: Readonly<Record<string, ErrorCode>> = {
  AccessDeniedException: 'KMS_ACCESS_DENIED',
  DisabledException: 'KMS_KEY_DISABLED',
  KMSInvalidStateException: 'KMS_KEY_UNAVAILABLE',
  KeyUnavailableException: 'KMS_KEY_UNAVAILABLE',
  NotFoundException: 'KMS_KEY_NOT_FOUND',
  InvalidArnException: 'KMS_KEY_INVALID',
  InvalidKeyUsageException: 'KMS_KEY_INVALID',
  InvalidCiphertextException: 'KMS_CONTEXT_MISMATCH',
  IncorrectKeyException: 'KMS_WRONG_KEY',
  ThrottlingException: 'KMS_THROTTLED',
  TooManyRequestsException: 'KMS_THROTTLED',
};

/** Error names worth retrying: throttling, timeouts, server faults, expired credentials. */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'TimeoutError',
  'NetworkingError',
]);

/** Error names of a request that got no answer (the SDK's own, besides fetch's TypeError). */
const NO_ANSWER_NAMES: ReadonlySet<string> = new Set(['TimeoutError', 'NetworkingError']);

/** The `name` of an error-like value, '' when it has none. */
export function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : '';
}

/** The HTTP status of the service's answer, undefined when there was none. */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * True when the request reached no service: fetch's TypeError (the network failed, or a CORS
 * preflight was refused, which a page cannot tell apart) or the SDK's timeout and networking
 * errors. An error with an HTTP status was answered.
 */
export function isNoAnswer(error: unknown): boolean {
  if (httpStatusOf(error) !== undefined) return false;
  return error instanceof TypeError || NO_ANSWER_NAMES.has(errorName(error));
}

/**
 * True for a failure worth retrying: 5xx, 429, throttling, request timeouts, network errors and
 * expired credentials (the credentials provider refreshes them on the next call). VeilErrors and
 * aborts never are.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof VeilError) return false;
  if (error.name === 'AbortError') return false;
  const status = httpStatusOf(error);
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  return error instanceof TypeError;
}

/**
 * The catalogue code for an AWS error about credentials, or undefined when it is about
 * something else. Shared by every AWS call Veil makes.
 */
export function credentialErrorCode(error: unknown): ErrorCode | undefined {
  return CREDENTIAL_ERRORS[errorName(error)];
}

/** "task operation: name" without the parts that are missing; undefined when all are. */
export function failureDetail(context: AwsCallContext, what?: string): string | undefined {
  const where = [context.task, context.operation].filter(Boolean).join(' ');
  if (!where) return what || undefined;
  return what ? `${where}: ${what}` : where;
}

/**
 * Maps a failed S3 call (or any call whose refusal is S3_REJECTED): a VeilError passes as it is;
 * credential errors become their CREDENTIALS_* code; a 412 the caller's `preconditionFailed`
 * code; a request that got no answer S3_UNREACHABLE; any other answer S3_REJECTED. The detail
 * is the context and the S3 error name.
 */
export function s3Failure(error: unknown, context: AwsCallContext = {}): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  const detail = failureDetail(context, name);
  const credentialCode = credentialErrorCode(error);
  if (credentialCode) return new VeilError(credentialCode, detail, { cause: error });
  if (context.preconditionFailed && httpStatusOf(error) === 412) {
    return new VeilError(context.preconditionFailed, detail, { cause: error });
  }
  const code = isNoAnswer(error) ? 'S3_UNREACHABLE' : 'S3_REJECTED';
  return new VeilError(code, detail, { cause: error });
}

/**
 * The error after `attempts` transient failures in a row, the last being `last`: credentials
 * that stayed expired are CREDENTIALS_EXPIRED; a request that never got an answer is
 * S3_UNREACHABLE; anything else S3_RETRIES_EXHAUSTED. The detail counts the attempts and names
 * the last error; `extra` (such as the CORS rule to add) follows for S3_UNREACHABLE.
 */
export function retriesFailure(
  last: unknown,
  attempts: number,
  context: AwsCallContext = {},
  unreachableAdvice?: string,
): VeilError {
  const name = errorName(last) || 'Error';
  const detail = failureDetail(context, `${attempts} attempts, last: ${name}`);
  const credentialCode = credentialErrorCode(last);
  if (credentialCode) return new VeilError(credentialCode, detail, { cause: last });
  if (isNoAnswer(last)) {
    const advised = unreachableAdvice ? `${detail ?? ''}; ${unreachableAdvice}` : detail;
    return new VeilError('S3_UNREACHABLE', advised, { cause: last });
  }
  return new VeilError('S3_RETRIES_EXHAUSTED', detail, { cause: last });
}

/**
 * Maps an error from a KMS call: a VeilError passes as it is; credential errors become their
 * CREDENTIALS_* code, KMS exceptions their KMS_* code, anything else KMS_FAILED.
 * @param context `operation` the KMS operation and key, e.g. `GenerateDataKey alias/veil`.
 */
export function kmsFailure(error: unknown, context: AwsCallContext = {}): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  const code = credentialErrorCode(error) ?? KMS_ERRORS[name] ?? 'KMS_FAILED';
  return new VeilError(code, failureDetail(context, name), { cause: error });
}

/**
 * Any failure as a catalogue error, for places that show what an AWS call left (Settings): a
 * VeilError as it is, credential errors as their code, anything else INTERNAL_ERROR naming it.
 */
export function anyFailure(error: unknown): VeilError {
  if (error instanceof VeilError) return error;
  const code = credentialErrorCode(error) ?? 'INTERNAL_ERROR';
  return new VeilError(code, errorName(error) || typeof error, { cause: error });
}
