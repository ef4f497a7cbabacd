/**
 * AWS credentials for the browser. Here: a Cognito identity pool guest (unauthenticated) identity,
 * through the SDK's own provider; secrets stay inside the provider and never reach UI state.
 */
import { fromCognitoIdentityPool } from '@aws-sdk/credential-provider-cognito-identity';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { VeilError } from '../core/errors';
import type { VeilConfig } from './config';

/** What the app may show about a credential: never the secret, never the session token. */
export interface CredentialSummary {
  identityId: string;
  /** First four characters of the access key id only, enough to tell two apart. */
  accessKeyHint: string;
  expiresAt: Date | undefined;
}

export type CredentialProvider = () => Promise<AwsCredentialIdentity & { identityId?: string }>;

/**
 * A provider of temporary credentials for a guest identity of the configured identity pool.
 * @throws VeilError CONFIG_INVALID when the configuration has no identity pool.
 */
export function cognitoGuestProvider(config: VeilConfig): CredentialProvider {
  if (!config.cognito) throw new VeilError('CONFIG_INVALID', 'cognito.identityPoolId is not set');
  const endpoint = config.endpoints.cognitoIdentity;
  return fromCognitoIdentityPool({
    identityPoolId: config.cognito.identityPoolId,
    clientConfig: { region: config.region, ...(endpoint ? { endpoint } : {}) },
  });
}

/**
 * Resolves credentials once and summarises them without secrets.
 * @throws VeilError CREDENTIALS_FAILED with the service's error name.
 */
export async function summarise(provider: CredentialProvider): Promise<CredentialSummary> {
  try {
    const credentials = await provider();
    return {
      identityId: credentials.identityId ?? '',
      accessKeyHint: credentials.accessKeyId.slice(0, 4),
      expiresAt: credentials.expiration,
    };
  } catch (cause) {
    const name = cause instanceof Error ? cause.name : undefined;
    throw new VeilError('CREDENTIALS_FAILED', name, { cause });
  }
}
