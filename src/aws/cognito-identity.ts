/**
 * Temporary credentials from the configured Cognito identity pool: a guest (unauthenticated)
 * identity, or the authenticated identity of a user-pool login. Neither refreshes by itself: wrap
 * them with refreshingProvider. Identity ids are cached in memory only (IdentityIdCache).
 */
import type { fromCognitoIdentityPool } from '@aws-sdk/credential-provider-cognito-identity';
import { VeilError } from '../core/errors';
import { loadOnce } from '../core/load-once';
import type { AwsClients } from './clients';
import type { VeilConfig } from './config';
import type { CredentialProvider } from './credential-provider';
import { userPoolOf, userPoolProviderName } from './user-pool';

function identityPoolOf(config: VeilConfig): string {
  if (!config.cognito) throw new VeilError('CONFIG_INVALID', 'cognito.identityPoolId is not set');
  return config.cognito.identityPoolId;
}

/** What the Cognito providers need of the client factory ([Note: one client factory]). */
export type CognitoClientSource = Pick<AwsClients, 'cognitoIdentity'>;

/**
 * The SDK provider types its `client` as the trimmed CognitoIdentityClient of
 * @aws-sdk/nested-clients; the factory's full client of @aws-sdk/client-cognito-identity sends
 * the same two commands (GetId, GetCredentialsForIdentity) alike but has a wider command union,
 * so the types differ only there.
 */
type ProviderClient = NonNullable<Parameters<typeof fromCognitoIdentityPool>[0]['client']>;

function providerClient(clients: CognitoClientSource, identityPoolId: string): ProviderClient {
  return clients.cognitoIdentity(identityPoolId) as unknown as ProviderClient;
}

const providerModule = loadOnce(() => import('@aws-sdk/credential-provider-cognito-identity'));

/**
 * The SDK's identity-pool provider, built by the first call, which fetches its code ([Note: lazy
 * seams] in sdk-loader.ts); every later call goes to the same provider (and its identity id).
 */
function onDemand(options: Parameters<typeof fromCognitoIdentityPool>[0]): CredentialProvider {
  let provider: CredentialProvider | undefined;
  return async () => {
    if (!provider) {
      const { fromCognitoIdentityPool } = await providerModule.load();
      provider ??= fromCognitoIdentityPool(options);
    }
    return provider();
  };
}

/**
 * Where the SDK's identity-pool provider caches a guest's identity id: in memory, for this page
 * only. The SDK's default would keep it in IndexedDB or localStorage, where it outlives sign-out
 * and is shared by everyone using the browser. The session clears it on sign-out.
 */
export class IdentityIdCache {
  private readonly items = new Map<string, string>();

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    this.items.delete(key);
  }

  /** Forgets every cached identity id (sign-out). */
  clear(): void {
    this.items.clear();
  }
}

/**
 * Temporary credentials for a guest identity of the configured identity pool (not refreshing by
 * itself; wrap it with refreshingProvider). The guest's identity id is cached in `cache` only.
 * @throws VeilError CONFIG_INVALID when the configuration has no identity pool.
 */
export function cognitoGuestProvider(
  clients: CognitoClientSource,
  config: VeilConfig,
  cache: IdentityIdCache = new IdentityIdCache(),
): CredentialProvider {
  const identityPoolId = identityPoolOf(config);
  return onDemand({
    identityPoolId,
    client: providerClient(clients, identityPoolId),
    cache,
  });
}

/**
 * Temporary credentials for the authenticated identity of a user-pool login. `idToken` is asked
 * for on every credential fetch, so it can renew the token (see UserPoolTokens). The SDK caches
 * no identity id for authenticated identities; `cache` is passed so that it never falls back to
 * browser storage.
 * @throws VeilError CONFIG_INVALID without an identity pool or user pool.
 */
export function cognitoUserProvider(
  clients: CognitoClientSource,
  config: VeilConfig,
  idToken: () => Promise<string>,
  cache: IdentityIdCache = new IdentityIdCache(),
): CredentialProvider {
  const { userPoolId } = userPoolOf(config);
  const identityPoolId = identityPoolOf(config);
  return onDemand({
    identityPoolId,
    client: providerClient(clients, identityPoolId),
    cache,
    logins: { [userPoolProviderName(userPoolId, config.region)]: idToken },
  });
}
