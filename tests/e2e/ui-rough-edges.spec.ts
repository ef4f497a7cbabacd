/**
 * Rough edges a new user hit (issue 21), each driven in Chromium against the local stack:
 * - the Upload page offers the vault's key right after a reload, and when reached from Files;
 * - a key file with the right name but the wrong bytes is refused where it is picked, nothing
 *   keeps it, and the picker stays until the right key opens the file byte for byte;
 * - a download checks the key (and the HSM proxy) before it asks where to save, so a failure
 *   opens no save dialog and leaves no file;
 * - errors lead with a plain sentence; the code is small, for support.
 */
import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { serializeKeyFile } from '../../src/core/key-file';
import { encryptBytes } from '../../src/core/one-shot';
import { HsmProxyKeyring } from '../../src/keyrings/hsm-proxy';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { env } from './support/upload-ui';
import { savedFile } from './support/saved-file';

const KEY_NAME = 'rough-team';
const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 0xff);
const WRONG_BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + 1) & 0xff);
const MODEL_A = { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A' };
/**
 * Replaces the save picker with one that counts its calls and returns an origin-private file
 * (as in ui-files.spec.ts), so a test sees whether the dialog would have opened.
 */
const COUNTING_SAVE_PICKER = `
  window.__savePickerCalls = 0;
  window.showSaveFilePicker = async (options) => {
    window.__savePickerCalls += 1;
    const root = await navigator.storage.getDirectory();
    return root.getFileHandle(options.suggestedName, { create: true });
  };
`;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const top = `rough-${randomBytes(4).toString('hex')}`;
const plaintext = new Uint8Array(randomBytes(700_000));
let s3: S3Client;
const written: string[] = [];

async function put(key: string, body: Uint8Array, metadata = MODEL_A): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: key, Body: body, Metadata: metadata }),
  );
  written.push(key);
}

async function encryptedFor(bytes: Uint8Array, keyBytes = KEY_BYTES): Promise<Uint8Array> {
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: keyBytes.slice(),
    keyName: KEY_NAME,
    keyNamespace: 'veil',
  });
  return encryptBytes(bytes, {
    keyring,
    encryptionContext: { 'veil-app': 'veil', 'veil-bucket': env('VEIL_BUCKET') },
  });
}

function keyFile(keyBytes: Uint8Array, name = `${KEY_NAME}.jwk`) {
  const text = serializeKeyFile({
    keyBytes: keyBytes.slice(),
    keyName: KEY_NAME,
    keyNamespace: 'veil',
  });
  return { name, mimeType: 'application/json', buffer: Buffer.from(text) };
}

async function pickerPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(COUNTING_SAVE_PICKER);
  return { context, page };
}

const savePickerCalls = (page: Page): Promise<number> =>
  page.evaluate(() => (window as unknown as { __savePickerCalls: number }).__savePickerCalls);

async function connectGuest(page: Page): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

function fileRow(page: Page, name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

async function openFolder(page: Page, path: string): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/files/${path}`);
  await expect(page.getByTestId('file-table')).toBeVisible();
}

function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
}

test.beforeAll(async () => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  await put(`${top}/report.bin`, await encryptedFor(plaintext));
});

test.afterAll(async () => {
  if (written.length > 0) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: env('VEIL_BUCKET'),
        Delete: { Objects: written.map((Key) => ({ Key })) },
      }),
    );
  }
  s3?.destroy();
});

test('Upload offers the vault key after a reload and when reached from Files', async ({ page }) => {
  await page.goto(`${env('VEIL_APP_URL')}#/keys`);
  await page.getByLabel('Key name').fill('rough-upload-key');
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  const pending = page.getByTestId('pending-key');
  await expect(pending).toContainText('Key “rough-upload-key” created');
  // The passphrase minimum is said next to the field, and read with it.
  const passphrase = pending.getByLabel('Passphrase', { exact: true });
  await expect(passphrase).toHaveAccessibleDescription(/^At least 12 characters/);
  await passphrase.fill('short');
  await expect(pending.getByTestId('passphrase-minimum')).toHaveText(
    'At least 12 characters (5 so far).',
  );
  await page.getByTestId('pending-done').click();
  await expect(page.getByTestId('vault-key')).toHaveCount(1);

  await page.goto(`${env('VEIL_APP_URL')}#/upload`);
  await page.reload();
  await expect(page.getByTestId('worker-status')).toHaveText(/Worker ready/);
  await expect(page.getByTestId('mode-A-key')).toHaveText('Key: rough-upload-key');
  await expect(page.getByTestId('mode-A-missing')).toHaveCount(0);
  await expect(page.getByText('No key in this browser’s vault yet')).toHaveCount(0);

  await page.goto(`${env('VEIL_APP_URL')}#/files`);
  await page.reload();
  await nav(page, 'Upload').click();
  await expect(page.getByTestId('mode-A-key')).toHaveText('Key: rough-upload-key');
  await expect(page.getByTestId('mode-A-missing')).toHaveCount(0);
});

test('a same-name key file with the wrong bytes is refused at the prompt; the right one then opens the file byte for byte', async ({
  browser,
}) => {
  const { context, page } = await pickerPage(browser);
  await connectGuest(page);
  await openFolder(page, `${top}/`);
  await fileRow(page, 'report.bin').getByRole('button', { name: 'Download report.bin' }).click();
  const item = page.locator('[data-testid="download"][data-name="report.bin"]').first();
  await expect(item).toHaveAttribute('data-phase', 'needs-key');
  await expect(item.getByTestId('key-advice')).toContainText(`“${KEY_NAME}”`);

  // The wrong key, even with "keep it in the vault" ticked: refused where it was picked.
  await item.getByLabel('Keep this key in this browser’s vault').check();
  await item.getByTestId('key-file-input').setInputFiles(keyFile(WRONG_BYTES));
  await expect(item.getByTestId('key-file-error')).toHaveAttribute('data-code', 'WRONG_KEY');
  await expect(item.getByTestId('key-file-error')).toContainText(
    'different key with the same name',
  );
  await expect(item).not.toContainText('added');
  await expect(item.getByTestId('key-file-input-name')).toHaveText(`${KEY_NAME}.jwk`);
  // Not held for the page either: the next run and a new download still offer the picker.
  await item.getByLabel('Keep this key in this browser’s vault').uncheck();
  await item.getByTestId('key-file-input').setInputFiles(keyFile(WRONG_BYTES));
  await expect(item.getByTestId('key-file-error')).toHaveAttribute('data-code', 'WRONG_KEY');
  await item.getByTestId('download-again').click();
  await expect(item).toHaveAttribute('data-phase', 'needs-key');
  await expect(item.getByTestId('key-file-input')).toBeAttached();
  await fileRow(page, 'report.bin').getByRole('button', { name: 'Download report.bin' }).click();
  const second = page.locator('[data-testid="download"][data-name="report.bin"]').first();
  await expect(second).toHaveAttribute('data-phase', 'needs-key');
  await expect(page.locator('[data-testid="download"][data-phase="failed"]')).toHaveCount(0);
  // Every failure was found before the save dialog: it never opened, and no file exists.
  expect(await savePickerCalls(page)).toBe(0);
  expect((await savedFile(page, 'report.bin')).sizeBytes).toBe(-1);

  // The right key file opens it.
  await item.getByTestId('key-file-input').setInputFiles(keyFile(KEY_BYTES));
  await expect(item).toContainText(`Key “${KEY_NAME}” added for this page`);
  await item.getByTestId('download-again').click();
  await expect(item).toHaveAttribute('data-phase', 'done');
  expect(await savePickerCalls(page)).toBe(1);
  expect(await savedFile(page, 'report.bin')).toEqual({
    sha256: sha256(plaintext),
    sizeBytes: plaintext.length,
  });

  // Nothing wrong was kept in the vault: Keys lists no key.
  await nav(page, 'Keys').click();
  await expect(page.getByTestId('vault-empty')).toBeVisible();
  await context.close();
});

test('an HSM proxy that is down fails the download before the save dialog, leaving no file', async ({
  browser,
}) => {
  const hsm = new HsmProxyKeyring({
    proxyUrl: env('VEIL_HSM_URL'),
    keyLabel: env('VEIL_HSM_KEY_LABEL'),
    idToken: () => env('VEIL_DEMO_ID_TOKEN'),
  });
  const body = await encryptBytes(new Uint8Array(randomBytes(50_000)), {
    keyring: hsm,
    encryptionContext: { 'veil-app': 'veil', 'veil-bucket': env('VEIL_BUCKET') },
  });
  await put(`${top}/hsm.bin`, body, { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'B' });

  const { context, page } = await pickerPage(browser);
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  const form = page.getByRole('form', { name: 'Sign in with user name and password' });
  await form.getByLabel('User name').fill('demo');
  await form.getByLabel('Password').fill('Veil-demo-2026');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('Signed in as demo');
  // The proxy stops answering.
  const proxy = new URL(env('VEIL_HSM_URL'));
  await page.route(
    (url) => url.host === proxy.host,
    (route) => route.abort('connectionrefused'),
  );
  await openFolder(page, `${top}/`);
  await fileRow(page, 'hsm.bin').getByRole('button', { name: 'Download hsm.bin' }).click();
  const item = page.locator('[data-testid="download"][data-name="hsm.bin"]').first();
  await expect(item).toHaveAttribute('data-phase', 'failed');
  await expect(item.getByTestId('download-error')).toHaveAttribute(
    'data-code',
    'HSM_PROXY_UNREACHABLE',
  );
  // The notice leads with a sentence and what to do; the code is last, small, for support.
  const notice = item.getByTestId('download-error');
  await expect(notice).toHaveText(/^The HSM proxy could not be reached\. Try again/);
  await expect(notice).toContainText('config.json');
  await expect(notice).not.toContainText('in Settings');
  const code = notice.getByText('Code: HSM_PROXY_UNREACHABLE');
  await expect(code).toBeVisible();
  const fontPx = (locator: typeof code) =>
    locator.evaluate((element) => parseFloat(getComputedStyle(element).fontSize));
  expect(await fontPx(code)).toBeLessThan(await fontPx(notice.locator('.lead')));
  await item.getByRole('button', { name: 'Retry' }).click();
  await expect(item).toHaveAttribute('data-phase', 'failed');
  expect(await savePickerCalls(page)).toBe(0);
  expect((await savedFile(page, 'hsm.bin')).sizeBytes).toBe(-1);
  await context.close();
});

test('chosen files show at once at 1280×800 and on a phone; an unencrypted upload is not marked ✓', async ({
  page,
}) => {
  await connectGuest(page);
  await nav(page, 'Upload').click();
  await page.getByTestId('mode-s3-none').check();
  const folderName = `${top}-plain`;
  await page.getByLabel(/Destination folder/).fill(folderName);
  for (const [index, viewport] of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ].entries()) {
    await page.setViewportSize(viewport);
    await page.evaluate(() => window.scrollTo(0, 0));
    const name = `plain-${index}.txt`;
    await page.getByTestId('file-input').setInputFiles({
      name,
      mimeType: 'text/plain',
      buffer: Buffer.from(`not encrypted ${index}\n`),
    });
    written.push(`${folderName}/${name}`);
    await expect(page.getByTestId('added-note')).toHaveText('1 file added to the queue.');
    await expect(page.getByRole('heading', { name: 'Queue' })).toBeInViewport();
    const done = page.locator(`[data-testid="upload-row"][data-path="${name}"][data-phase="done"]`);
    await expect(done).toHaveCount(1, { timeout: 30_000 });
    await expect(done.getByTestId('row-mark')).toHaveText('⚠ Not encrypted:');
    await expect(done.getByTestId('row-state')).not.toHaveClass(/\bok\b/);
  }
  await page.screenshot({ path: test.info().outputPath('upload-chosen-phone.png') });
});

test('old connection check results are put away after connecting', async ({ page }) => {
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await page.getByTestId('check-connection').click();
  await expect(page.getByTestId('check-credentials')).toHaveAttribute('data-status', 'failed');
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await expect(page.getByTestId('check-credentials')).toHaveCount(0);
  await expect(page.getByTestId('check-stale')).toContainText('Check again');
  await page.getByTestId('check-connection').click();
  await expect(page.getByTestId('check-credentials')).toHaveAttribute('data-status', 'ok');
  await expect(page.getByTestId('check-stale')).toHaveCount(0);
});
