/**
 * [Note: HSM API contract] The HSM proxy's HTTP API, version 1, as both sides compile it: the
 * Model B keyring (hsm-proxy.ts) and Settings' checks call it, and server/hsm-proxy serves it
 * (importing this file by relative path). Route paths, request and reply bodies, limits and
 * error code names are written here once; a change that one side does not follow fails its
 * type check. The proxy's README documents the same API for people.
 *
 * Only constants and types, with no imports: nothing here may pull browser-only or Node-only code
 * into the other side. JSON in and out, binary values as base64; a refusal is `HsmErrorReply`
 * with one of HSM_ERROR_CODES (the proxy's catalogue, server/hsm-proxy/src/api-errors.ts, gives
 * each its HTTP status and message).
 */

/** The API version this contract describes (the proxy reports it in its health answer). */
export const HSM_API_VERSION = 1;

/** The service name in the health answer. */
export const HSM_SERVICE_NAME = 'veil-hsm-proxy';

/** Every route: its method and path. */
export const HSM_ROUTES = {
  /** Unauthenticated liveness; 503 (same body) when degraded. */
  health: { method: 'GET', path: '/v1/health' },
  /** The key labels the caller may use. */
  listKeys: { method: 'GET', path: '/v1/keys' },
  /** A new non-extractable AES-256 key (administrators only); answers 201. */
  createKey: { method: 'POST', path: '/v1/keys' },
  /** 32 random bytes from the HSM, and the same wrapped under a label. */
  generateDataKey: { method: 'POST', path: '/v1/data-keys' },
  /** Wraps a data key the caller already has (one more EDK). */
  encryptDataKey: { method: 'POST', path: '/v1/data-keys/encrypt' },
  /** Unwraps a wrapped data key. */
  decryptDataKey: { method: 'POST', path: '/v1/data-keys/decrypt' },
} as const satisfies Record<string, { method: 'GET' | 'POST'; path: `/v1/${string}` }>;

/** A route's name in HSM_ROUTES. */
export type HsmRoute = keyof typeof HSM_ROUTES;

/** Key labels: 1 to 64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
export const HSM_KEY_LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The most AAD bytes (the serialized encryption context) a request may carry. */
export const HSM_MAX_AAD_BYTES = 65_535;

/** The length of a data key, in bytes. */
export const HSM_DATA_KEY_BYTES = 32;

/**
 * The lengths of a wrapped data key, in bytes: `legacy` from proxies before owner binding, and
 * `ownerBound` (format version 2, server/hsm-proxy/src/wrapped-key.ts) from today's.
 */
export const HSM_WRAPPED_KEY_BYTES = { legacy: 60, ownerBound: 80 } as const;

/** The health answer. */
export interface HsmHealthReply {
  readonly service: typeof HSM_SERVICE_NAME;
  readonly apiVersion: number;
  /** `degraded`: the default key is missing or extractable, or the audit log cannot be written. */
  readonly status: 'ok' | 'degraded';
  /** The HSM token's label. */
  readonly token: string;
  readonly defaultKey:
    | {
        readonly label: string;
        readonly found: true;
        readonly bits: number;
        readonly extractable: boolean;
      }
    | { readonly label: string; readonly found: false };
}

/** Request and reply bodies per route (base64 for bytes; `aad` may be empty). */
export interface HsmApi {
  health: { request: undefined; reply: HsmHealthReply };
  listKeys: { request: undefined; reply: { readonly keys: readonly { readonly label: string }[] } };
  createKey: { request: { readonly label: string }; reply: { readonly label: string } };
  generateDataKey: {
    request: { readonly keyLabel: string; readonly aad: string };
    reply: { readonly keyLabel: string; readonly plaintext: string; readonly wrapped: string };
  };
  encryptDataKey: {
    request: { readonly keyLabel: string; readonly plaintext: string; readonly aad: string };
    reply: { readonly keyLabel: string; readonly wrapped: string };
  };
  decryptDataKey: {
    request: { readonly keyLabel: string; readonly wrapped: string; readonly aad: string };
    reply: { readonly keyLabel: string; readonly plaintext: string };
  };
}

/** The request body of `route` (undefined: none). */
export type HsmRequest<R extends HsmRoute> = HsmApi[R]['request'];

/** The reply body of `route`. */
export type HsmReply<R extends HsmRoute> = HsmApi[R]['reply'];

/** A reply as a client receives it: the contract's fields, each still to be checked. */
export type HsmUntrustedReply<R extends HsmRoute> = { readonly [K in keyof HsmReply<R>]?: unknown };

/** Every field name some request body has. */
export type HsmRequestField = {
  [R in HsmRoute]: HsmRequest<R> extends undefined ? never : keyof HsmRequest<R>;
}[HsmRoute];

/** Every code a refusal may carry. */
export const HSM_ERROR_CODES = [
  'BAD_REQUEST',
  'MALFORMED_JSON',
  'UNWRAP_FAILED',
  'UNAUTHENTICATED',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'FORBIDDEN_LABEL',
  'NOT_ADMIN',
  'NOT_KEY_OWNER',
  'NOT_IN_SHARING_GROUP',
  'LEGACY_WRAP_REFUSED',
  'KEY_NOT_FOUND',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'KEY_EXISTS',
  'BODY_TOO_LARGE',
  'RATE_LIMITED',
  'INTERNAL',
  'HSM_FAILED',
  'AUDIT_FAILED',
  'HSM_UNAVAILABLE',
  'AUDIT_UNAVAILABLE',
] as const;

/** A refusal's code. */
export type HsmErrorCode = (typeof HSM_ERROR_CODES)[number];

/** The body of every refusal. */
export interface HsmErrorReply {
  readonly error: HsmErrorCode;
  readonly message: string;
}

/** True when `value` is one of HSM_ERROR_CODES. */
export function isHsmErrorCode(value: unknown): value is HsmErrorCode {
  return (HSM_ERROR_CODES as readonly unknown[]).includes(value);
}

/** The route with this method and path, or undefined. */
export function hsmRouteOf(method: string, path: string): HsmRoute | undefined {
  for (const [name, route] of Object.entries(HSM_ROUTES)) {
    if (route.method === method && route.path === path) return name as HsmRoute;
  }
  return undefined;
}

/** True when some route has this path (with any method). */
export function isHsmPath(path: string): boolean {
  return Object.values(HSM_ROUTES).some((route) => route.path === path);
}
