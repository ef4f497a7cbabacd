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
 * set while it is still valid. Secrets stay inside providers and never reach UI state or logs.
 */
import { fromCognitoIdentityPool } from '@aws-sdk/credential-provider-cognito-identity';
import { InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { VeilError, needs } from '../core/errors';
import type { ErrorCode } from '../core/errors';
import { credentialErrorCode, errorName } from '../keyrings/kms-errors';
import type { AwsClients } from './clients';
import { poolRegion } from './clients';
import type { VeilConfig } from './config';

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
  /** The clock, in milliseconds since the epoch (tests pass a fake). */
  readonly now?: () => number;
  /** Called after each successful fetch with the new summary. */
  readonly onRefresh?: (summary: CredentialSummary) => void;
}

export const DEFAULT_REFRESH_MARGIN_MS = 60_000;

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
 * ([Note: credential refresh]). Credentials without an expiry are kept until forgotten.
 * @throws VeilError (from the returned provider) CREDENTIALS_* codes mapped from the source.
 */
export function refreshingProvider(
  fetch: CredentialProvider,
  options: RefreshOptions = {},
): RefreshingProvider {
  const marginMs = options.marginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const now = options.now ?? Date.now;
  // Precondition: a non-negative margin.
  needs(Number.isFinite(marginMs) && marginMs >= 0, 'OUT_OF_RANGE', 'marginMs');
  let current: VeilCredentials | undefined;
  let inFlight: Promise<VeilCredentials> | undefined;
  let generation = 0;

  const fresh = (credentials: VeilCredentials | undefined): credentials is VeilCredentials =>
    credentials !== undefined &&
    (credentials.expiration === undefined || credentials.expiration.getTime() - now() > marginMs);
  const valid = (credentials: VeilCredentials | undefined): credentials is VeilCredentials =>
    credentials !== undefined &&
    (credentials.expiration === undefined || credentials.expiration.getTime() > now());

  const provider = (async () => {
    if (fresh(current)) return current;
    if (!inFlight) {
      const started = generation;
      inFlight = fetch()
        .then((credentials) => {
          if (started === generation) {
            current = credentials;
            options.onRefresh?.(summaryOf(credentials));
          }
          return credentials;
        })
        .finally(() => {
          inFlight = undefined;
        });
    }
    try {
      return await inFlight;
    } catch (error) {
      // A refresh that fails early is not fatal while the credentials in hand still work.
      if (valid(current)) return current;
      throw credentialsError(error);
    }
  }) as RefreshingProvider;
  provider.summary = () => (current ? summaryOf(current) : undefined);
  provider.forget = () => {
    current = undefined;
    inFlight = undefined;
    generation += 1;
  };
  return provider;
}

/**
 * Maps a failure to obtain credentials to the catalogue (VeilError passes through).
 * Cognito's NotAuthorizedException means the login token is no longer accepted.
 */
export function credentialsError(error: unknown): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  let code: ErrorCode = credentialErrorCode(error) ?? 'CREDENTIALS_FAILED';
  if (name === 'NotAuthorizedException') code = 'CREDENTIALS_EXPIRED';
  return new VeilError(code, name, { cause: error });
}

function identityPoolOf(config: VeilConfig): string {
  if (!config.cognito) throw new VeilError('CONFIG_INVALID', 'cognito.identityPoolId is not set');
  return config.cognito.identityPoolId;
}

/**
 * Client settings for the SDK's Cognito credential provider, which builds its own (nested)
 * Cognito client from them: region from the pool id, endpoint from the config.
 */
function cognitoClientConfig(config: VeilConfig): { region: string; endpoint?: string } {
  const endpoint = config.endpoints.cognitoIdentity;
  return {
    region: poolRegion(config.cognito?.identityPoolId, ':') ?? config.region,
    ...(endpoint ? { endpoint } : {}),
  };
}

/**
 * Temporary credentials for a guest identity of the configured identity pool (not refreshing by
 * itself; wrap it with refreshingProvider).
 * @throws VeilError CONFIG_INVALID when the configuration has no identity pool.
 */
export function cognitoGuestProvider(config: VeilConfig): CredentialProvider {
  return fromCognitoIdentityPool({
    identityPoolId: identityPoolOf(config),
    clientConfig: cognitoClientConfig(config),
  });
}

/** A user-pool session: the tokens that prove a login. Kept in memory only. */
export interface UserPoolSession {
  readonly username: string;
  readonly idToken: string;
  readonly refreshToken: string | undefined;
  /** When the ID token expires, in milliseconds since the epoch. */
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
    expiresAtMs: nowMs + (result.ExpiresIn ?? 3600) * 1000,
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
    throw credentialsError(error);
  }
}

/**
 * Temporary credentials for the authenticated identity of a user-pool login. `idToken` is asked
 * for on every credential fetch, so it can renew the token (see UserPoolTokens).
 * @throws VeilError CONFIG_INVALID without an identity pool or user pool.
 */
export function cognitoUserProvider(
  config: VeilConfig,
  idToken: () => Promise<string>,
): CredentialProvider {
  const { userPoolId } = userPoolOf(config);
  return fromCognitoIdentityPool({
    identityPoolId: identityPoolOf(config),
    clientConfig: cognitoClientConfig(config),
    logins: { [userPoolProviderName(userPoolId, config.region)]: idToken },
  });
}

/**
 * Holds a user-pool session and hands out an ID token that is valid for at least `marginMs`,
 * renewing it with the refresh token when needed.
 */
export class UserPoolTokens {
  private session: UserPoolSession;
  private renewing: Promise<UserPoolSession> | undefined;

  constructor(
    session: UserPoolSession,
    private readonly renew: (session: UserPoolSession) => Promise<UserPoolSession>,
    private readonly marginMs = DEFAULT_REFRESH_MARGIN_MS,
    private readonly now: () => number = Date.now,
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
    if (this.session.expiresAtMs - this.now() > this.marginMs) return this.session.idToken;
    this.renewing ??= this.renew(this.session).finally(() => {
      this.renewing = undefined;
    });
    try {
      this.session = await this.renewing;
    } catch (error) {
      if (this.session.expiresAtMs > this.now()) return this.session.idToken;
      throw credentialsError(error);
    }
    return this.session.idToken;
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
