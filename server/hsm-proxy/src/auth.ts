/**
 * Who is calling: every request except the health check carries a Cognito user-pool ID token
 * (`Authorization: Bearer <token>`), verified with aws-jwt-verify (signature, issuer, audience,
 * token use, expiry). In production the verifier fetches the pool's JWKS from Cognito; the local
 * stack supplies moto's JWKS by configuration.
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
      const groups = payload['cognito:groups'];
      return {
        sub: String(payload.sub),
        username: String(payload['cognito:username'] ?? payload.sub),
        groups: Array.isArray(groups) ? groups.map(String) : [],
      };
    },
  };
}
