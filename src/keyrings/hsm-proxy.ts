/**
 * Model B: a keyring whose wrapping keys live in an HSM behind Veil's HSM proxy
 * (server/hsm-proxy, API v1: [Note: HSM API contract] in hsm-api.ts). The data key is wrapped with AES-256-GCM inside the HSM under the
 * key named by label, bound to the serialized encryption context as AAD.
 *
 * EDK: provider id `veil-hsm`; provider info = UTF-8(key label); ciphertext = the proxy's wrapped
 * key as it returned it: 80 bytes bound to the user (or the label's group) who wrapped it, or,
 * from proxies before that binding, the 60 bytes `iv (12) || ciphertext (32) || tag (16)`
 * (server/hsm-proxy/src/wrapped-key.ts). By design of Model B the proxy sees the data key while
 * it wraps or unwraps it; it is reached over TLS (or loopback) with the user's ID token.
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../core/bytes';
import { serializeEncryptionContext } from '../core/encryption-context';
import { VeilError, needs, type ErrorCode } from '../core/errors';
import type {
  DecryptRequest,
  EncryptRequest,
  EncryptResult,
  EncryptedDataKey,
  Keyring,
} from '../core/keyring';
import {
  HSM_DATA_KEY_BYTES,
  HSM_KEY_LABEL_PATTERN,
  HSM_ROUTES,
  HSM_WRAPPED_KEY_BYTES,
  isHsmErrorCode,
  type HsmErrorCode,
  type HsmRequest,
  type HsmRoute,
  type HsmUntrustedReply,
} from './hsm-api';

export const HSM_PROVIDER_ID = 'veil-hsm';
/** Wrapped-key lengths the proxy hands out: legacy (60) and owner-bound version 2 (80). */
const WRAPPED_LENGTHS: readonly number[] = [
  HSM_WRAPPED_KEY_BYTES.legacy,
  HSM_WRAPPED_KEY_BYTES.ownerBound,
];
const DATA_KEY_LENGTHS: readonly number[] = [HSM_DATA_KEY_BYTES];
const LABEL = HSM_KEY_LABEL_PATTERN;

export interface HsmProxyKeyringOptions {
  /** Base URL of the proxy, e.g. `https://hsm.example.org`. */
  readonly proxyUrl: string;
  /** The key label that wraps new data keys. Needed to encrypt, not to decrypt. */
  readonly keyLabel?: string;
  /** The caller's current Cognito ID token (called for each request, so it may refresh). */
  readonly idToken: () => string | Promise<string>;
  /** Injected fetch (the page's, a worker's, or Node's). */
  readonly fetch?: typeof fetch;
  /** Attempts for a request refused as busy (429, 503) or lost on the network; default 3. */
  readonly attempts?: number;
}

/** The proxy's refusals that Veil's catalogue names; any other becomes HSM_PROXY_FAILED. */
const STATUS_CODES: Partial<Record<HsmErrorCode, ErrorCode>> = {
  UNAUTHENTICATED: 'HSM_UNAUTHENTICATED',
  TOKEN_INVALID: 'HSM_UNAUTHENTICATED',
  TOKEN_EXPIRED: 'HSM_UNAUTHENTICATED',
  FORBIDDEN_LABEL: 'HSM_FORBIDDEN_LABEL',
  KEY_NOT_FOUND: 'HSM_KEY_NOT_FOUND',
  UNWRAP_FAILED: 'WRONG_KEY',
  NOT_KEY_OWNER: 'HSM_NOT_OWNER',
  LEGACY_WRAP_REFUSED: 'HSM_NOT_OWNER',
  NOT_IN_SHARING_GROUP: 'HSM_FORBIDDEN_LABEL',
  RATE_LIMITED: 'HSM_BUSY',
  HSM_UNAVAILABLE: 'HSM_BUSY',
};

/** One proxy request may take this long before it counts as lost (and is retried). */
const REQUEST_TIMEOUT_MS = 30_000;

function isSafeUrl(text: string): boolean {
  try {
    const url = new URL(text);
    if (url.protocol === 'https:') return true;
    // Plain http only on this machine (the local stack): 127.0.0.0/8, ::1 or localhost.
    return (
      url.protocol === 'http:' &&
      (/^127(\.\d{1,3}){3}$/.test(url.hostname) || ['localhost', '[::1]'].includes(url.hostname))
    );
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Lists the key labels the caller may use (the contract's listKeys route). */
export async function listHsmKeyLabels(
  options: Pick<HsmProxyKeyringOptions, 'proxyUrl' | 'idToken' | 'fetch'>,
): Promise<string[]> {
  const reply = await new HsmProxyClient(options).call('listKeys', undefined);
  const keys = reply.keys;
  if (!Array.isArray(keys)) throw new VeilError('HSM_INVALID_RESPONSE', 'keys');
  return keys.map((key: unknown) => String((key as { label?: unknown }).label));
}

/** A thin JSON client of the proxy that maps its error codes onto Veil's catalogue. */
class HsmProxyClient {
  readonly #url: string;
  readonly #idToken: () => string | Promise<string>;
  readonly #fetch: typeof fetch;
  readonly #attempts: number;

  constructor(
    options: Pick<HsmProxyKeyringOptions, 'proxyUrl' | 'idToken' | 'fetch' | 'attempts'>,
  ) {
    // Precondition: an https URL (http only on loopback: the token and data keys cross it).
    needs(
      typeof options.proxyUrl === 'string' && isSafeUrl(options.proxyUrl),
      'BAD_ARGUMENT',
      'proxyUrl must be https (http only for 127.0.0.0/8, ::1 or localhost)',
    );
    needs(typeof options.idToken === 'function', 'BAD_ARGUMENT', 'idToken');
    this.#url = options.proxyUrl.replace(/\/+$/, '');
    this.#idToken = options.idToken;
    this.#fetch = options.fetch ?? fetch.bind(globalThis);
    this.#attempts = options.attempts ?? 3;
  }

  /** Calls `route` with `body`; resolves to the reply, whose fields are still to be checked. */
  async call<R extends HsmRoute>(route: R, body: HsmRequest<R>): Promise<HsmUntrustedReply<R>> {
    const { method, path } = HSM_ROUTES[route];
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(`${this.#url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${await this.#idToken()}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          cache: 'no-store',
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
      } catch (cause) {
        if (attempt < this.#attempts) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw new VeilError('HSM_PROXY_UNREACHABLE', this.#url, { cause });
      }
      let reply: Record<string, unknown>;
      try {
        reply = (await response.json()) as Record<string, unknown>;
      } catch (cause) {
        throw new VeilError('HSM_INVALID_RESPONSE', `HTTP ${response.status}`, { cause });
      }
      if (response.ok) return reply;
      const code = (isHsmErrorCode(reply.error) && STATUS_CODES[reply.error]) || 'HSM_PROXY_FAILED';
      if (code === 'HSM_BUSY' && attempt < this.#attempts) {
        await sleep(backoffMs(attempt));
        continue;
      }
      throw new VeilError(
        code,
        typeof reply.error === 'string' ? reply.error : `HTTP ${response.status}`,
      );
    }
  }
}

/** Exponential backoff with full jitter: up to 200 ms, 400 ms, ... */
function backoffMs(attempt: number): number {
  return Math.random() * 100 * 2 ** attempt;
}

function bytesField<F extends string>(
  reply: { readonly [K in F]?: unknown },
  field: F,
  lengths: readonly number[],
): Uint8Array {
  const value = reply[field];
  if (typeof value !== 'string') throw new VeilError('HSM_INVALID_RESPONSE', field);
  const bytes = fromBase64(value, field);
  if (!lengths.includes(bytes.length)) {
    bytes.fill(0);
    throw new VeilError('HSM_INVALID_RESPONSE', `${field} length`);
  }
  return bytes;
}

export class HsmProxyKeyring implements Keyring {
  readonly keyLabel: string | undefined;
  readonly #client: HsmProxyClient;

  /** @throws VeilError BAD_ARGUMENT for a missing URL or token source, KEYRING_INVALID for a bad label. */
  constructor(options: HsmProxyKeyringOptions) {
    needs(typeof options === 'object' && options !== null, 'BAD_ARGUMENT', 'options');
    // Precondition: a label, when given, is one the proxy accepts.
    needs(
      options.keyLabel === undefined || LABEL.test(options.keyLabel),
      'KEYRING_INVALID',
      'HSM key label',
    );
    this.keyLabel = options.keyLabel;
    this.#client = new HsmProxyClient(options);
  }

  /**
   * Wraps a new data key (or the one given by an earlier keyring) under `keyLabel`.
   * @throws VeilError KEYRING_INVALID without a key label; HSM_* codes from the proxy.
   */
  async onEncrypt(request: EncryptRequest): Promise<EncryptResult> {
    const keyLabel = this.keyLabel;
    needs(keyLabel !== undefined, 'KEYRING_INVALID', 'an HSM key label is needed to encrypt');
    const aad = toBase64(serializeEncryptionContext(request.encryptionContext));
    let dataKey: Uint8Array;
    let wrapped: Uint8Array;
    if (request.dataKey) {
      const reply = await this.#client.call('encryptDataKey', {
        keyLabel,
        plaintext: toBase64(request.dataKey),
        aad,
      });
      dataKey = request.dataKey;
      wrapped = bytesField(reply, 'wrapped', WRAPPED_LENGTHS);
    } else {
      const reply = await this.#client.call('generateDataKey', { keyLabel, aad });
      wrapped = bytesField(reply, 'wrapped', WRAPPED_LENGTHS);
      dataKey = bytesField(reply, 'plaintext', DATA_KEY_LENGTHS);
    }
    const edk: EncryptedDataKey = {
      providerId: HSM_PROVIDER_ID,
      providerInfo: utf8(keyLabel),
      ciphertext: wrapped,
    };
    return { dataKey, encryptedDataKeys: [edk] };
  }

  /**
   * Unwraps the first `veil-hsm` EDK the proxy opens. Returns undefined when there is none.
   * @throws VeilError WRONG_KEY when every such EDK was refused; HSM_* codes from the proxy.
   */
  async onDecrypt(request: DecryptRequest): Promise<Uint8Array | undefined> {
    const candidates = request.encryptedDataKeys.filter(
      (edk) => edk.providerId === HSM_PROVIDER_ID,
    );
    if (candidates.length === 0) return undefined;
    const aad = toBase64(serializeEncryptionContext(request.encryptionContext));
    // Errors that concern one EDK: try the next one, and report the last if none opens.
    const perEdk = new Set([
      'WRONG_KEY',
      'HSM_FORBIDDEN_LABEL',
      'HSM_KEY_NOT_FOUND',
      'HSM_NOT_OWNER',
    ]);
    let refused: VeilError | undefined;
    for (const edk of candidates) {
      const keyLabel = fromUtf8(edk.providerInfo, 'HSM key label');
      if (!LABEL.test(keyLabel) || !WRAPPED_LENGTHS.includes(edk.ciphertext.length)) continue;
      try {
        const reply = await this.#client.call('decryptDataKey', {
          keyLabel,
          wrapped: toBase64(edk.ciphertext),
          aad,
        });
        return bytesField(reply, 'plaintext', DATA_KEY_LENGTHS);
      } catch (error) {
        if (!(error instanceof VeilError) || !perEdk.has(error.code)) throw error;
        refused = error;
      }
    }
    throw refused ?? new VeilError('NO_MATCHING_EDK', 'no well-formed HSM key in the file');
  }
}
