/**
 * Size padding in the app ([Note: size padding] in src/core/padding.ts), in Chromium against the
 * local stack. The app is served for a location of its own (support/private-location.ts, which
 * also makes its names private); the page, as a guest, turns "Pad file sizes" on in Settings,
 * with the measured overhead shown beside it, and uploads a file under Model C.
 * - The stored object is a message of exactly the Padmé length of the file plus one, marked
 *   `veil-padding: padme` in its context, and its decrypted plaintext (Node, KMS at moto) is the
 *   file then one 0x80 byte and zeros.
 * - Files shows the size as an upper bound ("≤"), with a title saying it is padded.
 * - The download is byte-identical to the file: the padding is stripped.
 * - Turned off again, the next file is stored unpadded and shown with its exact size.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmsApiFor } from '../../src/aws/clients';
import { decryptBytes, paddedLength, paddingBytes, parseHeaderBytes } from '../../src/core';
import { plaintextSize } from '../../src/core/sizes';
import { KmsKeyring } from '../../src/keyrings/kms';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { servePrivateLocation, type PrivateLocation } from './support/private-location';
import { env } from './support/upload-ui';

const ROOT = `pad-${randomBytes(3).toString('hex')}/`;
const PADDED_NAME = 'padded-report.bin';
const PLAIN_NAME = 'exact-report.bin';
/** Content that ends like padding (0x80 0x00 0x00): only the real padding may go. */
const BYTES = (() => {
  const bytes = new Uint8Array(randomBytes(700_003));
  bytes.set([0x80, 0, 0], bytes.length - 3);
  return bytes;
})();

let location: PrivateLocation;
let context: BrowserContext;
let page: Page;
let work: string;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const fileRow = (name: string) => page.locator(`[data-testid="row"][data-name="${name}"]`);

async function connectGuest(): Promise<void> {
  await page.goto(`${location.app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

/** Uploads `name` (holding BYTES) under Model C and waits until it is done. */
async function upload(name: string): Promise<void> {
  const path = join(work, name);
  await writeFile(path, BYTES);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  const done = page.locator('[data-testid="upload-row"][data-phase="done"]');
  const before = await done.count();
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(done).toHaveCount(before + 1, { timeout: 30_000 });
}

/** The one stored object other than the names key that is not in `known`. */
async function newObject(known: Set<string>): Promise<{ key: string; body: Uint8Array }> {
  const keys = (await location.keys()).filter(
    (k) => !k.endsWith('.veil/names-key') && !known.has(k),
  );
  expect(keys).toHaveLength(1);
  const key = keys[0]!;
  known.add(key);
  const reply = await location.s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }));
  return { key, body: new Uint8Array(await reply.Body!.transformToByteArray()) };
}

async function download(name: string): Promise<Uint8Array> {
  const [saved] = await Promise.all([
    page.waitForEvent('download'),
    fileRow(name)
      .getByRole('button', { name: `Download ${name}` })
      .click(),
  ]);
  return new Uint8Array(await readFile(await saved.path()));
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async ({ browser }) => {
  location = await servePrivateLocation(ROOT);
  work = await mkdtemp(join(tmpdir(), 'veil-padding-'));
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await page.addInitScript(`delete window.showSaveFilePicker;`);
  await connectGuest();
});

test.afterAll(async () => {
  await context?.close();
  await location?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const known = new Set<string>();

test('padding on: the object is the Padmé size, Files shows a bound, the download is exact', async () => {
  const toggle = page.getByTestId('padding-toggle');
  await expect(toggle).not.toBeChecked();
  await expect(page.getByTestId('padding-help')).toContainText('1.5% on average');
  await toggle.check();
  await expect(toggle).toBeChecked();
  await upload(PADDED_NAME);

  const { body } = await newObject(known);
  const header = parseHeaderBytes(body);
  expect(header.encryptionContext['veil-padding']).toBe('padme');
  expect(plaintextSize(body.length, header.frameBytes, header.headerBytes)).toBe(
    paddedLength(BYTES.length),
  );
  const kms = new KMSClient({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    const keyring = new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });
    const plain = await decryptBytes(body, { keyring });
    const expected = new Uint8Array([...BYTES, ...paddingBytes(BYTES.length)]);
    expect(sha256(plain)).toBe(sha256(expected));
  } finally {
    kms.destroy();
  }

  await page.getByRole('link', { name: 'Files' }).click();
  const size = fileRow(PADDED_NAME).getByTestId('size-bound');
  await expect(size).toContainText('≤');
  await expect(size).toHaveAttribute('title', /padded/);
  expect(sha256(await download(PADDED_NAME))).toBe(sha256(BYTES));
});

test('padding off again: the next file is stored unpadded with its exact size', async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByTestId('padding-toggle').uncheck();
  await upload(PLAIN_NAME);
  const { body } = await newObject(known);
  const header = parseHeaderBytes(body);
  expect(header.encryptionContext['veil-padding']).toBeUndefined();
  expect(plaintextSize(body.length, header.frameBytes, header.headerBytes)).toBe(BYTES.length);
  await page.getByRole('link', { name: 'Files' }).click();
  await expect(fileRow(PLAIN_NAME).getByTestId('size-bound')).toHaveCount(0);
  await expect(fileRow(PLAIN_NAME).getByTestId('size')).toContainText('KiB');
  expect(sha256(await download(PLAIN_NAME))).toBe(sha256(BYTES));
});
