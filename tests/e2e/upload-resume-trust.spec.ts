/**
 * Resume as an adversary would try it, in Chromium against the local stack:
 *
 * - a second tab of the same browser must neither discard nor resume an upload that is running
 *   in the first ([Note: upload locks]);
 * - a file changed on disk after part of it was sent, with its name, size and date kept (as
 *   `cp -p` or `touch -r` leave it), must not be continued under the same data key: the upload
 *   starts over as a new message, says so, and the object holds the new content
 *   ([Note: resume digests]).
 *
 * That no (message id, seq) ever carries two ciphertexts is checked frame by frame on everything
 * the engine sends in tests/unit/transfer/upload-digests.test.ts; Chromium does not hand Blob
 * request bodies to Playwright, so here the test checks the outcome: a new message, the new
 * content, the notice, and nothing left behind.
 */
import { GetObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmsApiFor } from '../../src/aws/clients';
import { toHex } from '../../src/core/bytes';
import { parseHeaderBytes } from '../../src/core/message';
import { decryptBytes } from '../../src/core/one-shot';
import { KmsKeyring } from '../../src/keyrings/kms';
import {
  MiB,
  PART_TIMEOUT,
  connectGuest,
  env,
  holdParts,
  row,
  storedRecords,
  uploadedValue,
} from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };

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
  work = await mkdtemp(join(tmpdir(), 'veil-resume-trust-'));
});

test.afterAll(async () => {
  s3?.destroy();
  kms?.destroy();
  await rm(work, { recursive: true, force: true });
});

const kmsKeyring = (): KmsKeyring =>
  new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });

async function writeIn(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const path = join(work, dir, name);
  await mkdir(join(work, dir), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

async function getObject(key: string): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: key }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

async function openUploads(prefix: string): Promise<number> {
  const listed = await s3.send(
    new ListMultipartUploadsCommand({ Bucket: env('VEIL_BUCKET'), Prefix: prefix }),
  );
  return listed.Uploads?.length ?? 0;
}

/** The headers of the resume records in the app's IndexedDB. */
async function storedHeaders(page: Page): Promise<Uint8Array[]> {
  const headers = await page.evaluate(
    () =>
      new Promise<number[][]>((resolve, reject) => {
        const open = indexedDB.open('veil-uploads');
        open.onerror = () => reject(open.error ?? new Error('open failed'));
        open.onsuccess = () => {
          const db = open.result;
          const request = db.transaction('uploads', 'readonly').objectStore('uploads').getAll();
          request.onerror = () => reject(request.error ?? new Error('read failed'));
          request.onsuccess = () => {
            const values = request.result as { headerBytes: Uint8Array }[];
            db.close();
            resolve(values.map((value) => Array.from(value.headerBytes)));
          };
        };
      }),
  );
  return headers.map((bytes) => Uint8Array.from(bytes));
}

test('a second tab can neither discard nor resume an upload running in the first', async ({
  page,
}) => {
  const bytes = new Uint8Array(randomBytes(8 * MiB + 65_536));
  const path = await writeIn('locks', 'live.bin', bytes);
  await connectGuest(page);
  await page.getByTestId('mode-C').check();
  await page.getByLabel(/Destination folder/).fill('locks');
  const held = await holdParts(page, { 'live.bin': [1] });
  await page.getByTestId('file-input').setInputFiles(path);
  await expect.poll(() => uploadedValue(page, 'live.bin'), PART_TIMEOUT).toBeGreaterThan(0);
  await expect.poll(() => storedRecords(page)).toEqual([{ key: 'locks/live.bin', parts: 1 }]);

  // The second tab lists the record (it is not its own upload) but may not touch it.
  const second = await page.context().newPage();
  await connectGuest(second);
  const entry = second.locator('[data-testid="unfinished-entry"][data-name="live.bin"]');
  await expect(entry).toHaveCount(1);
  await entry.getByRole('button', { name: /^Discard/ }).click();
  await second.getByRole('dialog').getByRole('button', { name: 'Discard upload' }).click();
  await expect(second.getByTestId('unfinished-error')).toHaveAttribute(
    'data-code',
    'RESUME_UPLOAD_BUSY',
  );
  expect(await openUploads('locks/live.bin')).toBe(1);
  await second.getByTestId('resume-input').setInputFiles(path);
  await expect(second.getByTestId('unfinished-error')).toHaveAttribute(
    'data-code',
    'RESUME_UPLOAD_BUSY',
  );
  await expect(second.getByTestId('upload-row')).toHaveCount(0);

  // The first tab finishes undisturbed.
  await held.release();
  await expect(row(page, 'live.bin')).toHaveAttribute('data-phase', 'done', PART_TIMEOUT);
  const opened = await decryptBytes(await getObject('locks/live.bin'), { keyring: kmsKeyring() });
  expect(Buffer.compare(opened, bytes)).toBe(0);
  await second.close();
});

test('a file changed after 8 MiB with its size and date kept starts over as a new message', async ({
  page,
}) => {
  // Three parts: 8 MiB (held), 8 MiB (goes through) and 68 kB.
  const original = new Uint8Array(randomBytes(16 * MiB + 68_000));
  const path = await writeIn('changed', 'payroll.bin', original);
  // A whole-second date, so that setting it again after the change is exact.
  const mtime = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  await utimes(path, mtime, mtime);
  await connectGuest(page);
  await page.getByTestId('mode-C').check();
  await page.getByLabel(/Destination folder/).fill('changed');
  const held = await holdParts(page, { 'payroll.bin': [1] });
  await page.getByTestId('file-input').setInputFiles(path);
  // Part 2 reached S3; part 1 is held. Reload: the page drops part 1.
  await expect
    .poll(() => storedRecords(page), PART_TIMEOUT)
    .toEqual([{ key: 'changed/payroll.bin', parts: 2 }]);
  const [firstHeader] = await storedHeaders(page);
  await page.reload();
  await held.release();

  // The file changes at 11 MiB (in part 2, which S3 holds), keeping its name, size and date.
  const changed = original.slice();
  changed[11 * MiB + 3] = (changed[11 * MiB + 3] ?? 0) ^ 0xff;
  await writeFile(path, changed);
  await utimes(path, mtime, mtime);

  await connectGuest(page);
  await page.getByTestId('resume-input').setInputFiles(path);
  const resumed = row(page, 'changed/payroll.bin');
  await expect(resumed).toHaveAttribute('data-phase', 'done', PART_TIMEOUT);
  await expect(resumed.getByTestId('row-notice')).toContainText('The file changed');
  await expect(resumed.getByTestId('row-notice')).toContainText('fresh key');
  expect(await openUploads('changed/')).toBe(0);
  expect(await storedRecords(page)).toEqual([]);

  const object = await getObject('changed/payroll.bin');
  const opened = await decryptBytes(object, { keyring: kmsKeyring() });
  expect(Buffer.compare(opened, changed)).toBe(0);
  // A new message: another message id (so another data key and other IVs) than the first one.
  expect(firstHeader).toBeDefined();
  expect(toHex(parseHeaderBytes(object).messageId)).not.toBe(
    toHex(parseHeaderBytes(firstHeader!).messageId),
  );
});
