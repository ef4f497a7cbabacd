/**
 * The Files view in Chromium against the local stack: objects seeded from Node (Model A messages
 * encrypted by the core with a raw AES key and put with Veil's metadata, a plain object, an
 * SSE-S3-only object, ESDK and plain objects without metadata, nested folders) are browsed with
 * their badges, downloaded to disk (the save picker replaced by an origin-private-file stub, as
 * in download.spec.ts, and a Blob download where the picker is absent), opened with a key file
 * picked when the vault lacks it, inspected, and deleted with confirmation; a tampered object
 * fails with FRAME_TAMPERED and leaves nothing saved.
 *
 * moto sends no CORS expose headers on HEAD, so here every badge comes from the ranged-GET
 * fallback ([Note: badges without the body]); the HEAD-only path is covered by unit tests.
 */
import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import type { BrowserContext, Page, Request } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { serializeKeyFile } from '../../src/core/key-file';
import { parseHeaderBytes } from '../../src/core/message';
import { encryptBytes } from '../../src/core/one-shot';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { rowAction, rowMenuButton } from './support/row-menu';
import { SAVE_PICKER_STUB, savedFile } from './support/saved-file';

const KEY_NAME = 'files-team';
const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);
const FRAME = 512 * 1024;
const NO_SAVE_PICKER = `delete window.showSaveFilePicker;`;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let s3: S3Client;
let bucket: string;
/** This run's folder at the bucket root, so other specs' objects do not matter. */
const top = `files-ui-${randomBytes(4).toString('hex')}`;
const plaintext = new Uint8Array(randomBytes(2 * FRAME + 12_345));
let context: BrowserContext;
/** CSP refusals seen on the page during the whole spec. */
const refused: string[] = [];
let page: Page;

async function put(
  key: string,
  body: Uint8Array,
  extra: { metadata?: Record<string, string>; sse?: 'AES256' } = {},
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(extra.metadata ? { Metadata: extra.metadata } : {}),
      ...(extra.sse ? { ServerSideEncryption: extra.sse } : {}),
    }),
  );
}

async function encrypted(bytes: Uint8Array): Promise<Uint8Array> {
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: KEY_BYTES.slice(),
    keyName: KEY_NAME,
    keyNamespace: 'veil',
  });
  return encryptBytes(bytes, {
    keyring,
    encryptionContext: { 'veil-app': 'veil', 'veil-bucket': bucket },
  });
}

const MODEL_A = { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A' };

async function keysUnder(prefix: string): Promise<string[]> {
  const reply = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (reply.Contents ?? []).map((object) => object.Key ?? '');
}

function row(target: Page, name: string) {
  return target.locator(`[data-testid="row"][data-name="${name}"]`);
}

async function connectAsGuest(target: Page): Promise<void> {
  await target.goto(`${env('VEIL_APP_URL')}#/settings`);
  await target.getByRole('button', { name: /guest/i }).first().click();
  await expect(target.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

async function openFolder(target: Page, path: string): Promise<void> {
  await target.goto(`${env('VEIL_APP_URL')}#/files/${path}`);
  await expect(target.getByTestId('file-table')).toBeVisible();
}

async function screenshots(target: Page, name: string): Promise<void> {
  await target.setViewportSize({ width: 1280, height: 800 });
  await target.screenshot({ path: test.info().outputPath(`${name}-desktop.png`), fullPage: true });
  await target.setViewportSize({ width: 390, height: 844 });
  await target.screenshot({ path: test.info().outputPath(`${name}-phone.png`), fullPage: true });
  await target.setViewportSize({ width: 1280, height: 800 });
}

test.describe.configure({ mode: 'serial', timeout: 60_000 });

test.beforeAll(async ({ browser }) => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  bucket = env('VEIL_BUCKET');
  const message = await encrypted(plaintext);
  const tampered = message.slice();
  const { headerBytes } = parseHeaderBytes(message);
  // A byte inside the second frame's ciphertext (after frame 1: seq, IV, frame, tag).
  tampered[headerBytes + (4 + 12 + FRAME + 16) + 4 + 12 + 100]! ^= 0x01;
  await Promise.all([
    put(`${top}/docs/report.pdf`, message, { metadata: MODEL_A }),
    put(`${top}/docs/notes.txt`, new TextEncoder().encode('plain notes\n'), {
      metadata: { 'veil-format': 'plain' },
    }),
    put(`${top}/sse-only.txt`, new TextEncoder().encode('sse only\n'), {
      metadata: { 'veil-format': 'plain' },
      sse: 'AES256',
    }),
    put(`${top}/foreign.bin`, await encrypted(new Uint8Array(10).fill(4))),
    put(`${top}/raw.bin`, new TextEncoder().encode('no metadata at all')),
    put(`${top}/tampered.bin`, tampered, { metadata: MODEL_A }),
    put(`${top}/nested/deep/leaf.txt`, new TextEncoder().encode('leaf'), {
      metadata: { 'veil-format': 'plain' },
    }),
    put(`${top}/sizes/million.bin`, await encrypted(new Uint8Array(1_000_000)), {
      metadata: MODEL_A,
    }),
    put(`${top}/sizes/plain.bin`, new Uint8Array(1_000_100), {
      metadata: { 'veil-format': 'plain' },
    }),
    put(`${top}/sizes/cut.bin`, (await encrypted(new Uint8Array(1000))).slice(0, -5), {
      metadata: MODEL_A,
    }),
    put(`${top}/trash/a.txt`, new Uint8Array(3), { metadata: { 'veil-format': 'plain' } }),
    put(`${top}/trash/b.txt`, new Uint8Array(4), { metadata: { 'veil-format': 'plain' } }),
    put(`${top}/trash/sub/c.txt`, new Uint8Array(5), { metadata: { 'veil-format': 'plain' } }),
  ]);
  for (let i = 0; i < 102; i += 12) {
    await Promise.all(
      Array.from({ length: Math.min(12, 102 - i) }, (_, j) =>
        put(`${top}/many/item-${String(i + j).padStart(3, '0')}.txt`, new Uint8Array(1)),
      ),
    );
  }
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.addInitScript(SAVE_PICKER_STUB);
  // Chromium reports CSP violations on the console ("Refused to ...").
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/.test(message.text())) refused.push(message.text());
  });
});

test.afterAll(async () => {
  await context?.close();
  const left = await keysUnder(`${top}/`);
  if (left.length > 0) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: left.map((Key) => ({ Key })) },
      }),
    );
  }
  s3?.destroy();
});

test('without credentials Files points to Settings; as a guest it browses folders with badges', async () => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${env('VEIL_APP_URL')}#/files`);
  await expect(page.getByTestId('files-empty')).toContainText('Connect to see your files');
  await expect(
    page.getByTestId('files-empty').getByRole('link', { name: 'Settings' }),
  ).toBeVisible();

  await connectAsGuest(page);
  const probes: string[] = [];
  const onRequest = (request: Request): void => {
    if (request.url().includes(`/${top}/sse-only.txt`)) {
      probes.push(`${request.method()} ${request.headers().range ?? ''}`.trim());
    }
  };
  page.on('request', onRequest);
  await page.getByRole('link', { name: 'Files' }).click();
  await expect(row(page, top)).toBeVisible();
  await row(page, top).getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`#/files/${top}/$`));
  await expect(page.getByTestId('breadcrumbs')).toContainText(top);

  const badges: Record<string, string> = {
    'sse-only.txt': 'SSE-S3 only',
    'foreign.bin': 'Encrypted (ESDK)',
    'raw.bin': 'Not encrypted',
    'tampered.bin': 'Model A · your key',
  };
  for (const [name, label] of Object.entries(badges)) {
    await expect(row(page, name).getByTestId('badge')).toHaveText(label);
  }
  // moto exposes no headers on HEAD, so the badge needed one ranged GET of the first bytes
  // (up to FIRST_HEADER_BYTES, enough for an ESDK header; this object has 9).
  page.off('request', onRequest);
  expect(probes.filter((p) => p !== 'OPTIONS')).toEqual(['HEAD', 'GET bytes=0-8']);
  // Sizes are what the files hold: 10 bytes encrypted into a few hundred stored show as 10 B.
  await expect(row(page, 'foreign.bin').getByTestId('size')).toHaveText('10 B');
  await expect(row(page, 'raw.bin').getByTestId('size')).toHaveText('18 B');
  // Folders first, then files by name; sorting by size puts the largest last.
  const names = () =>
    page.locator('[data-testid="row"]').evaluateAll((rows) => rows.map((r) => r.dataset.name));
  expect(await names()).toEqual([
    'docs',
    'many',
    'nested',
    'sizes',
    'trash',
    'foreign.bin',
    'raw.bin',
    'sse-only.txt',
    'tampered.bin',
  ]);
  await page.getByTestId('sort-size').click();
  expect((await names()).at(-1)).toBe('tampered.bin');
  expect((await names()).slice(0, 5)).toEqual(['docs', 'many', 'nested', 'sizes', 'trash']);
  await page.getByTestId('sort-size').click();
  expect((await names())[5]).toBe('tampered.bin');
  await screenshots(page, 'files-folder');

  // Keyboard: into nested/deep through links, back through the breadcrumbs.
  await row(page, 'nested').getByRole('link').focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`#/files/${top}/nested/$`));
  await row(page, 'deep').getByRole('link').focus();
  await page.keyboard.press('Enter');
  await expect(row(page, 'leaf.txt').getByTestId('badge')).toHaveText('Not encrypted');
  await page.getByTestId('breadcrumbs').getByRole('link', { name: top }).focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`#/files/${top}/$`));

  // Pagination: 102 objects, 100 per page.
  await row(page, 'many').getByRole('link').click();
  await expect(page.locator('[data-testid="row"]')).toHaveCount(100);
  await page.getByTestId('load-more').click();
  await expect(page.locator('[data-testid="row"]')).toHaveCount(102);
  await expect(page.getByTestId('load-more')).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('sizes are plaintext sizes: exact from the header, unknown for a cut object, sorted by them', async () => {
  await openFolder(page, `${top}/sizes/`);
  const stored = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: `${top}/sizes/million.bin` }),
  );
  // The stored object is larger than the file (header, 32 bytes a frame, the final frame's 40).
  expect(stored.ContentLength).toBeGreaterThan(1_000_100);
  const million = row(page, 'million.bin').getByTestId('size');
  await expect(million).toHaveText('977 KiB');
  await expect(million.locator('[title]')).toHaveAttribute('title', /^1\D?000\D?000 bytes$/);
  await expect(row(page, 'plain.bin').getByTestId('size')).toHaveText('977 KiB');
  await expect(row(page, 'cut.bin').getByTestId('size-unknown')).toBeVisible();
  await expect(row(page, 'cut.bin').getByTestId('size-unknown')).toHaveAttribute(
    'title',
    /cut short/,
  );
  // By size: the plaintext 1,000,000 sorts before the plain 1,000,100 although it stores more;
  // the cut object, of unknown size, sorts by what is stored.
  await page.getByTestId('sort-size').click();
  const names = await page
    .locator('[data-testid="row"]')
    .evaluateAll((rows) => rows.map((r) => r.dataset.name));
  expect(names).toEqual(['cut.bin', 'million.bin', 'plain.bin']);
  await page.getByTestId('sort-name').click();
  await screenshots(page, 'files-sizes');
});

test('a Model A object whose key is not in the vault names the key, opens with the key file, and saves identical bytes', async () => {
  await openFolder(page, `${top}/docs/`);
  await expect(row(page, 'report.pdf').getByTestId('badge')).toHaveText('Model A · your key');
  await expect(row(page, 'notes.txt').getByTestId('badge')).toHaveText('Not encrypted');
  await row(page, 'report.pdf').getByRole('button', { name: 'Download report.pdf' }).click();
  const item = page.locator('[data-testid="download"][data-name="report.pdf"]');
  await expect(item).toHaveAttribute('data-phase', 'needs-key');
  await expect(item.getByTestId('download-error')).toHaveAttribute(
    'data-code',
    'NO_KEY_FOR_OBJECT',
  );
  await expect(item.getByTestId('key-advice')).toContainText(`“${KEY_NAME}”`);
  // The key is checked before the save dialog: no file was even created.
  expect((await savedFile(page, 'report.pdf')).sizeBytes).toBe(-1);
  await screenshots(page, 'files-needs-key');

  // A key file with another name is refused and not added.
  const other = serializeKeyFile({
    keyBytes: new Uint8Array(32).fill(1),
    keyName: 'someone-else',
    keyNamespace: 'veil',
  });
  await item.getByTestId('key-file-input').setInputFiles({
    name: 'other.jwk',
    mimeType: 'application/json',
    buffer: Buffer.from(other),
  });
  await expect(item.getByRole('alert').last()).toContainText('someone-else');

  const keyFile = serializeKeyFile({
    keyBytes: KEY_BYTES.slice(),
    keyName: KEY_NAME,
    keyNamespace: 'veil',
  });
  await item.getByLabel('Keep this key in this browser’s vault').check();
  await item.getByTestId('key-file-input').setInputFiles({
    name: `${KEY_NAME}.jwk`,
    mimeType: 'application/json',
    buffer: Buffer.from(keyFile),
  });
  await expect(item).toContainText(`Key “${KEY_NAME}” added to the vault`);
  await item.getByTestId('download-again').click();
  await expect(item).toHaveAttribute('data-phase', 'done');
  await expect(item.getByTestId('download-state')).toHaveText('Decrypted, checked and saved');
  // The phase change is said once in the status region; the list itself is not live.
  await expect(page.getByTestId('files-notice')).toHaveText('report.pdf downloaded.');
  await expect(page.locator('[data-testid="downloads"] ul')).not.toHaveAttribute('aria-live');
  expect(await savedFile(page, 'report.pdf')).toEqual({
    sha256: sha256(plaintext),
    sizeBytes: plaintext.length,
  });
  await screenshots(page, 'files-downloaded');
});

test('without the save picker the object is saved by the browser (Blob download)', async () => {
  const plain = await context.newPage();
  await plain.addInitScript(NO_SAVE_PICKER);
  await connectAsGuest(plain);
  await openFolder(plain, `${top}/docs/`);
  const [download] = await Promise.all([
    plain.waitForEvent('download'),
    row(plain, 'report.pdf').getByRole('button', { name: 'Download report.pdf' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('report.pdf');
  const path = await download.path();
  const { readFile } = await import('node:fs/promises');
  expect(sha256(new Uint8Array(await readFile(path)))).toBe(sha256(plaintext));
  await expect(
    plain.locator(
      '[data-testid="download"][data-name="report.pdf"] [data-testid="download-state"]',
    ),
  ).toHaveText('Decrypted, checked and saved');
  await plain.close();
});

test('details show the suite, the key and the encryption context; plain objects say so', async () => {
  await openFolder(page, `${top}/docs/`);
  await rowAction(page, 'report.pdf', 'Details of report.pdf');
  const dialog = page.getByTestId('details-dialog');
  await expect(dialog.getByTestId('details-suite')).toHaveText(
    '0x0478 · AES-256-GCM, HKDF-SHA512, key commitment',
  );
  await expect(dialog.getByTestId('details-unverified')).toContainText('Not verified yet');
  await expect(dialog.getByTestId('details-keys')).toContainText('Model A · your key');
  await expect(dialog.getByTestId('details-keys')).toContainText(KEY_NAME);
  await expect(dialog.getByTestId('details-context')).toContainText('veil-bucket');
  await expect(dialog.getByTestId('details-context')).toContainText(bucket);
  await expect(dialog.getByTestId('details-facts')).toContainText('512 KiB frames');
  // The file's size (2 frames and 12,345 bytes), then what S3 stores.
  await expect(dialog.getByTestId('details-size')).toHaveText(/^1\.0 MiB \(1\D?060\D?921 bytes\)$/);
  await expect(dialog.getByTestId('details-stored')).toContainText('with the header');
  await screenshots(page, 'files-details');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  // Focus returns to the menu button whose item opened the dialog.
  await expect(rowMenuButton(page, 'report.pdf')).toBeFocused();

  await rowAction(page, 'notes.txt', 'Details of notes.txt');
  await expect(dialog.getByTestId('details-plain')).toContainText('Not encrypted');
  await page.keyboard.press('Escape');
});

test('a tampered object fails with FRAME_TAMPERED and nothing is saved', async () => {
  await openFolder(page, `${top}/`);
  await row(page, 'tampered.bin').getByRole('button', { name: 'Download tampered.bin' }).click();
  const item = page.locator('[data-testid="download"][data-name="tampered.bin"]');
  await expect(item).toHaveAttribute('data-phase', 'failed');
  await expect(item.getByTestId('download-error')).toHaveAttribute('data-code', 'FRAME_TAMPERED');
  expect((await savedFile(page, 'tampered.bin')).sizeBytes).toBe(0);
});

test('cancel stops a download and keeps nothing', async () => {
  await openFolder(page, `${top}/docs/`);
  // Hold the object's GETs so the download is still running when Cancel is pressed.
  let held = 0;
  await page.route(`**/${top}/docs/report.pdf*`, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    held += 1;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await route.continue().catch(() => undefined);
  });
  await page.getByRole('button', { name: 'Clear finished downloads' }).click();
  // The earlier download saved report.pdf: start from no file.
  await page.evaluate(async () =>
    (await navigator.storage.getDirectory()).removeEntry('report.pdf'),
  );
  await row(page, 'report.pdf').getByRole('button', { name: 'Download report.pdf' }).click();
  const item = page.locator('[data-testid="download"][data-name="report.pdf"]');
  await expect(item).toHaveAttribute('data-phase', /opening|downloading/);
  await expect.poll(() => held).toBeGreaterThan(0);
  await item.getByRole('button', { name: 'Cancel' }).click();
  await expect(item).toHaveAttribute('data-phase', 'cancelled');
  await expect(item.getByTestId('download-state')).toHaveText('Cancelled; nothing was kept');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  // Cancelled while the key was being checked, before the save dialog: no file was created.
  expect((await savedFile(page, 'report.pdf')).sizeBytes).toBe(-1);
});

test('a file and a folder are deleted after confirmation', async () => {
  await openFolder(page, `${top}/`);
  await rowAction(page, 'raw.bin', 'Delete raw.bin');
  const dialog = page.getByTestId('delete-dialog');
  await expect(dialog.getByRole('heading')).toHaveText('Delete “raw.bin”?');
  // Focus starts on Cancel; the file and folder texts say the same about versions.
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await expect(dialog).toContainText('if the bucket keeps versions, the old versions remain');
  // Cancel keeps it.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(row(page, 'raw.bin')).toBeVisible();
  await rowAction(page, 'raw.bin', 'Delete raw.bin');
  await dialog.getByTestId('confirm-delete').click();
  await expect(row(page, 'raw.bin')).toHaveCount(0);
  await expect(
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${top}/raw.bin` })),
  ).rejects.toThrow();

  await rowAction(page, 'trash', 'Delete folder trash');
  await expect(dialog.getByRole('heading')).toHaveText('Delete folder “trash”?');
  await expect(dialog.getByTestId('delete-count')).toContainText('3 objects');
  await expect(dialog.getByTestId('delete-count')).toContainText(
    'if the bucket keeps versions, the old versions remain',
  );
  await screenshots(page, 'files-delete-folder');
  await dialog.getByTestId('confirm-delete').click();
  await expect(row(page, 'trash')).toHaveCount(0);
  await expect(page.getByTestId('files-notice')).toHaveText('Deleted folder trash: 3 objects.');
  expect(await keysUnder(`${top}/trash/`)).toEqual([]);
  expect(await keysUnder(`${top}/sse-only.txt`)).toEqual([`${top}/sse-only.txt`]);
  expect(refused).toEqual([]);
});
