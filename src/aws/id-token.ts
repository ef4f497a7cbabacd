/**
 * When an ID token expires, read from its own `exp` claim. Token endpoints report `expires_in`
 * (and InitiateAuth `ExpiresIn`) for the *access* token, whose lifetime a user pool may set apart
 * from the ID token's; the identity pool checks the ID token, so its `exp` is what counts.
 * The user name shown for a hosted-UI sign-in comes from the same claims. The token is only
 * decoded, not verified: Cognito verifies it when Veil presents it.
 */
import { fromBase64, fromUtf8 } from '../core/bytes';

/** The claims of a JWT, decoded without verification, or undefined when it is not one. */
function claimsOf(idToken: string): Record<string, unknown> | undefined {
  const parts = idToken.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const claims = JSON.parse(fromUtf8(fromBase64(parts[1], 'ID token'), 'ID token')) as unknown;
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `exp` claim of a JWT in milliseconds since the epoch, or undefined when the token is not a
 * JWT with a numeric `exp` (the caller then falls back to the answer's lifetime).
 */
export function idTokenExpiryMs(idToken: string): number | undefined {
  const exp = claimsOf(idToken)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined;
}

/**
 * The name to show for whoever an ID token is about: its `cognito:username`, else `email`, else
 * undefined. Shown as text only; it proves nothing (the token is not verified here).
 */
export function idTokenUserName(idToken: string): string | undefined {
  const claims = claimsOf(idToken);
  for (const name of ['cognito:username', 'email']) {
    const value = claims?.[name];
    if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 128);
  }
  return undefined;
}

/** The ID token's expiry, else `nowMs` plus the lifetime the answer reported (seconds). */
export function sessionExpiryMs(
  idToken: string,
  nowMs: number,
  answerLifetimeSeconds: number | undefined,
): number {
  return idTokenExpiryMs(idToken) ?? nowMs + (answerLifetimeSeconds ?? 3600) * 1000;
}
