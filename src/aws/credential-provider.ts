/**
 * What a credential source hands out (credentials, with the Cognito identity id when they came
 * from an identity pool), its summary without secrets, and a failure to obtain credentials as a
 * catalogued error.
 */
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { VeilError } from '../core/errors';
import type { ErrorCode } from '../core/errors';
import { credentialErrorCode, errorName } from '../core';

/** What the app may show about a credential: never the secret, never the session token. */
export interface CredentialSummary {
  identityId: string;
  /** First four characters of the access key id only, enough to tell two apart. */
  accessKeyHint: string;
  expiresAt: Date | undefined;
}

/** Credentials plus the Cognito identity id when they came from an identity pool. */
export type VeilCredentials = AwsCredentialIdentity & { identityId?: string };

export type CredentialProvider = () => Promise<VeilCredentials>;

/** The summary of credentials, without secrets. */
export function summaryOf(credentials: VeilCredentials): CredentialSummary {
  return {
    identityId: credentials.identityId ?? '',
    accessKeyHint: credentials.accessKeyId.slice(0, 4),
    expiresAt: credentials.expiration,
  };
}

/**
 * Maps a failure to obtain credentials to the catalogue (VeilError passes through).
 * Cognito's NotAuthorizedException on a first connection means the pool refuses this kind of
 * identity (guest access off, a user pool it does not trust): CREDENTIALS_FAILED. On a refresh
 * (`phase` 'refresh') it means the login token is no longer accepted: CREDENTIALS_EXPIRED.
 */
export function credentialsError(
  error: unknown,
  phase: 'connect' | 'refresh' = 'connect',
): VeilError {
  if (error instanceof VeilError) return error;
  const name = errorName(error) || 'Error';
  if (name === 'NotAuthorizedException') {
    return phase === 'refresh'
      ? new VeilError('CREDENTIALS_EXPIRED', name, { cause: error })
      : new VeilError(
          'CREDENTIALS_FAILED',
          `${name}: the identity pool refused this identity (guest access off, or the user pool is not one of its providers)`,
          { cause: error },
        );
  }
  const code: ErrorCode = credentialErrorCode(error) ?? 'CREDENTIALS_FAILED';
  return new VeilError(code, name, { cause: error });
}

/**
 * Resolves credentials once and summarises them without secrets.
 * @throws VeilError CREDENTIALS_* with the service's error name.
 */
export async function summarise(provider: CredentialProvider): Promise<CredentialSummary> {
  try {
    return summaryOf(await provider());
  } catch (cause) {
    throw credentialsError(cause);
  }
}
