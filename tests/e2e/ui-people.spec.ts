/**
 * Sharing with a person in Chromium against the local stack: two browser contexts are two users
 * of one bucket (each a guest with identity-pool credentials), in a location of its own with
 * private names (config.json rewritten for the page).
 *
 * - Bea sets a vault lock (passphrase), then creates a key pair in Keys (its backup is saved): it
 *   is stored sealed under the lock, with no CryptoKey in IndexedDB. She publishes her public key.
 * - Al creates his key pair before setting a lock; Keys says it is not under the lock, and he puts
 *   it under the lock with its backup passphrase. His page reloads (locked): sharing needs only
 *   public keys and still works. He uploads a file (Model C), opens "Share <name> with a person", sees
 *   Bea with the fingerprint Bea's page shows, confirms it and shares.
 * - Bea sees the file under "Shared with me" in Files, with Al as the sharer, and downloads it
 *   byte-identically: opened with her private key through the normal download path. After "Lock
 *   now" the list is gone and reading it fails VAULT_LOCKED; after unlocking, the file opens again.
 *   A plain CryptoKey pair planted in IndexedDB in place of the sealed one is refused after a
 *   reload (VAULT_ENTRY_TAMPERED) and can be removed.
 * - The storage adversary swaps Bea's directory entry: her object is overwritten with another
 *   key's entry (refused: its fingerprint is not its object's), and that key is published under
 *   the name Bea. Al's app flags Bea's key as changed and keeps Share disabled until Al confirms
 *   the change itself, not just a fingerprint.
 * - Wire audit: no request either page sent (its URL, headers, and body where the browser exposes
 *   it) holds the file's clear name; Blob bodies (uploads, the inbox note) are not exposed to
 *   request events, and they are ESDK ciphertext.
 *
 * Not claimed: moto enforces no IAM, so nothing here shows who a policy would let read what.
 */
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test, type Browser, type Page, type Request } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../../src/keyrings/rsa-keys';
import { entryKey, peopleRoot, serializeEntry } from '../../src/transfer/people-directory';
import { rowAction } from './support/row-menu';
import { env } from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const TOKEN = randomBytes(5).toString('hex');
const ROOT = `people-${randomBytes(3).toString('hex')}/`;
const FILE_NAME = `budget-${TOKEN}.bin`;
const CONTENT = new Uint8Array(randomBytes(200_000));
const PASSPHRASE = 'orbit lantern cactus mosaic';
const LOCK_PASSPHRASE = 'granite willow ferry lantern';

let s3: S3Client;
let bucket: string;
let work: string;
let baseConfig: Record<string, unknown>;

test.beforeAll(async () => {
  bucket = env('VEIL_BUCKET');
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL,
  });
  work = await mkdtemp(join(tmpdir(), 'veil-people-e2e-'));
  baseConfig = (await (await fetch(new URL('config.json', env('VEIL_APP_URL')))).json()) as Record<
    string,
    unknown
  >;
});

test.afterAll(async () => {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: ROOT }));
  const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key ?? '' }));
  if (keys.length > 0) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  s3?.destroy();
  await rm(work, { recursive: true, force: true });
});

interface User {
  page: Page;
  /** Uncaught errors of the page. */
  errors: string[];
  seen: Promise<{ target: string; headers: string; body: Buffer }>[];
}

/** A user: a context with this spec's config.json and no save picker, recording requests. */
async function user(browser: Browser): Promise<User> {
  const context = await browser.newContext({ acceptDownloads: true });
  const seen: User['seen'] = [];
  context.on('request', (request: Request) => {
    seen.push(
      (async () => ({
        target: request.url(),
        headers: JSON.stringify(await request.allHeaders().catch(() => request.headers())),
        body: request.postDataBuffer() ?? Buffer.alloc(0),
      }))(),
    );
  });
  await context.route('**/config.json', (route) =>
    route.fulfill({ json: { ...baseConfig, prefix: ROOT, privateNames: true } }),
  );
  await context.addInitScript(() => {
    delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  return { page, seen, errors };
}

/** Goes to a page by its link (no reload: an unlocked vault stays unlocked). */
async function open(page: Page, link: 'Keys' | 'Files'): Promise<void> {
  await page.getByRole('link', { name: link, exact: true }).click();
}

/** Sets a vault lock with the passphrase on Keys; the vault is unlocked after. */
async function setLock(page: Page): Promise<void> {
  await open(page, 'Keys');
  await page.getByTestId('lock-passphrase').fill(LOCK_PASSPHRASE);
  await page.getByTestId('lock-repeat').fill(LOCK_PASSPHRASE);
  await page.getByTestId('lock-set').click();
  await expect(page.getByTestId('vault-lock')).toHaveAttribute('data-status', 'unlocked', {
    timeout: 15_000,
  });
}

/** What IndexedDB holds of the key pair: its fields, whether any is a CryptoKey, the mark. */
function storedPair(page: Page) {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('veil-people');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('open'));
    });
    const read = (slot: string) =>
      new Promise<unknown>((resolve, reject) => {
        const get = db.transaction('key-pair').objectStore('key-pair').get(slot);
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => reject(get.error ?? new Error('get'));
      });
    const value = (await read('mine')) as Record<string, unknown>;
    const mark = await read('sealed-mark');
    db.close();
    return {
      fields: Object.keys(value).sort(),
      hasCryptoKey: Object.values(value).some((v) => v instanceof CryptoKey),
      mark: typeof mark === 'string' ? mark : undefined,
    };
  });
}

/** Replaces the stored pair with a plain, non-extractable CryptoKey pair of another key. */
function plantPlainPair(page: Page): Promise<void> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open('veil-people');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('open'));
    });
    const pair = await crypto.subtle.generateKey(
      {
        name: 'RSA-OAEP',
        hash: 'SHA-256',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
      },
      false,
      ['encrypt', 'decrypt'],
    );
    await new Promise<void>((resolve, reject) => {
      const store = db.transaction('key-pair', 'readwrite').objectStore('key-pair');
      const get = store.get('mine');
      get.onsuccess = () => {
        const value = get.result as { info: Record<string, unknown> };
        const info = { ...value.info, underLock: false };
        const put = store.put({ info, privateKey: pair.privateKey, backup: 'x' }, 'mine');
        put.onsuccess = () => resolve();
        put.onerror = () => reject(put.error ?? new Error('put'));
      };
      get.onerror = () => reject(get.error ?? new Error('get'));
    });
    db.close();
  });
}

/** Creates the user's key pair in Keys (catching the backup download); returns the fingerprint. */
async function createKeyPair(page: Page, name: string): Promise<string> {
  await open(page, 'Keys');
  const pair = page.getByTestId('key-pair');
  await pair.getByLabel('Your name, as others will see it').fill(name);
  await pair.getByLabel('Passphrase for the backup').fill(PASSPHRASE);
  await pair.getByLabel('Repeat the backup passphrase').fill(PASSPHRASE);
  const [backup] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    pair.getByTestId('create-key-pair').click(),
  ]);
  expect(backup.suggestedFilename()).toBe(`${name}.keypair.jwe`);
  const fingerprint = (await pair.getByTestId('my-fingerprint').textContent()) ?? '';
  expect(fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){15}$/);
  return fingerprint;
}

/** Opens "Share <file> with a person…" from the file's row menu. */
function openSharePerson(page: Page): Promise<void> {
  return rowAction(page, FILE_NAME, `Share ${FILE_NAME} with a person`);
}

test('Al shares a file with Bea by her public key; Bea downloads it; a swapped key is flagged', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const bea = await user(browser);
  const al = await user(browser);

  // Bea: a vault lock, then a key pair (sealed under it), published.
  await setLock(bea.page);
  const beaFingerprint = await createKeyPair(bea.page, 'Bea');
  const beaProtection = bea.page.getByTestId('key-pair-protection');
  await expect(beaProtection).toHaveAttribute('data-state', 'unlocked');
  const beaStored = await storedPair(bea.page);
  expect(beaStored.fields).toEqual(['info', 'sealed']);
  expect(beaStored.hasCryptoKey).toBe(false);
  expect(beaStored.mark).toBe(beaFingerprint.replaceAll(' ', ''));
  await bea.page.getByTestId('publish-key').click();
  await expect(bea.page.getByTestId('key-pair-status')).toHaveText(/in the people directory/);

  // Al: a key pair of his own (the note says who shared), and a file.
  const alFingerprint = await createKeyPair(al.page, 'Al');
  const alProtection = al.page.getByTestId('key-pair-protection');
  await expect(alProtection).toHaveAttribute('data-state', 'no-lock');
  expect((await storedPair(al.page)).hasCryptoKey).toBe(true);
  // A lock set after the pair: not under it until Al gives the backup passphrase.
  await setLock(al.page);
  await expect(alProtection).toHaveAttribute('data-state', 'before-lock');
  await al.page.getByTestId('seal-pair-passphrase').fill(PASSPHRASE);
  await al.page.getByTestId('seal-pair-submit').click();
  await expect(alProtection).toHaveAttribute('data-state', 'unlocked', { timeout: 15_000 });
  const alStored = await storedPair(al.page);
  expect(alStored.fields).toEqual(['info', 'sealed']);
  expect(alStored.hasCryptoKey).toBe(false);
  const source = join(work, FILE_NAME);
  await writeFile(source, CONTENT);
  await al.page.goto(`${env('VEIL_APP_URL')}#/upload`);
  await al.page.getByTestId('mode-C').check();
  await al.page.getByTestId('file-input').setInputFiles(source);
  await expect(al.page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(1, {
    timeout: 30_000,
  });

  // Al shares it with Bea after seeing her fingerprint.
  await al.page.goto(`${env('VEIL_APP_URL')}#/files`);
  await openSharePerson(al.page);
  const dialog = al.page.getByTestId('share-person-dialog');
  const beaRow = dialog.getByTestId('person').filter({ hasText: 'Bea' });
  // Reading the directory and the file's header takes a few requests.
  await expect(beaRow).toContainText(beaFingerprint, { timeout: 20_000 });
  await expect(beaRow).toHaveAttribute('data-status', 'new');
  await beaRow.getByRole('radio').check();
  const share = dialog.getByTestId('share-person-confirm');
  await expect(share).toBeDisabled();
  await dialog.getByLabel(/I compared the fingerprint with Bea/).check();
  await share.click();
  await expect(dialog.getByTestId('share-person-status')).toHaveText(
    `Shared ${FILE_NAME} with Bea.`,
    { timeout: 30_000 },
  );
  await expect(dialog.getByTestId('with-access')).toContainText('Bea');
  await dialog.getByRole('button', { name: 'Close' }).click();

  // Bea: Shared with me, then the download, byte-identical.
  await open(bea.page, 'Files');
  const item = bea.page.getByTestId('shared-item').filter({ hasText: FILE_NAME });
  await expect(item).toContainText('from Al');
  await expect(item).toContainText(alFingerprint);
  // Notes are not signed: even Al's real note is shown as a claim ([Note: inbox notes are claims]).
  await expect(item.getByTestId('shared-sender')).toContainText('(sender not verified)');
  await expect(bea.page.getByTestId('shared-unverified-why')).toContainText('not signed');
  const [saved] = await Promise.all([
    bea.page.waitForEvent('download', { timeout: 60_000 }),
    item.getByRole('button', { name: `Download ${FILE_NAME} shared with you` }).click(),
  ]);
  expect(saved.suggestedFilename()).toBe(FILE_NAME);
  expect(Buffer.from(await readFile(await saved.path())).equals(Buffer.from(CONTENT))).toBe(true);

  // Lock now: the private key leaves the page; the list goes and reading it says to unlock.
  await open(bea.page, 'Keys');
  await bea.page.getByTestId('lock-now').click();
  await expect(beaProtection).toHaveAttribute('data-state', 'locked');
  await expect(bea.page.getByTestId('my-fingerprint')).toHaveText(beaFingerprint);
  await open(bea.page, 'Files');
  await expect(bea.page.getByTestId('shared-error')).toHaveAttribute('data-code', 'VAULT_LOCKED', {
    timeout: 20_000,
  });
  await expect(bea.page.getByTestId('shared-item')).toHaveCount(0);

  // Unlocked again, the file opens again.
  await open(bea.page, 'Keys');
  await bea.page.getByTestId('unlock-passphrase').fill(LOCK_PASSPHRASE);
  await bea.page.getByTestId('unlock-passphrase').press('Enter');
  await expect(beaProtection).toHaveAttribute('data-state', 'unlocked', { timeout: 15_000 });
  await open(bea.page, 'Files');
  const [again] = await Promise.all([
    bea.page.waitForEvent('download', { timeout: 60_000 }),
    item.getByRole('button', { name: `Download ${FILE_NAME} shared with you` }).click(),
  ]);
  expect(Buffer.from(await readFile(await again.path())).equals(Buffer.from(CONTENT))).toBe(true);

  // The storage adversary swaps Bea's entry for another key.
  const people = peopleRoot(ROOT);
  const beaHex = beaFingerprint.replaceAll(' ', '');
  const mallory = await generateKeyPair();
  const forged = serializeEntry({
    name: 'Bea',
    publicKeySpki: mallory.publicKeySpki,
    fingerprint: mallory.fingerprint,
    created: '',
  });
  for (const key of [entryKey(people, beaHex), entryKey(people, mallory.fingerprint)]) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: forged }));
  }
  await openSharePerson(al.page);
  await expect(dialog.getByTestId('people-refused')).toBeVisible({ timeout: 20_000 });
  const swapped = dialog.getByTestId('person').filter({ hasText: 'Bea' });
  await expect(swapped).toHaveAttribute('data-status', 'changed');
  await swapped.getByRole('radio').check();
  await expect(dialog.getByTestId('person-key-changed')).toContainText('Bea’s public key changed');
  await dialog.getByLabel(/I compared the fingerprint with Bea/).check();
  await expect(share).toBeDisabled();
  await dialog.getByLabel('Bea confirmed the new key to me').check();
  await expect(share).toBeEnabled();
  await dialog.getByRole('button', { name: 'Close' }).click();

  // Someone with access to Bea's storage plants a plain CryptoKey pair where her sealed pair is
  // recorded: after a reload it is refused, named, never used, and can be removed.
  await plantPlainPair(bea.page);
  await bea.page.reload();
  await bea.page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await bea.page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(bea.page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await open(bea.page, 'Keys');
  await expect(beaProtection).toHaveAttribute('data-state', 'tampered');
  await open(bea.page, 'Files');
  await expect(bea.page.getByTestId('shared-error')).toHaveAttribute(
    'data-code',
    'VAULT_ENTRY_TAMPERED',
    { timeout: 20_000 },
  );
  await open(bea.page, 'Keys');
  await bea.page.getByTestId('remove-key-pair').click();
  await expect(bea.page.getByTestId('create-key-pair')).toBeVisible();

  expect([...al.errors, ...bea.errors]).toEqual([]);

  // Wire audit: the clear name is in no request of either user.
  const requests = await Promise.all([...al.seen, ...bea.seen]);
  expect(requests.length).toBeGreaterThan(10);
  const hits = requests.filter(
    (r) =>
      r.target.includes(TOKEN) ||
      decodeURIComponent(r.target).includes(TOKEN) ||
      r.headers.includes(TOKEN) ||
      r.body.includes(Buffer.from(TOKEN)),
  );
  expect(hits.map((r) => r.target)).toEqual([]);
  test.info().annotations.push({
    type: 'wire audit',
    description: `${requests.length} requests searched for the name token, 0 found`,
  });
});
