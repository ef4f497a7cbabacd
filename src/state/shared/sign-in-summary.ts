/**
 * What Settings › AWS credentials shows of the session: the session's states, and once signed in
 * a one-line summary ("Signed in as demo", how, until when) in place of the sign-in forms, which
 * come back on Sign out or Switch. Pure: the reactive session (credentials.svelte.ts) holds the
 * state, this decides what it reads as.
 */
import type { CredentialSummary } from '../../aws/credentials';

/** Where the credentials come from. */
export type CredentialSource = 'guest' | 'user' | 'sso' | 'keys';

export type SessionStatus =
  | { state: 'signed-out' }
  | { state: 'working'; source: CredentialSource }
  | {
      state: 'ready';
      source: CredentialSource;
      summary: CredentialSummary;
      /** The user name for a user-pool or SSO sign-in. */
      username: string | undefined;
      /** True when pasted keys are remembered for this tab. */
      remembered: boolean;
      /** True when the sign-in is kept on this device ([Note: stay signed in]). */
      kept: boolean;
    }
  | { state: 'failed'; source: CredentialSource; code: string; message: string };

/** The summary line of a signed-in session, in words. */
export interface SignInSummary {
  /** "Signed in as demo", "Signed in as a guest", "Signed in with IAM access keys". */
  readonly lead: string;
  /**
   * How and until when, in order: the method ("user name and password", "single sign-on",
   * "kept sign-in on this device", "guest identity", "key AKIA…"), the expiry ("credentials
   * expire at 20:41, renewed automatically", "no expiry"), then "remembered for this tab".
   */
  readonly details: readonly string[];
  /** The identity id to show beside it ('' for IAM keys). */
  readonly identityId: string;
}

const METHOD: Record<'guest' | 'user' | 'sso', string> = {
  guest: 'guest identity',
  user: 'user name and password',
  sso: 'single sign-on',
};

/**
 * The summary of a ready session, or undefined for any other state.
 * @param formatTime formats an instant (ms since the epoch) in the user's locale.
 */
export function signInSummary(
  status: SessionStatus,
  formatTime: (ms: number) => string,
): SignInSummary | undefined {
  if (status.state !== 'ready') return undefined;
  const { source, summary } = status;
  const lead =
    source === 'guest'
      ? 'Signed in as a guest'
      : source === 'keys'
        ? 'Signed in with IAM access keys'
        : `Signed in as ${status.username ?? 'a user'}`;
  const method =
    source === 'keys'
      ? `key ${summary.accessKeyHint}…`
      : status.kept
        ? 'kept sign-in on this device'
        : METHOD[source];
  const expiry = summary.expiresAt
    ? `credentials expire at ${formatTime(summary.expiresAt.getTime())}, renewed automatically`
    : 'no expiry';
  return {
    lead,
    details: [method, expiry, ...(status.remembered ? ['remembered for this tab'] : [])],
    identityId: summary.identityId,
  };
}

/**
 * True when the sign-in forms are shown: whenever the session is not ready, and while the user
 * chose Switch (the current session stays until another sign-in replaces it).
 */
export function signInFormsShown(status: SessionStatus, switching: boolean): boolean {
  return status.state !== 'ready' || switching;
}
