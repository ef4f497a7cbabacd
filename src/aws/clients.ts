/**
 * [Note: one client factory] Every AWS SDK client Veil uses is built here, from the runtime
 * config (region, per-service endpoint overrides, path-style S3) and one credentials provider,
 * so retry, checksum and endpoint policy is decided once. Nothing else constructs a client. The
 * app loads this module on demand, through `loadAwsClients` in sdk-loader.ts ([Note: lazy
 * seams]); the command line imports it directly.
 *
 * - S3: path-style when configured (local S3 servers), SDK integrity checksums on for every
 *   request and response that supports them.
 * - KMS: adaptive retries (client-side rate limiting plus backoff) with 5 attempts, so a burst
 *   of throttling is absorbed before the keyring reports KMS_THROTTLED. One client per region:
 *   a key ARN names its region. With a KMS endpoint override (the local stack, a VPC endpoint)
 *   only the configured region is reachable, and a key elsewhere is KMS_WRONG_REGION.
 * - Cognito: GetId, GetCredentialsForIdentity and InitiateAuth are unsigned calls, so these
 *   clients carry no credentials; their region comes from the pool id (`us-east-1:...`,
 *   `us-east-1_abc`), which may differ from the data region.
 */
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { KmsApi, KmsClientSupplier } from '../keyrings/kms-api';
import type { Endpoints } from './config';
import { poolRegion } from './pool-region';

export { poolRegion } from './pool-region';

/** Where the clients point: a VeilConfig satisfies it; the command line builds one from flags. */
export interface AwsTarget {
  readonly region: string;
  readonly endpoints: Endpoints;
  readonly forcePathStyle?: boolean;
}

/**
 * Credentials for signed calls: a provider (refreshing, see credentials.ts), fixed keys, or
 * undefined for the SDK's default chain (Node only: environment, profiles, SSO, IMDS).
 */
export type CredentialsInput = AwsCredentialIdentityProvider | AwsCredentialIdentity | undefined;

export const KMS_MAX_ATTEMPTS = 5;

/** Builds and caches the AWS clients for one target and one set of credentials. */
export class AwsClients {
  readonly target: AwsTarget;
  private readonly credentials: CredentialsInput;
  private s3Client: S3Client | undefined;
  private readonly kmsClients = new Map<string, KMSClient>();
  /** Cognito clients by region: two pools in different regions need two clients. */
  private readonly identityClients = new Map<string, CognitoIdentityClient>();
  private readonly idpClients = new Map<string, CognitoIdentityProviderClient>();

  constructor(target: AwsTarget, credentials?: CredentialsInput) {
    this.target = target;
    this.credentials = credentials;
  }

  private signed(): { credentials?: CredentialsInput } {
    return this.credentials === undefined ? {} : { credentials: this.credentials };
  }

  /** The S3 client (path-style per config, integrity checksums on). */
  s3(): S3Client {
    this.s3Client ??= new S3Client({
      region: this.target.region,
      ...(this.target.endpoints.s3 ? { endpoint: this.target.endpoints.s3 } : {}),
      forcePathStyle: this.target.forcePathStyle ?? false,
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
      // In the page, S3 answers never come from (or go to) the HTTP cache: a read right after a
      // rewrap, restore or move must see the object as it is now, not a stored earlier range
      // (whose total then disagrees with the HEAD: DOWNLOAD_OBJECT_CHANGED). Node ignores it.
      requestHandler: { cache: 'no-store' },
      ...this.signed(),
    });
    return this.s3Client;
  }

  /**
   * The KMS client for `region` (default: the configured one), or undefined when a KMS endpoint
   * override pins KMS to the configured region and another is asked for.
   */
  kms(region: string = this.target.region): KMSClient | undefined {
    const endpoint = this.target.endpoints.kms;
    if (endpoint && region !== this.target.region) return undefined;
    let client = this.kmsClients.get(region);
    if (!client) {
      client = new KMSClient({
        region,
        ...(endpoint ? { endpoint } : {}),
        maxAttempts: KMS_MAX_ATTEMPTS,
        retryMode: 'adaptive',
        ...this.signed(),
      });
      this.kmsClients.set(region, client);
    }
    return client;
  }

  /** The KMS client for `region` behind the keyring's narrow interface. */
  kmsApi(region: string = this.target.region): KmsApi | undefined {
    const client = this.kms(region);
    return client ? kmsApiFor(client, region) : undefined;
  }

  /** The supplier the KMS keyring takes: a client per key region (see [Note: one client factory]). */
  kmsSupplier(): KmsClientSupplier {
    return (region) => this.kmsApi(region ?? this.target.region);
  }

  /**
   * The Cognito identity pool client (unsigned calls), in the pool's region; the SDK's identity
   * pool credential provider is given this one (credentials.ts) rather than building its own.
   */
  cognitoIdentity(identityPoolId?: string): CognitoIdentityClient {
    const region = poolRegion(identityPoolId, ':') ?? this.target.region;
    let client = this.identityClients.get(region);
    if (!client) {
      const endpoint = this.target.endpoints.cognitoIdentity;
      client = new CognitoIdentityClient({ region, ...(endpoint ? { endpoint } : {}) });
      this.identityClients.set(region, client);
    }
    return client;
  }

  /** The Cognito user pool client (InitiateAuth is unsigned), in the user pool's region. */
  cognitoIdentityProvider(userPoolId?: string): CognitoIdentityProviderClient {
    const region = poolRegion(userPoolId, '_') ?? this.target.region;
    let client = this.idpClients.get(region);
    if (!client) {
      const endpoint = this.target.endpoints.cognitoIdentityProvider;
      client = new CognitoIdentityProviderClient({ region, ...(endpoint ? { endpoint } : {}) });
      this.idpClients.set(region, client);
    }
    return client;
  }

  /** Closes every client built so far (sockets in Node). */
  destroy(): void {
    this.s3Client?.destroy();
    for (const client of this.kmsClients.values()) client.destroy();
    for (const client of this.identityClients.values()) client.destroy();
    for (const client of this.idpClients.values()) client.destroy();
    this.s3Client = undefined;
    this.kmsClients.clear();
    this.identityClients.clear();
    this.idpClients.clear();
  }
}

/**
 * The region the SDK would pick by itself on Node (AWS_REGION, then the profile's `region` in
 * ~/.aws/config), or undefined when none is set. For the command line.
 */
export async function defaultSdkRegion(): Promise<string | undefined> {
  const probe = new KMSClient({});
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

/** Adapts an SDK KMSClient to the keyring's narrow KmsApi (one command per operation). */
export function kmsApiFor(client: KMSClient, region: string): KmsApi {
  return {
    region,
    generateDataKey: (input) => client.send(new GenerateDataKeyCommand(input)),
    encrypt: (input) => client.send(new EncryptCommand(input)),
    decrypt: (input) => client.send(new DecryptCommand(input)),
    reEncrypt: (input) => client.send(new ReEncryptCommand(input)),
    describeKey: (input) => client.send(new DescribeKeyCommand(input)),
    listAliases: (input) => client.send(new ListAliasesCommand(input)),
  };
}
