/**
 * Model C from the command line, as users run it (node bin/veil.mjs), against KMS in moto:
 * encrypt under a KMS key plus a Model A recovery key, decrypt by discovery or with the key file,
 * and the official ESDK (client-node's KMS keyring) opens the CLI's output. Repeated --kms-key
 * each add an EDK, and discovery without --region takes the region from the key ARN.
 */
import { KMS } from '@aws-sdk/client-kms';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, test } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { DEMO } from '../../scripts/stack/stack';
import { useLocalStack } from './local-stack';

const local = useLocalStack(['http://127.0.0.1:5995']);
const BIN = fileURLToPath(new URL('../../bin/veil.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-kms-'));
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function veil(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: '',
    AWS_DEFAULT_REGION: '',
    AWS_PROFILE: '',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: dir, env }, (error, stdout, stderr) =>
      resolve({
        code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
        stdout,
        stderr,
      }),
    );
  });
}

test('encrypts under a KMS key and a recovery key; discovery, the key file and client-node decrypt', async () => {
  const plaintext = randomBytes(600_000);
  writeFileSync(path('plain.bin'), plaintext);
  const aws = ['--region', local.stack.config.region, '--endpoint-url', local.stack.motoUrl];
  expect((await veil('keygen', 'recovery.jwk')).code).toBe(0);

  const encrypted = await veil(
    'encrypt',
    '--kms-key',
    DEMO.kmsAlias,
    ...aws,
    '--key-file',
    'recovery.jwk',
    'plain.bin',
    'plain.enc',
  );
  expect(encrypted).toMatchObject({ code: 0, stderr: '' });
  const header = JSON.parse((await veil('inspect', 'plain.enc')).stdout) as {
    encryptedDataKeys: { providerId: string; providerInfoText?: string }[];
  };
  expect(header.encryptedDataKeys.map((edk) => edk.providerId)).toEqual(['aws-kms', 'veil']);
  expect(header.encryptedDataKeys[0]?.providerInfoText).toBe(local.stack.aws.kmsKeyArn);

  expect((await veil('decrypt', ...aws, 'plain.enc', 'by-kms.out')).code).toBe(0);
  expect(readFileSync(path('by-kms.out')).equals(plaintext)).toBe(true);
  expect(
    (await veil('decrypt', '--key-file', 'recovery.jwk', 'plain.enc', 'by-file.out')).code,
  ).toBe(0);
  expect(readFileSync(path('by-file.out')).equals(plaintext)).toBe(true);

  const keyring = new KmsKeyringNode({
    generatorKeyId: local.stack.aws.kmsKeyArn,
    clientProvider: () =>
      new KMS({
        region: local.stack.config.region,
        endpoint: local.stack.motoUrl,
        credentials: LOCAL_CREDENTIALS,
      }),
  });
  const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const opened = await decrypt(keyring, readFileSync(path('plain.enc')));
  expect(Buffer.from(opened.plaintext).equals(plaintext)).toBe(true);

  const missing = await veil(
    'encrypt',
    '--kms-key',
    'alias/no-such-key',
    ...aws,
    'plain.bin',
    'missing.enc',
  );
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^KMS_KEY_NOT_FOUND: /);
  expect(existsSync(path('missing.enc'))).toBe(false);
  const stray = await veil(
    'encrypt',
    '--region',
    'us-east-1',
    '--key-file',
    'recovery.jwk',
    'plain.bin',
    'stray.enc',
  );
  expect(stray).toMatchObject({ code: 2 });
  expect(stray.stderr).toMatch(/^USAGE: /);
});

test('two --kms-key: two EDKs, either key alone decrypts; discovery without --region uses the ARN', async () => {
  const plaintext = randomBytes(100_000);
  writeFileSync(path('two.bin'), plaintext);
  const region = local.stack.config.region;
  const kms = new KMS({ region, endpoint: local.stack.motoUrl, credentials: LOCAL_CREDENTIALS });
  const second = (await kms.createKey({ Description: 'veil cli second key' })).KeyMetadata?.Arn;
  kms.destroy();
  if (!second) throw new Error('moto created no key');
  const aws = ['--region', region, '--endpoint-url', local.stack.motoUrl];

  const encrypted = await veil(
    'encrypt',
    '--kms-key',
    local.stack.aws.kmsKeyArn,
    '--kms-key',
    second,
    ...aws,
    'two.bin',
    'two.enc',
  );
  expect(encrypted).toMatchObject({ code: 0, stderr: '' });
  const header = JSON.parse((await veil('inspect', 'two.enc')).stdout) as {
    encryptedDataKeys: { providerId: string; providerInfoText?: string }[];
  };
  expect(header.encryptedDataKeys.map((edk) => edk.providerInfoText)).toEqual([
    local.stack.aws.kmsKeyArn,
    second,
  ]);
  const bySecond = await veil('decrypt', '--kms-key', second, ...aws, 'two.enc', 'second.out');
  expect(bySecond).toMatchObject({ code: 0, stderr: '' });
  expect(readFileSync(path('second.out')).equals(plaintext)).toBe(true);

  // No --region and none in the environment: the endpoint is asked in the ARN's region.
  const discovered = await veil(
    'decrypt',
    '--endpoint-url',
    local.stack.motoUrl,
    'two.enc',
    'discovered.out',
  );
  expect(discovered).toMatchObject({ code: 0, stderr: '' });
  expect(readFileSync(path('discovered.out')).equals(plaintext)).toBe(true);
});
