/**
 * What the stack promises, read from the synthesized CloudFormation template with
 * aws-cdk-lib/assertions, offline. Each synth here skips the template's cyclic-dependency check
 * (seconds per synth) except the one test that keeps it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { objectPrefix, parseConfig } from '../../src/aws/config';
import {
  CLOUDFRONT_CSP_MAX_CHARS,
  contentSecurityPolicy,
  FIXED_DIRECTIVES,
} from '../../src/hosting/csp';
import { REQUIRED_EXPOSE_HEADERS } from '../../src/transfer/cors';
import {
  CONFIG_PREFIX,
  IDENTITY_SUB,
  USER_PREFIX,
  VeilStack,
  type VeilStackProps,
} from '../lib/veil-stack';

const ACCOUNT = '111122223333';
const REGION = 'eu-central-1';
let siteDir: string;
let outDir: string;

function synth(props: Partial<VeilStackProps> = {}): { stack: VeilStack; template: Template } {
  const app = new App({
    outdir: outDir,
    // Assets are referenced where they are instead of copied: the template is the same.
    context: { 'aws:cdk:disable-asset-staging': true },
  });
  const stack = new VeilStack(app, 'Veil', {
    env: { account: ACCOUNT, region: REGION },
    siteDir,
    ...props,
  });
  return { stack, template: Template.fromStack(stack, { skipCyclicalDependenciesCheck: true }) };
}

type Json = Record<string, unknown>;

/** A template value with Fn::Join and the account's Ref resolved to text, for comparisons. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Json;
  if (object.Ref === 'AWS::AccountId') return ACCOUNT;
  const attribute = object['Fn::GetAtt'] as [string, string] | undefined;
  if (attribute?.[0]?.startsWith('Data') && attribute[1] === 'Arn') {
    return `arn:aws:s3:::${dataBucketName}`;
  }
  const join = object['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(text).join(join[0]);
  return `<${JSON.stringify(value)}>`;
}

function only(template: Template, type: string, props: Json = {}): Json {
  const found = Object.values(template.findResources(type, props ? { Properties: props } : {}));
  expect(found).toHaveLength(1);
  return (found[0] as { Properties: Json }).Properties;
}

function logicalId(template: Template, type: string): string {
  const ids = Object.keys(template.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0] ?? '';
}

/** Every file under `dir`, as paths relative to it with forward slashes. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`)
      : [`${prefix}${entry.name}`],
  );
}

/**
 * What the stack publishes to the site bucket: each file's name and the Cache-Control its
 * deployment gives it, from a synth that stages its assets (the sources each deployment copies,
 * less its excludes). A file published twice is a test failure.
 */
async function publishedCacheControl(): Promise<Record<string, string>> {
  const stagedDir = await mkdtemp(join(tmpdir(), 'veil-infra-staged-'));
  try {
    const app = new App({ outdir: stagedDir });
    const stack = new VeilStack(app, 'Veil', {
      env: { account: ACCOUNT, region: REGION },
      siteDir,
    });
    const template = Template.fromStack(stack, { skipCyclicalDependenciesCheck: true });
    const manifest = JSON.parse(readFileSync(join(stagedDir, 'Veil.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const pathOfKey = (objectKey: string): string => {
      const asset = manifest.files[objectKey.replace(/\.zip$/, '')];
      if (!asset) throw new Error(`no asset for ${objectKey}`);
      return join(stagedDir, asset.source.path);
    };
    const published: Record<string, string> = {};
    for (const resource of Object.values(template.findResources('Custom::CDKBucketDeployment'))) {
      const props = (resource as { Properties: Json }).Properties;
      const excluded = new Set((props.Exclude as string[] | undefined) ?? []);
      const cacheControl = (props.SystemMetadata as Record<string, string>)['cache-control'] ?? '';
      for (const objectKey of props.SourceObjectKeys as string[]) {
        for (const name of filesUnder(pathOfKey(objectKey))) {
          if (excluded.has(name)) continue;
          expect(published[name], `${name} is published once`).toBeUndefined();
          published[name] = cacheControl;
        }
      }
    }
    return published;
  } finally {
    await rm(stagedDir, { recursive: true, force: true });
  }
}

let base: { stack: VeilStack; template: Template };
const dataBucketName = `veil-data-${ACCOUNT}-${REGION}`;

beforeAll(async () => {
  siteDir = await mkdtemp(join(tmpdir(), 'veil-infra-site-'));
  outDir = await mkdtemp(join(tmpdir(), 'veil-infra-out-'));
  await mkdir(join(siteDir, 'assets'));
  await writeFile(join(siteDir, 'index.html'), '<!doctype html><title>Veil</title>');
  await writeFile(join(siteDir, 'veil-build.json'), '{"buildHash":"sha256-0","files":{}}');
  await writeFile(join(siteDir, 'assets', 'index-a.js'), 'export {};');
  await writeFile(
    join(siteDir, 'veil-download-sw.js'),
    'self.addEventListener("fetch", () => {});',
  );
  base = synth();
});

afterAll(async () => {
  await rm(siteDir, { recursive: true, force: true });
  await rm(outDir, { recursive: true, force: true });
});

describe('the site', () => {
  test('a private bucket reached only by CloudFront through origin access control', () => {
    const { template } = base;
    const siteId = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) =>
      id.startsWith('Site'),
    );
    const site = template.findResources('AWS::S3::Bucket')[siteId ?? ''] as { Properties: Json };
    expect(site.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(site.Properties.WebsiteConfiguration).toBeUndefined();
    const oac = only(template, 'AWS::CloudFront::OriginAccessControl');
    expect(oac.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: siteId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Condition: {
              StringEquals: {
                'AWS:SourceArn': Match.anyValue(),
              },
            },
          }),
        ]),
      },
    });
    const distribution = only(template, 'AWS::CloudFront::Distribution').DistributionConfig as Json;
    const origins = distribution.Origins as Json[];
    expect(origins).toHaveLength(1);
    expect(origins[0]?.OriginAccessControlId).toBeDefined();
    expect((origins[0]?.S3OriginConfig as Json).OriginAccessIdentity).toBe('');
  });

  test('every behaviour sends the headers policy over HTTPS; entry files are never cached', () => {
    const { template } = base;
    const policyId = logicalId(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    const distribution = only(template, 'AWS::CloudFront::Distribution').DistributionConfig as Json;
    const behaviours = [
      distribution.DefaultCacheBehavior as Json,
      ...(distribution.CacheBehaviors as Json[]),
    ];
    for (const behaviour of behaviours) {
      expect(behaviour.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
      expect(behaviour.ViewerProtocolPolicy).toBe('redirect-to-https');
    }
    const disabled = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad'; // CloudFront's CachingDisabled
    const uncached = (distribution.CacheBehaviors as Json[])
      .filter((behaviour) => behaviour.CachePolicyId === disabled)
      .map((behaviour) => behaviour.PathPattern);
    expect(uncached.sort()).toEqual([
      '/config.json',
      '/index.html',
      '/veil-build.json',
      '/veil-download-sw.js',
    ]);
    expect(distribution.DefaultRootObject).toBe('index.html');
  });

  test('the headers policy carries the strict CSP computed from the deployed config', () => {
    const { stack, template } = base;
    const config = only(template, 'AWS::CloudFront::ResponseHeadersPolicy')
      .ResponseHeadersPolicyConfig as Json;
    const security = config.SecurityHeadersConfig as Json;
    const csp = security.ContentSecurityPolicy as Json;
    expect(csp.Override).toBe(true);
    const header = text(csp.ContentSecurityPolicy);
    const expected = contentSecurityPolicy({ ...stack.appConfig, bucket: dataBucketName });
    expect(header).toBe(expected);
    expect(header).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; worker-src 'self'; " +
        `connect-src 'self' https://${dataBucketName}.s3.${REGION}.amazonaws.com ` +
        `https://kms.${REGION}.amazonaws.com https://cognito-identity.${REGION}.amazonaws.com ` +
        `https://cognito-idp.${REGION}.amazonaws.com; img-src 'self' blob:; media-src blob:; ` +
        "frame-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
        "object-src 'none'",
    );
    for (const [name, value] of FIXED_DIRECTIVES) expect(header).toContain(`${name} ${value}`);
    expect(header.length).toBeLessThan(CLOUDFRONT_CSP_MAX_CHARS);
    expect(security).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true },
    });
  });

  test('each published file carries its Cache-Control: entry files and the service worker no-cache', async () => {
    const published = await publishedCacheControl();
    expect(published).toEqual({
      'assets/index-a.js': 'public, max-age=31536000, immutable',
      'config.json': 'no-cache',
      'index.html': 'no-cache',
      'veil-build.json': 'no-cache',
      // One name across releases: an immutable copy would keep a fixed worker from users.
      'veil-download-sw.js': 'no-cache',
    });
  });

  test('config.json is written at deploy time, uncached, after the assets, and invalidated', () => {
    const { stack, template } = base;
    const deployments = template.findResources('Custom::CDKBucketDeployment');
    const entry = Object.entries(deployments).find(([id]) => id.startsWith('SiteEntry'));
    const assets = Object.entries(deployments).find(([id]) => id.startsWith('SiteAssets'));
    if (!entry || !assets) throw new Error('both site deployments exist');
    const props = (entry[1] as { Properties: Json }).Properties;
    expect((props.SourceObjectKeys as unknown[]).length).toBe(4);
    expect(props.Prune).toBe(false);
    expect(props.SystemMetadata).toEqual({ 'cache-control': 'no-cache' });
    expect(props.DistributionPaths).toEqual(
      expect.arrayContaining(['/index.html', '/config.json', '/veil-download-sw.js']),
    );
    expect((entry[1] as { DependsOn: string[] }).DependsOn).toContain(assets[0]);
    // The deploy-time values in config.json are the stack's own resources.
    const markers = JSON.stringify(props.SourceMarkers);
    expect(markers).toContain(logicalId(template, 'AWS::Cognito::IdentityPool'));
    expect(markers).toContain(logicalId(template, 'AWS::Cognito::UserPoolClient'));
    expect(markers).toContain(logicalId(template, 'AWS::KMS::Key'));
    // With deploy-time values filled in, the app accepts it.
    const filled = parseConfig({
      ...stack.appConfig,
      bucket: dataBucketName,
      cognito: {
        identityPoolId: `${REGION}:0f3b8a2c-1111-2222-3333-444455556666`,
        userPoolId: `${REGION}_abc`,
        userPoolClientId: 'client',
      },
      kms: { keyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` },
    });
    expect(filled.prefix).toBe(CONFIG_PREFIX);
  });
});

describe('the data bucket', () => {
  test('encrypted by default, versioned, private, TLS only, incomplete uploads aborted', () => {
    const { template } = base;
    const bucket = only(template, 'AWS::S3::Bucket', { BucketName: Match.anyValue() });
    expect(text(bucket.BucketName)).toBe(dataBucketName);
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
      ],
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect((bucket.LifecycleConfiguration as { Rules: Json[] }).Rules).toContainEqual({
      Id: 'abort-incomplete-multipart-uploads',
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('CORS for the site only, exposing ETag, every checksum and what the app reads', () => {
    const { template } = base;
    const bucket = only(template, 'AWS::S3::Bucket', { BucketName: Match.anyValue() });
    const rules = (bucket.CorsConfiguration as { CorsRules: Json[] }).CorsRules;
    expect(rules).toHaveLength(1);
    const rule = rules[0] as Json;
    const origins = rule.AllowedOrigins as unknown[];
    expect(origins).toHaveLength(1);
    expect(JSON.stringify(origins[0])).toContain(
      `"Fn::GetAtt":["${logicalId(template, 'AWS::CloudFront::Distribution')}","DomainName"]`,
    );
    expect(text(origins[0]).startsWith('https://')).toBe(true);
    const exposed = rule.ExposedHeaders as string[];
    expect(exposed).toEqual(expect.arrayContaining(REQUIRED_EXPOSE_HEADERS));
    expect(exposed).toEqual(
      expect.arrayContaining(
        ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256', 'type'].map(
          (name) => `x-amz-checksum-${name}`,
        ),
      ),
    );
    expect(rule.AllowedMethods).toEqual(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
  });
});

describe('Cognito and the authenticated role', () => {
  test('a user pool without self sign-up; an identity pool wired to its client, no guests', () => {
    const { template } = base;
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12 }) },
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false });
    const pool = only(template, 'AWS::Cognito::IdentityPool');
    expect(pool.AllowUnauthenticatedIdentities).toBe(false);
    expect(pool.AllowClassicFlow).toBe(false);
    expect(pool.CognitoIdentityProviders).toEqual([
      expect.objectContaining({
        ClientId: { Ref: logicalId(template, 'AWS::Cognito::UserPoolClient') },
        ServerSideTokenCheck: true,
      }),
    ]);
    const attachment = only(template, 'AWS::Cognito::IdentityPoolRoleAttachment');
    expect(Object.keys(attachment.Roles as Json)).toEqual(['authenticated']);
  });

  test('the role trusts only this identity pool’s authenticated identities', () => {
    const { stack, template } = base;
    const roleId = stack.getLogicalId(
      stack.authenticatedRole.node.defaultChild as import('aws-cdk-lib').CfnElement,
    );
    const role = template.findResources('AWS::IAM::Role')[roleId] as { Properties: Json };
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Json[] }).Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { Federated: 'cognito-identity.amazonaws.com' },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'cognito-identity.amazonaws.com:aud': {
              Ref: logicalId(template, 'AWS::Cognito::IdentityPool'),
            },
          },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
      },
    ]);
  });

  test('objects, listing and parts only under users/<identity>/; data keys only for itself', () => {
    const { stack, template } = base;
    const roleId = stack.getLogicalId(
      stack.authenticatedRole.node.defaultChild as import('aws-cdk-lib').CfnElement,
    );
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify((p as { Properties: Json }).Properties.Roles).includes(roleId),
    );
    expect(policies).toHaveLength(1);
    const statements = (
      (policies[0] as { Properties: Json }).Properties.PolicyDocument as { Statement: Json[] }
    ).Statement;
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual([
      'DescribeTheKey',
      'ListOwnFolder',
      'OwnDataKeys',
      'OwnObjects',
      'ReadVersioning',
    ]);
    const bucketArn = `arn:aws:s3:::${dataBucketName}`;
    expect(bySid.OwnObjects?.Action).toEqual([
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
      's3:GetObjectVersion',
      's3:DeleteObjectVersion',
    ]);
    expect(text(bySid.OwnObjects?.Resource)).toBe(
      `${bucketArn}/users/\${cognito-identity.amazonaws.com:sub}/*`,
    );
    expect(bySid.ListOwnFolder?.Action).toEqual(['s3:ListBucket', 's3:ListBucketVersions']);
    expect(bySid.ReadVersioning?.Action).toBe('s3:GetBucketVersioning');
    expect(text(bySid.ReadVersioning?.Resource)).toBe(bucketArn);
    expect(text(bySid.ListOwnFolder?.Resource)).toBe(bucketArn);
    expect(bySid.ListOwnFolder?.Condition).toEqual({
      StringLike: { 's3:prefix': [USER_PREFIX, `${USER_PREFIX}*`] },
    });
    const keyArn = { 'Fn::GetAtt': [logicalId(template, 'AWS::KMS::Key'), 'Arn'] };
    expect(bySid.OwnDataKeys?.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
    expect(bySid.OwnDataKeys?.Resource).toEqual(keyArn);
    const context = (bySid.OwnDataKeys?.Condition as { StringEquals: Json }).StringEquals;
    expect(Object.keys(context).sort()).toEqual([
      'kms:EncryptionContext:veil-app',
      'kms:EncryptionContext:veil-bucket',
      'kms:EncryptionContext:veil-identity-id',
    ]);
    expect(context['kms:EncryptionContext:veil-app']).toBe('veil');
    expect(text(context['kms:EncryptionContext:veil-bucket'])).toBe(dataBucketName);
    expect(context['kms:EncryptionContext:veil-identity-id']).toBe(IDENTITY_SUB);
    expect(bySid.DescribeTheKey?.Action).toBe('kms:DescribeKey');
    expect(bySid.DescribeTheKey?.Resource).toEqual(keyArn);
    // Nothing in it reaches every resource.
    expect(JSON.stringify(statements)).not.toMatch(/"Resource":"\*"/);
  });

  test('the app’s prefix and the role’s are the same folder', () => {
    const id = `${REGION}:0f3b8a2c-1111-2222-3333-444455556666`;
    expect(objectPrefix(CONFIG_PREFIX, id)).toBe(USER_PREFIX.replace(IDENTITY_SUB, id));
  });

  test('the KMS key rotates and is kept when the stack goes', () => {
    base.template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: 'Retain',
    });
  });
});

describe('options', () => {
  let full: { stack: VeilStack; template: Template };

  beforeAll(() => {
    full = synth({
      domain: {
        name: 'veil.acme.example',
        certificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc',
      },
      cognitoDomainPrefix: 'acme-veil',
      cognitoIdentityProvider: 'AcmeSSO',
      allowGuests: true,
      hsm: { proxyUrl: 'https://hsm.acme.example', keyLabel: 'veil-wrap-1' },
    });
  });

  test('a custom domain, hosted sign-in and the HSM proxy are in the CSP and CORS', () => {
    const { template } = full;
    const config = only(template, 'AWS::CloudFront::ResponseHeadersPolicy')
      .ResponseHeadersPolicyConfig as Json;
    const header = text(
      ((config.SecurityHeadersConfig as Json).ContentSecurityPolicy as Json).ContentSecurityPolicy,
    );
    expect(header).toContain(
      `connect-src https://veil.acme.example/config.json https://${dataBucketName}.s3.`,
    );
    expect(header).toContain(`https://acme-veil.auth.${REGION}.amazoncognito.com/oauth2/token`);
    expect(header).toContain('https://hsm.acme.example/;');
    expect(header).not.toContain("'self' https://");
    const bucket = only(template, 'AWS::S3::Bucket', { BucketName: Match.anyValue() });
    expect(
      (bucket.CorsConfiguration as { CorsRules: Json[] }).CorsRules[0]?.AllowedOrigins,
    ).toEqual(['https://veil.acme.example']);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      CallbackURLs: ['https://veil.acme.example/'],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-veil' });
    expect(full.stack.appConfig.cognito?.hostedUi).toMatchObject({
      domain: `https://acme-veil.auth.${REGION}.amazoncognito.com`,
      redirectUri: 'https://veil.acme.example/',
      identityProvider: 'AcmeSSO',
    });
  });

  test('guests get a role confined the same way', () => {
    const { template } = full;
    const attachment = only(template, 'AWS::Cognito::IdentityPoolRoleAttachment');
    expect(Object.keys(attachment.Roles as Json).sort()).toEqual([
      'authenticated',
      'unauthenticated',
    ]);
    template.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowUnauthenticatedIdentities: true,
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: Match.objectLike({
              'ForAnyValue:StringLike': {
                'cognito-identity.amazonaws.com:amr': 'unauthenticated',
              },
            }),
          }),
        ],
      },
    });
    const confined = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes('users/${cognito-identity.amazonaws.com:sub}/*'),
    );
    expect(confined).toHaveLength(2);
  });
});

test('the template passes CDK’s own validation (cyclic dependencies)', () => {
  const app = new App({ outdir: outDir, context: { 'aws:cdk:disable-asset-staging': true } });
  const stack = new VeilStack(app, 'Veil', { env: { account: ACCOUNT, region: REGION }, siteDir });
  expect(() => Template.fromStack(stack)).not.toThrow();
});
