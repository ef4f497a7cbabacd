/**
 * The hosted UI (SSO) settings of a config as the session uses them, and this tab's session
 * storage when the browser offers it (the PKCE verifier and remembered IAM keys live there).
 */
import type { VeilConfig } from '../../aws/config';
import { readRedirect, type HostedUiConfig } from '../../aws/oidc';

/** This tab's session storage, or undefined where it is unavailable. */
export function sessionStorageOrUndefined(): Storage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}

/** The hosted UI settings of a config, with the redirect URI defaulting to this page. */
export function hostedUiOf(config: VeilConfig): HostedUiConfig | undefined {
  const ui = config.cognito?.hostedUi;
  const clientId = config.cognito?.userPoolClientId;
  if (!ui || !clientId) return undefined;
  return {
    domain: ui.domain,
    clientId,
    redirectUri: ui.redirectUri ?? `${location.origin}${location.pathname}`,
    scopes: ui.scopes,
    ...(ui.identityProvider ? { identityProvider: ui.identityProvider } : {}),
  };
}

/** The sessionStorage entry that carries "Stay signed in" across the hosted UI's redirect. */
export const SSO_STAY_KEY = 'veil.ssoStaySignedIn';

/** Before leaving for the hosted UI: notes whether to keep the sign-in it brings back. */
export function noteSsoStayChoice(
  storage: Pick<Storage, 'setItem' | 'removeItem'>,
  stay: boolean,
): void {
  if (stay) storage.setItem(SSO_STAY_KEY, '1');
  else storage.removeItem(SSO_STAY_KEY);
}

/** Back from the hosted UI: the choice noted before leaving, consumed (read once). */
export function takeSsoStayChoice(storage: Pick<Storage, 'getItem' | 'removeItem'>): boolean {
  const stay = storage.getItem(SSO_STAY_KEY) === '1';
  storage.removeItem(SSO_STAY_KEY);
  return stay;
}

/** What this page's address says of a hosted-UI sign-in (takeSsoRedirect). */
export type SsoRedirect =
  | { readonly kind: 'none' }
  | { readonly kind: 'ignored' }
  | { readonly kind: 'failed'; readonly error: unknown }
  | {
      readonly kind: 'answer';
      readonly ui: HostedUiConfig;
      readonly code: string;
      readonly verifier: string;
      readonly stay: boolean;
    };

/**
 * When this page is the hosted UI's redirect (`?code=&state=` or `?error=&state=`): removes the
 * answer from the address bar whatever it was (history, bookmarks, referrers must not keep a
 * code), consumes the Stay choice and reads the answer against this tab's PKCE state. 'none':
 * not a redirect, or no hosted UI or session storage to read it with; 'ignored': a redirect
 * without an answer for this tab.
 * Never throws. Untested locally (moto has no hosted UI).
 */
export function takeSsoRedirect(config: VeilConfig): SsoRedirect {
  if (!/[?&](code|error)(=|&|$)/.test(location.search)) return { kind: 'none' };
  const href = location.href;
  history.replaceState(history.state, '', `${location.pathname}${location.hash}`);
  const ui = hostedUiOf(config);
  const storage = sessionStorageOrUndefined();
  if (!ui || !storage) return { kind: 'none' };
  const stay = takeSsoStayChoice(storage);
  try {
    const answer = readRedirect(href, storage);
    return answer ? { kind: 'answer', ui, ...answer, stay } : { kind: 'ignored' };
  } catch (error) {
    return { kind: 'failed', error };
  }
}
