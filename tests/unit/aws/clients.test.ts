/**
 * The one client factory: endpoints, path style, checksums, retry policy, per-region KMS clients
 * (pinned by an endpoint override), Cognito regions from pool ids; and the Model C encryption
 * context builder.
 */
import { describe, expect, test } from 'vitest';
import { AwsClients, KMS_MAX_ATTEMPTS, poolRegion } from '../../../src/aws/clients';
import { parseConfig } from '../../../src/aws/config';
import { buildUploadContext } from '../../../src/keyrings/upload-context';

const CREDENTIALS = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };

const local = parseConfig({
  region: 'us-east-1',
  bucket: 'veil-demo',
  forcePathStyle: true,
  endpoints: {
    s3: 'http://127.0.0.1:4566',
    kms: 'http://127.0.0.1:4566',
    cognitoIdentity: 'http://127.0.0.1:4566',
  },
  cognito: {
    identityPoolId: 'eu-west-1:0f3b8a2c-1111-2222-3333-444455556666',
    userPoolId: 'eu-west-2_abc',
    userPoolClientId: 'c',
  },
});
const aws = parseConfig({ region: 'eu-central-1', bucket: 'team-files' });

async function endpointOf(client: {
  config: { endpoint?: () => Promise<{ hostname: string; port?: number }> };
}): Promise<string | undefined> {
  const endpoint = await client.config.endpoint?.();
  return endpoint ? `${endpoint.hostname}:${endpoint.port ?? ''}` : undefined;
}

describe('AwsClients', () => {
  test('S3: endpoint override, path style, integrity checksums on', async () => {
    const clients = new AwsClients(local, CREDENTIALS);
    const s3 = clients.s3();
    expect(clients.s3()).toBe(s3);
    expect(s3.config.forcePathStyle).toBe(true);
    expect(await endpointOf(s3)).toBe('127.0.0.1:4566');
    expect(await s3.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED');
    expect(await s3.config.responseChecksumValidation()).toBe('WHEN_SUPPORTED');
    expect(await s3.config.region()).toBe('us-east-1');
    clients.destroy();
  });

  test('KMS: adaptive retries; one client per region; an override pins the region', async () => {
    const pinned = new AwsClients(local, CREDENTIALS);
    const kms = pinned.kms()!;
    expect(await kms.config.maxAttempts()).toBe(KMS_MAX_ATTEMPTS);
    const retryMode = kms.config.retryMode as unknown;
    expect(
      typeof retryMode === 'function' ? await (retryMode as () => Promise<string>)() : retryMode,
    ).toBe('adaptive');
    expect(pinned.kms('us-east-1')).toBe(kms);
    expect(pinned.kms('eu-west-1')).toBeUndefined();
    expect(pinned.kmsSupplier()('eu-west-1')).toBeUndefined();
    expect(pinned.kmsSupplier()(undefined)?.region).toBe('us-east-1');
    pinned.destroy();

    const open = new AwsClients(aws, CREDENTIALS);
    const eu = open.kmsApi('eu-west-1')!;
    expect(eu.region).toBe('eu-west-1');
    expect(await open.kms('eu-west-1')!.config.region()).toBe('eu-west-1');
    expect(open.kms()).not.toBe(open.kms('eu-west-1'));
    open.destroy();
  });

  test('Cognito clients take the pool regions and their endpoints', async () => {
    const clients = new AwsClients(local);
    const identity = clients.cognitoIdentity(local.cognito?.identityPoolId);
    expect(await identity.config.region()).toBe('eu-west-1');
    expect(await endpointOf(identity)).toBe('127.0.0.1:4566');
    const idp = clients.cognitoIdentityProvider(local.cognito?.userPoolId);
    expect(await idp.config.region()).toBe('eu-west-2');
    expect(await endpointOf(idp)).toBeUndefined();
    clients.destroy();
  });

  test('a Cognito pool in another region gets its own client, the same region the same one', async () => {
    const clients = new AwsClients(local);
    const west = clients.cognitoIdentity('eu-west-1:0f3b8a2c-1111-2222-3333-444455556666');
    const east = clients.cognitoIdentity('us-east-2:0f3b8a2c-1111-2222-3333-444455556666');
    expect(east).not.toBe(west);
    expect(await east.config.region()).toBe('us-east-2');
    expect(clients.cognitoIdentity('eu-west-1:00000000-0000-0000-0000-000000000000')).toBe(west);
    const idpEast = clients.cognitoIdentityProvider('us-east-2_abc');
    expect(await idpEast.config.region()).toBe('us-east-2');
    expect(clients.cognitoIdentityProvider('eu-west-2_abc')).not.toBe(idpEast);
    clients.destroy();
  });

  test.each([
    ['us-east-1:abc', ':', 'us-east-1'],
    ['eu-west-2_abc', '_', 'eu-west-2'],
    ['nonsense', ':', undefined],
    [undefined, ':', undefined],
  ] as const)('poolRegion(%j) is %j', (id, separator, region) => {
    expect(poolRegion(id, separator)).toBe(region);
  });
});

describe('buildUploadContext', () => {
  test('holds the app, the bucket and the identity id; never a file name', () => {
    expect(buildUploadContext({ bucket: 'b', identityId: 'us-east-1:x' })).toEqual({
      'veil-app': 'veil',
      'veil-bucket': 'b',
      'veil-identity-id': 'us-east-1:x',
    });
    expect(buildUploadContext({ bucket: 'b', extra: { project: 'p' } })).toEqual({
      project: 'p',
      'veil-app': 'veil',
      'veil-bucket': 'b',
    });
  });

  test.each([
    ['no bucket', { bucket: '' }, 'BAD_ARGUMENT'],
    ['a Veil key in the extras', { bucket: 'b', extra: { 'veil-app': 'x' } }, 'BAD_ARGUMENT'],
    ['a reserved key', { bucket: 'b', extra: { 'aws-crypto-x': 'y' } }, 'RESERVED_CONTEXT_KEY'],
  ])('refuses %s', (_name, input, code) => {
    expect(() => buildUploadContext(input)).toThrow(expect.objectContaining({ code }) as Error);
  });
});
