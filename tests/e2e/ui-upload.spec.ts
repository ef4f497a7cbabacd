/**
 * The Upload view, driven as a user would in Chromium against the local stack: connect (guest or
 * the demo user), choose the protection, pick a folder, watch the queue; then the objects are
 * read back from moto in Node: keys keep the folder paths, the metadata names format and model,
 * the body is an ESDK message (not the plaintext) that decrypts to the file. Also: names already
 * taken, pause/resume/cancel, resume after a reload with the same file (and a different file
 * refused), S3 only for comparison, and the messages shown when something is missing.
 *
 * Not claimed: moto does not encrypt at rest (SSE is only recorded) and does not check the part
 * checksums sent with Complete.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type Page, type Request } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmsApiFor } from '../../src/aws/clients';
import { encryptFrame } from '../../src/core/frame';
import { openMessageHeader, parseHeaderBytes } from '../../src/core/message';
import { decryptBytes } from '../../src/core/one-shot';
import { frameCount } from '../../src/core/sizes';
import { parseKeyFile } from '../../src/core/key-file';
import { HsmProxyKeyring } from '../../src/keyrings/hsm-proxy';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { KmsKeyring } from '../../src/keyrings/kms';
import {
  MiB,
  PART_TIMEOUT,
  connectGuest,
  env,
  holdParts,
  openApp,
  row,
  storedRecords,
  uploadedValue,
} from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const ESDK_START = [0x02, 0x04, 0x78];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let s3: S3Client;
let kms: KMSClient;
let work: string;

test.beforeAll(async () => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL,
  });
  kms = new KMSClient({ region: 'us-east-1', endpoint: env('VEIL_MOTO_URL'), credentials: LOCAL });
  work = await mkdtemp(join(tmpdir(), 'veil-ui-upload-'));
});

test.afterAll(async () => {
  s3?.destroy();
  kms?.destroy();
  await rm(work, { recursive: true, force: true });
});

/** Writes `files` (relative path → bytes) under a new folder named `name`; returns its path. */
async function folder(name: string, files: Record<string, Uint8Array>): Promise<string> {
  const root = join(work, `${name}-${Date.now().toString(36)}`, name);
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
  return root;
}

async function getObject(key: string): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: key }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

async function head(key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: key }));
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: env('VEIL_BUCKET'), Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

async function openUploads(prefix: string): Promise<number> {
  const listed = await s3.send(
    new ListMultipartUploadsCommand({ Bucket: env('VEIL_BUCKET'), Prefix: prefix }),
  );
  return listed.Uploads?.length ?? 0;
}

const kmsKeyring = (): KmsKeyring =>
  new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });

/** Checks an object is an ESDK message of `model` that `keyring` opens to `plain`. */
async function expectEncryptedObject(
  key: string,
  model: 'A' | 'B' | 'C',
  plain: Uint8Array,
  keyring: KmsKeyring | HsmProxyKeyring | RawAesKeyring,
): Promise<void> {
  const meta = await head(key);
  expect(meta.ContentType).toBe('application/octet-stream');
  expect(meta.Metadata).toEqual({ 'veil-format': 'esdk-v2-0478-framed', 'veil-model': model });
  const body = await getObject(key);
  expect([...body.subarray(0, 3)]).toEqual(ESDK_START);
  if (plain.length >= 16)
    expect(Buffer.from(body).includes(Buffer.from(plain.subarray(0, 16)))).toBe(false);
  const opened = await decryptBytes(body, { keyring });
  expect(Buffer.compare(opened, plain)).toBe(0);
}

async function signInDemo(page: Page): Promise<void> {
  await openApp(page, 'settings');
  const form = page.getByRole('form', { name: 'Sign in with user name and password' });
  await form.getByLabel('User name').fill('demo');
  await form.getByLabel('Password').fill('Veil-demo-2026');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('Signed in as demo');
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
}

async function expectAllDone(page: Page, count: number): Promise<void> {
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(count, {
    timeout: 30_000,
  });
}

/** Counts UploadPart requests as they start. */
function watchParts(page: Page): { readonly started: number[]; stop(): void } {
  const started: number[] = [];
  const onRequest = (request: Request): void => {
    const part = new URL(request.url()).searchParams.get('partNumber');
    if (request.method() === 'PUT' && part) started.push(Number(part));
  };
  page.on('request', onRequest);
  return { started, stop: () => page.off('request', onRequest) };
}

async function shoot(page: Page, name: string, size: { width: number; height: number }) {
  await page.setViewportSize(size);
  await page.screenshot({ path: test.info().outputPath(name), fullPage: true });
}

test('without credentials the view says to connect in Settings and cannot take files', async ({
  page,
}) => {
  await openApp(page);
  const connect = page.getByTestId('upload-connect');
  await expect(connect).toContainText('Uploads need AWS credentials');
  await expect(connect.getByRole('link', { name: 'Connect in Settings' })).toHaveAttribute(
    'href',
    '#/settings',
  );
  await expect(page.getByRole('button', { name: 'Choose files' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Choose a folder' })).toBeDisabled();
});

test('Model C as a guest: a folder keeps its paths under the destination folder', async ({
  page,
}) => {
  const files = {
    'notes.txt': new TextEncoder().encode('Meeting notes: nothing secret, or is it?\n'.repeat(50)),
    'photos/2026/a.bin': new Uint8Array(randomBytes(300_000)),
    'photos/empty.bin': new Uint8Array(0),
  };
  const dir = await folder('album', files);
  await connectGuest(page);
  // Model B needs a user sign-in: said next to the option, with the way to Settings.
  await expect(page.getByTestId('mode-B-missing')).toContainText('Needs a user sign-in');
  await expect(page.getByTestId('mode-B-missing').getByRole('link')).toHaveAttribute(
    'href',
    '#/settings',
  );
  await page.getByTestId('mode-C').check();
  await expect(page.getByTestId('mode-C-key')).toContainText('alias/veil-demo');
  await expect(page.getByTestId('protection-statement')).toContainText('AWS KMS');
  await page.getByLabel(/Destination folder/).fill('/team/c-test/');
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expectAllDone(page, 3);
  await expect(page.getByTestId('queue-summary')).toContainText('3 of 3 files uploaded');
  await expect(row(page, 'album/notes.txt').getByTestId('row-statement')).toContainText(
    'Encrypted in this browser under a data key wrapped by AWS KMS',
  );
  await expect(page.getByTestId('upload-announcement')).toContainText('uploaded');

  expect(await keysUnder('team/c-test/')).toEqual([
    'team/c-test/album/notes.txt',
    'team/c-test/album/photos/2026/a.bin',
    'team/c-test/album/photos/empty.bin',
  ]);
  for (const [path, bytes] of Object.entries(files)) {
    await expectEncryptedObject(`team/c-test/album/${path}`, 'C', bytes, kmsKeyring());
  }
  await shoot(page, 'upload-finished-desktop.png', DESKTOP);
  await shoot(page, 'upload-finished-phone.png', PHONE);
});

test('Model A with a key generated in Keys: the objects open with its key file', async ({
  page,
}) => {
  // Without the save picker the key file is saved as a download, which the test can read.
  await page.addInitScript(() => {
    delete (window as { showSaveFilePicker?: unknown }).showSaveFilePicker;
  });
  const files = {
    'plan.md': new TextEncoder().encode('# Plan\nKeep the key safe.\n'.repeat(40)),
    'data/numbers.bin': new Uint8Array(randomBytes(150_000)),
  };
  const dir = await folder('mine', files);
  await connectGuest(page);
  // No vault key yet: the option says so and links to Keys.
  await expect(page.getByTestId('mode-A-missing')).toContainText('No key');
  await page.getByTestId('mode-A-missing').getByRole('link').click();
  await expect(page).toHaveURL(/#\/keys$/);
  await page.getByTestId('new-key-name').fill('upload-test-key');
  await page.getByTestId('generate-key').click();
  await expect(page.getByTestId('pending-key')).toBeVisible();
  const saved = page.waitForEvent('download');
  await page.getByTestId('save-key-file').click();
  const keyFile = await (await saved).path();
  const material = parseKeyFile(await readFile(keyFile, 'utf8'));
  expect(material.keyName).toBe('upload-test-key');
  const keyring = await RawAesKeyring.fromBytes(material);
  await page.getByTestId('pending-done').click();

  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-A').check();
  await expect(page.getByTestId('mode-A-key')).toContainText('upload-test-key');
  await page.getByLabel(/Destination folder/).fill('a-test');
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expectAllDone(page, 2);
  expect(await keysUnder('a-test/')).toEqual([
    'a-test/mine/data/numbers.bin',
    'a-test/mine/plan.md',
  ]);
  for (const [path, bytes] of Object.entries(files)) {
    await expectEncryptedObject(`a-test/mine/${path}`, 'A', bytes, keyring);
  }
});

test('Model B as the demo user, with SSE-S3 at rest on top', async ({ page }) => {
  const files = {
    'one.txt': new TextEncoder().encode('Model B file one\n'.repeat(100)),
    'deeper/two.bin': new Uint8Array(randomBytes(70_000)),
  };
  const dir = await folder('hsm', files);
  await signInDemo(page);
  await page.getByTestId('mode-B').check();
  await expect(page.getByTestId('mode-B-key')).toContainText(env('VEIL_HSM_KEY_LABEL'));
  await page.getByTestId('sse-layer').selectOption('SSE-S3');
  await expect(page.getByTestId('protection-statement')).toContainText('SSE-S3');
  await page.getByLabel(/Destination folder/).fill('b-test');
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expectAllDone(page, 2);

  expect(await keysUnder('b-test/')).toEqual(['b-test/hsm/deeper/two.bin', 'b-test/hsm/one.txt']);
  const hsm = new HsmProxyKeyring({
    proxyUrl: env('VEIL_HSM_URL'),
    idToken: () => env('VEIL_DEMO_ID_TOKEN'),
  });
  for (const [path, bytes] of Object.entries(files)) {
    await expectEncryptedObject(`b-test/hsm/${path}`, 'B', bytes, hsm);
    // moto records the setting; it does not encrypt anything, and this test claims no more.
    expect((await head(`b-test/hsm/${path}`)).ServerSideEncryption).toBe('AES256');
  }
});

test('S3 only (not zero knowledge) stores the file as it is, with SSE-KMS requested', async ({
  page,
}) => {
  const bytes = new TextEncoder().encode('plain for comparison\n');
  const dir = await folder('plain', { 'p.txt': bytes });
  await connectGuest(page);
  await page.getByTestId('mode-s3-SSE-KMS').check();
  await expect(page.getByTestId('protection-statement')).toContainText('not zero knowledge');
  await page.getByLabel(/Destination folder/).fill('s3-only');
  await page.getByTestId('file-input').setInputFiles(join(dir, 'p.txt'));
  await expectAllDone(page, 1);
  await expect(row(page, 'p.txt')).toContainText('SSE-KMS only');
  const meta = await head('s3-only/p.txt');
  expect(meta.Metadata).toEqual({ 'veil-format': 'plain' });
  expect(meta.ServerSideEncryption).toBe('aws:kms');
  expect(Buffer.compare(await getObject('s3-only/p.txt'), bytes)).toBe(0);
});

test('a taken name asks first: keep both gives "name (1).ext", replace overwrites, skip leaves it', async ({
  page,
}) => {
  const first = await folder('v1', { 'same.txt': new TextEncoder().encode('version 1') });
  const second = await folder('v2', { 'same.txt': new TextEncoder().encode('version 2') });
  const third = await folder('v3', { 'same.txt': new TextEncoder().encode('version 3') });
  await connectGuest(page);
  await page.getByTestId('mode-C').check();
  await page.getByLabel(/Destination folder/).fill('names');
  const input = page.getByTestId('file-input');
  await input.setInputFiles(join(first, 'same.txt'));
  await expectAllDone(page, 1);
  await page.getByRole('button', { name: 'Clear finished' }).click();

  // Keep both.
  await input.setInputFiles(join(second, 'same.txt'));
  await expect(page.getByTestId('conflicts')).toContainText('1 file has the name');
  await expect(row(page, 'same.txt')).toHaveAttribute('data-phase', 'conflict');
  await row(page, 'same.txt').getByRole('button', { name: 'Keep both same.txt' }).click();
  await expectAllDone(page, 1);
  await expect(row(page, 'same.txt').getByTestId('row-key')).toHaveText('names/same (1).txt');
  expect(await keysUnder('names/')).toEqual(['names/same (1).txt', 'names/same.txt']);
  const kmsRing = kmsKeyring();
  expect(
    new TextDecoder().decode(
      await decryptBytes(await getObject('names/same.txt'), { keyring: kmsRing }),
    ),
  ).toBe('version 1');
  expect(
    new TextDecoder().decode(
      await decryptBytes(await getObject('names/same (1).txt'), { keyring: kmsRing }),
    ),
  ).toBe('version 2');
  await page.getByRole('button', { name: 'Clear finished' }).click();

  // Skip, then Replace all.
  await input.setInputFiles(join(third, 'same.txt'));
  await row(page, 'same.txt').getByRole('button', { name: 'Skip same.txt' }).click();
  await expect(row(page, 'same.txt')).toHaveAttribute('data-phase', 'cancelled');
  await expect(row(page, 'same.txt').getByTestId('row-state')).toHaveText('Skipped');
  await page.getByRole('button', { name: 'Clear finished' }).click();
  await input.setInputFiles(join(third, 'same.txt'));
  await page.getByRole('button', { name: 'Replace all' }).click();
  await expectAllDone(page, 1);
  expect(await keysUnder('names/')).toEqual(['names/same (1).txt', 'names/same.txt']);
  expect(
    new TextDecoder().decode(
      await decryptBytes(await getObject('names/same.txt'), { keyring: kmsRing }),
    ),
  ).toBe('version 3');
});

test('pause keeps finished parts and resume sends only the rest; cancel leaves nothing behind', async ({
  page,
}) => {
  // Two parts each: 8 MiB (held) and a small one that goes through.
  const big = new Uint8Array(randomBytes(8 * MiB + 65_536));
  const dir = await folder('control', { 'big.bin': big, 'cancel.bin': big.slice(1000) });
  await connectGuest(page);
  await page.getByTestId('mode-C').check();
  await page.getByLabel(/Destination folder/).fill('control');
  const input = page.getByTestId('file-input');

  const held = await holdParts(page, { 'big.bin': [1] });
  const parts = watchParts(page);
  await input.setInputFiles(join(dir, 'big.bin'));
  await expect.poll(() => uploadedValue(page, 'big.bin'), PART_TIMEOUT).toBeGreaterThan(0);
  await row(page, 'big.bin').getByRole('button', { name: 'Pause big.bin' }).click();
  await expect(row(page, 'big.bin').getByTestId('row-state')).toHaveText('Paused');
  await shoot(page, 'upload-paused-desktop.png', DESKTOP);
  await shoot(page, 'upload-paused-phone.png', PHONE);
  await page.setViewportSize(DESKTOP);
  await held.release();
  const startedWhilePaused = parts.started.length;
  await row(page, 'big.bin').getByRole('button', { name: 'Resume big.bin' }).click();
  await expectAllDone(page, 1);
  parts.stop();
  // Part 2 finished before the pause and was not sent again; part 1 was.
  expect(parts.started.filter((n) => n === 2)).toHaveLength(1);
  expect(parts.started.slice(startedWhilePaused)).toEqual([1]);
  await expectEncryptedObject('control/big.bin', 'C', big, kmsKeyring());

  const heldAgain = await holdParts(page, { 'cancel.bin': [1] });
  await input.setInputFiles(join(dir, 'cancel.bin'));
  await expect.poll(() => uploadedValue(page, 'cancel.bin'), PART_TIMEOUT).toBeGreaterThan(0);
  expect(await openUploads('control/cancel.bin')).toBe(1);
  await row(page, 'cancel.bin').getByRole('button', { name: 'Cancel cancel.bin' }).click();
  await expect(row(page, 'cancel.bin')).toHaveAttribute('data-phase', 'cancelled');
  await heldAgain.release();
  expect(await openUploads('control/cancel.bin')).toBe(0);
  await expect(head('control/cancel.bin')).rejects.toMatchObject({ name: 'NotFound' });
  expect(await storedRecords(page)).toEqual([]);
  await expect(page.getByTestId('upload-announcement')).toContainText('cancel.bin cancelled');
});

test('after a reload unfinished uploads are offered: one is discarded, the other resumes byte-identical, a different file is refused', async ({
  page,
}) => {
  // Three parts: 8 MiB, 8 MiB (both held) and 68 kB (goes through before the reload).
  const sizeBytes = 16 * MiB + 68_000;
  const original = new Uint8Array(randomBytes(sizeBytes));
  // Two parts: 8 MiB (held) and 1000 B.
  const spare = new Uint8Array(randomBytes(8 * MiB + 1000));
  const dir = await folder('reload', { 'movie.bin': original, 'spare.bin': spare });
  const impostor = new Uint8Array(randomBytes(sizeBytes));
  const otherDir = await folder('reload', { 'movie.bin': impostor });
  await connectGuest(page);
  await page.getByTestId('mode-C').check();
  await page.getByLabel(/Destination folder/).fill('reload');

  const held = await holdParts(page, { 'movie.bin': [1, 2], 'spare.bin': [1] });
  await page
    .getByTestId('file-input')
    .setInputFiles([join(dir, 'movie.bin'), join(dir, 'spare.bin')]);
  await expect.poll(() => uploadedValue(page, 'movie.bin'), PART_TIMEOUT).toBeGreaterThan(0);
  await expect.poll(() => uploadedValue(page, 'spare.bin'), PART_TIMEOUT).toBeGreaterThan(0);
  await expect
    .poll(async () => (await storedRecords(page)).sort((a, b) => a.key.localeCompare(b.key)))
    .toEqual([
      { key: 'reload/movie.bin', parts: 1 },
      { key: 'reload/spare.bin', parts: 1 },
    ]);
  // Reload with the big parts still held: the page drops them.
  await page.reload();
  await held.release();

  const entry = page.locator('[data-testid="unfinished-entry"][data-name="movie.bin"]');
  const spareEntry = page.locator('[data-testid="unfinished-entry"][data-name="spare.bin"]');
  await expect(page.getByTestId('unfinished-entry')).toHaveCount(2);
  await expect(entry).toContainText('16.1 MiB');
  await expect(entry).toContainText('1 of 3 parts');
  await expect(entry).toContainText('Model C');
  await expect(spareEntry).toContainText('1 of 2 parts');
  expect(await openUploads('reload/')).toBe(2);
  // Credentials live in memory: the entry says to connect again first.
  await expect(entry.getByTestId('unfinished-block')).toContainText('Connect first');
  await connectGuest(page);
  await expect(entry.getByTestId('unfinished-block')).toHaveCount(0);
  // Discard asks first: Esc keeps the upload and gives focus back to the button.
  const discardButton = spareEntry.getByRole('button', { name: /^Discard/ });
  await discardButton.click();
  const discardDialog = page.getByRole('dialog', { name: /Discard the unfinished upload/ });
  await expect(discardDialog).toContainText('spare.bin');
  await expect(discardDialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(discardDialog).toBeHidden();
  await expect(discardButton).toBeFocused();
  await expect(spareEntry).toHaveCount(1);
  expect(await openUploads('reload/spare.bin')).toBe(1);
  await discardButton.click();
  await discardDialog.getByRole('button', { name: 'Discard upload' }).click();
  await expect(spareEntry).toHaveCount(0);
  expect(await openUploads('reload/spare.bin')).toBe(0);
  expect(await storedRecords(page)).toEqual([{ key: 'reload/movie.bin', parts: 1 }]);
  await expect(page.getByTestId('upload-announcement')).toContainText('Discarded');
  await page.getByTestId('resume-input').setInputFiles(join(otherDir, 'movie.bin'));
  await expect(page.getByTestId('unfinished-error')).toHaveAttribute(
    'data-code',
    'RESUME_FILE_MISMATCH',
  );
  await expect(page.getByTestId('unfinished-error')).toContainText('Pick the same file');

  const parts = watchParts(page);
  await page.getByTestId('resume-input').setInputFiles(join(dir, 'movie.bin'));
  await expect(page.getByTestId('unfinished')).toHaveCount(0);
  await expectAllDone(page, 1);
  await expect(row(page, 'reload/movie.bin')).toContainText('Model C');
  parts.stop();
  expect(parts.started.sort()).toEqual([1, 2]);
  expect(await openUploads('reload/movie.bin')).toBe(0);
  expect(await storedRecords(page)).toEqual([]);

  // The object decrypts to the file and is byte-identical to an uninterrupted upload with the
  // same header: every frame re-encrypted in Node under the header's data key.
  await expectEncryptedObject('reload/movie.bin', 'C', original, kmsKeyring());
  const object = await getObject('reload/movie.bin');
  const header = parseHeaderBytes(object);
  const contentKey = await openMessageHeader(header, { keyring: kmsKeyring() });
  const frames = frameCount(sizeBytes, header.frameBytes);
  const expected: Uint8Array[] = [object.subarray(0, header.headerBytes)];
  for (let seq = 1; seq <= frames; seq++) {
    expected.push(
      await encryptFrame({
        contentKey,
        messageId: header.messageId,
        seq,
        isFinal: seq === frames,
        plaintext: original.subarray((seq - 1) * header.frameBytes, seq * header.frameBytes),
      }),
    );
  }
  expect(Buffer.compare(object, Buffer.concat(expected))).toBe(0);
});

test('files dropped on the zone or picked from the keyboard upload; a failed one is retried', async ({
  page,
}) => {
  await connectGuest(page);
  await page.getByTestId('mode-C').check();
  await page.getByLabel(/Destination folder/).fill('dropped');

  // A drop as the browser delivers one (files without entries fall back to getAsFile()).
  await page.getByTestId('drop-zone').evaluate((zone) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['dropped one'], 'one.txt', { type: 'text/plain' }));
    transfer.items.add(new File(['dropped two'], 'two.txt', { type: 'text/plain' }));
    const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
    zone.dispatchEvent(new DragEvent('dragover', init));
    zone.dispatchEvent(new DragEvent('drop', init));
  });
  await expectAllDone(page, 2);
  expect(await keysUnder('dropped/')).toEqual(['dropped/one.txt', 'dropped/two.txt']);
  // A file dropped beside the zone is refused there (the browser would otherwise leave the app
  // to show it) and queues nothing.
  const keptOut = await page.getByRole('heading', { name: 'Upload', level: 1 }).evaluate((h) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['stray'], 'stray.txt', { type: 'text/plain' }));
    const drop = new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true });
    h.dispatchEvent(drop);
    return drop.defaultPrevented;
  });
  expect(keptOut).toBe(true);
  await expect(page.getByTestId('upload-row')).toHaveCount(2);
  const kmsRing = kmsKeyring();
  const opened = await decryptBytes(await getObject('dropped/two.txt'), { keyring: kmsRing });
  expect(new TextDecoder().decode(opened)).toBe('dropped two');
  await page.getByRole('button', { name: 'Clear finished' }).click();

  // The first PutObject is refused for good; Retry sends it again.
  let refused = 0;
  let puts = 0;
  await page.route(
    (url) => url.pathname.endsWith('/dropped/retry.txt'),
    async (route) => {
      if (route.request().method() === 'PUT') puts += 1;
      if (route.request().method() === 'PUT' && refused === 0) {
        refused += 1;
        return route.fulfill({
          status: 403,
          headers: {
            'access-control-allow-origin': new URL(env('VEIL_APP_URL')).origin,
            'content-type': 'application/xml',
          },
          body: '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>no</Message></Error>',
        });
      }
      return route.continue();
    },
  );
  const dir = await folder('retry', { 'retry.txt': new TextEncoder().encode('second time lucky') });
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('button', { name: 'Choose files' }).focus();
  await page.keyboard.press('Enter');
  await (await chooser).setFiles(join(dir, 'retry.txt'));
  const failed = row(page, 'retry.txt');
  await expect(failed).toHaveAttribute('data-phase', 'failed');
  await expect(failed.getByTestId('row-error')).toHaveAttribute('data-code', 'S3_REJECTED');
  await expect(failed.getByTestId('row-error')).toContainText('AccessDenied');
  await expect(page.getByTestId('upload-announcement')).toContainText('retry.txt failed');
  // Meanwhile another writer takes the name: Retry looks it up again and asks, never overwrites.
  await s3.send(
    new PutObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: 'dropped/retry.txt', Body: 'theirs' }),
  );
  // A double click starts one upload, not two.
  await failed.getByRole('button', { name: 'Retry retry.txt' }).dblclick();
  await expect(failed).toHaveAttribute('data-phase', 'conflict');
  await failed.getByRole('button', { name: 'Replace retry.txt' }).click();
  await expect(failed).toHaveAttribute('data-phase', 'done');
  await page.unrouteAll({ behavior: 'wait' });
  expect(refused).toBe(1);
  expect(puts).toBe(2);
  const retried = await decryptBytes(await getObject('dropped/retry.txt'), { keyring: kmsRing });
  expect(new TextDecoder().decode(retried)).toBe('second time lucky');
});
