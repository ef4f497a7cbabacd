/**
 * Sign-in through the Cognito hosted UI (or the team's SSO behind it) with the OAuth 2.0
 * authorization code flow and PKCE (RFC 7636, S256), the production path for teams with SSO.
 *
 * 1. `beginSignIn` makes a code verifier, its S256 challenge and a random state, keeps the
 *    verifier and state in sessionStorage (this tab only) and returns the authorize URL.
 * 2. The provider redirects back to `redirectUri?code=...&state=...`; `readRedirect` checks the
 *    state against the stored one (and consumes it, so a replayed URL fails).
 * 3. `tokenRequest` builds the POST to `/oauth2/token` (public client: no secret, the verifier
 *    instead); `parseTokenResponse` turns the answer into a user-pool session, whose ID token
 *    goes to the identity pool like a password login's (credentials.ts).
 *
 * Tested locally: every pure step here (verifier and challenge against RFC 7636's example, the
 * URL, the state check, the token request). Not tested locally: the hosted UI itself and the
 * token endpoint, which moto does not provide; they need a real user pool domain.
 */
import { toBase64Url, utf8 } from '../core/bytes';
import { VeilError } from '../core/errors';
import type { UserPoolSession } from './credentials';
import type { KeyStorage } from './iam-keys';
import { idTokenUserName, sessionExpiryMs } from './id-token';

/** The hosted UI settings (config.json `cognito.hostedUi`). */
export interface HostedUiConfig {
  /** The user pool domain, e.g. `https://auth.example.org` or `https://x.auth.<region>.amazoncognito.com`. */
  readonly domain: string;
  /** The app client id (the user pool client). */
  readonly clientId: string;
  /** Where the provider sends the browser back; must be registered on the app client. */
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  /** Skip the hosted UI's chooser and go straight to this federated provider (SSO). */
  readonly identityProvider?: string;
}

/** What is kept between leaving for the provider and coming back. */
interface PendingSignIn {
  readonly state: string;
  readonly verifier: string;
}

export const PENDING_SIGN_IN_KEY = 'veil.oidcPending';

/** A PKCE code verifier: 32 random bytes as base64url (43 characters, RFC 7636 section 4.1). */
export function createCodeVerifier(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export async function codeChallenge(verifier: string): Promise<string> {
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) {
    throw new VeilError('BAD_ARGUMENT', 'code verifier: 43 to 128 unreserved characters');
  }
  const digest = await crypto.subtle.digest('SHA-256', utf8(verifier) as Uint8Array<ArrayBuffer>);
  return toBase64Url(new Uint8Array(digest));
}

/** The authorize URL for a state and challenge. */
export function authorizeUrl(ui: HostedUiConfig, state: string, challenge: string): string {
  const url = new URL('/oauth2/authorize', ui.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: ui.clientId,
    redirect_uri: ui.redirectUri,
    scope: ui.scopes.join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(ui.identityProvider ? { identity_provider: ui.identityProvider } : {}),
  }).toString();
  return url.toString();
}

/**
 * Starts a sign-in: stores the verifier and state for this tab and returns the URL to go to.
 */
export async function beginSignIn(ui: HostedUiConfig, storage: KeyStorage): Promise<string> {
  const verifier = createCodeVerifier();
  const state = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  const pending: PendingSignIn = { state, verifier };
  storage.setItem(PENDING_SIGN_IN_KEY, JSON.stringify(pending));
  return authorizeUrl(ui, state, await codeChallenge(verifier));
}

/**
 * Reads a redirect back from the provider. Returns undefined when the URL carries no sign-in
 * answer; otherwise consumes the stored state (one use) and returns the code and verifier.
 * @throws VeilError OIDC_STATE_MISMATCH when the state is missing, different, or no sign-in was
 *   started in this tab (for an error answer too); OIDC_FAILED when the provider sent an error
 *   for the sign-in this tab started.
 */
export function readRedirect(
  url: string,
  storage: KeyStorage,
): { code: string; verifier: string } | undefined {
  const params = new URL(url).searchParams;
  const code = params.get('code');
  const error = params.get('error');
  if (code === null && error === null) return undefined;
  const raw = storage.getItem(PENDING_SIGN_IN_KEY);
  storage.removeItem(PENDING_SIGN_IN_KEY);
  let pending: Partial<PendingSignIn>;
  try {
    pending = raw ? (JSON.parse(raw) as Partial<PendingSignIn>) : {};
  } catch {
    pending = {};
  }
  // An error answer must also answer a sign-in this tab started: anyone can link to `?error=`.
  const state = params.get('state');
  if (!pending.state || !pending.verifier || state !== pending.state) {
    throw new VeilError('OIDC_STATE_MISMATCH');
  }
  if (error !== null) throw new VeilError('OIDC_FAILED', providerError(error));
  if (!code) throw new VeilError('OIDC_STATE_MISMATCH');
  return { code, verifier: pending.verifier };
}

/** The token exchange request (authorization_code grant with the PKCE verifier). */
export function tokenRequest(
  ui: HostedUiConfig,
  code: string,
  verifier: string,
): { url: string; init: RequestInit & { body: string } } {
  return {
    url: new URL('/oauth2/token', ui.domain).toString(),
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: ui.clientId,
        code,
        redirect_uri: ui.redirectUri,
        code_verifier: verifier,
      }).toString(),
    },
  };
}

/** A provider's error code as shown: OAuth error codes are short ASCII words; cut anything else. */
function providerError(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '').slice(0, 64);
}

/**
 * Turns the token endpoint's JSON into a user-pool session. The expiry is the ID token's own
 * `exp` claim (`expires_in` is the access token's lifetime), `expires_in` only when the ID
 * token carries none; the user name its `cognito:username` or `email` claim, else `username`.
 * @throws VeilError OIDC_FAILED for an error answer or one without an ID token.
 */
export function parseTokenResponse(
  json: unknown,
  nowMs: number,
  username = 'sso',
): UserPoolSession {
  const body = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (typeof body.error === 'string') throw new VeilError('OIDC_FAILED', providerError(body.error));
  const idToken = body.id_token;
  if (typeof idToken !== 'string' || idToken === '') {
    throw new VeilError('OIDC_FAILED', 'no id_token');
  }
  const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
  return {
    username: idTokenUserName(idToken) ?? username,
    idToken,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    expiresAtMs: sessionExpiryMs(idToken, nowMs, expiresIn),
  };
}

/**
 * Exchanges the code for tokens.
 * @throws VeilError OIDC_FAILED when the endpoint cannot be reached, answers with an error
 *   status (its OAuth `error` code in the detail) or without an ID token.
 */
export async function exchangeCode(
  ui: HostedUiConfig,
  code: string,
  verifier: string,
  fetcher: typeof fetch,
  nowMs: number,
): Promise<UserPoolSession> {
  const request = tokenRequest(ui, code, verifier);
  let response: Response;
  try {
    response = await fetcher(request.url, request.init);
  } catch (cause) {
    throw new VeilError('OIDC_FAILED', 'token endpoint unreachable', { cause });
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch (cause) {
    json = undefined;
    if (response.ok) throw new VeilError('OIDC_FAILED', 'token answer is not JSON', { cause });
  }
  if (!response.ok) {
    const error = (json as { error?: unknown } | undefined)?.error;
    const detail = typeof error === 'string' ? providerError(error) : '';
    throw new VeilError('OIDC_FAILED', `token endpoint: HTTP ${response.status} ${detail}`.trim());
  }
  return parseTokenResponse(json, nowMs);
}
