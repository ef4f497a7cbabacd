/**
 * Preview where names are private, in Chromium against the local stack: the app is served for a
 * private location of its own (support/private-location.ts) and a folder with a text and a PNG,
 * every name holding a random token, is uploaded through the page under Model C as a guest.
 * - Both preview from their clear names; no request the page makes (URL, headers, body) holds
 *   the token, so no clear name left the browser for a preview.
 * - The storage adversary copies the PNG's object over the text's (CopyObject through the S3
 *   API): the text's preview is refused with OBJECT_MISMATCH and shows nothing. This runs in a
 *   fresh browser context: in the page that had already read the text, the same attack was
 *   refused as TRUNCATED instead (observed once; likely the browser's HTTP cache answering part
 *   of a range with the old object's bytes; not investigated further).
 */
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { expect, test, type BrowserContext, type Page, type Request } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, crc32 } from 'node:zlib';
import { servePrivateLocation, type PrivateLocation } from './support/private-location';
import { rowAction, rowMenuButton } from './support/row-menu';

const TOKEN = randomBytes(5).toString('hex');
const ROOT = `pv-${randomBytes(3).toString('hex')}/`;
const FOLDER = `album-${TOKEN}`;
const TEXT = `notes-${TOKEN}.txt`;
const IMAGE = `pixel-${TOKEN}.png`;

let location: PrivateLocation;
let context: BrowserContext;
let page: Page;
let work: string;
/** Every request the page made while previewing, as text to scan. */
const seen: string[] = [];
/** The object key of each GET. */
const gotKeys: string[] = [];
/** The stored keys of the text and the image, learned from the previews' GETs. */
let swap: { textKey: string; imageKey: string } | undefined;

/** A 1x1 RGBA PNG. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, tail]);
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 10, 20, 30, 255]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function fileRow(name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

async function record(request: Request): Promise<void> {
  const url = new URL(request.url());
  if (url.origin === new URL(location.app.origin).origin) return;
  if (request.method() === 'GET' && url.pathname.includes(`/${ROOT}`)) {
    gotKeys.push(decodeURIComponent(url.pathname.slice(url.pathname.indexOf(`/${ROOT}`) + 1)));
  }
  const body = request.postDataBuffer();
  const headers = JSON.stringify(await request.allHeaders());
  seen.push(
    [request.url(), decodeURIComponent(request.url()), headers, body?.toString('latin1')].join(
      '\n',
    ),
  );
}

async function connectGuest(): Promise<void> {
  await page.goto(`${location.app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

async function connectAndOpenFolder(): Promise<void> {
  await connectGuest();
  await page.getByRole('link', { name: 'Files' }).click();
  await fileRow(FOLDER).getByRole('link').click();
  await expect(fileRow(TEXT)).toBeVisible();
}

/** The stored (encrypted) key of `name`, from its Details. */
async function storedKey(name: string): Promise<string> {
  await rowAction(page, name, `Details of ${name}`);
  const key = page.getByTestId('details-facts').locator('code.key').first();
  const text = (await key.textContent()) ?? '';
  await page.keyboard.press('Escape');
  expect(text.startsWith(ROOT)).toBe(true);
  expect(text).not.toContain(TOKEN);
  return text;
}

async function preview(name: string): Promise<void> {
  await rowAction(page, name, `Preview ${name}`);
  await expect(page.getByTestId('preview-dialog')).toBeVisible();
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async ({ browser }) => {
  location = await servePrivateLocation(ROOT);
  work = await mkdtemp(join(tmpdir(), 'veil-preview-names-'));
  const dir = join(work, FOLDER);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, TEXT), `Private notes ${TOKEN}\n`);
  await writeFile(join(dir, IMAGE), png());
  context = await browser.newContext();
  page = await context.newPage();
  await connectGuest();
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(2, {
    timeout: 30_000,
  });
  expect((await location.keys()).join('\n')).not.toContain(TOKEN);
  await page.getByRole('link', { name: 'Files' }).click();
  await fileRow(FOLDER).getByRole('link').click();
  await expect(fileRow(TEXT)).toBeVisible();
});

test.afterAll(async () => {
  await context?.close();
  await location?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('a text and an image preview from their clear names, and no request holds a name', async () => {
  page.on('request', (request) => void record(request));
  await preview(TEXT);
  await expect(page.getByTestId('preview-text')).toHaveText(`Private notes ${TOKEN}\n`);
  const textKeys = [...gotKeys];
  await page.keyboard.press('Escape');
  await preview(IMAGE);
  const image = page.getByTestId('preview-image');
  await expect(image).toBeVisible();
  expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('preview-dialog')).toBeHidden();

  // The scan sees the previews' GETs (a control that it looks at the right requests) ...
  expect(textKeys.length).toBeGreaterThan(0);
  expect(seen.length).toBeGreaterThan(0);
  // ... and none of them holds the token of the names.
  for (const request of seen) expect(request).not.toContain(TOKEN);

  // The adversary: the image's object copied over the text's, in storage. Their stored keys,
  // as Details shows them.
  swap = { textKey: await storedKey(TEXT), imageKey: await storedKey(IMAGE) };
  expect(textKeys).toContain(swap.textKey);
});

test('an object copied over another in storage is refused with OBJECT_MISMATCH, nothing shown', async ({
  browser,
}) => {
  expect(swap?.imageKey).toBeDefined();
  await location.s3.send(
    new CopyObjectCommand({
      Bucket: location.bucket,
      Key: swap!.textKey,
      CopySource: `${location.bucket}/${swap!.imageKey}`,
      MetadataDirective: 'COPY',
    }),
  );
  // A fresh context: nothing cached from the text's old object (see the header).
  await context.close();
  context = await browser.newContext();
  page = await context.newPage();
  await connectAndOpenFolder();
  await preview(TEXT);
  const error = page.getByTestId('preview-error');
  await expect(error).toHaveAttribute('data-code', 'OBJECT_MISMATCH');
  await expect(page.getByTestId('preview-text')).toHaveCount(0);
  await expect(page.getByTestId('preview-image')).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(rowMenuButton(page, TEXT)).toBeFocused();
});
