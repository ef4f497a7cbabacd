/**
 * The vault's lock in Chromium, two more things.
 *
 * Trust: an unsealed key planted in IndexedDB beside a vault with a lock (the exact record the
 * vault writes for a key stored before a lock existed, a non-extractable CryptoKey of the
 * attacker's bytes), as someone with the profile on disk or a script on the origin could, is
 * refused after a reload and an unlock (VAULT_ENTRY_TAMPERED), shown as refused in Keys, and
 * removable; the key stored before the lock was set keeps working ([Note: keys vouched for by
 * the lock] in src/state/keys/vault-vouch.ts).
 *
 * Unlock where the user is ([Note: unlock where the user is] in src/state/keys/unlock-request.ts):
 * with a passphrase lock, after "Lock now", downloading a Model A file opens the unlock dialog;
 * Escape cancels (nothing saved, a calm "Cancelled"), a wrong passphrase is shown in the dialog
 * and the vault stays locked, and the right one lets the download go on to identical bytes; an
 * upload with the locked key asks the same way and goes on. axe runs with the dialog open.
 */
import { expect, test, type Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seriousViolations } from './support/axe';
import { SAVE_PICKER_STUB, savedFile } from './support/saved-file';
import { env, row } from './support/upload-ui';

const PASSPHRASE = 'granite willow ferry lantern';

let work: string;

test.beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'veil-vault-unlock-'));
});
test.afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const lockStatus = (page: Page) => page.getByTestId('vault-lock');
const keyRow = (page: Page, name: string) =>
  page.locator(`[data-testid="vault-key"][data-key-name="${name}"]`);

async function setLock(page: Page): Promise<void> {
  await page.getByTestId('lock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('lock-repeat').fill(PASSPHRASE);
  await page.getByTestId('lock-set').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked', { timeout: 15_000 });
}

async function generate(page: Page, name: string): Promise<void> {
  await page.getByTestId('new-key-name').fill(name);
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('pending-key')).toBeVisible();
  await page.getByTestId('pending-done').click();
  await expect(keyRow(page, name)).toBeVisible();
}

async function unlockOnKeys(page: Page): Promise<void> {
  await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-passphrase').press('Enter');
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked', { timeout: 15_000 });
}

/**
 * Plants, in the vault's IndexedDB store, an unsealed entry named `keyName`: the record the vault
 * writes for a key stored before a lock existed (info and a non-extractable CryptoKey), with a
 * key whose bytes the attacker knows.
 */
function plantKey(page: Page, keyName: string): Promise<void> {
  return page.evaluate(async (name) => {
    const bytes = new Uint8Array(32).fill(0x42);
    const key = await crypto.subtle.importKey('raw', bytes, 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ]);
    const info = {
      keyName: name,
      keyNamespace: 'veil',
      bits: 256,
      fingerprint: '1111 2222 3333 4444',
      createdAtMs: Date.now(),
      copies: { keyFile: true, backup: false },
      sessionOnly: false,
    };
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('veil-vault');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('open'));
    });
    await new Promise<void>((resolve, reject) => {
      const put = db.transaction('keys', 'readwrite').objectStore('keys').put({ info, key }, name);
      put.onsuccess = () => resolve();
      put.onerror = () => reject(put.error ?? new Error('put'));
    });
    db.close();
  }, keyName);
}

/** The names of the vault's IndexedDB entries. */
function storedNames(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('veil-vault');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('open'));
    });
    const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
      const all = db.transaction('keys').objectStore('keys').getAllKeys();
      all.onsuccess = () => resolve(all.result);
      all.onerror = () => reject(all.error ?? new Error('keys'));
    });
    db.close();
    return keys.map(String).sort();
  });
}

test('attack: an unsealed key planted beside a vault with a lock is refused after a reload, shown, and removable', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${env('VEIL_APP_URL')}#/keys`);
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'none');
  // A key stored before the lock, then the lock: the vault vouches for the key.
  await generate(page, 'before-lock');
  await setLock(page);
  await expect(keyRow(page, 'before-lock').getByTestId('key-lock')).toHaveText(
    'stored before the lock',
  );

  await plantKey(page, 'planted');
  await page.reload();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');
  await expect(keyRow(page, 'planted')).toBeVisible();
  await unlockOnKeys(page);
  await expect(page.getByTestId('lock-refused')).toHaveAttribute(
    'data-code',
    'VAULT_ENTRY_TAMPERED',
  );
  await expect(page.getByTestId('lock-refused')).toContainText('planted');
  await expect(page.getByTestId('lock-refused')).toHaveCount(1);
  await expect(keyRow(page, 'planted').getByTestId('key-refused')).toHaveText('refused');
  await expect(keyRow(page, 'planted').getByTestId('key-refused-text')).toBeVisible();
  await expect(keyRow(page, 'planted').getByTestId('rotate-key')).toHaveCount(0);
  await expect(keyRow(page, 'before-lock').getByTestId('key-refused')).toHaveCount(0);
  expect(await seriousViolations(page, 'keys with a refused entry')).toEqual([]);
  await page.screenshot({ path: test.info().outputPath('vault-refused.png'), fullPage: true });

  // Remove it, by keyboard.
  await keyRow(page, 'planted').getByTestId('delete-key').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('delete-dialog')).toBeVisible();
  await page.getByTestId('confirm-delete').focus();
  await page.keyboard.press('Enter');
  await expect(keyRow(page, 'planted')).toHaveCount(0);
  expect(await storedNames(page)).toEqual(['before-lock']);

  // A new page: nothing refused, the vouched key opens.
  await page.reload();
  await unlockOnKeys(page);
  await expect(page.getByTestId('lock-refused')).toHaveCount(0);
  await expect(keyRow(page, 'before-lock').getByTestId('key-refused')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a download that needs the locked vault opens the unlock dialog: Escape cancels, a wrong passphrase stays locked, the right one saves identical bytes', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const context = await browser.newContext();
  await context.addInitScript(SAVE_PICKER_STUB);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await setLock(page);
  await generate(page, 'prompt-key');

  const plain = new TextEncoder().encode('Unlocked where I stand, byte for byte.\n'.repeat(300));
  const digest = createHash('sha256').update(plain).digest('hex');
  const file = join(work, 'prompt.txt');
  await writeFile(file, plain);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-A').check();
  await expect(page.getByTestId('mode-A-key')).toContainText('prompt-key');
  await page.getByLabel(/Destination folder/).fill('unlock-prompt');
  await page.getByTestId('file-input').setInputFiles(file);
  await expect(row(page, 'prompt.txt')).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });

  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await page.getByTestId('lock-now').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');

  await page.goto(`${env('VEIL_APP_URL')}#/files/unlock-prompt/`);
  await expect(page.getByTestId('file-table')).toBeVisible();
  const download = page.getByRole('button', { name: 'Download prompt.txt' });
  const dialog = page.getByTestId('unlock-prompt');
  const item = page.locator('[data-testid="download"][data-name="prompt.txt"]').last();

  // The dialog opens where the user is, with focus in it.
  await download.click();
  await expect(dialog).toBeVisible({ timeout: 15_000 });
  await expect(page.getByTestId('unlock-prompt-passphrase')).toBeFocused();
  await expect(dialog).toHaveAccessibleName('Unlock the vault to go on');
  expect(await seriousViolations(page, 'unlock dialog open')).toEqual([]);
  // Focus stays in the dialog (the page behind it is inert).
  for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
    await page.keyboard.press(key);
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  }
  await page.screenshot({ path: test.info().outputPath('unlock-dialog.png') });

  // Escape: cancelled, nothing saved, no error beyond "cancelled".
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(item.getByTestId('download-state')).toHaveText('Cancelled; nothing was kept');
  await expect(item.getByTestId('download-error')).toHaveCount(0);
  expect((await savedFile(page, 'prompt.txt')).sizeBytes).toBe(-1);

  // A wrong passphrase: a clear error in the dialog, still locked.
  await download.click();
  await expect(dialog).toBeVisible({ timeout: 15_000 });
  await page.getByTestId('unlock-prompt-passphrase').fill(`${PASSPHRASE}x`);
  await page.getByTestId('unlock-prompt-passphrase').press('Enter');
  await expect(page.getByTestId('unlock-prompt-error')).toHaveAttribute(
    'data-code',
    'VAULT_UNLOCK_FAILED',
    { timeout: 15_000 },
  );
  await expect(dialog).toBeVisible();
  expect(await seriousViolations(page, 'unlock dialog with an error')).toEqual([]);

  // The right one: the download goes on by itself, to identical bytes.
  await page.getByTestId('unlock-prompt-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-prompt-submit').click();
  await expect(dialog).toBeHidden({ timeout: 15_000 });
  // The newest download is listed first.
  const last = page.locator('[data-testid="download"][data-name="prompt.txt"]').first();
  await expect(last).toHaveAttribute('data-phase', /done|ready/, { timeout: 30_000 });
  if ((await last.getAttribute('data-phase')) === 'ready') {
    await last.getByTestId('download-save').click();
  }
  await expect(last).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  expect(await savedFile(page, 'prompt.txt')).toEqual({
    sha256: digest,
    sizeBytes: plain.length,
  });
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked');

  // An upload with the locked key asks the same way, and goes on once unlocked.
  await page.getByTestId('lock-now').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-A').check();
  await page.getByLabel(/Destination folder/).fill('unlock-prompt');
  const again = join(work, 'again.txt');
  await writeFile(again, plain);
  await page.getByTestId('file-input').setInputFiles(again);
  await expect(dialog).toBeVisible({ timeout: 15_000 });
  await page.getByTestId('unlock-prompt-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-prompt-passphrase').press('Enter');
  await expect(dialog).toBeHidden({ timeout: 15_000 });
  await expect(row(page, 'again.txt')).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  expect(errors).toEqual([]);
  await context.close();
});
