/**
 * AWS credentials for the browser (and the tests), three sources, each wrapped so that it
 * refreshes before it expires:
 *
 * - a Cognito identity pool guest (unauthenticated) identity;
 * - a Cognito identity pool authenticated identity, after a user-pool login (InitiateAuth
 *   USER_PASSWORD_AUTH here, or the hosted UI with PKCE in oidc.ts), whose ID token is renewed
 *   with the refresh token when it nears its end;
 * - IAM access keys the user pastes (iam-keys.ts).
 *
 * [Note: credential refresh] SDK clients cache credentials themselves but treat any that expire
 * within 5 minutes as stale, so with short sessions (moto's last 90 s) they would ask on every
 * request. `refreshingProvider` keeps one set until `marginMs` before its expiry, then fetches
 * the next one (concurrent callers share one fetch); a failed refresh falls back to the current
 * set while it is still valid, and the next attempt waits `retryDelayMs` (not one per request).
 * Sign-out starts a new generation, so a fetch under way then never hands out the old identity.
 * Secrets stay inside providers and never reach UI state or logs.
 */
import { fromCognitoIdentityPool } from '@aws-sdk/credential-provider-cognito-identity';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { VeilError, needs } from '../core/errors';
import type { ErrorCode } from '../core/errors';
import { credentialErrorCode, errorName } from '../core';
import type { AwsClients } from './clients';
import { poolRegion } from './clients';
import type { VeilConfig } from './config';
import { sessionExpiryMs } from './id-token';

/** What the app may show about a credential: never the secret, never the session token. */
export interface CredentialSummary {
  identityId: string;
  /** First four characters of the access key id only, enough to tell two apart. */
  accessKeyHint: string;
  expiresAt: Date | undefined;
}

/** Credentials plus the Cognito identity id when they came from an identity pool. */
export type VeilCredentials = AwsCredentialIdentity & { identityId?: string };

export type CredentialProvider = () => Promise<VeilCredentials>;

/** A provider that refreshes before expiry ([Note: credential refresh]). */
export interface RefreshingProvider extends CredentialProvider {
  /** The credentials in hand, without secrets, or undefined before the first fetch. */
  summary(): CredentialSummary | undefined;
  /** Drops the credentials in hand (sign-out); the next call fetches anew. */
  forget(): void;
}

/** Options of refreshingProvider. */
export interface RefreshOptions {
  /** Refresh this long before expiry, in milliseconds; default 60 000. */
  readonly marginMs?: number;
  /**
   * After a failed refresh, wait this long before the next attempt while the credentials in hand
   * are still valid, in milliseconds; default 10 000.
   */
  readonly retryDelayMs?: number;
  /** The clock, in milliseconds since the epoch (tests pass a fake). */
  readonly now?: () => number;
  /** Called after each successful fetch with the new summary. */
  readonly onRefresh?: (summary: CredentialSummary) => void;
}

export const DEFAULT_REFRESH_MARGIN_MS = 60_000;
export const DEFAULT_RETRY_DELAY_MS = 10_000;

/** The summary of credentials, without secrets. */
export function summaryOf(credentials: VeilCredentials): CredentialSummary {
  return {
    identityId: credentials.identityId ?? '',
    accessKeyHint: credentials.accessKeyId.slice(0, 4),
    expiresAt: credentials.expiration,
  };
}

/**
 * Wraps `fetch` so that credentials are reused until `marginMs` before they expire
 * ([Note: credential refresh]). Credentials without an expiry are kept until forgotten. A failed
 * refresh is not retried for `retryDelayMs` while the credentials in hand are still valid.
 * `forget()` starts a new generation: a fetch begun before it never reaches a caller or the
 * cache; callers waiting on it fetch again.
 * @throws VeilError (from the returned provider) CREDENTIALS_* codes mapped from the source.
 */
export function refreshingProvider(
  fetch: CredentialProvider,
  options: RefreshOptions = {},
): RefreshingProvider {
  const marginMs = options.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const now = options.now ?? Date.now;
  // Precondition: a non-negative margin and retry delay.
  needs(Number.isFinite(marginMs) && marginMs >= 0, 'OUT_OF_RANGE', 'marginMs');
  needs(Number.isFinite(retryDelayMs) && retryDelayMs >= 0, 'OUT_OF_RANGE', 'retryDelayMs');
  let current: VeilCredentials | undefined;
  let inFlight: Promise<VeilCredentials> | undefined;
  let generation = 0;
  /** No new attempt before this time (ms) while `current` is valid, after a failure. */
  let retryAfterMs = 0;
  /** True once this generation obtained credentials: a later failure is a failed refresh. */
  let connected = false;

  const fresh = (credentials: VeilCredentials | undefined): credentials is VeilCredentials =>
    credentials !== undefined &&
    (credentials.expiration === undefined || credentials.expiration.getTime() - now() > marginMs);
  const valid = (credentials: VeilCredentials | undefined): credentials is VeilCredentials =>
    credentials !== undefined &&
    (credentials.expiration === undefined || credentials.expiration.getTime() > now());

  const start = (): Promise<VeilCredentials> => {
    const started = generation;
    const promise: Promise<VeilCredentials> = fetch()
      .then(
        (credentials) => {
          if (started === generation) {
            current = credentials;
            connected = true;
            retryAfterMs = 0;
            options.onRefresh?.(summaryOf(credentials));
          }
          return credentials;
        },
        (error: unknown) => {
          if (started === generation) retryAfterMs = now() + retryDelayMs;
          throw error;
        },
      )
      .finally(() => {
        // Only this fetch's own slot: a newer one may have started after forget().
        if (inFlight === promise) inFlight = undefined;
      });
    inFlight = promise;
    return promise;
  };

  const provider = (async () => {
    for (;;) {
      if (fresh(current)) return current;
      if (!inFlight && valid(current) && now() < retryAfterMs) return current;
      const started = generation;
      const refreshing = connected;
      try {
        const credentials = await (inFlight ?? start());
        // Forgotten while it was under way: these belong to the old identity.
        if (started !== generation) continue;
        return credentials;
      } catch (error) {
        if (started !== generation) continue;
        // A refresh that fails early is not fatal while the credentials in hand still work.
        if (valid(current)) return current;
        throw credentialsError(error, refreshing ? 'refresh' : 'connect');
      }
    }
  }) as RefreshingProvider;
  provider.summary = () => (current ? summaryOf(current) : undefined);
  provider.forget = () => {
    current = undefined;
    inFlight = undefined;
    connected = false;
    retryAfterMs = 0;
    generation += 1;
  };
  return provider;
}

/**
 * Maps a failure to obtain credentials to the catalogue (VeilError passes through).
 * Cognito's NotAuthorizedException on a first connection means the pool refuses this kind of
 * identity (guest access off, a user pool it does not trust): CREDENTIALS_FAILED. On a refresh
 * (`phase` 'refresh') it means the login token is no longer accepted: CREDENTIALS_EXPIRED.
 */
export function credentialsError(
  error: unknown,
  phase: 'connect' | 'refresh' = 'connect',
): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  if (name === 'NotAuthorizedException') {
    return phase === 'refresh'
      ? new VeilError('CREDENTIALS_EXPIRED', name, { cause: error })
      : new VeilError(
          'CREDENTIALS_FAILED',
          `${name}: the identity pool refused this identity (guest access off, or the user pool is not one of its providers)`,
          { cause: error },
        );
  }
  const code: ErrorCode = credentialErrorCode(error) ?? 'CREDENTIALS_FAILED';
  return new VeilError(code, name, { cause: error });
}

function identityPoolOf(config: VeilConfig): string {
  if (!config.cognito) throw new VeilError('CONFIG_INVALID', 'cognito.identityPoolId is not set');
  return config.cognito.identityPoolId;
}

/** What the Cognito providers need of the client factory ([Note: one client factory]). */
export type CognitoClientSource = Pick<AwsClients, 'cognitoIdentity'>;

/**
 * The SDK provider types its `client` as the trimmed CognitoIdentityClient of
 * @aws-sdk/nested-clients; the factory's full client of @aws-sdk/client-cognito-identity sends
 * the same two commands (GetId, GetCredentialsForIdentity) alike but has a wider command union,
 * so the types differ only there.
 */
type ProviderClient = NonNullable<Parameters<typeof fromCognitoIdentityPool>[0]['client']>;

function providerClient(clients: CognitoClientSource, identityPoolId: string): ProviderClient {
  return clients.cognitoIdentity(identityPoolId) as unknown as ProviderClient;
}

/**
 * Where the SDK's identity-pool provider caches a guest's identity id: in memory, for this page
 * only. The SDK's default would keep it in IndexedDB or localStorage, where it outlives sign-out
 * and is shared by everyone using the browser. The session clears it on sign-out.
 */
export class IdentityIdCache {
  private readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }

  /** Forgets every cached identity id (sign-out). */
  clear(): void {
    this.items.clear();
  }
}

/**
 * Temporary credentials for a guest identity of the configured identity pool (not refreshing by
 * itself; wrap it with refreshingProvider). The guest's identity id is cached in `cache` only.
 * @throws VeilError CONFIG_INVALID when the configuration has no identity pool.
 */
export function cognitoGuestProvider(
  clients: CognitoClientSource,
  config: VeilConfig,
  cache: IdentityIdCache = new IdentityIdCache(),
): CredentialProvider {
  const identityPoolId = identityPoolOf(config);
  return fromCognitoIdentityPool({
    identityPoolId,
    client: providerClient(clients, identityPoolId),
    cache,
  });
}

/** A user-pool session: the tokens that prove a login. Kept in memory only. */
export interface UserPoolSession {
  readonly username: string;
  readonly idToken: string;
  readonly refreshToken: string | undefined;
  /** When the ID token expires (its `exp` claim), in milliseconds since the epoch. */
  readonly expiresAtMs: number;
}

/** The `logins` map key of a user pool: `cognito-idp.<region>.amazonaws.com/<pool id>`. */
export function userPoolProviderName(userPoolId: string, fallbackRegion: string): string {
  return `cognito-idp.${poolRegion(userPoolId, '_') ?? fallbackRegion}.amazonaws.com/${userPoolId}`;
}

function userPoolOf(config: VeilConfig): { userPoolId: string; userPoolClientId: string } {
  const { userPoolId, userPoolClientId } = config.cognito ?? {};
  if (!userPoolId || !userPoolClientId) {
    throw new VeilError('CONFIG_INVALID', 'cognito.userPoolId and userPoolClientId are not set');
  }
  return { userPoolId, userPoolClientId };
}

function loginError(error: unknown): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  switch (name) {
    case 'NotAuthorizedException':
    case 'UserNotFoundException':
    case 'UserNotConfirmedException':
    case 'InvalidParameterException':
      return new VeilError('LOGIN_FAILED', name, { cause: error });
    case 'PasswordResetRequiredException':
      return new VeilError('LOGIN_CHALLENGE', name, { cause: error });
    default:
      return credentialsError(error);
  }
}

function sessionFrom(
  username: string,
  result: { IdToken?: string; RefreshToken?: string; ExpiresIn?: number } | undefined,
  previousRefreshToken: string | undefined,
  nowMs: number,
): UserPoolSession {
  if (!result?.IdToken) throw new VeilError('LOGIN_FAILED', 'no ID token in the answer');
  return {
    username,
    idToken: result.IdToken,
    refreshToken: result.RefreshToken ?? previousRefreshToken,
    // The ID token's own `exp`: ExpiresIn is the access token's lifetime.
    expiresAtMs: sessionExpiryMs(result.IdToken, nowMs, result.ExpiresIn),
  };
}

/**
 * Signs in to the configured user pool with a user name and password (USER_PASSWORD_AUTH; the
 * app client must allow that flow). The password is sent once and not kept.
 * @throws VeilError LOGIN_FAILED (wrong name or password, unconfirmed user), LOGIN_CHALLENGE
 *   (the pool asks for MFA or a new password), CONFIG_INVALID without a user pool.
 */
export async function signInWithPassword(
  clients: AwsClients,
  config: VeilConfig,
  username: string,
  password: string,
  now: () => number = Date.now,
): Promise<UserPoolSession> {
  // Precondition: non-empty user name and password.
  needs(typeof username === 'string' && username.length > 0, 'LOGIN_FAILED', 'user name is empty');
  needs(typeof password === 'string' && password.length > 0, 'LOGIN_FAILED', 'password is empty');
  const { userPoolId, userPoolClientId } = userPoolOf(config);
  try {
    const answer = await clients.cognitoIdentityProvider(userPoolId).send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: userPoolClientId,
        AuthParameters: { USERNAME: username, PASSWORD: password },
      }),
    );
    if (answer.ChallengeName) throw new VeilError('LOGIN_CHALLENGE', answer.ChallengeName);
    return sessionFrom(username, answer.AuthenticationResult, undefined, now());
  } catch (error) {
    throw loginError(error);
  }
}

/**
 * Renews the ID token of a session with its refresh token (REFRESH_TOKEN_AUTH).
 * @throws VeilError CREDENTIALS_EXPIRED when there is no refresh token or it was refused.
 */
export async function refreshUserPoolSession(
  clients: AwsClients,
  config: VeilConfig,
  session: UserPoolSession,
  now: () => number = Date.now,
): Promise<UserPoolSession> {
  const { userPoolId, userPoolClientId } = userPoolOf(config);
  if (!session.refreshToken) throw new VeilError('CREDENTIALS_EXPIRED', 'no refresh token');
  try {
    const answer = await clients.cognitoIdentityProvider(userPoolId).send(
      new InitiateAuthCommand({
        AuthFlow: 'REFRESH_TOKEN_AUTH',
        ClientId: userPoolClientId,
        AuthParameters: { REFRESH_TOKEN: session.refreshToken },
      }),
    );
    return sessionFrom(session.username, answer.AuthenticationResult, session.refreshToken, now());
  } catch (error) {
    throw credentialsError(error, 'refresh');
  }
}

/**
 * Temporary credentials for the authenticated identity of a user-pool login. `idToken` is asked
 * for on every credential fetch, so it can renew the token (see UserPoolTokens). The SDK caches
 * no identity id for authenticated identities; `cache` is passed so that it never falls back to
 * browser storage.
 * @throws VeilError CONFIG_INVALID without an identity pool or user pool.
 */
export function cognitoUserProvider(
  clients: CognitoClientSource,
  config: VeilConfig,
  idToken: () => Promise<string>,
  cache: IdentityIdCache = new IdentityIdCache(),
): CredentialProvider {
  const { userPoolId } = userPoolOf(config);
  const identityPoolId = identityPoolOf(config);
  return fromCognitoIdentityPool({
    identityPoolId,
    client: providerClient(clients, identityPoolId),
    cache,
    logins: { [userPoolProviderName(userPoolId, config.region)]: idToken },
  });
}

/**
 * Holds a user-pool session and hands out an ID token that is valid for at least `marginMs`,
 * renewing it with the refresh token when needed. A failed renewal is not retried for
 * `retryDelayMs` while the token in hand is still valid.
 */
export class UserPoolTokens {
  private session: UserPoolSession;
  private renewing: Promise<UserPoolSession> | undefined;
  /** No renewal before this time (ms) while the token in hand is valid, after a failure. */
  private retryAfterMs = 0;

  constructor(
    session: UserPoolSession,
    private readonly renew: (session: UserPoolSession) => Promise<UserPoolSession>,
    private readonly marginMs = DEFAULT_REFRESH_MARGIN_MS,
    private readonly now: () => number = Date.now,
    private readonly retryDelayMs = DEFAULT_RETRY_DELAY_MS,
  ) {
    this.session = session;
  }

  get username(): string {
    return this.session.username;
  }

  /**
   * A current ID token.
   * @throws VeilError CREDENTIALS_EXPIRED when it ran out and could not be renewed.
   */
  async idToken(): Promise<string> {
    const leftMs = this.session.expiresAtMs - this.now();
    if (leftMs > this.marginMs) return this.session.idToken;
    if (!this.renewing && leftMs > 0 && this.now() < this.retryAfterMs) return this.session.idToken;
    let renewing = this.renewing;
    if (!renewing) {
      const started: Promise<UserPoolSession> = this.renew(this.session).finally(() => {
        if (this.renewing === started) this.renewing = undefined;
      });
      this.renewing = renewing = started;
      started.then(
        (session) => {
          this.session = session;
          this.retryAfterMs = 0;
        },
        () => {
          this.retryAfterMs = this.now() + this.retryDelayMs;
        },
      );
    }
    try {
      return (await renewing).idToken;
    } catch (error) {
      if (this.session.expiresAtMs > this.now()) return this.session.idToken;
      throw credentialsError(error, 'refresh');
    }
  }
}

/**
 * Resolves credentials once and summarises them without secrets.
 * @throws VeilError CREDENTIALS_* with the service's error name.
 */
export async function summarise(provider: CredentialProvider): Promise<CredentialSummary> {
  try {
    return summaryOf(await provider());
  } catch (cause) {
    throw credentialsError(cause);
  }
}
