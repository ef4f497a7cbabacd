/**
 * Cognito user-pool sign-in: a login with user name and password (InitiateAuth
 * USER_PASSWORD_AUTH; the hosted UI with PKCE is in oidc.ts), the renewal of its ID token with
 * the refresh token, its revocation at sign-out, and UserPoolTokens, which hands out a current ID
 * token. Tokens are kept in memory only, unless the user asks to stay signed in: then the refresh
 * token is also kept sealed in IndexedDB ([Note: stay signed in] in stay-signed-in.ts).
 */
import { VeilError, needs } from '../core/errors';
import { errorName } from '../core';
import { loadOnce } from '../core/load-once';
import type { AwsClients } from './clients';
import type { VeilConfig } from './config';
import { credentialsError } from './credential-provider';
import { DEFAULT_REFRESH_MARGIN_MS, DEFAULT_RETRY_DELAY_MS } from './credential-refresh';
import { sessionExpiryMs } from './id-token';
import { poolRegion } from './pool-region';

/** The user-pool commands, fetched by the first call ([Note: lazy seams] in sdk-loader.ts). */
const commands = loadOnce(() => import('./user-pool-commands'));

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

/**
 * The configured user pool and its app client.
 * @throws VeilError CONFIG_INVALID when either is not set.
 */
export function userPoolOf(config: VeilConfig): { userPoolId: string; userPoolClientId: string } {
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
  const { InitiateAuthCommand } = await commands.load();
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
  const { InitiateAuthCommand } = await commands.load();
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

  /** The session in hand (its refresh token is what "Stay signed in" keeps). */
  current(): UserPoolSession {
    return this.session;
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
 * Asks the user pool to revoke a refresh token (RevokeToken; the app client must have token
 * revocation on, the default for new clients), so a copy of it stops working. Best effort: the
 * sign-out it belongs to goes on whatever the answer. moto does not implement RevokeToken
 * (measured in tests/integration/stay-signed-in-moto.test.ts), so no test shows it revoking.
 * Never throws.
 */
export async function revokeRefreshToken(
  clients: AwsClients,
  config: VeilConfig,
  refreshToken: string,
): Promise<boolean> {
  try {
    const { userPoolId, userPoolClientId } = userPoolOf(config);
    // Fetched on use: sign-out is the only caller, and the page's first chunk stays lean.
    const { RevokeTokenCommand } = await import('@aws-sdk/client-cognito-identity-provider');
    await clients
      .cognitoIdentityProvider(userPoolId)
      .send(new RevokeTokenCommand({ ClientId: userPoolClientId, Token: refreshToken }));
    return true;
  } catch {
    return false;
  }
}
