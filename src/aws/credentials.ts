/**
 * AWS credentials for the browser (and the tests), three sources, each wrapped so that it
 * refreshes before it expires:
 *
 * - a Cognito identity pool guest (unauthenticated) identity;
 * - a Cognito identity pool authenticated identity, after a user-pool login (InitiateAuth
 *   USER_PASSWORD_AUTH in user-pool.ts, or the hosted UI with PKCE in oidc.ts), whose ID token
 *   is renewed with the refresh token when it nears its end;
 * - IAM access keys the user pastes (iam-keys.ts).
 *
 * [Note: credential refresh] SDK clients cache credentials themselves but treat any that expire
 * within 5 minutes as stale, so with short sessions (moto's last 90 s) they would ask on every
 * request. `refreshingProvider` keeps one set until `marginMs` before its expiry, then fetches
 * the next one (concurrent callers share one fetch); a failed refresh falls back to the current
 * set while it is still valid, and the next attempt waits `retryDelayMs` (not one per request).
 * Sign-out starts a new generation, so a fetch under way then never hands out the old identity.
 * Secrets stay inside providers and never reach UI state or logs.
 *
 * The pieces, one concern a file: credential-provider.ts (what a source hands out, its summary,
 * failures as catalogued errors), credential-refresh.ts (refreshingProvider), cognito-identity.ts
 * (the identity-pool providers) and user-pool.ts (sign-in and ID tokens). This module exports
 * them together.
 */
export {
  credentialsError,
  summarise,
  summaryOf,
  type CredentialProvider,
  type CredentialSummary,
  type VeilCredentials,
} from './credential-provider';
export {
  DEFAULT_REFRESH_MARGIN_MS,
  DEFAULT_RETRY_DELAY_MS,
  refreshingProvider,
  type RefreshingProvider,
  type RefreshOptions,
} from './credential-refresh';
export {
  cognitoGuestProvider,
  cognitoUserProvider,
  IdentityIdCache,
  type CognitoClientSource,
} from './cognito-identity';
export {
  refreshUserPoolSession,
  revokeRefreshToken,
  signInWithPassword,
  userPoolProviderName,
  UserPoolTokens,
  type UserPoolSession,
} from './user-pool';
