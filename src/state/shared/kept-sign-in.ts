/**
 * The session's side of "Stay signed in on this device" ([Note: stay signed in] in
 * src/aws/stay-signed-in.ts): what to keep after a sign-in, and how a kept sign-in comes back
 * at load. Pure over its dependencies (the store, the REFRESH_TOKEN_AUTH call), so the unit tests
 * pass a Map and a fake user pool.
 */
import type { VeilConfig } from '../../aws/config';
import type { UserPoolSession } from '../../aws/credentials';
import { credentialsError } from '../../aws/credentials';
import type { KeptSignIn, KeptSignInPool, KeptSignInStore } from '../../aws/stay-signed-in';
import {
  forgetKeptSignIn,
  hasKeptSignIn,
  keepSignIn,
  readKeptSignIn,
} from '../../aws/stay-signed-in';
import { VeilError } from '../../core/errors';

export interface KeptSignInDeps {
  readonly store: KeptSignInStore;
  /** The configured user pool, or undefined when there is none (nothing is kept then). */
  readonly pool: KeptSignInPool | undefined;
  /** New ID tokens for a kept refresh token (InitiateAuth REFRESH_TOKEN_AUTH). */
  renew(kept: KeptSignIn): Promise<UserPoolSession>;
}

/** The user pool a sign-in is kept for, or undefined when none is configured. */
export function keptPoolOf(config: VeilConfig): KeptSignInPool | undefined {
  const { userPoolId, userPoolClientId } = config.cognito ?? {};
  return userPoolId && userPoolClientId ? { userPoolId, userPoolClientId } : undefined;
}

/** How a kept sign-in fared at load. */
export type RestoreOutcome =
  /** Nothing kept (or no user pool configured). */
  | { readonly kind: 'none' }
  /** New tokens: the session to use. */
  | { readonly kind: 'restored'; readonly session: UserPoolSession }
  /** The kept sign-in was unreadable or refused by the pool, and is removed. */
  | { readonly kind: 'dropped'; readonly error: VeilError }
  /** The pool could not be asked (network): the kept sign-in stays for the next load. */
  | { readonly kind: 'failed'; readonly error: VeilError };

/** True when the user pool refused the token itself (expired, revoked, unknown). */
function refusedByPool(error: VeilError): boolean {
  return error.code === 'CREDENTIALS_EXPIRED' || error.code === 'LOGIN_FAILED';
}

/**
 * Brings a kept sign-in back: opens it and renews its ID token. An unreadable one
 * (SIGN_IN_KEPT_UNREADABLE) or one the pool refuses (SIGN_IN_KEPT_ENDED) is removed, key and
 * all; a network failure leaves it for the next load. Never throws.
 */
export async function restoreKeptSignIn(deps: KeptSignInDeps): Promise<RestoreOutcome> {
  if (!deps.pool) return { kind: 'none' };
  let kept: KeptSignIn | undefined;
  try {
    kept = await readKeptSignIn(deps.store, deps.pool);
  } catch (error) {
    const veil =
      error instanceof VeilError
        ? error
        : new VeilError('SIGN_IN_KEPT_UNREADABLE', 'storage failed', { cause: error });
    if (veil.code !== 'SIGN_IN_KEPT_UNREADABLE') await forgetQuietly(deps.store);
    return { kind: 'dropped', error: veil };
  }
  if (!kept) return { kind: 'none' };
  try {
    return { kind: 'restored', session: await deps.renew(kept) };
  } catch (error) {
    const veil = credentialsError(error, 'refresh');
    if (!refusedByPool(veil)) return { kind: 'failed', error: veil };
    await forgetQuietly(deps.store);
    return {
      kind: 'dropped',
      error: new VeilError('SIGN_IN_KEPT_ENDED', veil.detail, { cause: error }),
    };
  }
}

/**
 * After a successful sign-in: keeps its refresh token when `stay` is on (replacing any earlier
 * one), else removes whatever was kept, so the option off stores nothing. Returns true when the
 * sign-in is now kept. Never throws: a store that fails leaves the sign-in in memory only.
 */
export async function settleKeptSignIn(
  deps: Pick<KeptSignInDeps, 'store' | 'pool'>,
  stay: boolean,
  session: UserPoolSession | undefined,
): Promise<boolean> {
  try {
    if (stay && deps.pool && session?.refreshToken) {
      await keepSignIn(deps.store, deps.pool, {
        username: session.username,
        refreshToken: session.refreshToken,
      });
      return true;
    }
    await forgetKeptSignIn(deps.store);
  } catch {
    await forgetQuietly(deps.store);
  }
  return false;
}

/** True when something is kept (to show "Signing in…" at load only then). Never throws. */
export async function anyKeptSignIn(store: KeptSignInStore): Promise<boolean> {
  try {
    return await hasKeptSignIn(store);
  } catch {
    return false;
  }
}

/** Removes the kept sign-in, ignoring a store that fails. */
export async function forgetQuietly(store: KeptSignInStore): Promise<void> {
  try {
    await forgetKeptSignIn(store);
  } catch {
    // Nothing more can be done here; the next read refuses what it cannot open.
  }
}
