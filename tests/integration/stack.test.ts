/**
 * The local stack against the real local services: moto (S3, KMS, Cognito) as provisioned for
 * Veil, the SoftHSM2 token and its key, and the HSM proxy. Each run uses a fresh bucket, a
 * temporary token directory and free ports, and stops every process it started.
 */
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DecryptCommand,
  DescribeKeyCommand,
  GenerateDataKeyCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import {
  GetBucketCorsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Hsm } from '../../server/hsm-proxy/src/hsm';
import { EXPOSED_HEADERS, LOCAL_CREDENTIALS, provisionAws } from '../../scripts/stack/provision';
import { ensureSoftHsmToken } from '../../scripts/stack/softhsm';
import { DEMO } from '../../scripts/stack/stack';
import { useLocalStack } from './local-stack';

const ORIGIN = 'http://127.0.0.1:5999';

// A stack of its own: these tests check what starting a stack makes (the bucket's rules, the
// token and its key, the proxy's CORS), not a bucket on the run's shared stack.
const local = useLocalStack([ORIGIN], { own: true });

function clientConfig() {
  return {
    region: local.stack.config.region,
    endpoint: local.stack.motoUrl,
    credentials: LOCAL_CREDENTIALS,
  };
}

describe('S3 (moto)', () => {
  test('the bucket allows the app origin and exposes ETag and checksum headers', async () => {
    const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: local.stack.config.bucket }));
    const rule = cors.CORSRules?.[0];
    expect(rule?.AllowedOrigins).toEqual([ORIGIN]);
    expect(rule?.ExposeHeaders).toEqual(expect.arrayContaining(['ETag', 'x-amz-checksum-sha256']));
    expect(rule?.ExposeHeaders).toEqual(EXPOSED_HEADERS);
    s3.destroy();
  });

  // moto answers CORS for every origin on every service (flask-cors), so the origin check of the
  // bucket's rules is not enforced here; the exposed headers do come from the bucket's rules.
  test('a browser preflight for an existing key passes and exposes the headers Veil reads', async () => {
    const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
    await s3.send(
      new PutObjectCommand({
        Bucket: local.stack.config.bucket,
        Key: 'probe/a.bin',
        Body: new Uint8Array(16),
      }),
    );
    const preflight = (origin: string) =>
      fetch(`${local.stack.motoUrl}/${local.stack.config.bucket}/probe/a.bin`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'PUT',
          'access-control-request-headers': 'content-type,x-amz-checksum-crc32',
        },
      });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-expose-headers')).toContain('ETag');
    s3.destroy();
  });

  test('objects round-trip with an SDK integrity checksum', async () => {
    const s3 = new S3Client({ ...clientConfig(), forcePathStyle: true });
    const body = crypto.getRandomValues(new Uint8Array(4096));
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: local.stack.config.bucket,
        Key: 'probe/b.bin',
        Body: body,
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    expect(put.ChecksumSHA256).toBeTruthy();
    const got = await s3.send(
      new GetObjectCommand({ Bucket: local.stack.config.bucket, Key: 'probe/b.bin' }),
    );
    expect(new Uint8Array(await got.Body!.transformToByteArray())).toEqual(body);
    s3.destroy();
  });
});

describe('KMS (moto)', () => {
  test('the alias names a key that makes and opens data keys bound to an encryption context', async () => {
    const kms = new KMSClient(clientConfig());
    const described = await kms.send(new DescribeKeyCommand({ KeyId: DEMO.kmsAlias }));
    expect(described.KeyMetadata?.Arn).toBe(local.stack.aws.kmsKeyArn);
    const context = { 'veil-purpose': 'integration-test' };
    const made = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: DEMO.kmsAlias,
        NumberOfBytes: 32,
        EncryptionContext: context,
      }),
    );
    expect(made.Plaintext).toHaveLength(32);
    expect(made.KeyId).toBe(local.stack.aws.kmsKeyArn);
    const opened = await kms.send(
      new DecryptCommand({ CiphertextBlob: made.CiphertextBlob, EncryptionContext: context }),
    );
    expect(opened.Plaintext).toEqual(made.Plaintext);
    await expect(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: made.CiphertextBlob,
          EncryptionContext: { 'veil-purpose': 'other' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    kms.destroy();
  });
});

describe('Cognito (moto)', () => {
  test('a guest identity gets temporary credentials', async () => {
    const identity = new CognitoIdentityClient({
      region: local.stack.config.region,
      endpoint: local.stack.motoUrl,
    });
    const id = await identity.send(
      new GetIdCommand({ IdentityPoolId: local.stack.config.cognito.identityPoolId }),
    );
    expect(id.IdentityId).toMatch(/^us-east-1:/);
    const creds = await identity.send(
      new GetCredentialsForIdentityCommand({ IdentityId: id.IdentityId }),
    );
    expect(creds.Credentials?.AccessKeyId).toBeTruthy();
    expect(creds.Credentials?.SessionToken).toBeTruthy();
    expect(creds.Credentials?.Expiration?.getTime()).toBeGreaterThan(Date.now());
    identity.destroy();
  });

  test('the demo user signs in and gets authenticated credentials', async () => {
    const idp = new CognitoIdentityProviderClient({
      region: local.stack.config.region,
      endpoint: local.stack.motoUrl,
    });
    const auth = await idp.send(
      new InitiateAuthCommand({
        AuthFlow: 'USER_PASSWORD_AUTH',
        ClientId: local.stack.config.cognito.userPoolClientId,
        AuthParameters: { USERNAME: DEMO.demoUser.username, PASSWORD: DEMO.demoUser.password },
      }),
    );
    const idToken = auth.AuthenticationResult?.IdToken;
    expect(idToken).toBeTruthy();
    await expect(
      idp.send(
        new InitiateAuthCommand({
          AuthFlow: 'USER_PASSWORD_AUTH',
          ClientId: local.stack.config.cognito.userPoolClientId,
          AuthParameters: { USERNAME: DEMO.demoUser.username, PASSWORD: 'wrong-password-1A' },
        }),
      ),
    ).rejects.toMatchObject({ name: 'NotAuthorizedException' });

    const logins = {
      [`cognito-idp.us-east-1.amazonaws.com/${local.stack.config.cognito.userPoolId}`]: idToken!,
    };
    const identity = new CognitoIdentityClient({
      region: local.stack.config.region,
      endpoint: local.stack.motoUrl,
    });
    const id = await identity.send(
      new GetIdCommand({
        IdentityPoolId: local.stack.config.cognito.identityPoolId,
        Logins: logins,
      }),
    );
    const creds = await identity.send(
      new GetCredentialsForIdentityCommand({ IdentityId: id.IdentityId, Logins: logins }),
    );
    expect(creds.Credentials?.AccessKeyId).toBeTruthy();
    idp.destroy();
    identity.destroy();
  });

  test('provisioning again on the same server changes nothing', async () => {
    const again = await provisionAws({
      endpoint: local.stack.motoUrl,
      region: local.stack.config.region,
      bucket: local.stack.config.bucket,
      origins: [ORIGIN],
      kmsAlias: DEMO.kmsAlias,
      identityPoolName: 'veil_demo',
      userPoolName: 'veil-demo-users',
      demoUser: { ...DEMO.demoUser },
      groups: [DEMO.hsmUsersGroup, DEMO.hsmAdminsGroup],
      demoGroups: [DEMO.hsmUsersGroup],
    });
    expect(again).toEqual(local.stack.aws);
  });
});

describe('SoftHSM2 token', () => {
  test('holds a non-extractable, sensitive AES-256 key that wraps with AES-GCM bound to its AAD', async () => {
    expect(local.stack.token.key).toEqual({
      label: DEMO.hsmKeyLabel,
      bits: 256,
      extractable: false,
      sensitive: true,
      canEncrypt: true,
      canDecrypt: true,
    });
    process.env.SOFTHSM2_CONF = local.stack.token.conf;
    const hsm = await Hsm.open({
      libraryPath: local.stack.token.libraryPath,
      tokenLabel: local.stack.token.tokenLabel,
      pin: local.stack.token.pin,
    });
    try {
      const aad = Buffer.from('veil-stack-test');
      const { plaintext, wrapped } = await hsm.keys.generateDataKey(DEMO.hsmKeyLabel, aad);
      expect(plaintext).toHaveLength(32);
      expect(wrapped).toHaveLength(60);
      expect(await hsm.keys.decryptDataKey(DEMO.hsmKeyLabel, wrapped, aad)).toEqual(plaintext);
      await expect(
        hsm.keys.decryptDataKey(DEMO.hsmKeyLabel, wrapped, Buffer.from('other')),
      ).rejects.toMatchObject({ code: 'HSM_UNWRAP_FAILED' });
    } finally {
      await hsm.close();
    }
  });

  test('a wrong PIN is refused without revealing it', async () => {
    await expect(
      Hsm.open({
        libraryPath: local.stack.token.libraryPath,
        tokenLabel: local.stack.token.tokenLabel,
        pin: '0000-wrong',
      }),
    ).rejects.toThrow(/^login to token "veil" failed$/);
  });

  test('ensuring the token again keeps the same key', async () => {
    const again = await ensureSoftHsmToken({
      dir: join(local.dir, 'softhsm'),
      tokenLabel: DEMO.tokenLabel,
      pin: DEMO.pin,
      soPin: DEMO.soPin,
      keyLabel: DEMO.hsmKeyLabel,
    });
    expect(again.keyCreated).toBe(false);
  });
});

describe('HSM proxy', () => {
  test('reports healthy with the token and a non-extractable default key', async () => {
    const response = await fetch(`${local.stack.hsmUrl}/v1/health`, {
      headers: { origin: ORIGIN },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(await response.json()).toEqual({
      service: 'veil-hsm-proxy',
      apiVersion: 1,
      status: 'ok',
      token: DEMO.tokenLabel,
      defaultKey: { label: DEMO.hsmKeyLabel, found: true, bits: 256, extractable: false },
    });
  });

  test('gives no CORS grant to other origins and a JSON 404 for unknown routes', async () => {
    const other = await fetch(`${local.stack.hsmUrl}/v1/health`, {
      headers: { origin: 'http://evil.test' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const missing = await fetch(`${local.stack.hsmUrl}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'NOT_FOUND' });
  });
});
