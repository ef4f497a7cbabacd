/**
 * The one catalogue of the proxy's error codes: each with its HTTP status and a message that
 * says what to do. The code names are the contract's (HSM_ERROR_CODES in
 * src/keyrings/hsm-api.ts, which the browser's client maps), so a code added on one side only
 * fails the type check. A refusal is JSON `{ error: code, message }`; ../README.md lists the same
 * table for clients. Messages never hold key material, AAD or tokens.
 */
import type { HsmErrorCode } from '../../../src/keyrings/hsm-api';
import { AuthError } from './auth';
import { BodyError } from './limits';
import { ckr, HsmError } from './pkcs11';

export const API_ERRORS = {
  BAD_REQUEST: [400, 'a field is missing or malformed: see the API in the proxy README'],
  MALFORMED_JSON: [400, 'send a JSON object as the body'],
  UNWRAP_FAILED: [400, 'the wrapped key does not open with this key label and AAD'],
  UNAUTHENTICATED: [401, 'send a Cognito ID token as "Authorization: Bearer <token>"'],
  TOKEN_INVALID: [401, 'the ID token is not valid for this proxy: sign in again'],
  TOKEN_EXPIRED: [401, 'the ID token has expired or is too old: sign in again'],
  FORBIDDEN_LABEL: [403, 'the policy does not grant you this key label: ask an administrator'],
  NOT_ADMIN: [403, 'only administrators may create keys'],
  NOT_KEY_OWNER: [
    403,
    'this data key was wrapped for another user and opens only for them: ask its owner to share the file with you',
  ],
  NOT_IN_SHARING_GROUP: [
    403,
    'this key label is shared with a group you are not in (or no longer shares this wrap): ask an administrator',
  ],
  LEGACY_WRAP_REFUSED: [
    403,
    'this data key was wrapped before keys were bound to their owner, and this label no longer accepts such wraps: ask an administrator',
  ],
  KEY_NOT_FOUND: [404, 'the HSM has no key with this label: check the label'],
  NOT_FOUND: [404, 'no such route: see the API in the proxy README'],
  METHOD_NOT_ALLOWED: [405, 'this method is not allowed on this route'],
  KEY_EXISTS: [409, 'a key with this label already exists: pick another label'],
  BODY_TOO_LARGE: [413, 'the body is too large'],
  RATE_LIMITED: [429, 'too many requests: slow down and retry'],
  INTERNAL: [500, 'the proxy failed; the request id is in the x-request-id header'],
  HSM_FAILED: [500, 'the HSM refused the operation: ask an administrator'],
  AUDIT_FAILED: [
    500,
    'the audit log could not be written, so no key was returned: ask an administrator to check the audit log disk',
  ],
  HSM_UNAVAILABLE: [503, 'the HSM cannot be reached or the proxy is shutting down: try again'],
  AUDIT_UNAVAILABLE: [
    503,
    'the audit log cannot be written: key use is suspended until an administrator fixes it',
  ],
} as const satisfies Record<HsmErrorCode, readonly [number, string]>;

/** A code of the catalogue (the contract's HsmErrorCode). */
export type ApiErrorCode = HsmErrorCode;

/** A refusal with a catalogued code; `message` replaces the catalogue's when more specific. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    options?: ErrorOptions,
  ) {
    super(message ?? API_ERRORS[code][1], options);
    this.status = API_ERRORS[code][0];
  }
}

const HSM_CODES: Record<HsmError['code'], ApiErrorCode> = {
  HSM_KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  HSM_KEY_EXISTS: 'KEY_EXISTS',
  HSM_UNWRAP_FAILED: 'UNWRAP_FAILED',
  HSM_UNAVAILABLE: 'HSM_UNAVAILABLE',
  HSM_LOGIN: 'HSM_UNAVAILABLE',
  HSM_LIBRARY: 'HSM_UNAVAILABLE',
  HSM_TOKEN_NOT_FOUND: 'HSM_UNAVAILABLE',
  HSM_FAILED: 'HSM_FAILED',
};

/** Maps any failure onto a catalogued refusal (unknown failures become INTERNAL). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof AuthError) return new ApiError(error.code, error.message);
  if (error instanceof BodyError) return new ApiError(error.code, error.message);
  if (error instanceof HsmError) return new ApiError(HSM_CODES[error.code], error.message);
  if (ckr(error) !== undefined) {
    return new ApiError('HSM_UNAVAILABLE', 'the HSM failed to complete the operation: try again');
  }
  return new ApiError('INTERNAL', undefined, { cause: error });
}
