/**
 * Turns what the AWS SDK throws into catalogue errors. The SDK's service errors carry the
 * service's error code as `name` (moto sends empty messages, real KMS short ones; neither is
 * shown). The detail names the operation, the key (aliases and ARNs are not secret) and the
 * original error name, never a message body.
 */
import type { ErrorCode } from '../core/errors';
import { VeilError } from '../core/errors';

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

/** The `name` of an error-like value, '' when it has none. */
export function errorName(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' ? name : '';
}

/**
 * The catalogue code for an AWS error about credentials, or undefined when it is about
 * something else. Shared by every AWS call Veil makes.
 */
export function credentialErrorCode(error: unknown): ErrorCode | undefined {
  return CREDENTIAL_ERRORS[errorName(error)];
}

/**
 * Maps an error from a KMS call to a VeilError; a VeilError passes through unchanged.
 * @param operation the KMS operation, e.g. `GenerateDataKey`.
 * @param keyName the key as the call named it (alias or ARN; not secret).
 */
export function kmsError(error: unknown, operation: string, keyName: string): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  const code = credentialErrorCode(error) ?? KMS_ERRORS[name] ?? 'KMS_FAILED';
  return new VeilError(code, `${operation} ${keyName}: ${name}`, { cause: error });
}

/**
 * The catalogue code for a KMS key state that stops cryptographic use, or undefined when the
 * key is usable (`Enabled`). States: Enabled, Disabled, PendingDeletion, PendingImport,
 * PendingReplicaDeletion, Unavailable, Updating, Creating.
 */
export function keyStateErrorCode(state: string | undefined): ErrorCode | undefined {
  switch (state) {
    case 'Enabled':
    case undefined:
      return undefined;
    case 'Disabled':
      return 'KMS_KEY_DISABLED';
    case 'PendingDeletion':
    case 'PendingReplicaDeletion':
      return 'KMS_KEY_PENDING_DELETION';
    default:
      return 'KMS_KEY_UNAVAILABLE';
  }
}
