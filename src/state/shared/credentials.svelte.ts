/**
 * The app's AWS session: which credentials the user chose (Cognito guest, user-pool sign-in,
 * hosted UI / SSO, or pasted IAM keys), kept refreshing ([Note: credential refresh] in
 * src/aws/credentials.ts), and the AWS clients built on them ([Note: one client factory]).
 *
 * One instance for the whole app, `awsSession`: Settings changes it; uploads and downloads ask
 * it for clients. UI state holds only summaries (identity id, a 4-character key hint, expiry);
 * secrets stay inside the credential provider and the IAM key store, and, when the user asks to
 * stay signed in, a user-pool refresh token sealed in IndexedDB ([Note: stay signed in] in
 * src/aws/stay-signed-in.ts; the logic in kept-sign-in.ts).
 */
import type { AwsClients } from '../../aws/clients';
import type { VeilConfig } from '../../aws/config';
import type {
  CredentialProvider,
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
  revokeRefreshToken,
  signInWithPassword,
} from '../../aws/credentials';
import type { IamKeys } from '../../aws/iam-keys';
import { IamKeyStore, iamKeysProvider, parseIamKeys } from '../../aws/iam-keys';
import { beginSignIn, exchangeCode } from '../../aws/oidc';
import { loadAwsClients } from '../../aws/sdk-loader';
import type { KeptSignInStore } from '../../aws/stay-signed-in';
import { VeilError } from '../../core/errors';
import {
  anyKeptSignIn,
  forgetQuietly,
  keptPoolOf,
  restoreKeptSignIn,
  settleKeptSignIn,
  type KeptSignInDeps,
} from './kept-sign-in';
import {
  hostedUiOf,
  noteSsoStayChoice,
  sessionStorageOrUndefined,
  takeSsoRedirect,
} from './hosted-ui';
import { indexedDbKeptStore } from './kept-sign-in-store';
import type { CredentialSource, SessionStatus } from './sign-in-summary';

export type { CredentialSource, SessionStatus } from './sign-in-summary';
export { hostedUiOf } from './hosted-ui';

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
  /** Where "Stay signed in on this device" keeps the sealed refresh token. */
  readonly #keptStore: KeptSignInStore;
  /** True while the user chose Switch: the sign-in forms show beside the current session. */
  #switching = $state(false);

  constructor(keptStore: KeptSignInStore = indexedDbKeptStore()) {
    this.#keptStore = keptStore;
  }

  get status(): SessionStatus {
    return this.#status;
  }

  /** True while the user chose Switch (the forms show although a session is ready). */
  get switching(): boolean {
    return this.#switching;
  }

  /** Shows the sign-in forms again; the current session stays until another replaces it. */
  switchAccount(): void {
    this.#switching = true;
  }

  /** Back to the summary without switching. */
  cancelSwitch(): void {
    this.#switching = false;
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
   * IAM keys remembered for this tab, else a sign-in kept on this device. Never throws (errors
   * become status).
   */
  async start(config: VeilConfig): Promise<void> {
    if (await this.completeSsoRedirect(config)) return;
    if (this.#status.state === 'signed-out' && this.hasRememberedKeys) {
      await this.useRememberedKeys(config);
      return;
    }
    if (this.#status.state === 'signed-out') await this.restoreKept(config);
  }

  /**
   * Brings back a sign-in kept on this device ([Note: stay signed in]): REFRESH_TOKEN_AUTH for
   * new ID tokens, then identity-pool credentials. One the pool refuses, or that does not open,
   * is removed and the reason shown (SIGN_IN_KEPT_ENDED, SIGN_IN_KEPT_UNREADABLE). Never throws.
   */
  async restoreKept(config: VeilConfig): Promise<void> {
    const deps = this.#keptDeps(config);
    if (!deps.pool || !(await anyKeptSignIn(deps.store))) return;
    this.#status = { state: 'working', source: 'user' };
    const outcome = await restoreKeptSignIn(deps);
    if (outcome.kind === 'none') {
      this.#status = { state: 'signed-out' };
    } else if (outcome.kind === 'restored') {
      const { session } = outcome;
      await this.#use(
        config,
        'user',
        () => Promise.resolve(this.#userProvider(config, session)),
        session.username,
        true,
      );
    } else {
      this.#fail('user', outcome.error);
    }
  }

  /** Uses a guest identity of the identity pool. Never throws (errors become status). */
  async connectGuest(config: VeilConfig): Promise<void> {
    await this.#use(config, 'guest', async () =>
      cognitoGuestProvider(await this.#cognitoClients(config), config, this.#identityIds),
    );
  }

  /**
   * Signs in to the user pool with a password, then uses the authenticated identity. `stay`
   * keeps the sign-in on this device ([Note: stay signed in]); off, whatever was kept is removed.
   */
  async signIn(
    config: VeilConfig,
    username: string,
    password: string,
    stay = false,
  ): Promise<void> {
    await this.#use(
      config,
      'user',
      async () => {
        const cognito = await this.#cognitoClients(config);
        const session = await signInWithPassword(cognito, config, username.trim(), password);
        return this.#userProvider(config, session);
      },
      username.trim(),
      stay,
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
  async beginSso(config: VeilConfig, stay = false): Promise<void> {
    const ui = hostedUiOf(config);
    const storage = sessionStorageOrUndefined();
    if (!ui || !storage) return;
    this.#status = { state: 'working', source: 'sso' };
    try {
      noteSsoStayChoice(storage, stay);
      location.assign(await beginSignIn(ui, storage));
    } catch (error) {
      this.#fail('sso', error);
    }
  }

  /** Completes a hosted-UI sign-in when this page is its redirect (takeSsoRedirect). */
  async completeSsoRedirect(config: VeilConfig): Promise<boolean> {
    const redirect = takeSsoRedirect(config);
    if (redirect.kind === 'none') return false;
    if (redirect.kind === 'failed') this.#fail('sso', redirect.error);
    if (redirect.kind !== 'answer') return true;
    const { ui, code, verifier, stay } = redirect;
    await this.#use(
      config,
      'sso',
      async () => {
        const session = await exchangeCode(ui, code, verifier, fetch.bind(globalThis), Date.now());
        return this.#userProvider(config, session);
      },
      undefined,
      stay,
    );
    return true;
  }

  /**
   * Forgets credentials, remembered keys, the kept sign-in (its sealed token and its key), the
   * cached guest identity id and the clients, and asks the user pool to revoke a kept refresh
   * token. Never throws.
   */
  async signOut(): Promise<void> {
    const kept = this.#status.state === 'ready' && this.#status.kept;
    const refreshToken = this.#tokens?.current().refreshToken;
    const cognito = this.#cognito;
    this.#signOutQuietly();
    this.#keys.clear();
    this.#identityIds.clear();
    this.#cognito = undefined;
    this.#switching = false;
    this.#status = { state: 'signed-out' };
    await forgetQuietly(this.#keptStore);
    // A kept token outlived this tab's memory: revoke it too (best effort; moto lacks the call).
    if (kept && refreshToken && cognito) {
      await revokeRefreshToken(cognito.clients, cognito.config, refreshToken);
    }
    cognito?.clients.destroy();
  }

  /** The unsigned Cognito clients for `config`, once the SDK's code is loaded ([Note: lazy seams]). */
  async #cognitoClients(config: VeilConfig): Promise<AwsClients> {
    if (this.#cognito?.config === config) return this.#cognito.clients;
    const clients = await loadAwsClients(config);
    if (this.#cognito?.config === config) {
      clients.destroy();
      return this.#cognito.clients;
    }
    this.#cognito?.clients.destroy();
    this.#cognito = { config, clients };
    return clients;
  }

  #keptDeps(config: VeilConfig): KeptSignInDeps {
    return {
      store: this.#keptStore,
      pool: keptPoolOf(config),
      renew: async (kept) =>
        refreshUserPoolSession(await this.#cognitoClients(config), config, {
          username: kept.username,
          idToken: '',
          refreshToken: kept.refreshToken,
          expiresAtMs: 0,
        }),
    };
  }

  async #userProvider(config: VeilConfig, session: UserPoolSession): Promise<CredentialProvider> {
    const tokens = new UserPoolTokens(session, async (current) => {
      const next = await refreshUserPoolSession(
        await this.#cognitoClients(config),
        config,
        current,
      );
      // A pool that rotates refresh tokens hands out a new one: keep that one instead.
      const kept = this.#status.state === 'ready' && this.#status.kept;
      if (kept && this.#tokens === tokens && next.refreshToken !== current.refreshToken) {
        await settleKeptSignIn(this.#keptDeps(config), true, next);
      }
      return next;
    });
    this.#tokens = tokens;
    return cognitoUserProvider(await this.#cognitoClients(config), config, () => tokens.idToken());
  }

  async #use(
    config: VeilConfig,
    source: CredentialSource,
    makeProvider: () => Promise<CredentialProvider>,
    username?: string,
    stay = false,
  ): Promise<void> {
    // A kept sign-in this one replaces: its refresh token is revoked once the new one holds.
    const replacedToken =
      this.#status.state === 'ready' && this.#status.kept
        ? this.#tokens?.current().refreshToken
        : undefined;
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
      // Keys remembered for this tab must not come back on reload once another source is used;
      // nor a kept sign-in, unless this sign-in is to be kept ([Note: stay signed in]).
      if (source !== 'keys') this.#keys.clear();
      const tokens = this.#tokens;
      const kept = await settleKeptSignIn(
        this.#keptDeps(config),
        stay && tokens !== undefined,
        tokens?.current(),
      );
      const clients = await loadAwsClients(config, provider);
      this.#provider = provider;
      this.#clients = clients;
      this.#switching = false;
      this.#status = {
        state: 'ready',
        source,
        summary,
        username: username ?? tokens?.username,
        remembered: source === 'keys' && this.#keys.remembered(),
        kept,
      };
      // Switch from a kept sign-in: the old token left this device's store above; revoke it too,
      // as Sign out does (best effort; moto lacks RevokeToken, so no test shows it revoking).
      if (replacedToken && replacedToken !== tokens?.current().refreshToken) {
        await revokeRefreshToken(await this.#cognitoClients(config), config, replacedToken);
      }
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
