/**
 * The vault's lock in Chromium: set a lock, keep a key under it, upload with it, lock, unlock,
 * export the key later to a key file that client-node opens the uploaded object with; add a
 * passkey with Chromium's virtual authenticator (CDP WebAuthn, `hasPrf: true`) and unlock with
 * it. The attacks: a locked vault gives no key to an upload; a wrong passphrase and another
 * authenticator's passkey do not unlock; a tampered entry in IndexedDB is refused with a clear
 * error and not used. With Playwright's clock: an export after the 2 minutes of a fresh unlock
 * asks the user to confirm again, and the vault locks after its idle time.
 *
 * WebAuthn refuses an IP address as relying party (SecurityError), so these tests open the app
 * at http://localhost:<port> (a secure context, like 127.0.0.1): the app's own origin in the
 * served Content-Security-Policy is rewritten to that name (nothing else in it changes). The
 * stack trusts only the 127.0.0.1 origin (CORS), so the passkey test uses no AWS service; the
 * test that uploads runs at 127.0.0.1 with the passphrase.
 */
import { buildClient, CommitmentPolicy } from '@aws-crypto/client-node';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  expect,
  test,
  type Browser,
  type BrowserContext,
  type CDPSession,
  type Page,
} from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKeyFile } from '../../src/core/key-file';
import { seriousViolations } from './support/axe';
import { theirs } from './support/rewrap-checks';
import { env, row } from './support/upload-ui';

const PASSPHRASE = 'granite willow ferry lantern';
const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

let work: string;
let s3: S3Client;

/** The app's URL with localhost for 127.0.0.1 (see the header). */
const appUrl = (): string => env('VEIL_APP_URL').replace('//127.0.0.1:', '//localhost:');

test.beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'veil-vault-lock-'));
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL,
  });
});
test.afterAll(async () => {
  s3?.destroy();
  await rm(work, { recursive: true, force: true });
});

async function connectGuest(page: Page, url: string): Promise<void> {
  await page.goto(`${url}#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

/** A virtual platform authenticator with user verification and PRF, as a passkey provider. */
async function addAuthenticator(cdp: CDPSession): Promise<string> {
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      hasPrf: true,
    },
  });
  return authenticatorId;
}

/** A context for the app at localhost: its CSP names the app by that origin (see the header). */
async function localhostContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({ acceptDownloads: true });
  const ip = new URL(env('VEIL_APP_URL')).origin;
  const named = new URL(appUrl()).origin;
  await context.route(`${named}/**`, async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    const csp = headers['content-security-policy'];
    if (csp !== undefined) headers['content-security-policy'] = csp.replaceAll(ip, named);
    await route.fulfill({ response, headers });
  });
  await noSavePicker(context);
  return context;
}

async function noSavePicker(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
}

const lockStatus = (page: Page) => page.getByTestId('vault-lock');

async function setLock(page: Page): Promise<void> {
  await page.getByTestId('lock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('lock-repeat').fill(PASSPHRASE);
  await page.getByTestId('lock-set').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked', { timeout: 15_000 });
}

async function generate(page: Page, name: string): Promise<string> {
  await page.getByTestId('new-key-name').fill(name);
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('pending-key')).toBeVisible();
  const fingerprint = (await page.getByTestId('pending-fingerprint').textContent()) ?? '';
  await page.getByTestId('pending-done').click();
  return fingerprint;
}

/** The stored vault entry of `keyName` as IndexedDB holds it: which fields, and the sealed bytes. */
function storedEntry(page: Page, keyName: string) {
  return page.evaluate(async (name) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('veil-vault');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('open'));
    });
    const value = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const get = db.transaction('keys').objectStore('keys').get(name);
      get.onsuccess = () => resolve(get.result as Record<string, unknown>);
      get.onerror = () => reject(get.error ?? new Error('get'));
    });
    db.close();
    const sealed = value.sealed as { ciphertext: Uint8Array } | undefined;
    return {
      fields: Object.keys(value).sort(),
      hasCryptoKey: Object.values(value).some((v) => v instanceof CryptoKey),
      ciphertext: sealed ? Array.from(sealed.ciphertext) : [],
    };
  }, keyName);
}

/** Flips one bit of the sealed bytes of `keyName` in IndexedDB, as someone with disk access might. */
function tamperEntry(page: Page, keyName: string): Promise<void> {
  return page.evaluate(async (name) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('veil-vault');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('open'));
    });
    await new Promise<void>((resolve, reject) => {
      const store = db.transaction('keys', 'readwrite').objectStore('keys');
      const get = store.get(name);
      get.onsuccess = () => {
        const value = get.result as { sealed: { iv: Uint8Array; ciphertext: Uint8Array } };
        const ciphertext = value.sealed.ciphertext.slice();
        ciphertext[5] = (ciphertext[5] ?? 0) ^ 0x01;
        const put = store.put({ ...value, sealed: { ...value.sealed, ciphertext } }, name);
        put.onsuccess = () => resolve();
        put.onerror = () => reject(put.error ?? new Error('put'));
      };
      get.onerror = () => reject(get.error ?? new Error('get'));
    });
    db.close();
  }, keyName);
}

const fingerprintOf = (keyBytes: Uint8Array): string =>
  (
    createHash('sha256')
      .update(Buffer.concat([Buffer.from('veil key fingerprint v1\0'), keyBytes]))
      .digest('hex')
      .slice(0, 16)
      .match(/.{4}/g) ?? []
  ).join(' ');

test('a locked vault gives no key to an upload; export later opens the upload with client-node; a wrong passphrase and a tampered entry are refused', async ({
  browser,
}) => {
  test.setTimeout(180_000);
  const context = await browser.newContext({ acceptDownloads: true });
  await noSavePicker(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await connectGuest(page, env('VEIL_APP_URL'));
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'none');
  expect(await seriousViolations(page, 'keys without a lock')).toEqual([]);
  await setLock(page);
  const fingerprint = await generate(page, 'locked-key');
  const keyRow = page.locator('[data-testid="vault-key"][data-key-name="locked-key"]');
  await expect(keyRow.getByTestId('key-lock')).toHaveText('under the lock');
  // Stored sealed: no CryptoKey, only ciphertext, in IndexedDB.
  const stored = await storedEntry(page, 'locked-key');
  expect(stored.fields).toEqual(['info', 'sealed']);
  expect(stored.hasCryptoKey).toBe(false);

  // Upload one file under the key while unlocked.
  const plain = new TextEncoder().encode('Under the lock, byte for byte.\n'.repeat(50));
  const file = join(work, 'locked.txt');
  await writeFile(file, plain);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-A').check();
  await expect(page.getByTestId('mode-A-key')).toContainText('locked-key');
  await page.getByLabel(/Destination folder/).fill('lock-test');
  await page.getByTestId('file-input').setInputFiles(file);
  await expect(row(page, 'locked.txt')).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });

  // Lock on demand. Attack: a locked vault gives no key to an upload.
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await page.getByTestId('lock-now').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');
  await expect(keyRow.getByTestId('key-lock')).toHaveText('locked');
  expect(await seriousViolations(page, 'keys locked')).toEqual([]);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-A').check();
  const second = join(work, 'second.txt');
  await writeFile(second, plain);
  await page.getByTestId('file-input').setInputFiles(second);
  // The upload asks for the unlock where the user is; cancelled, nothing is uploaded.
  await expect(page.getByTestId('unlock-prompt')).toBeVisible({ timeout: 15_000 });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('unlock-prompt')).toBeHidden();
  await expect(page.locator('[data-code="VAULT_UNLOCK_CANCELLED"]').first()).toBeVisible();
  await expect(row(page, 'second.txt')).toHaveCount(0);

  // Attack: a wrong passphrase does not unlock (typed, then Enter).
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await page.getByTestId('unlock-passphrase').fill(`${PASSPHRASE}x`);
  await page.getByTestId('unlock-passphrase').press('Enter');
  await expect(page.getByTestId('lock-error')).toHaveAttribute('data-code', 'VAULT_UNLOCK_FAILED', {
    timeout: 15_000,
  });
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');

  // Unlock; the unlock is fresh, so the key can be exported at once.
  await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-passphrase').press('Enter');
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked', { timeout: 15_000 });
  expect(await seriousViolations(page, 'keys unlocked')).toEqual([]);
  await keyRow.getByTestId('export-key').click();
  await expect(page.getByTestId('pending-key')).toContainText('ready to export');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('save-key-file').click(),
  ]);
  const material = parseKeyFile(await readFile(await download.path(), 'utf8'));
  expect(material.keyName).toBe('locked-key');
  expect(fingerprintOf(material.keyBytes)).toBe(fingerprint);
  const sealedHex = Buffer.from(stored.ciphertext).toString('hex');
  expect(sealedHex).not.toContain(Buffer.from(material.keyBytes).toString('hex'));
  await page.getByTestId('pending-done').click();

  // The exported key file opens the object the app uploaded, with the official ESDK.
  const reply = await s3.send(
    new GetObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: 'lock-test/locked.txt' }),
  );
  const body = await reply.Body!.transformToByteArray();
  const { plaintext } = await peer.decrypt(theirs(material), body);
  expect(Buffer.compare(plaintext, plain)).toBe(0);

  // Attack: a tampered entry is refused on unlock, named, and not used.
  await tamperEntry(page, 'locked-key');
  await page.reload();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');
  await page.getByTestId('unlock-passphrase').fill(PASSPHRASE);
  await page.getByTestId('unlock-submit').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked', { timeout: 15_000 });
  await expect(page.getByTestId('lock-refused')).toHaveAttribute(
    'data-code',
    'VAULT_ENTRY_TAMPERED',
  );
  await expect(page.getByTestId('lock-refused')).toContainText('locked-key');
  // Shown as refused, with no export: only Delete.
  await expect(keyRow.getByTestId('key-refused')).toHaveText('refused');
  await expect(keyRow.getByTestId('export-key')).toHaveCount(0);
  await expect(page.getByTestId('pending-key')).toHaveCount(0);
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: test.info().outputPath('vault-lock-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: test.info().outputPath('vault-lock-desktop.png'), fullPage: true });
  expect(errors).toEqual([]);
  await context.close();
});

test('a passkey (virtual authenticator with PRF) unlocks the vault; another authenticator does not', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const context = await localhostContext(browser);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const cdp = await context.newCDPSession(page);
  const authenticatorA = await addAuthenticator(cdp);
  await page.goto(`${appUrl()}#/keys`);
  await setLock(page);
  await generate(page, 'passkey-key');
  const keyRow = page.locator('[data-testid="vault-key"][data-key-name="passkey-key"]');

  // Add a passkey, proved by the passphrase.
  await page.getByTestId('add-passkey-open').click();
  await page.getByTestId('passkey-label').fill('Laptop');
  await page.getByTestId('add-passkey-passphrase').fill(PASSPHRASE);
  await page.getByTestId('add-passkey-submit').click();
  await expect(page.locator('[data-testid="lock-method"][data-kind="passkey"]')).toContainText(
    'Laptop',
    { timeout: 15_000 },
  );
  expect(await seriousViolations(page, 'keys with a passkey')).toEqual([]);

  // A new page starts locked; the passkey unlocks it.
  await page.reload();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');
  await expect(keyRow.getByTestId('key-lock')).toHaveText('locked');
  await page.getByTestId('unlock-passkey').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked', { timeout: 15_000 });
  await expect(keyRow.getByTestId('key-lock')).toHaveText('under the lock');
  await page.getByTestId('lock-now').click();
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');

  // Attack: another authenticator's passkey does not unlock.
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: authenticatorA });
  await addAuthenticator(cdp);
  await page.getByTestId('unlock-passkey').click();
  await expect(page.getByTestId('lock-error')).toHaveAttribute('data-code', 'PASSKEY_CANCELLED', {
    timeout: 15_000,
  });
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');
  await page.screenshot({ path: test.info().outputPath('vault-passkey.png'), fullPage: true });
  expect(errors).toEqual([]);
  await context.close();
});

test('an export after the fresh-unlock window asks to confirm again; the vault locks when idle', async ({
  browser,
}) => {
  test.setTimeout(120_000);
  const context = await localhostContext(browser);
  const page = await context.newPage();
  await page.clock.install();
  await page.goto(`${appUrl()}#/keys`);
  await expect(page.getByRole('heading', { name: 'Keys', level: 1 })).toBeVisible();
  await setLock(page);
  await generate(page, 'idle-key');
  const keyRow = page.locator('[data-testid="vault-key"][data-key-name="idle-key"]');

  // Past 2 minutes since the unlock: the export asks for the passphrase first.
  await page.clock.fastForward('02:01');
  await keyRow.getByTestId('export-key').click();
  await expect(page.getByTestId('export-reauth')).toBeVisible();
  await expect(page.getByTestId('pending-key')).toHaveCount(0);
  await page.getByTestId('export-passphrase').fill('not the passphrase at all');
  await page.getByTestId('export-submit').click();
  await expect(page.getByTestId('export-error')).toHaveAttribute(
    'data-code',
    'VAULT_UNLOCK_FAILED',
    {
      timeout: 15_000,
    },
  );
  await expect(page.getByTestId('pending-key')).toHaveCount(0);
  await page.getByTestId('export-passphrase').fill(PASSPHRASE);
  await page.getByTestId('export-submit').click();
  await expect(page.getByTestId('pending-key')).toContainText('ready to export', {
    timeout: 15_000,
  });
  await page.getByTestId('pending-done').click();

  // No activity for the idle time (15 minutes by default): the vault locks itself.
  await page.clock.fastForward('14:00');
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'unlocked');
  await page.clock.fastForward('01:01');
  await expect(lockStatus(page)).toHaveAttribute('data-status', 'locked');
  await expect(keyRow.getByTestId('key-lock')).toHaveText('locked');
  await context.close();
});
