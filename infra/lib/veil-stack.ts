/**
 * Veil for one team on AWS: the static site (private S3 bucket behind CloudFront with origin
 * access control and the strict CSP headers policy), the data bucket, Cognito (user pool and
 * identity pool), the KMS key for Model C, and config.json written at deploy time from the same
 * values the CSP is computed from. docs/deploy.md walks through deploying it.
 *
 * [Note: one identity, one folder] Each signed-in user's credentials come from the identity
 * pool's authenticated role, which reaches only `users/${cognito-identity.amazonaws.com:sub}/*`
 * in the data bucket and only KMS data keys whose encryption context names that same identity.
 * config.json's prefix is `users/{identityId}/`, which the app fills with the same id (see
 * [Note: per-identity prefix] in src/aws/config.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Aws,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_certificatemanager as acm,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_cognito as cognito,
  aws_iam as iam,
  aws_kms as kms,
  aws_s3 as s3,
  aws_s3_deployment as s3deploy,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { VeilConfig } from '../../src/aws/config';
import { contentSecurityPolicy } from '../../src/hosting/csp';
import { kmsContextConditions } from '../../src/keyrings/kms-context';
import { REQUIRED_EXPOSE_HEADERS } from '../../src/transfer/cors';
import { DOWNLOAD_WORKER_SCRIPT } from '../../src/transfer/browser/download-sw-sink';

/** The IAM policy variable for the caller's Cognito identity id. */
export const IDENTITY_SUB = '${cognito-identity.amazonaws.com:sub}';

/** Where each identity's objects live, as the role's policy writes it. */
export const USER_PREFIX = `users/${IDENTITY_SUB}/`;

/** The same prefix as config.json writes it for the app. */
export const CONFIG_PREFIX = 'users/{identityId}/';

/** Response headers the browser must read from S3: the app's list plus every checksum. */
export const EXPOSED_HEADERS = [
  ...new Set([
    ...REQUIRED_EXPOSE_HEADERS,
    'ETag',
    'Content-Length',
    'Content-Range',
    'x-amz-version-id',
    'x-amz-server-side-encryption',
    'x-amz-checksum-crc32',
    'x-amz-checksum-crc32c',
    'x-amz-checksum-crc64nvme',
    'x-amz-checksum-sha1',
    'x-amz-checksum-sha256',
    'x-amz-checksum-type',
  ]),
];

export interface VeilStackProps extends StackProps {
  /** The built app (`vite build`'s output) to publish; default the repository's `dist/`. */
  readonly siteDir?: string;
  /** A custom domain for the site, with an ACM certificate in us-east-1 for it. */
  readonly domain?: { readonly name: string; readonly certificateArn: string };
  /** A Cognito domain prefix: enables the hosted sign-in (SSO) at `<prefix>.auth.<region>...`. */
  readonly cognitoDomainPrefix?: string;
  /** A federated identity provider of the user pool to send users to directly (SSO). */
  readonly cognitoIdentityProvider?: string;
  /** Let the identity pool hand out guest credentials (same confinement). Default false. */
  readonly allowGuests?: boolean;
  /** The HSM proxy for Model B, when the team runs one (docs/deploy.md). */
  readonly hsm?: { readonly proxyUrl: string; readonly keyLabel: string };
  /** Days after which incomplete multipart uploads are aborted. Default 7. */
  readonly abortIncompleteUploadDays?: number;
  /** The data bucket's name; default `<stack name>-data-<account>-<region>`. */
  readonly dataBucketName?: string;
  /** Days a replaced or deleted object version is kept. Default 30. */
  readonly noncurrentVersionDays?: number;
}

export class VeilStack extends Stack {
  readonly siteBucket: s3.Bucket;
  readonly dataBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headersPolicy: cloudfront.ResponseHeadersPolicy;
  readonly userPool: cognito.UserPool;
  readonly identityPool: cognito.CfnIdentityPool;
  readonly authenticatedRole: iam.Role;
  readonly key: kms.Key;
  /** config.json as deployed (values may be tokens until deploy). */
  readonly appConfig: VeilConfig;
  /** The Content-Security-Policy header value (may hold tokens until deploy). */
  readonly csp: string;

  constructor(scope: Construct, id: string, props: VeilStackProps = {}) {
    super(scope, id, props);
    if (!props.env?.region) throw new Error('VeilStack needs env.region (the data region)');
    const region = props.env.region;

    this.siteBucket = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.key = new kms.Key(this, 'ModelCKey', {
      description: 'Veil Model C: wraps each file’s data key (envelope encryption in the browser)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addAlias(`alias/veil-${this.stackName.toLowerCase()}`);

    // The bucket's name is in the CSP, so in the distribution, while the distribution's URL is
    // in the bucket's CORS rule: the name is fixed up front, not taken from the bucket.
    const dataBucketName =
      props.dataBucketName ?? `${this.stackName.toLowerCase()}-data-${Aws.ACCOUNT_ID}-${region}`;
    this.dataBucket = new s3.Bucket(this, 'Data', {
      bucketName: dataBucketName,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'abort-incomplete-multipart-uploads',
          abortIncompleteMultipartUploadAfter: Duration.days(props.abortIncompleteUploadDays ?? 7),
        },
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 30),
        },
      ],
    });

    this.userPool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: false,
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const siteOrigin = props.domain ? `https://${props.domain.name}` : undefined;
    const appConfig: VeilConfig = {
      region,
      bucket: dataBucketName,
      prefix: CONFIG_PREFIX,
      endpoints: {},
      forcePathStyle: false,
      cognito: { identityPoolId: '' },
      kms: { keyId: this.key.keyArn },
    };
    if (props.hsm) appConfig.hsm = { ...props.hsm };

    const hostedUiDomain = props.cognitoDomainPrefix
      ? `https://${props.cognitoDomainPrefix}.auth.${region}.amazoncognito.com`
      : undefined;
    if (props.cognitoDomainPrefix) {
      this.userPool.addDomain('HostedSignIn', {
        cognitoDomain: { domainPrefix: props.cognitoDomainPrefix },
      });
    }

    this.identityPool = new cognito.CfnIdentityPool(this, 'Identities', {
      allowUnauthenticatedIdentities: props.allowGuests ?? false,
      allowClassicFlow: false,
    });

    // The CSP names Cognito by region, the bucket by name and the key by ARN: all known before
    // the distribution exists, so the headers policy can be part of it.
    appConfig.cognito = {
      identityPoolId: this.identityPool.ref,
      userPoolId: this.userPool.userPoolId,
      userPoolClientId: '',
    };
    if (hostedUiDomain) {
      appConfig.cognito.hostedUi = {
        domain: hostedUiDomain,
        scopes: ['openid', 'email', 'profile'],
        ...(props.cognitoIdentityProvider
          ? { identityProvider: props.cognitoIdentityProvider }
          : {}),
      };
    }
    this.csp = contentSecurityPolicy(
      appConfig,
      siteOrigin ? { configUrl: `${siteOrigin}/config.json` } : {},
    );

    this.headersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Veil: strict CSP and security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: this.csp, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
      },
      customHeadersBehavior: {
        customHeaders: [
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
          {
            header: 'Permissions-Policy',
            value: 'camera=(), microphone=(), geolocation=(), payment=()',
            override: true,
          },
        ],
      },
    });

    const siteOriginConfig = origins.S3BucketOrigin.withOriginAccessControl(this.siteBucket);
    const uncached = {
      origin: siteOriginConfig,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      responseHeadersPolicy: this.headersPolicy,
    };
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: 'Veil',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      ...(props.domain
        ? {
            domainNames: [props.domain.name],
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            certificate: acm.Certificate.fromCertificateArn(
              this,
              'Certificate',
              props.domain.certificateArn,
            ),
          }
        : {}),
      defaultBehavior: {
        origin: siteOriginConfig,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headersPolicy,
      },
      additionalBehaviors: {
        '/index.html': uncached,
        '/config.json': uncached,
        '/veil-build.json': uncached,
        [`/${DOWNLOAD_WORKER_SCRIPT}`]: uncached,
      },
    });
    const siteUrl = siteOrigin ?? `https://${this.distribution.distributionDomainName}`;

    this.dataBucket.addCorsRule({
      allowedOrigins: [siteUrl],
      allowedMethods: [
        s3.HttpMethods.GET,
        s3.HttpMethods.PUT,
        s3.HttpMethods.POST,
        s3.HttpMethods.DELETE,
        s3.HttpMethods.HEAD,
      ],
      allowedHeaders: ['*'],
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 3000,
    });

    const client = this.userPool.addClient('Web', {
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      preventUserExistenceErrors: true,
      ...(hostedUiDomain
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [
                cognito.OAuthScope.OPENID,
                cognito.OAuthScope.EMAIL,
                cognito.OAuthScope.PROFILE,
              ],
              callbackUrls: [`${siteUrl}/`],
              logoutUrls: [`${siteUrl}/`],
            },
          }
        : { oAuth: { flows: { authorizationCodeGrant: false, implicitCodeGrant: false } } }),
    });
    this.identityPool.cognitoIdentityProviders = [
      {
        clientId: client.userPoolClientId,
        providerName: this.userPool.userPoolProviderName,
        serverSideTokenCheck: true,
      },
    ];
    appConfig.cognito.userPoolClientId = client.userPoolClientId;
    if (appConfig.cognito.hostedUi) appConfig.cognito.hostedUi.redirectUri = `${siteUrl}/`;

    this.appConfig = appConfig;
    this.authenticatedRole = this.identityRole('Authenticated', 'authenticated');
    const roles: Record<string, string> = { authenticated: this.authenticatedRole.roleArn };
    if (props.allowGuests)
      roles.unauthenticated = this.identityRole('Guest', 'unauthenticated').roleArn;
    new cognito.CfnIdentityPoolRoleAttachment(this, 'IdentityRoles', {
      identityPoolId: this.identityPool.ref,
      roles,
    });

    this.publishSite(props.siteDir ?? fileURLToPath(new URL('../../dist', import.meta.url)));

    new CfnOutput(this, 'SiteUrl', { value: `${siteUrl}/` });
    new CfnOutput(this, 'DataBucket', { value: this.dataBucket.bucketName });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'IdentityPoolId', { value: this.identityPool.ref });
    new CfnOutput(this, 'KmsKeyArn', { value: this.key.keyArn });
    new CfnOutput(this, 'DistributionId', { value: this.distribution.distributionId });
  }

  /**
   * A role for the identity pool's `amr` ("authenticated" or "unauthenticated") confined to the
   * caller's own folder and own data keys (see [Note: one identity, one folder]).
   */
  private identityRole(id: string, amr: 'authenticated' | 'unauthenticated'): iam.Role {
    const role = new iam.Role(this, id, {
      description: `Veil ${amr} identities: their own folder and data keys only`,
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': amr },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
      maxSessionDuration: Duration.hours(1),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OwnObjects',
        actions: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
          // Files' Versions… (download, restore) and deleting the versions a change replaced.
          's3:GetObjectVersion',
          's3:DeleteObjectVersion',
        ],
        resources: [this.dataBucket.arnForObjects(`${USER_PREFIX}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListOwnFolder',
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [this.dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [USER_PREFIX, `${USER_PREFIX}*`] } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        // Versions… says whether the bucket keeps versions (it does: versioned above).
        sid: 'ReadVersioning',
        actions: ['s3:GetBucketVersioning'],
        resources: [this.dataBucket.bucketArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'OwnDataKeys',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: {
          StringEquals: kmsContextConditions({
            bucket: this.appConfig.bucket,
            identityId: IDENTITY_SUB,
          }),
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeTheKey',
        actions: ['kms:DescribeKey'],
        resources: [this.key.keyArn],
      }),
    );
    return role;
  }

  /**
   * Publishes the built app: hashed assets cached for a year, then the entry files (index.html,
   * veil-build.json, the download service worker, and config.json written here from appConfig)
   * uncached, after the assets they refer to. The service worker keeps one name across releases
   * (a registration is bound to its URL), so an immutable copy would keep a fixed worker from
   * ever reaching the browsers that cached it.
   */
  private publishSite(siteDir: string): void {
    const copied = ['index.html', 'veil-build.json', DOWNLOAD_WORKER_SCRIPT];
    const entryFiles = [...copied, 'config.json'];
    const assets = new s3deploy.BucketDeployment(this, 'SiteAssets', {
      destinationBucket: this.siteBucket,
      sources: [s3deploy.Source.asset(siteDir, { exclude: entryFiles })],
      exclude: entryFiles,
      prune: true,
      cacheControl: [
        s3deploy.CacheControl.setPublic(),
        s3deploy.CacheControl.maxAge(Duration.days(365)),
        s3deploy.CacheControl.immutable(),
      ],
    });
    const entry = new s3deploy.BucketDeployment(this, 'SiteEntry', {
      destinationBucket: this.siteBucket,
      sources: [
        ...copied.map((name) =>
          s3deploy.Source.data(name, readFileSync(join(siteDir, name), 'utf8')),
        ),
        s3deploy.Source.jsonData('config.json', this.appConfig),
      ],
      prune: false,
      cacheControl: [s3deploy.CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/', ...entryFiles.map((name) => `/${name}`)],
    });
    entry.node.addDependency(assets);
  }
}
