/**
 * Provisions the local AWS services (moto) the way a team would provision real AWS for Veil:
 * a data bucket with CORS for the app's origin, a KMS key with an alias, a Cognito identity pool
 * with guest access, and a user pool with a demo user. Every step is idempotent.
 */
import {
  CognitoIdentityClient,
  CreateIdentityPoolCommand,
  ListIdentityPoolsCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  KMSClient,
  ListAliasesCommand,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';

/** Headers the browser must be able to read from S3 responses (multipart ETags, checksums). */
export const EXPOSED_HEADERS = [
  'ETag',
  'Content-Length',
  'Content-Range',
  'x-amz-version-id',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
  'x-amz-checksum-type',
  'x-amz-meta-veil-format',
  'x-amz-meta-veil-model',
];

export interface ProvisionOptions {
  endpoint: string;
  region: string;
  bucket: string;
  /** Origins the app is served from, allowed by the bucket's CORS rules. */
  origins: string[];
  kmsAlias: string;
  identityPoolName: string;
  userPoolName: string;
  demoUser: { username: string; password: string };
  /** Cognito groups to create; the demo user joins `demoGroups`. */
  groups: string[];
  demoGroups: string[];
}

export interface Provisioned {
  bucket: string;
  kmsKeyArn: string;
  kmsAlias: string;
  identityPoolId: string;
  userPoolId: string;
  userPoolClientId: string;
  demoUser: { username: string; password: string };
}

/** Fixed credentials for moto; moto accepts any. Never used against AWS. */
const LOCAL_CREDENTIALS = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

export async function provisionBucket(
  s3: S3Client,
  o: Pick<ProvisionOptions, 'bucket' | 'origins'>,
): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: o.bucket }));
  } catch (error) {
    if (errorName(error) !== 'NotFound' && errorName(error) !== 'NoSuchBucket') throw error;
    await s3.send(new CreateBucketCommand({ Bucket: o.bucket }));
  }
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: o.bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: o.origins,
            AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: EXPOSED_HEADERS,
            MaxAgeSeconds: 3000,
          },
        ],
      },
    }),
  );
  // moto only: its CORS preflight on an existing key answers 403 unless the bucket policy
  // allows s3:OptionsObject. Real S3 needs no such statement.
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: o.bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'MotoCorsPreflightOnly',
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:OptionsObject',
            Resource: `arn:aws:s3:::${o.bucket}/*`,
          },
        ],
      }),
    }),
  );
}

export async function provisionKms(kms: KMSClient, alias: string): Promise<string> {
  const aliases = await kms.send(new ListAliasesCommand({}));
  const existing = aliases.Aliases?.find((entry) => entry.AliasName === alias);
  if (existing?.TargetKeyId && existing.AliasArn) {
    return existing.AliasArn.replace(/:alias\/.*$/, `:key/${existing.TargetKeyId}`);
  }
  const created = await kms.send(
    new CreateKeyCommand({
      Description: 'Veil local demo key (Model C)',
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
    }),
  );
  const arn = created.KeyMetadata?.Arn;
  if (!arn || !created.KeyMetadata?.KeyId) throw new Error('KMS CreateKey returned no key ARN');
  await kms.send(
    new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata.KeyId }),
  );
  return arn;
}

async function provisionUserPool(
  idp: CognitoIdentityProviderClient,
  o: ProvisionOptions,
): Promise<{ userPoolId: string; userPoolClientId: string }> {
  const pools = await idp.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  let userPoolId = pools.UserPools?.find((pool) => pool.Name === o.userPoolName)?.Id;
  if (!userPoolId) {
    const created = await idp.send(
      new CreateUserPoolCommand({
        PoolName: o.userPoolName,
        Policies: {
          PasswordPolicy: {
            MinimumLength: 12,
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: false,
          },
        },
      }),
    );
    userPoolId = created.UserPool?.Id;
    if (!userPoolId) throw new Error('Cognito CreateUserPool returned no id');
  }
  const clients = await idp.send(
    new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }),
  );
  let userPoolClientId = clients.UserPoolClients?.find(
    (c) => c.ClientName === 'veil-web',
  )?.ClientId;
  if (!userPoolClientId) {
    const created = await idp.send(
      new CreateUserPoolClientCommand({
        UserPoolId: userPoolId,
        ClientName: 'veil-web',
        GenerateSecret: false,
        ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
      }),
    );
    userPoolClientId = created.UserPoolClient?.ClientId;
    if (!userPoolClientId) throw new Error('Cognito CreateUserPoolClient returned no id');
  }
  try {
    await idp.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: o.demoUser.username,
        MessageAction: 'SUPPRESS',
      }),
    );
  } catch (error) {
    if (errorName(error) !== 'UsernameExistsException') throw error;
  }
  await idp.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: userPoolId,
      Username: o.demoUser.username,
      Password: o.demoUser.password,
      Permanent: true,
    }),
  );
  for (const group of o.groups) {
    try {
      await idp.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group }));
    } catch (error) {
      if (errorName(error) !== 'GroupExistsException') throw error;
    }
  }
  for (const group of o.demoGroups) {
    await idp.send(
      new AdminAddUserToGroupCommand({
        UserPoolId: userPoolId,
        Username: o.demoUser.username,
        GroupName: group,
      }),
    );
  }
  return { userPoolId, userPoolClientId };
}

async function provisionIdentityPool(
  identity: CognitoIdentityClient,
  o: ProvisionOptions,
  userPool: { userPoolId: string; userPoolClientId: string },
): Promise<string> {
  const pools = await identity.send(new ListIdentityPoolsCommand({ MaxResults: 60 }));
  const existing = pools.IdentityPools?.find(
    (pool) => pool.IdentityPoolName === o.identityPoolName,
  );
  if (existing?.IdentityPoolId) return existing.IdentityPoolId;
  const created = await identity.send(
    new CreateIdentityPoolCommand({
      IdentityPoolName: o.identityPoolName,
      AllowUnauthenticatedIdentities: true,
      CognitoIdentityProviders: [
        {
          ProviderName: `cognito-idp.${o.region}.amazonaws.com/${userPool.userPoolId}`,
          ClientId: userPool.userPoolClientId,
          ServerSideTokenCheck: false,
        },
      ],
    }),
  );
  if (!created.IdentityPoolId) throw new Error('Cognito CreateIdentityPool returned no id');
  return created.IdentityPoolId;
}

/** Provisions everything against `o.endpoint` (moto). Safe to run again on the same server. */
export async function provisionAws(o: ProvisionOptions): Promise<Provisioned> {
  const common = { region: o.region, endpoint: o.endpoint, credentials: LOCAL_CREDENTIALS };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const kms = new KMSClient(common);
  const idp = new CognitoIdentityProviderClient(common);
  const identity = new CognitoIdentityClient(common);
  try {
    await provisionBucket(s3, o);
    const kmsKeyArn = await provisionKms(kms, o.kmsAlias);
    const userPool = await provisionUserPool(idp, o);
    const identityPoolId = await provisionIdentityPool(identity, o, userPool);
    return {
      bucket: o.bucket,
      kmsKeyArn,
      kmsAlias: o.kmsAlias,
      identityPoolId,
      ...userPool,
      demoUser: o.demoUser,
    };
  } finally {
    s3.destroy();
    kms.destroy();
    idp.destroy();
    identity.destroy();
  }
}

export { LOCAL_CREDENTIALS };
