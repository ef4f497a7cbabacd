/**
 * Who is calling: every request except the health check carries a Cognito user-pool ID token
 * (`Authorization: Bearer <token>`), verified with aws-jwt-verify (signature, issuer, audience,
 * token use, expiry). The proxy also requires `exp` and `iat` (aws-jwt-verify accepts a token
 * without `exp` as never expiring) and refuses a token issued more than `maxTokenAgeSeconds`
 * ago, so a leaked token is useful for a bounded time whatever lifetime it claims. In
 * production the verifier fetches the pool's JWKS from Cognito; the local stack supplies moto's
 * JWKS by configuration.
 */
import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { JwtExpiredError } from 'aws-jwt-verify/error';
import type { Jwks } from 'aws-jwt-verify/jwk';

export interface Identity {
  /** The user's stable id (`sub`). */
  sub: string;
  username: string;
  groups: string[];
}

export interface AuthConfig {
  userPoolId: string;
  clientId: string;
  /** A JWKS to trust instead of fetching the pool's (local stack, tests). */
  jwks?: Jwks;
  /** The oldest token accepted, in seconds since its `iat` (plus TOKEN_CLOCK_SKEW_SECONDS). */
  maxTokenAgeSeconds: number;
}

/** Clock difference tolerated between Cognito and the proxy, in seconds. */
export const TOKEN_CLOCK_SKEW_SECONDS = 60;

/**
 * Checks the claims aws-jwt-verify leaves optional: `exp` and `iat` present, `iat` not in the
 * future, and the token no older than `maxAgeSeconds`.
 * @throws AuthError TOKEN_INVALID for a missing or future claim, TOKEN_EXPIRED for an old token.
 */
export function checkTokenAge(
  payload: Record<string, unknown>,
  maxAgeSeconds: number,
  nowSeconds = Date.now() / 1000,
): void {
  const { exp, iat } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) {
    throw new AuthError('TOKEN_INVALID', 'the ID token has no expiry ("exp"): sign in again');
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw new AuthError('TOKEN_INVALID', 'the ID token has no issue time ("iat"): sign in again');
  }
  if (iat > nowSeconds + TOKEN_CLOCK_SKEW_SECONDS) {
    throw new AuthError(
      'TOKEN_INVALID',
      'the ID token was issued in the future: check the clocks of the proxy and the user pool',
    );
  }
  if (nowSeconds - iat > maxAgeSeconds + TOKEN_CLOCK_SKEW_SECONDS) {
    throw new AuthError(
      'TOKEN_EXPIRED',
      `the ID token was issued more than ${maxAgeSeconds} s ago, longer than this proxy accepts: sign in again`,
    );
  }
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: 'UNAUTHENTICATED' | 'TOKEN_EXPIRED' | 'TOKEN_INVALID',
    message: string,
  ) {
    super(message);
  }
}

export interface Authenticator {
  authenticate(authorization: string | undefined): Promise<Identity>;
}

/** Verifies Cognito ID tokens as described above. */
export function cognitoAuthenticator(config: AuthConfig): Authenticator {
  const verifier = CognitoJwtVerifier.create({
    userPoolId: config.userPoolId,
    tokenUse: 'id',
    clientId: config.clientId,
  });
  if (config.jwks) verifier.cacheJwks(config.jwks);
  return {
    async authenticate(authorization) {
      const match = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(authorization ?? '');
      if (!match?.[1]) {
        throw new AuthError(
          'UNAUTHENTICATED',
          'send a Cognito ID token as "Authorization: Bearer <token>"',
        );
      }
      let payload: Record<string, unknown>;
      try {
        payload = await verifier.verify(match[1]);
      } catch (error) {
        const expired = error instanceof JwtExpiredError;
        throw expired
          ? new AuthError('TOKEN_EXPIRED', 'the ID token has expired: sign in again')
          : new AuthError('TOKEN_INVALID', 'the ID token is not valid for this proxy');
      }
      checkTokenAge(payload, config.maxTokenAgeSeconds);
      // Wraps are bound to `sub`: a token without one must not share a binding with others.
      if (typeof payload.sub !== 'string' || payload.sub.length === 0) {
        throw new AuthError('TOKEN_INVALID', 'the ID token names no user ("sub"): sign in again');
      }
      const groups = payload['cognito:groups'];
      return {
        sub: payload.sub,
        username:
          typeof payload['cognito:username'] === 'string'
            ? payload['cognito:username']
            : payload.sub,
        groups: Array.isArray(groups) ? groups.map(String) : [],
      };
    },
  };
}
