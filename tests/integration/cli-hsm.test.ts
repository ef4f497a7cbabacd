/**
 * Model B from the command line (in process: [Note: command line in process]), against the real HSM
 * proxy on a SoftHSM2 token: encrypt with an HSM key plus a Model A recovery key, decrypt with
 * either.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { DEMO } from '../../scripts/stack/stack';
import { useLocalStack } from './local-stack';
import { veilInProcess } from './support/cli-in-process';

const local = useLocalStack(['http://127.0.0.1:5996']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-hsm-'));
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `veil` in this process ([Note: command line in process]): the test needs its output. */
async function veil(
  env: NodeJS.ProcessEnv,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = await veilInProcess(args, dir, { ...process.env, ...env });
  return { ...run, stdout: run.stdout.toString('utf8') };
}

test('encrypts under an HSM key and a recovery key; either decrypts; missing tokens are usage errors', async () => {
  const plaintext = randomBytes(700_000);
  writeFileSync(path('plain.bin'), plaintext);
  const token = { VEIL_HSM_TOKEN: local.stack.demoIdToken };
  const proxy = ['--hsm-proxy', local.stack.hsmUrl];
  expect((await veil({}, 'keygen', 'recovery.jwk', '--kid', 'recovery')).code).toBe(0);

  const encrypted = await veil(
    token,
    'encrypt',
    ...proxy,
    '--hsm-key',
    DEMO.hsmKeyLabel,
    '--key-file',
    'recovery.jwk',
    'plain.bin',
    'plain.enc',
  );
  expect(encrypted).toMatchObject({ code: 0, stderr: '' });

  const inspected = await veil({}, 'inspect', 'plain.enc');
  const header = JSON.parse(inspected.stdout) as {
    encryptedDataKeys: { providerId: string; providerInfoText?: string }[];
  };
  expect(header.encryptedDataKeys.map((edk) => edk.providerId)).toEqual(['veil-hsm', 'veil']);
  expect(header.encryptedDataKeys[0]?.providerInfoText).toBe(DEMO.hsmKeyLabel);

  expect((await veil(token, 'decrypt', ...proxy, 'plain.enc', 'via-hsm.out')).code).toBe(0);
  expect(readFileSync(path('via-hsm.out')).equals(plaintext)).toBe(true);
  expect(
    (await veil({}, 'decrypt', '--key-file', 'recovery.jwk', 'plain.enc', 'via-file.out')).code,
  ).toBe(0);
  expect(readFileSync(path('via-file.out')).equals(plaintext)).toBe(true);

  const noToken = await veil({ VEIL_HSM_TOKEN: '' }, 'decrypt', ...proxy, 'plain.enc', 'x.out');
  expect(noToken.code).toBe(2);
  expect(noToken.stderr).toMatch(/^USAGE: .*VEIL_HSM_TOKEN/);
  const noLabel = await veil(token, 'encrypt', ...proxy, 'plain.bin', 'y.enc');
  expect(noLabel.stderr).toMatch(/^USAGE: .*--hsm-key/);
  const badToken = await veil(
    { VEIL_HSM_TOKEN: 'a.b.c' },
    'decrypt',
    ...proxy,
    'plain.enc',
    'z.out',
  );
  expect(badToken.code).toBe(1);
  expect(badToken.stderr).toMatch(/^HSM_UNAUTHENTICATED: /);
  expect(['x.out', 'y.enc', 'z.out'].filter((name) => existsSync(path(name)))).toEqual([]);
});
