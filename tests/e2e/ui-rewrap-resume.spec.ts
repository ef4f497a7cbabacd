/**
 * An interrupted protection change is resumed from Files in Chromium against the local stack:
 * a file over 5 MiB is uploaded under vault key Y, "Change protection…" adds key Z while every
 * UploadPartCopy fails on the network, so the run fails resumably; the object is untouched (Y
 * still opens it, Z does not). After a reload and a new sign-in, Files lists the unfinished
 * change; Resume finishes it with no key asked for, and in Node the object opens with Z (and
 * still Y) while the bytes after the header are those the upload wrote. moto applies CORS to GET
 * but not HEAD, so this also shows the resume learns the ETag without HEAD exposing it.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeKeyFile } from '../../src/core/key-file';
import { decryptBytes } from '../../src/core/one-shot';
import { bodyAfterHeader, ours } from './support/rewrap-checks';
import { rowAction } from './support/row-menu';
import { MiB, connectGuest, env } from './support/upload-ui';

const run = randomBytes(3).toString('hex');
const KEYS = {
  y: { keyName: `rr-y-${run}`, keyBytes: new Uint8Array(randomBytes(32)) },
  z: { keyName: `rr-z-${run}`, keyBytes: new Uint8Array(randomBytes(32)) },
};
const FOLDER = `rewrap-resume-${run}`;
const NAME = 'big.bin';
const KEY = `${FOLDER}/${NAME}`;
const PLAIN = new Uint8Array(randomBytes(6 * MiB + 987));

let s3: S3Client;
let context: BrowserContext;
let page: Page;
let work: string;

async function stored(): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: KEY }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

const opens = async (body: Uint8Array, key: (typeof KEYS)['y']): Promise<boolean> =>
  decryptBytes(body, { keyring: await ours(key) }).then(
    (plain) => Buffer.compare(plain, PLAIN) === 0,
    () => false,
  );

async function openFolder(): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/files/${FOLDER}/`);
  await expect(page.locator(`[data-testid="row"][data-name="${NAME}"]`)).toBeVisible();
}

test.describe.configure({ mode: 'serial', timeout: 180_000 });

test.beforeAll(async ({ browser }) => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  work = await mkdtemp(join(tmpdir(), 'veil-ui-rewrap-resume-'));
  await writeFile(join(work, NAME), PLAIN);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  s3?.destroy();
  await rm(work, { recursive: true, force: true });
});

test('a change whose copies fail on the network is resumed from Files after a reload', async () => {
  await connectGuest(page);
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  for (const key of [KEYS.y, KEYS.z]) {
    await page.getByTestId('import-file').setInputFiles({
      name: `${key.keyName}.jwk`,
      mimeType: 'application/json',
      buffer: Buffer.from(
        serializeKeyFile({ ...key, keyBytes: key.keyBytes.slice(), keyNamespace: 'veil' }),
      ),
    });
    await expect(page.getByTestId('pending-key')).toContainText(key.keyName);
    await page.getByTestId('pending-done').click();
  }
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-A').check();
  // Y, imported first, is the vault's oldest key: the Model A default.
  await expect(page.getByTestId('mode-A-key')).toContainText(KEYS.y.keyName);
  await page.getByLabel(/Destination folder/).fill(FOLDER);
  await page.getByTestId('file-input').setInputFiles(join(work, NAME));
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(1, {
    timeout: 60_000,
  });
  const uploaded = await stored();

  // Every UploadPartCopy of the object fails: the run fails resumably, upload and record stay.
  const copy = (url: URL): boolean => url.pathname.endsWith(`/${KEY}`);
  await page.route(copy, (route) =>
    route.request().headers()['x-amz-copy-source'] ? route.abort('failed') : route.continue(),
  );
  await openFolder();
  await rowAction(page, NAME, `Change protection of ${NAME}`);
  const dialog = page.getByTestId('protection-dialog');
  await dialog.getByTestId('op-add').check();
  await dialog.getByTestId('add-model').selectOption('A');
  await dialog.getByTestId('add-key').selectOption(KEYS.z.keyName);
  await dialog.getByTestId('show-plan').click();
  await dialog.getByTestId('protection-start').click();
  await expect(dialog.getByTestId('run-item')).toHaveAttribute('data-state', 'failed', {
    timeout: 90_000,
  });
  await page.unroute(copy);
  await dialog.getByTestId('protection-close').click();
  const untouched = await stored();
  expect(Buffer.compare(untouched, uploaded)).toBe(0);
  expect(await opens(untouched, KEYS.z)).toBe(false);

  // A new page load has no credentials: sign in again, then Files lists the unfinished change.
  await page.reload();
  await connectGuest(page);
  await openFolder();
  const region = page.getByRole('region', { name: 'Unfinished protection changes' });
  await expect(region.getByText(NAME, { exact: true })).toBeVisible();
  const entry = page.locator(`[data-testid="unfinished-change"][data-key="${KEY}"]`);
  await page.screenshot({ path: test.info().outputPath('rewrap-unfinished.png') });
  await entry.getByRole('button', { name: `Resume the protection change of ${KEY}` }).click();
  await expect(entry).toHaveCount(0, { timeout: 90_000 });
  await expect(page.getByTestId('unfinished-changes')).toHaveCount(0);

  const body = await stored();
  expect(await opens(body, KEYS.z)).toBe(true);
  expect(await opens(body, KEYS.y)).toBe(true);
  expect(Buffer.compare(bodyAfterHeader(body), bodyAfterHeader(uploaded))).toBe(0);
});
