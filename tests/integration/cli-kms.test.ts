/**
 * Model C from the command line (in process: [Note: command line in process]), against KMS in moto:
 * encrypt under a KMS key plus a Model A recovery key, decrypt by discovery or with the key file,
 * and the official ESDK (client-node's KMS keyring) opens the CLI's output. Repeated --kms-key each
 * add an EDK, and discovery without --region takes the region from the key ARN. Discovery asks KMS
 * only about keys of the caller's own account (or VEIL_KMS_ACCOUNTS): a file planted under another
 * account's key gets no Decrypt call ([Note: the command line's KMS discovery]).
 */
import { KMS } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { buildClient, CommitmentPolicy, KmsKeyringNode } from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { DEMO } from '../../scripts/stack/stack';
import { useLocalStack } from './local-stack';
import { veilInProcess } from './support/cli-in-process';

const local = useLocalStack(['http://127.0.0.1:5995']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-kms-'));
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function veil(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return veilAs({}, ...args);
}

/** `veil` with more environment: other credentials, VEIL_KMS_ACCOUNTS. */
async function veilAs(
  extra: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_REGION: '',
    AWS_DEFAULT_REGION: '',
    AWS_PROFILE: '',
    VEIL_KMS_ACCOUNTS: '',
    ...extra,
  };
  // In this process ([Note: command line in process]): the tests need the output and status.
  const run = await veilInProcess(args, dir, env);
  return { ...run, stdout: run.stdout.toString('utf8') };
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

test("discovery asks KMS only about the caller's account: a key of another account is never tried", async () => {
  // The planter: a role of another account (moto maps assumed-role credentials to it).
  const region = local.stack.config.region;
  const sts = new STSClient({
    region,
    endpoint: local.stack.motoUrl,
    credentials: LOCAL_CREDENTIALS,
  });
  const assumed = await sts.send(
    new AssumeRoleCommand({
      RoleArn: 'arn:aws:iam::111111111111:role/planter',
      RoleSessionName: 'planter',
    }),
  );
  sts.destroy();
  const credentials = assumed.Credentials;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken) {
    throw new Error('moto gave no credentials');
  }
  const planter = {
    AWS_ACCESS_KEY_ID: credentials.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.SecretAccessKey,
    AWS_SESSION_TOKEN: credentials.SessionToken,
  };
  const kms = new KMS({
    region,
    endpoint: local.stack.motoUrl,
    credentials: {
      accessKeyId: planter.AWS_ACCESS_KEY_ID,
      secretAccessKey: planter.AWS_SECRET_ACCESS_KEY,
      sessionToken: planter.AWS_SESSION_TOKEN,
    },
  });
  const planterKey = (await kms.createKey({ Description: 'planted' })).KeyMetadata?.Arn;
  kms.destroy();
  expect(planterKey).toMatch(/^arn:aws:kms:[^:]+:111111111111:key\//);
  writeFileSync(path('planted.bin'), 'pay the planter');
  const aws = ['--region', region, '--endpoint-url', local.stack.motoUrl];
  const planted = await veilAs(
    planter,
    'encrypt',
    '--kms-key',
    planterKey ?? '',
    ...aws,
    'planted.bin',
    'planted.enc',
  );
  expect(planted).toMatchObject({ code: 0, stderr: '' });

  // The victim's discovery (account 123456789012) never sends the planted EDK to KMS.
  const victim = await veil('decrypt', ...aws, 'planted.enc', 'victim.out');
  expect(victim.code).not.toBe(0);
  expect(victim.stderr).toMatch(/^NO_KEY_GIVEN: .*VEIL_KMS_ACCOUNTS/);
  expect(existsSync(path('victim.out'))).toBe(false);
  // Naming the account lets discovery try the key; moto then answers as KMS does for a key of
  // another account whose policy does not let this one in (moto models no cross-account key
  // policies, so no local test can show the planted key opening).
  const named = await veilAs(
    { VEIL_KMS_ACCOUNTS: '111111111111' },
    'decrypt',
    ...aws,
    'planted.enc',
    'named.out',
  );
  expect(named.code).not.toBe(0);
  expect(named.stderr).toMatch(/^KMS_KEY_NOT_FOUND: /);
  // A malformed account list is a usage error before anything is read.
  const typo = await veilAs(
    { VEIL_KMS_ACCOUNTS: '11111111111' },
    'decrypt',
    ...aws,
    'planted.enc',
    'typo.out',
  );
  expect(typo.code).toBe(2);
  expect(typo.stderr).toMatch(/^USAGE: .*VEIL_KMS_ACCOUNTS: "11111111111" is not/);
});
