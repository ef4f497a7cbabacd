/**
 * Model B uploads in Chromium: the data key is wrapped in SoftHSM2 through the HSM proxy. The
 * proxy (like the global setup's bucket) answers CORS for the app's origin only, so this spec
 * serves the upload harness under the app's origin (Playwright sends that origin's requests to
 * the harness server) and uploads to the global setup's bucket. The object is checked in Node with
 * the core and the same keyring and with `npx veil decrypt --hsm-proxy`; not with
 * @aws-crypto/client-node, which has no keyring for Veil's HSM proxy.
 */
import { S3Client, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from '@playwright/test';
import { demoIdToken } from '../../scripts/stack/stack';
import { parseHeaderBytes } from '../../src/core/message';
import { decryptBytes } from '../../src/core/one-shot';
import { HsmProxyKeyring } from '../../src/keyrings/hsm-proxy';
import { buildAndServe, type ServedHarness } from './harness/serve';
import type * as UploadHarness from './harness/upload-entry';
import { patternBytes, type UploadParams } from './harness/upload-entry';

const PART = 8 * 1024 * 1024;
let served: ServedHarness;
let page: Page;
let s3: S3Client;
let appOrigin: string;
let config: { cognito: { userPoolClientId: string }; hsm: { proxyUrl: string; keyLabel: string } };

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

test.describe.configure({ timeout: 120_000 });

test.beforeAll(async ({ browser }) => {
  served = await buildAndServe(new URL('./harness/upload-entry.ts', import.meta.url));
  appOrigin = new URL(env('VEIL_APP_URL')).origin;
  config = (await (await fetch(`${appOrigin}/config.json`)).json()) as typeof config;
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  page = await browser.newPage();
  // Every request to the app's origin goes to the harness server instead; `continue` (not
  // `fulfill`) keeps real loopback responses, which Chromium's local-network checks require.
  await page.route(`${appOrigin}/**`, (route) =>
    route.continue({ url: served.url + new URL(route.request().url()).pathname.slice(1) }),
  );
  await page.goto(`${appOrigin}/`);
  await page.waitForFunction(() => document.title === 'ready');
});

test.afterAll(async () => {
  await page?.close();
  await served?.close();
  s3?.destroy();
});

test('Model B: an upload wrapped by the HSM proxy decrypts with the core and npx veil', async () => {
  const idToken = await demoIdToken(
    env('VEIL_MOTO_URL'),
    'us-east-1',
    config.cognito.userPoolClientId,
  );
  const sizeBytes = PART + 4321;
  const input: UploadParams = {
    motoUrl: env('VEIL_MOTO_URL'),
    bucket: env('VEIL_BUCKET'),
    key: `uploads/model-b-${Date.now()}`,
    keyBase64: '',
    sizeBytes,
    seed: 77,
    hsm: { proxyUrl: config.hsm.proxyUrl, keyLabel: config.hsm.keyLabel, idToken },
  };
  const outcome = await page.evaluate(
    (p) => (window as unknown as { harness: typeof UploadHarness }).harness.uploadOnce(p),
    input,
  );
  expect(outcome).toMatchObject({ ok: true, result: { method: 'multipart', partCount: 2 } });
  const reply = await s3.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key }));
  const ciphertext = new Uint8Array(await reply.Body!.transformToByteArray());
  // The key, then the binding to the object's bucket and key ([Note: location binding]).
  expect(parseHeaderBytes(ciphertext).encryptedDataKeys.map((edk) => edk.providerId)).toEqual([
    'veil-hsm',
    'veil-location',
  ]);
  const plaintext = await decryptBytes(ciphertext, {
    keyring: new HsmProxyKeyring({ proxyUrl: config.hsm.proxyUrl, idToken: () => idToken }),
  });
  expect(Buffer.compare(plaintext, patternBytes(sizeBytes, input.seed))).toBe(0);
  const head = await s3.send(new HeadObjectCommand({ Bucket: input.bucket, Key: input.key }));
  expect(head.Metadata?.['veil-model']).toBe('B');
  const dir = await mkdtemp(join(tmpdir(), 'veil-upload-cli-'));
  try {
    await writeFile(join(dir, 'object.veil'), ciphertext);
    await promisify(execFile)(
      process.execPath,
      [
        'bin/veil.mjs',
        'decrypt',
        '--hsm-proxy',
        config.hsm.proxyUrl,
        join(dir, 'object.veil'),
        join(dir, 'plain.bin'),
      ],
      { env: { ...process.env, VEIL_HSM_TOKEN: idToken } },
    );
    const viaCli = await readFile(join(dir, 'plain.bin'));
    expect(Buffer.compare(viaCli, patternBytes(sizeBytes, input.seed))).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
