/**
 * Preview in Files, in Chromium against the local stack under the strict CSP ([Note: preview
 * shows only authenticated bytes], [Note: content security policy]). Model A objects are
 * encrypted from Node with a raw AES key, put with Veil's metadata, and the key is imported in
 * Keys; then each file is opened with its row's "Preview <name>":
 * - a PNG generated here shows as an image of its natural size (a `blob:` URL, which the policy
 *   allows for images);
 * - a small text shows whole; a 3 MiB text shows its first MiB with the note, and the page
 *   fetched only the frames of that MiB (the Range headers of its GETs);
 * - a file over the cap is refused with the message and a Download button, nothing decrypted;
 * - an object whose last frame was changed through the S3 API shows an error and no content;
 * - a WAV plays (its duration is read from the blob: URL) and a PDF opens in Chromium's viewer
 *   inside the (unsandboxed) frame;
 * - Esc closes the dialog and focus returns to the row's menu button (Preview is one of its
 *   items);
 * - no CSP violation is reported during the whole spec.
 * The policy's other refusals are checked by csp.spec.ts.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { serializeKeyFile } from '../../src/core/key-file';
import { parseHeaderBytes } from '../../src/core/message';
import { encryptBytes } from '../../src/core/one-shot';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { rowAction, rowMenuButton } from './support/row-menu';
import { env, MiB } from './support/upload-ui';

const KEY_NAME = 'preview-team';
const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 0xff);
const FRAME = 512 * 1024;
const MODEL_A = { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A' };
const top = `preview-ui-${randomBytes(4).toString('hex')}`;

let s3: S3Client;
let bucket: string;
let context: BrowserContext;
let page: Page;
/** CSP refusals seen on the page during the whole spec. */
const refused: string[] = [];
/** The Range header of every GET of an object, by object key. */
const gets = new Map<string, string[]>();

/** A PNG of `width` x `height` RGBA pixels, built here: signature, IHDR, IDAT, IEND. */
function png(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA, deflate, no filter, no interlace
  const rows = Buffer.alloc(height * (1 + 4 * width));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      rows.set([200, 40 * y, 30 * x, 255], y * (1 + 4 * width) + 1 + 4 * x);
  }
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(rows)),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

/** One second of 8 kHz, 8-bit mono silence as a WAV file. */
function wav(): Uint8Array {
  const samples = 8000;
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + samples, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(8000, 24);
  head.writeUInt32LE(8000, 28);
  head.writeUInt16LE(1, 32);
  head.writeUInt16LE(8, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(samples, 40);
  return new Uint8Array(Buffer.concat([head, Buffer.alloc(samples, 128)]));
}

/** A one-page PDF (no text, no script). */
const PDF = [
  '%PDF-1.4',
  '1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj',
  '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj',
  '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj',
  'trailer<</Root 1 0 R>>',
  '%%EOF',
].join('\n');

/** A text of `lengthBytes` bytes: numbered lines, so the first and last lines are known. */
function lines(lengthBytes: number): string {
  let text = '';
  for (let n = 1; text.length < lengthBytes; n++) text += `line ${String(n).padStart(7, '0')}\n`;
  return text.slice(0, lengthBytes);
}

async function encrypted(bytes: Uint8Array): Promise<Uint8Array> {
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: KEY_BYTES.slice(),
    keyName: KEY_NAME,
    keyNamespace: 'veil',
  });
  return encryptBytes(bytes, {
    keyring,
    frameBytes: FRAME,
    encryptionContext: { 'veil-app': 'veil', 'veil-bucket': bucket },
  });
}

async function put(name: string, body: Uint8Array): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: `${top}/${name}`, Body: body, Metadata: MODEL_A }),
  );
}

function row(name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

const dialog = () => page.getByTestId('preview-dialog');

async function openPreview(name: string): Promise<void> {
  await rowAction(page, name, `Preview ${name}`);
  await expect(dialog()).toBeVisible();
  await expect(dialog().getByRole('heading')).toHaveText(`Preview of ${name}`);
}

async function closeWithEsc(name: string): Promise<void> {
  await page.keyboard.press('Escape');
  await expect(dialog()).toBeHidden();
  await expect(rowMenuButton(page, name)).toBeFocused();
}

test.describe.configure({ mode: 'serial', timeout: 120_000 });

test.beforeAll(async ({ browser }) => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  bucket = env('VEIL_BUCKET');
  await Promise.all([
    put('pixel.png', await encrypted(png(3, 2))),
    put('hello.txt', await encrypted(new TextEncoder().encode('Hello, preview: héllo ✓\n'))),
    put('long.log', await encrypted(new TextEncoder().encode(lines(3 * MiB)))),
    put('huge.png', await encrypted(new Uint8Array(64 * MiB + 1))),
    put('tone.wav', await encrypted(wav())),
    put('page.pdf', await encrypted(new TextEncoder().encode(PDF))),
    put('changed.txt', await encrypted(new TextEncoder().encode(lines(FRAME + 5000)))),
  ]);
  // The storage adversary: one byte of the last frame's ciphertext changed through the S3 API.
  const key = `${top}/changed.txt`;
  const stored = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = new Uint8Array(await stored.Body!.transformToByteArray());
  const { headerBytes } = parseHeaderBytes(bytes);
  // After frame 1 (seq, IV, 512 KiB, tag): the final frame's marker, seq, IV and length.
  bytes[headerBytes + (4 + 12 + FRAME + 16) + 4 + 4 + 12 + 4 + 100]! ^= 0x01;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, Metadata: MODEL_A }));

  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/.test(message.text())) refused.push(message.text());
  });
  page.on('request', (request) => {
    const path = decodeURIComponent(new URL(request.url()).pathname);
    if (request.method() !== 'GET' || !path.includes(`/${top}/`)) return;
    const name = path.slice(path.lastIndexOf('/') + 1);
    gets.set(name, [...(gets.get(name) ?? []), request.headers().range ?? '']);
  });

  // The key, imported in Keys; then connected as a guest and at the folder.
  await page.goto(`${env('VEIL_APP_URL')}#/keys`);
  await page.getByTestId('import-file').setInputFiles({
    name: `${KEY_NAME}.jwk`,
    mimeType: 'application/json',
    buffer: Buffer.from(
      serializeKeyFile({ keyBytes: KEY_BYTES.slice(), keyName: KEY_NAME, keyNamespace: 'veil' }),
    ),
  });
  await expect(page.getByTestId('vault-key').first()).toContainText(KEY_NAME);
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await page.getByRole('button', { name: /guest/i }).first().click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await page.goto(`${env('VEIL_APP_URL')}#/files/${top}/`);
  await expect(row('pixel.png')).toBeVisible();
});

test.afterAll(async () => {
  await context?.close();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${top}/` }));
  const left = (listed.Contents ?? []).map((object) => ({ Key: object.Key ?? '' }));
  if (left.length > 0) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: left } }));
  }
  s3?.destroy();
});

test('a PNG shows as an image of its natural size; Esc closes and focus returns', async () => {
  await openPreview('pixel.png');
  const image = dialog().getByTestId('preview-image');
  await expect(image).toBeVisible();
  await expect(image).toHaveAttribute('src', /^blob:/);
  const size = await image.evaluate((img: HTMLImageElement) => [
    img.naturalWidth,
    img.naturalHeight,
  ]);
  expect(size).toEqual([3, 2]);
  await expect(dialog()).toContainText(
    'Files over 64.0 MiB are not previewed; download them instead',
  );
  const url = (await image.getAttribute('src')) ?? '';
  /** Loads `url` in a new image: 'loaded', or 'failed' once it is revoked. */
  const load = (): Promise<string> =>
    page.evaluate(
      (src) =>
        new Promise<string>((resolve) => {
          const probe = new Image();
          probe.onload = () => resolve('loaded');
          probe.onerror = () => resolve('failed');
          probe.src = src;
        }),
      url,
    );
  expect(await load()).toBe('loaded');
  await closeWithEsc('pixel.png');
  // The blob: URL was revoked on close: the same load now fails.
  expect(await load()).toBe('failed');
});

test('a small text shows whole, without a note', async () => {
  await openPreview('hello.txt');
  await expect(dialog().getByTestId('preview-text')).toHaveText('Hello, preview: héllo ✓\n');
  await expect(dialog().getByTestId('preview-note')).toHaveCount(0);
  await closeWithEsc('hello.txt');
});

test('a 3 MiB text shows its first MiB with a note, from only the frames that hold it', async () => {
  gets.delete('long.log');
  await openPreview('long.log');
  const text = dialog().getByTestId('preview-text');
  // Decrypting in the workers on a shared machine can take a while.
  await expect(text).toContainText('line 0000001', { timeout: 30_000 });
  await expect(dialog().getByTestId('preview-note')).toContainText(
    /Showing the first 1\.00? MiB of 3\.00? MiB/,
  );
  const shown = (await text.textContent()) ?? '';
  expect(shown).toBe(lines(3 * MiB).slice(0, MiB));
  // Frames 1 and 2 hold the first MiB; the GETs past the header's first 4 KiB are the final
  // frame (the layout check) and frames 1-2, never frames 3 to 6.
  const object = await s3.send(
    new GetObjectCommand({ Bucket: bucket, Key: `${top}/long.log`, Range: 'bytes=0-4095' }),
  );
  const { headerBytes } = parseHeaderBytes(
    new Uint8Array(await object.Body!.transformToByteArray()),
  );
  const frame3 = headerBytes + 2 * (FRAME + 32);
  const finalStart = headerBytes + 6 * (FRAME + 32);
  const ranges = (gets.get('long.log') ?? []).map((range) => {
    const [, from, to] = /bytes=(\d+)-(\d+)/.exec(range) ?? [];
    return [Number(from), Number(to) + 1] as const;
  });
  expect(ranges.length).toBeGreaterThan(0);
  for (const [from, to] of ranges) {
    expect(to <= frame3 || from >= finalStart, `GET bytes ${from}-${to - 1}`).toBe(true);
  }
  await closeWithEsc('long.log');
});

test('a file over the cap is refused with the message and Download offered', async () => {
  gets.delete('huge.png');
  await openPreview('huge.png');
  const error = dialog().getByTestId('preview-error');
  await expect(error).toHaveAttribute('data-code', 'PREVIEW_TOO_LARGE');
  await expect(error).toContainText('larger than a preview decrypts in the page');
  await expect(error.getByRole('button', { name: 'Download huge.png' })).toBeVisible();
  await expect(dialog().getByTestId('preview-image')).toHaveCount(0);
  // Nothing but the header and the final frame was fetched: not 64 MiB.
  expect((gets.get('huge.png') ?? []).length).toBeLessThanOrEqual(3);
  await closeWithEsc('huge.png');
});

test('an object whose last frame was changed in storage shows an error and no content', async () => {
  await openPreview('changed.txt');
  const error = dialog().getByTestId('preview-error');
  await expect(error).toHaveAttribute('data-code', 'FRAME_TAMPERED');
  await expect(error).toContainText('Part of the file failed authentication');
  await expect(dialog().getByTestId('preview-text')).toHaveCount(0);
  await expect(dialog()).not.toContainText('line 0000001');
  await closeWithEsc('changed.txt');
});

test('audio plays from its blob: URL; a PDF opens in the browser viewer inside the frame', async () => {
  await openPreview('tone.wav');
  const audio = dialog().getByTestId('preview-audio');
  await expect(audio).toHaveAttribute('src', /^blob:/);
  await expect
    .poll(() => audio.evaluate((element: HTMLAudioElement) => element.duration))
    .toBeCloseTo(1, 1);
  await closeWithEsc('tone.wav');

  await openPreview('page.pdf');
  const frame = dialog().getByTestId('preview-pdf');
  await expect(frame).toHaveAttribute('src', /^blob:/);
  await expect(frame).not.toHaveAttribute('sandbox');
  // Chromium hands a PDF to its viewer, an extension page inside the frame.
  await expect
    .poll(() => page.frames().some((child) => child.url().startsWith('chrome-extension://')))
    .toBe(true);
  await expect(dialog().getByRole('link', { name: 'Open the PDF in a new tab' })).toHaveAttribute(
    'href',
    /^blob:/,
  );
  await closeWithEsc('page.pdf');
});

test('no Content-Security-Policy refusal during the previews', () => {
  expect(refused).toEqual([]);
});
