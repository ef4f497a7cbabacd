/**
 * The Keys view in Chromium against the local stack: generate a Model A key, save its key file
 * and passphrase backup (caught as downloads: the save picker is removed so the app takes its
 * Blob-link path, which Playwright can drive; the picker path has unit tests with fakes; a
 * download counts as a copy only once the user confirms it), delete
 * it behind the confirm dialog, and import the backup and the key file in fresh browser contexts
 * (fresh IndexedDB), where the same fingerprint shows. A wrong passphrase gives the catalogued
 * error. The backup is also opened in Node with jose, as another JOSE tool would.
 * Also: the HSM labels (user sign-in) and the KMS aliases with their state.
 */
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { readFile } from 'node:fs/promises';

const PASSPHRASE = 'orbit lantern cactus mosaic';

function appUrl(): string {
  const url = process.env.VEIL_APP_URL;
  if (!url) throw new Error('VEIL_APP_URL is not set: run through playwright.config.ts');
  return url;
}

/** A context whose page has no save picker, so saves become downloads Playwright can catch. */
async function freshContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ acceptDownloads: true });
  await context.addInitScript(() => {
    delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  return context;
}

/** A link of the main navigation (views also link to Settings in their text). */
function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
}

async function openKeys(page: Page): Promise<void> {
  await page.goto(`${appUrl()}#/keys`);
  await expect(page.getByRole('heading', { name: 'Keys', level: 1 })).toBeVisible();
}

async function download(
  page: Page,
  click: () => Promise<void>,
): Promise<{ name: string; text: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const bytes = await readFile(await file.path());
  return { name: file.suggestedFilename(), text: bytes.toString('utf8'), bytes };
}

async function screenshots(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: test.info().outputPath(`${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  // Nothing wider than a phone's screen: no sideways scrolling.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: test.info().outputPath(`${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('generate a key, save its key file and backup, delete it, import both elsewhere: same fingerprint', async ({
  browser,
}) => {
  const errors: string[] = [];
  const first = await freshContext(browser);
  const page = await first.newPage();
  page.on('pageerror', (error) => errors.push(error.message));
  await openKeys(page);
  await expect(page.getByTestId('vault-empty')).toBeVisible();

  await page.getByLabel('Key name').fill('e2e-team-key');
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  const pending = page.getByTestId('pending-key');
  await expect(pending).toContainText('Key “e2e-team-key” created');
  await expect(pending).toContainText('Save a copy now');
  const fingerprint = (await page.getByTestId('pending-fingerprint').textContent()) ?? '';
  expect(fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
  await expect(page.getByTestId('key-copies')).toHaveText(/Only in this browser/);

  const keyFile = await download(page, () => page.getByTestId('save-key-file').click());
  expect(keyFile.name).toBe('e2e-team-key.jwk');
  const jwk = JSON.parse(keyFile.text) as Record<string, string>;
  expect(jwk).toMatchObject({
    kty: 'oct',
    kid: 'e2e-team-key',
    alg: 'A256GCMKW',
    namespace: 'veil',
  });
  expect(Buffer.from(jwk.k ?? '', 'base64url')).toHaveLength(32);
  // A download may still be cancelled or deleted: the copy counts once the user confirms it.
  await expect(page.getByTestId('key-file-downloaded')).toContainText('e2e-team-key.jwk');
  await expect(page.getByTestId('key-file-saved')).toHaveCount(0);
  await expect(page.getByTestId('key-copies')).toHaveText(/Only in this browser/);
  await page.getByRole('button', { name: 'I have saved the key file' }).click();
  await expect(page.getByTestId('key-file-saved')).toBeVisible();
  await expect(page.getByTestId('key-file-downloaded')).toHaveCount(0);
  await expect(page.getByTestId('key-copies')).toHaveText('In this browser, and saved as key file');

  await pending.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await pending.getByLabel('Repeat the passphrase').fill(`${PASSPHRASE}!`);
  await expect(pending.getByText('The two passphrases differ.')).toBeVisible();
  await expect(page.getByTestId('save-backup')).toBeDisabled();
  await pending.getByLabel('Repeat the passphrase').fill(PASSPHRASE);
  const backup = await download(page, () => page.getByTestId('save-backup').click());
  expect(backup.name).toBe('e2e-team-key.backup.jwe');
  await expect(page.getByTestId('backup-downloaded')).toContainText('e2e-team-key.backup.jwe');
  await screenshots(page, 'keys-confirm-download');
  await page.getByTestId('confirm-backup').click();
  await expect(page.getByTestId('backup-saved')).toBeVisible();
  await screenshots(page, 'keys-new-key');
  // A standard JWE: jose in Node opens it with the passphrase and finds the same key file.
  expect(decodeProtectedHeader(backup.text.trim())).toMatchObject({
    alg: 'PBES2-HS256+A128KW',
    enc: 'A256GCM',
    p2c: 600_000,
    kid: 'e2e-team-key',
  });
  const { plaintext } = await compactDecrypt(
    backup.text.trim(),
    new TextEncoder().encode(PASSPHRASE),
    {
      keyManagementAlgorithms: ['PBES2-HS256+A128KW'],
      maxPBES2Count: 600_000,
    },
  );
  expect(JSON.parse(new TextDecoder().decode(plaintext))).toEqual(jwk);

  await page.getByTestId('pending-done').click();
  await expect(pending).toHaveCount(0);
  const row = page.getByTestId('vault-key');
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('key-fingerprint')).toHaveText(fingerprint);
  await expect(row.getByTestId('key-copies')).toHaveText(
    'In this browser, and saved as key file and backup',
  );
  await expect(row).toContainText('Model A default');
  // The vault survives a reload (IndexedDB), fingerprint and copies included.
  await page.reload();
  await expect(page.getByTestId('vault-key').getByTestId('key-fingerprint')).toHaveText(
    fingerprint,
  );
  await screenshots(page, 'keys');

  // Delete: a dialog first; Cancel keeps it, confirm removes it.
  await page.getByRole('button', { name: 'Delete key e2e-team-key' }).click();
  const dialog = page.getByTestId('delete-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('stay readable with the key file or backup');
  await dialog.getByRole('button', { name: 'Keep the key' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('button', { name: 'Delete key e2e-team-key' })).toBeFocused();
  await page.getByRole('button', { name: 'Delete key e2e-team-key' }).click();
  await dialog.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('vault-empty')).toBeVisible();
  await first.close();

  // A fresh browser context: the backup opens with the passphrase, not with a wrong one.
  const second = await freshContext(browser);
  const other = await second.newPage();
  other.on('pageerror', (error) => errors.push(error.message));
  await openKeys(other);
  await other.getByTestId('import-file').setInputFiles({
    name: backup.name,
    mimeType: 'application/jose',
    buffer: Buffer.from(backup.text),
  });
  await expect(other.getByRole('form', { name: 'Open the backup' })).toContainText(
    'Backup of key “e2e-team-key”',
  );
  await expect(other.getByTestId('import-passphrase')).toBeFocused();
  await other.getByTestId('import-passphrase').fill('orbit lantern cactus mosaics');
  await other.getByTestId('import-backup').click();
  await expect(other.getByTestId('import-error')).toHaveAttribute(
    'data-code',
    'BACKUP_WRONG_PASSPHRASE',
  );
  await expect(other.getByTestId('vault-empty')).toBeVisible();
  await other.getByTestId('import-passphrase').fill(PASSPHRASE);
  await other.getByTestId('import-backup').click();
  await expect(other.getByTestId('pending-key')).toContainText('Key “e2e-team-key” imported');
  await other.getByTestId('pending-done').click();
  await expect(other.getByTestId('vault-key').getByTestId('key-fingerprint')).toHaveText(
    fingerprint,
  );
  await expect(other.getByTestId('key-copies')).toHaveText('In this browser, and saved as backup');
  await second.close();

  // And the plain key file, in another fresh context.
  const third = await freshContext(browser);
  const last = await third.newPage();
  await openKeys(last);
  await last.getByTestId('import-file').setInputFiles({
    name: keyFile.name,
    mimeType: 'application/json',
    buffer: Buffer.from(keyFile.text),
  });
  await expect(last.getByTestId('pending-key')).toContainText('imported');
  await expect(last.getByTestId('vault-key').getByTestId('key-fingerprint')).toHaveText(
    fingerprint,
  );
  await third.close();
  expect(errors).toEqual([]);
});

test('deleting the only copy of a key warns that its objects become unreadable', async ({
  browser,
}) => {
  const context = await freshContext(browser);
  const page = await context.newPage();
  await openKeys(page);
  await page.getByLabel('Key name').fill('lonely-key');
  await page.getByLabel('Key name').press('Enter');
  await expect(page.getByTestId('pending-key')).toContainText('No copy saved yet');
  await page.getByRole('button', { name: 'Done without a copy' }).click();
  await expect(page.getByTestId('key-copies')).toHaveText(/^Only in this browser/);

  // A name already used is refused with the catalogued error.
  await page.getByLabel('Key name').fill('lonely-key');
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  await expect(page.getByTestId('generate-error')).toHaveAttribute('data-code', 'KEY_NAME_INVALID');

  await page.getByRole('button', { name: 'Delete key lonely-key' }).click();
  const dialog = page.getByTestId('delete-dialog');
  await expect(dialog).toContainText('This is the only copy of “lonely-key”');
  await expect(dialog).toContainText('Every object encrypted with it becomes unreadable');
  await expect(dialog.getByRole('button', { name: 'Keep the key' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('vault-key')).toHaveCount(1);
  await page.getByRole('button', { name: 'Delete key lonely-key' }).click();
  await dialog.getByRole('button', { name: 'Delete the only copy' }).click();
  await expect(page.getByTestId('vault-empty')).toBeVisible();
  await context.close();
});

test('HSM key labels need a user sign-in; KMS aliases show with their state', async ({ page }) => {
  await openKeys(page);
  await expect(page.getByTestId('hsm-sign-in-needed')).toContainText('needs a user sign-in');
  await expect(page.getByTestId('kms-credentials-needed')).toBeVisible();

  await nav(page, 'Settings').click();
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toBeVisible();
  await nav(page, 'Keys').click();
  const alias = page.getByTestId('kms-alias-row').filter({ hasText: 'alias/veil-demo' });
  await expect(alias.getByTestId('kms-alias-state')).toHaveText('Enabled');
  await expect(alias).toContainText('Model C default');
  // A guest has no ID token for the proxy.
  await expect(page.getByTestId('hsm-sign-in-needed')).toBeVisible();

  await nav(page, 'Settings').click();
  await page.getByRole('button', { name: 'Switch' }).click();
  const form = page.getByRole('form', { name: 'Sign in with user name and password' });
  await form.getByLabel('User name').fill('demo');
  await form.getByLabel('Password').fill('Veil-demo-2026');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('Signed in as demo');
  await nav(page, 'Keys').click();
  await expect(page.getByTestId('hsm-labels')).toContainText(process.env.VEIL_HSM_KEY_LABEL ?? '');
  await expect(page.getByTestId('hsm-labels')).toContainText('Model B default');
});

test('a file uploaded with a new key opens in a fresh browser after importing the key backup', async ({
  browser,
}) => {
  const folder = `keys-flow-${Date.now().toString(36)}`;
  const secret = Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 31 + (i >> 9)) & 0xff));
  // First browser: connect, create the key and its backup, upload under Model A.
  const first = await freshContext(browser);
  const page = await first.newPage();
  await page.goto(`${appUrl()}#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toBeVisible();
  await nav(page, 'Keys').click();
  await page.getByLabel('Key name').fill('flow-key');
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  const pending = page.getByTestId('pending-key');
  const fingerprint = (await page.getByTestId('pending-fingerprint').textContent()) ?? '';
  await pending.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await pending.getByLabel('Repeat the passphrase').fill(PASSPHRASE);
  const backup = await download(page, () => page.getByTestId('save-backup').click());
  await page.getByTestId('pending-done').click();

  await nav(page, 'Upload').click();
  await page.getByTestId('mode-A').check();
  await expect(page.getByTestId('mode-A-key')).toContainText('flow-key');
  await page.getByLabel(/Destination folder/).fill(`/${folder}/`);
  await page.getByTestId('file-input').setInputFiles({
    name: 'secret.bin',
    mimeType: 'application/octet-stream',
    buffer: secret,
  });
  await expect(
    page.locator('[data-testid="upload-row"][data-path="secret.bin"][data-phase="done"]'),
  ).toHaveCount(1, { timeout: 30_000 });
  await first.close();

  // A fresh browser: nothing in its vault until the backup is imported.
  const second = await freshContext(browser);
  const other = await second.newPage();
  await openKeys(other);
  await other.getByTestId('import-file').setInputFiles({
    name: backup.name,
    mimeType: 'application/jose',
    buffer: Buffer.from(backup.text),
  });
  await other.getByTestId('import-passphrase').fill(PASSPHRASE);
  await other.getByTestId('import-backup').click();
  await other.getByTestId('pending-done').click();
  await expect(other.getByTestId('vault-key').getByTestId('key-fingerprint')).toHaveText(
    fingerprint,
  );
  await nav(other, 'Settings').click();
  await other.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(other.getByTestId('identity-id')).toBeVisible();
  await other.goto(`${appUrl()}#/files/${folder}/`);
  const fileRow = other.locator('[data-testid="row"][data-name="secret.bin"]');
  await expect(fileRow.getByTestId('badge')).toHaveText('Model A · your key');
  const saved = await download(other, () =>
    fileRow.getByRole('button', { name: 'Download secret.bin' }).click(),
  );
  expect(saved.name).toBe('secret.bin');
  await second.close();
  expect(saved.bytes.equals(secret)).toBe(true);
});
