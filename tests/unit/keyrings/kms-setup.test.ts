/**
 * Building Model C keyrings without calling AWS: the command-line flags (src/cli/kms.ts) and the
 * app's helpers (src/aws/model-c.ts).
 */
import { describe, expect, test } from 'vitest';
import { AwsClients } from '../../../src/aws/clients';
import { parseConfig } from '../../../src/aws/config';
import { modelCReadKeyring, modelCWriteKeyring } from '../../../src/aws/model-c';
import { createCliKmsKeyring } from '../../../src/cli/kms';
import { utf8 } from '../../../src/core/bytes';
import { KMS_PROVIDER_ID } from '../../../src/keyrings/kms';
import { buildUploadContext } from '../../../src/keyrings/upload-context';
import { ACCOUNT, ALIAS, FakeKms, KEY_ARN, KEY_ID, REGION } from './kms-fake';

const ENV = {};

describe('createCliKmsKeyring', () => {
  test('--kms-key makes a generator keyring; the region comes from --region, env or the ARN', async () => {
    const byFlag = await createCliKmsKeyring({
      kmsKeys: ['alias/veil'],
      region: 'eu-west-1',
      env: ENV,
    });
    expect(byFlag.keyring.generatorKeyId).toBe('alias/veil');
    expect(byFlag.region).toBe('eu-west-1');
    byFlag.close();
    const byEnv = await createCliKmsKeyring({
      kmsKeys: ['alias/veil'],
      env: { AWS_REGION: 'ap-south-1' },
    });
    expect(byEnv.region).toBe('ap-south-1');
    byEnv.close();
    const byArn = await createCliKmsKeyring({ kmsKeys: [KEY_ARN], env: ENV });
    expect(byArn.region).toBe('eu-central-1');
    byArn.close();
  });

  test('without --kms-key the keyring is a discovery keyring', async () => {
    const reader = await createCliKmsKeyring({ region: 'us-east-1', env: ENV });
    expect(reader.keyring.discovery).toBe(true);
    expect(reader.keyring.generatorKeyId).toBeUndefined();
    reader.close();
  });

  test('--endpoint-url pins KMS to the region: a key elsewhere is KMS_WRONG_REGION', async () => {
    const pinned = await createCliKmsKeyring({
      kmsKeys: [KEY_ARN],
      region: 'us-east-1',
      endpointUrl: 'http://127.0.0.1:1',
      env: ENV,
    });
    await expect(
      pinned.keyring.onEncrypt({ suiteId: 0x0478, encryptionContext: {} }),
    ).rejects.toMatchObject({ code: 'KMS_WRONG_REGION' });
    pinned.close();
  });

  test.each([
    [{ kmsKeys: ['alias/veil'], region: 'Europe' }, 'USAGE'],
    [{ kmsKeys: ['alias/veil'], region: 'us-east-1', endpointUrl: 'ftp://x' }, 'USAGE'],
    [{ kmsKeys: ['my key'], region: 'us-east-1' }, 'KMS_KEY_INVALID'],
  ])('refuses %j with %s', async (options, code) => {
    await expect(createCliKmsKeyring({ ...options, env: ENV })).rejects.toMatchObject({ code });
  });
});

describe('app helpers', () => {
  const base = { region: 'eu-central-1', bucket: 'team-files' };

  test('write with the chosen key; read by discovery within its account', async () => {
    const config = parseConfig({ ...base, kms: { keyId: KEY_ARN } });
    const clients = new AwsClients(config, { accessKeyId: 'a', secretAccessKey: 'b' });
    expect(modelCWriteKeyring(clients, config.kms?.keyId).generatorKeyId).toBe(KEY_ARN);
    expect((await modelCReadKeyring(clients, config)).discovery).toEqual({
      partition: 'aws',
      accountIds: [ACCOUNT],
    });
    const byAliasArn = parseConfig({
      ...base,
      kms: { keyId: `arn:aws-cn:kms:cn-north-1:${ACCOUNT}:alias/veil` },
    });
    expect((await modelCReadKeyring(clients, byAliasArn)).discovery).toEqual({
      partition: 'aws-cn',
      accountIds: [ACCOUNT],
    });
    expect((await modelCReadKeyring(clients, parseConfig(base))).discovery).toBe(true);
    expect(() => modelCWriteKeyring(clients, parseConfig(base).kms?.keyId)).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_CONFIGURED' }) as Error,
    );
    expect(buildUploadContext({ bucket: config.bucket, identityId: 'eu-central-1:x' })).toEqual({
      'veil-app': 'veil',
      'veil-bucket': 'team-files',
      'veil-identity-id': 'eu-central-1:x',
    });
    clients.destroy();
  });

  test.each([ALIAS, KEY_ID])(
    'a key configured as %s is resolved once with DescribeKey to filter by its account',
    async (keyId) => {
      const kms = new FakeKms();
      const clients = { kmsApi: () => kms, kmsSupplier: () => () => kms };
      const config = parseConfig({ ...base, kms: { keyId } });
      const reader = await modelCReadKeyring(clients, config);
      expect(reader.discovery).toEqual({ partition: 'aws', accountIds: [ACCOUNT] });
      await modelCReadKeyring(clients, config);
      expect(kms.count('describeKey')).toBe(1);
      // An EDK of a key in another account is not sent to KMS.
      const foreign = {
        providerId: KMS_PROVIDER_ID,
        providerInfo: utf8(`arn:aws:kms:${REGION}:999999999999:key/${KEY_ID}`),
        ciphertext: new Uint8Array(8),
      };
      expect(
        await reader.onDecrypt({
          suiteId: 0x0478,
          encryptionContext: {},
          encryptedDataKeys: [foreign],
        }),
      ).toBeUndefined();
      expect(kms.count('decrypt')).toBe(0);
    },
  );

  test('a failed alias lookup fails the read keyring and is tried again next time', async () => {
    const kms = new FakeKms();
    kms.failures.describeKey = ['AccessDeniedException'];
    const clients = { kmsApi: () => kms, kmsSupplier: () => () => kms };
    const config = parseConfig({ ...base, kms: { keyId: ALIAS } });
    await expect(modelCReadKeyring(clients, config)).rejects.toMatchObject({
      code: 'KMS_ACCESS_DENIED',
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await modelCReadKeyring(clients, config)).discovery).toEqual({
      partition: 'aws',
      accountIds: [ACCOUNT],
    });
    expect(kms.count('describeKey')).toBe(2);
  });
});
