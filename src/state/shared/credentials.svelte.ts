/**
 * The app's AWS session: which credentials the user chose (Cognito guest, user-pool sign-in,
 * hosted UI / SSO, or pasted IAM keys), kept refreshing ([Note: credential refresh] in
 * src/aws/credentials.ts), and the AWS clients built on them ([Note: one client factory]).
 *
 * One instance for the whole app, `awsSession`: Settings changes it; uploads and downloads ask
 * it for clients. UI state holds only summaries (identity id, a 4-character key hint, expiry);
 * secrets stay inside the credential provider and the IAM key store.
 */
import { AwsClients } from '../../aws/clients';
import type { VeilConfig } from '../../aws/config';
import type {
  CredentialProvider,
  CredentialSummary,
  RefreshingProvider,
  UserPoolSession,
} from '../../aws/credentials';
import {
  IdentityIdCache,
  UserPoolTokens,
  cognitoGuestProvider,
  cognitoUserProvider,
  credentialsError,
  refreshUserPoolSession,
  refreshingProvider,
  signInWithPassword,
} from '../../aws/credentials';
import type { IamKeys } from '../../aws/iam-keys';
import { IamKeyStore, iamKeysProvider, parseIamKeys } from '../../aws/iam-keys';
import type { HostedUiConfig } from '../../aws/oidc';
import { beginSignIn, exchangeCode, readRedirect } from '../../aws/oidc';
import { VeilError } from '../../core/errors';

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
    }
  | { state: 'failed'; source: CredentialSource; code: string; message: string };

function sessionStorageOrUndefined(): Storage | undefined {
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

export class AwsSession {
  #status = $state<SessionStatus>({ state: 'signed-out' });
  #provider: RefreshingProvider | undefined;
  #clients: AwsClients | undefined;
  /** Unsigned Cognito clients (sign-in, token renewal, identity pool), one set per config. */
  #cognito: { config: VeilConfig; clients: AwsClients } | undefined;
  /** The guest identity id, for this page only; cleared on sign-out. */
  #identityIds = new IdentityIdCache();
  #keys = new IamKeyStore(sessionStorageOrUndefined());
  /** The user-pool tokens of a password or hosted-UI sign-in (Model B sends the ID token). */
  #tokens: UserPoolTokens | undefined;

  get status(): SessionStatus {
    return this.#status;
  }

  /** The Cognito identity id of the current credentials ('' for IAM keys or when signed out). */
  get identityId(): string {
    return this.#status.state === 'ready' ? this.#status.summary.identityId : '';
  }

  /** True when pasted IAM keys are remembered for this tab (offered again after a reload). */
  get hasRememberedKeys(): boolean {
    return this.#keys.remembered();
  }

  /** True when the session has a user-pool sign-in, so an ID token for the HSM proxy. */
  get hasIdToken(): boolean {
    return this.#status.state === 'ready' && this.#tokens !== undefined;
  }

  /**
   * The current user-pool ID token (renewed when close to expiry), for the HSM proxy.
   * @throws VeilError HSM_UNAUTHENTICATED when the session is not a user-pool sign-in.
   */
  async idToken(): Promise<string> {
    const tokens = this.#tokens;
    if (this.#status.state !== 'ready' || !tokens) {
      throw new VeilError('HSM_UNAUTHENTICATED', 'sign in with a user account in Settings');
    }
    return tokens.idToken();
  }

  /**
   * The AWS clients on the current credentials.
   * @throws VeilError CREDENTIALS_MISSING when no credentials were chosen.
   */
  clients(): AwsClients {
    if (!this.#clients) throw new VeilError('CREDENTIALS_MISSING');
    return this.#clients;
  }

  /**
   * At start-up: completes a hosted-UI sign-in when this page is its redirect, else brings back
   * IAM keys remembered for this tab. Never throws (errors become status).
   */
  async start(config: VeilConfig): Promise<void> {
    if (await this.completeSsoRedirect(config)) return;
    if (this.#status.state === 'signed-out' && this.hasRememberedKeys) {
      await this.useRememberedKeys(config);
    }
  }

  /** Uses a guest identity of the identity pool. Never throws (errors become status). */
  async connectGuest(config: VeilConfig): Promise<void> {
    await this.#use(config, 'guest', () =>
      Promise.resolve(
        cognitoGuestProvider(this.#cognitoClients(config), config, this.#identityIds),
      ),
    );
  }

  /** Signs in to the user pool with a password, then uses the authenticated identity. */
  async signIn(config: VeilConfig, username: string, password: string): Promise<void> {
    await this.#use(
      config,
      'user',
      async () => {
        const cognito = this.#cognitoClients(config);
        const session = await signInWithPassword(cognito, config, username.trim(), password);
        return this.#userProvider(config, session);
      },
      username.trim(),
    );
  }

  /** Uses pasted IAM keys; `remember` keeps them in this tab's session storage. */
  async useKeys(
    config: VeilConfig,
    input: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
    remember: boolean,
  ): Promise<void> {
    await this.#use(config, 'keys', () => {
      const keys = parseIamKeys(input);
      this.#keys.save(keys, remember);
      return Promise.resolve(iamKeysProvider(keys));
    });
  }

  /** Uses IAM keys remembered for this tab, if any. */
  async useRememberedKeys(config: VeilConfig): Promise<void> {
    const keys: IamKeys | undefined = this.#keys.load();
    if (!keys) return;
    await this.#use(config, 'keys', () => Promise.resolve(iamKeysProvider(keys)));
  }

  /**
   * Leaves for the hosted UI (PKCE). Never throws: a failure to start becomes status.
   * Untested locally: moto has no hosted UI.
   */
  async beginSso(config: VeilConfig): Promise<void> {
    const ui = hostedUiOf(config);
    const storage = sessionStorageOrUndefined();
    if (!ui || !storage) return;
    this.#status = { state: 'working', source: 'sso' };
    try {
      location.assign(await beginSignIn(ui, storage));
    } catch (error) {
      this.#fail('sso', error);
    }
  }

  /**
   * Completes a hosted-UI sign-in when this page is its redirect (`?code=&state=` or
   * `?error=&state=`), and removes the answer from the address bar whatever it was. Returns true
   * when it handled a sign-in answer. Never throws. Untested locally (no hosted UI).
   */
  async completeSsoRedirect(config: VeilConfig): Promise<boolean> {
    if (!/[?&](code|error)(=|&|$)/.test(location.search)) return false;
    const href = location.href;
    // A code or error in the address bar must not stay there (history, bookmarks, referrers).
    history.replaceState(history.state, '', `${location.pathname}${location.hash}`);
    const ui = hostedUiOf(config);
    const storage = sessionStorageOrUndefined();
    if (!ui || !storage) return false;
    let answer: { code: string; verifier: string } | undefined;
    try {
      answer = readRedirect(href, storage);
    } catch (error) {
      this.#fail('sso', error);
      return true;
    }
    if (!answer) return true;
    const { code, verifier } = answer;
    await this.#use(config, 'sso', async () => {
      const session = await exchangeCode(ui, code, verifier, fetch.bind(globalThis), Date.now());
      return this.#userProvider(config, session);
    });
    return true;
  }

  /** Forgets credentials, remembered keys, the cached guest identity id and the clients. */
  signOut(): void {
    this.#signOutQuietly();
    this.#keys.clear();
    this.#identityIds.clear();
    this.#cognito?.clients.destroy();
    this.#cognito = undefined;
    this.#status = { state: 'signed-out' };
  }

  #cognitoClients(config: VeilConfig): AwsClients {
    if (this.#cognito?.config !== config) {
      this.#cognito?.clients.destroy();
      this.#cognito = { config, clients: new AwsClients(config) };
    }
    return this.#cognito.clients;
  }

  #userProvider(config: VeilConfig, session: UserPoolSession): CredentialProvider {
    const tokens = new UserPoolTokens(session, (current) =>
      refreshUserPoolSession(this.#cognitoClients(config), config, current),
    );
    this.#tokens = tokens;
    return cognitoUserProvider(this.#cognitoClients(config), config, () => tokens.idToken());
  }

  async #use(
    config: VeilConfig,
    source: CredentialSource,
    makeProvider: () => Promise<CredentialProvider>,
    username?: string,
  ): Promise<void> {
    this.#signOutQuietly();
    this.#status = { state: 'working', source };
    try {
      const provider = refreshingProvider(await makeProvider(), {
        onRefresh: (summary) => {
          if (this.#status.state === 'ready' && this.#provider === provider) {
            this.#status = { ...this.#status, summary };
          }
        },
      });
      await provider();
      const summary = provider.summary();
      if (!summary) throw new VeilError('CREDENTIALS_FAILED');
      // Keys remembered for this tab must not come back on reload once another source is used.
      if (source !== 'keys') this.#keys.clear();
      this.#provider = provider;
      this.#clients = new AwsClients(config, provider);
      this.#status = {
        state: 'ready',
        source,
        summary,
        username,
        remembered: source === 'keys' && this.#keys.remembered(),
      };
    } catch (error) {
      this.#fail(source, error);
    }
  }

  /** Drops the current provider and clients but keeps remembered keys. */
  #signOutQuietly(): void {
    this.#provider?.forget();
    this.#provider = undefined;
    this.#tokens = undefined;
    this.#clients?.destroy();
    this.#clients = undefined;
  }

  #fail(source: CredentialSource, error: unknown): void {
    const veil = credentialsError(error);
    this.#status = { state: 'failed', source, code: veil.code, message: veil.message };
  }
}

/** The app's one AWS session. */
export const awsSession = new AwsSession();
