/**
 * Files: "Download as ZIP" in Chromium against the local stack. Two files are uploaded into a
 * folder and one into its subfolder (Upload here, AWS KMS), two files and the subfolder are
 * selected and downloaded as one ZIP into a save picker stubbed to keep the bytes written; the
 * ZIP is read here (a small central-directory reader: client-zip stores entries) and every entry's
 * path and bytes are the uploads'. Then one file's stored object is tampered with through the S3
 * API (a byte of its body flipped): the same selection ends in an error naming that file, and the
 * written file is aborted, never closed as a complete ZIP.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

/**
 * A save picker whose file keeps every chunk written in `window.zipSaved`, and whether the
 * writable was closed (a complete file) or aborted (discarded).
 */
const SAVE_PICKER_STUB = `
  window.zipSaved = { name: '', chunks: [], closed: false, aborted: false };
  window.showSaveFilePicker = async (options) => {
    window.zipSaved = { name: options.suggestedName, chunks: [], closed: false, aborted: false };
    const saved = window.zipSaved;
    return {
      createWritable: async () =>
        new WritableStream({
          write(chunk) { saved.chunks.push(Array.from(new Uint8Array(chunk))); },
          close() { saved.closed = true; },
          abort() { saved.aborted = true; },
        }),
    };
  };
`;

interface Saved {
  name: string;
  bytes: Buffer;
  closed: boolean;
  aborted: boolean;
}

async function saved(target: Page): Promise<Saved> {
  const raw = await target.evaluate(() => {
    const s = (
      window as unknown as {
        zipSaved: { name: string; chunks: number[][]; closed: boolean; aborted: boolean };
      }
    ).zipSaved;
    return { name: s.name, bytes: s.chunks.flat(), closed: s.closed, aborted: s.aborted };
  });
  return { ...raw, bytes: Buffer.from(raw.bytes) };
}

/** The entries of a ZIP of stored (uncompressed) entries: path → bytes, from its central directory. */
function readZip(zip: Buffer): Map<string, Buffer> {
  let end = zip.length - 22;
  while (end >= 0 && zip.readUInt32LE(end) !== 0x06054b50) end -= 1;
  if (end < 0) throw new Error('no end of central directory: not a complete ZIP');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries = new Map<string, Buffer>();
  for (let i = 0; i < count; i += 1) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    if (zip.readUInt16LE(at + 10) !== 0) throw new Error('a compressed entry');
    const size = zip.readUInt32LE(at + 20);
    const nameBytes = zip.readUInt16LE(at + 28);
    const skip = nameBytes + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameBytes).toString('utf8');
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.set(name, zip.subarray(data, data + size));
    at += 46 + skip;
  }
  return entries;
}

let s3: S3Client;
let bucket: string;
/** This run's folder at the bucket root, so other specs' objects do not matter. */
const top = `files-zip-${randomBytes(4).toString('hex')}`;
const uploads = {
  'alpha.txt': Buffer.from(randomBytes(70_000)),
  'beta.bin': Buffer.from(randomBytes(3_000)),
  'gamma.txt': Buffer.from('gamma in the subfolder\n'),
  'left-out.txt': Buffer.from('not selected\n'),
};
let context: BrowserContext;
let page: Page;

function row(name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

async function keysUnder(prefix: string): Promise<string[]> {
  const reply = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (reply.Contents ?? []).map((object) => object.Key ?? '').sort();
}

async function openFolder(path: string): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/files/${path}`);
  await expect(page.getByTestId('files-view')).toBeVisible();
}

/** Uploads `names` into the folder shown with Upload here, until each is done. */
async function uploadHere(names: (keyof typeof uploads)[]): Promise<void> {
  await page
    .getByTestId('upload-here-input')
    .setInputFiles(names.map((name) => ({ name, mimeType: 'text/plain', buffer: uploads[name] })));
  const drawer = page.getByTestId('upload-drawer');
  for (const name of names) {
    await expect(drawer.locator(`[data-testid="drawer-row"][data-path="${name}"]`)).toHaveAttribute(
      'data-phase',
      'done',
      { timeout: 30_000 },
    );
  }
}

/** Selects the named rows of the folder shown and clicks the toolbar's Download. */
async function downloadSelection(names: string[]): Promise<void> {
  for (const name of names) await row(name).getByTestId('select-row').check();
  const button = page.getByTestId('download-selection');
  await expect(button).toHaveText('Download as ZIP');
  await button.click();
}

async function screenshots(name: string): Promise<void> {
  const status = page.getByTestId('zip-status');
  await status.screenshot({ path: test.info().outputPath(`${name}-desktop.png`) });
  await page.setViewportSize({ width: 390, height: 844 });
  await status.screenshot({ path: test.info().outputPath(`${name}-phone.png`) });
  await page.setViewportSize({ width: 1280, height: 800 });
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async ({ browser }) => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  bucket = env('VEIL_BUCKET');
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.addInitScript(SAVE_PICKER_STUB);
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await page.getByRole('button', { name: /guest/i }).first().click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
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

test('two files and a subfolder download as one ZIP whose entries are the uploads, byte for byte', async () => {
  await openFolder(`${top}/photos/sub`);
  await uploadHere(['gamma.txt']);
  await openFolder(`${top}/photos`);
  await uploadHere(['alpha.txt', 'beta.bin', 'left-out.txt']);
  // Each upload went to the folder asked for, even when picked while that folder was still
  // opening (under load, gamma.txt once went to the folder shown before: the bucket's root), and
  // the listing shown after the uploads has them all without a Refresh.
  expect(await keysUnder(`${top}/photos/`)).toEqual(
    ['alpha.txt', 'beta.bin', 'left-out.txt', 'sub/gamma.txt'].map((k) => `${top}/photos/${k}`),
  );
  await expect(row('sub')).toHaveAttribute('data-kind', 'folder');
  for (const name of ['alpha.txt', 'beta.bin', 'left-out.txt'])
    await expect(row(name)).toBeVisible();

  await downloadSelection(['alpha.txt', 'beta.bin', 'sub']);
  const status = page.getByTestId('zip-status');
  await expect(status).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  await expect(page.getByTestId('zip-progress')).toContainText('3 of 3 files');
  await expect(page.getByTestId('zip-said')).toHaveText(/Saved photos\.zip: 3 files/);

  await screenshots('zip-done');
  const zip = await saved(page);
  expect(zip.name).toBe('photos.zip');
  expect(zip.closed).toBe(true);
  expect(zip.aborted).toBe(false);
  const entries = readZip(zip.bytes);
  expect([...entries.keys()].sort()).toEqual(['alpha.txt', 'beta.bin', 'sub/gamma.txt']);
  expect(entries.get('alpha.txt')?.equals(uploads['alpha.txt'])).toBe(true);
  expect(entries.get('beta.bin')?.equals(uploads['beta.bin'])).toBe(true);
  expect(entries.get('sub/gamma.txt')?.equals(uploads['gamma.txt'])).toBe(true);
  // Nothing of the plaintext was ever stored: the objects are ciphertext.
  const stored = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: `${top}/photos/alpha.txt` }),
  );
  const body = Buffer.from(await stored.Body!.transformToByteArray());
  expect(body.includes(uploads['alpha.txt'].subarray(0, 64))).toBe(false);
});

test('a tampered file stops the ZIP, names the file, and the written file is aborted', async () => {
  // Flip one byte of beta.bin's body through the S3 API, keeping its metadata.
  const key = `${top}/photos/beta.bin`;
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body = Buffer.from(await got.Body!.transformToByteArray());
  body[body.length - 40]! ^= 0x01;
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ...(got.Metadata ? { Metadata: got.Metadata } : {}),
      ...(got.ContentType ? { ContentType: got.ContentType } : {}),
    }),
  );

  await openFolder(`${top}/photos`);
  await expect(row('beta.bin')).toBeVisible();
  await downloadSelection(['alpha.txt', 'beta.bin', 'sub']);
  const status = page.getByTestId('zip-status');
  await expect(status).toHaveAttribute('data-phase', 'failed', { timeout: 30_000 });
  await expect(page.getByTestId('zip-said')).toContainText('“beta.bin” could not be added');
  await expect(page.getByTestId('zip-error')).toHaveAttribute('data-code', 'FRAME_TAMPERED');
  await screenshots('zip-failed');

  const zip = await saved(page);
  expect(zip.name).toBe('photos.zip');
  expect(zip.aborted).toBe(true);
  expect(zip.closed).toBe(false);
  expect(() => readZip(zip.bytes)).toThrow(/not a complete ZIP/);
});
