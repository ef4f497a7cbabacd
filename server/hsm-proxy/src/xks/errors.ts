/**
 * The XKS API's error catalogue: the error names and HTTP statuses of the XKS proxy API
 * specification ("Error codes"), each with the message this proxy sends. A refusal is JSON
 * `{ errorName, errorMessage }`; the spec wants the message under 512 characters of printable
 * ASCII, and KMS logs it in the caller's CloudWatch Logs, so it never holds key material,
 * plaintext, AAD or a signature.
 */
import pkcs11js from 'pkcs11js';
import { BodyError } from '../limits';
import { ckr, HsmError } from '../pkcs11';

export const XKS_ERRORS = {
  ValidationException: [400, 'one or more input parameters is invalid'],
  InvalidStateException: [400, 'the external key is disabled in the proxy configuration'],
  InvalidCiphertextException: [
    400,
    'the ciphertext, initialization vector, additional authenticated data or authentication tag is corrupted, missing, or otherwise invalid',
  ],
  InvalidKeyUsageException: [400, 'the external key does not allow the requested operation'],
  AuthenticationFailedException: [401, 'the request has no valid AWS SigV4 signature'],
  AccessDeniedException: [403, 'the operation is not authorized for this request metadata'],
  KeyNotFoundException: [404, 'the external key is not found'],
  InvalidUriPathException: [404, 'the URI path is not valid'],
  // The spec asks for 405 on a GET but names no error for it.
  MethodNotAllowed: [405, 'the XKS API accepts only POST'],
  ThrottlingException: [429, 'the request rate is too high: retry later'],
  InternalException: [500, 'the external key manager (the HSM) or the audit log failed'],
  UnsupportedOperationException: [
    501,
    'the operation is not implemented, or a parameter exceeds the size this proxy supports',
  ],
  DependencyTimeoutException: [503, 'the HSM did not answer in time'],
} as const satisfies Record<string, readonly [number, string]>;

export type XksErrorName = keyof typeof XKS_ERRORS;

/** A refusal with a catalogued name; `message` replaces the catalogue's when more specific. */
export class XksError extends Error {
  override readonly name = 'XksError';
  readonly status: number;
  constructor(
    readonly errorName: XksErrorName,
    message?: string,
    options?: ErrorOptions,
  ) {
    super(message ?? XKS_ERRORS[errorName][1], options);
    this.status = XKS_ERRORS[errorName][0];
  }
}

const FROM_HSM: Record<HsmError['code'], XksErrorName> = {
  HSM_KEY_NOT_FOUND: 'KeyNotFoundException',
  HSM_KEY_EXISTS: 'InternalException',
  HSM_UNWRAP_FAILED: 'InvalidCiphertextException',
  HSM_UNAVAILABLE: 'DependencyTimeoutException',
  HSM_LOGIN: 'InternalException',
  HSM_LIBRARY: 'InternalException',
  HSM_TOKEN_NOT_FOUND: 'InternalException',
  HSM_FAILED: 'InternalException',
};

/** Maps any failure onto a catalogued refusal (unknown failures become InternalException). */
export function toXksError(error: unknown): XksError {
  if (error instanceof XksError) return error;
  if (error instanceof BodyError) {
    return error.code === 'BODY_TOO_LARGE'
      ? new XksError('UnsupportedOperationException', error.message)
      : new XksError('ValidationException', error.message);
  }
  if (error instanceof HsmError)
    return new XksError(FROM_HSM[error.code], undefined, { cause: error });
  const code = ckr(error);
  if (
    code === pkcs11js.CKR_KEY_FUNCTION_NOT_PERMITTED ||
    code === pkcs11js.CKR_KEY_TYPE_INCONSISTENT
  )
    return new XksError('InvalidKeyUsageException', 'the HSM key does not allow this operation');
  if (code !== undefined) {
    return new XksError('InternalException', 'the HSM failed to complete the operation', {
      cause: error,
    });
  }
  return new XksError('InternalException', undefined, { cause: error });
}

/** The JSON body of a refusal: the spec's `errorName` and a printable-ASCII `errorMessage`. */
export function errorBody(error: XksError): { errorName: string; errorMessage: string } {
  const printable = error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 511);
  return { errorName: error.errorName, errorMessage: printable };
}
