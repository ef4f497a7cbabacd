/**
 * The app and the command line agree on private names, in Chromium against the local stack. The
 * app is served for a private location of its own (support/private-location.ts); the page, as a
 * guest, and `veil` (bin/veil.mjs, `--kms-key` with the stack's KMS key) both open the location's
 * names key under Model C.
 * - A folder the app uploads is listed by `veil ls` under its clear path; the bucket holds none
 *   of its names.
 * - A file `veil cp` uploads shows up in Files under its clear folder and name, and downloads in
 *   the app byte-identically.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliRunner, type Run } from '../integration/cli-runner';
import { servePrivateLocation, type PrivateLocation } from './support/private-location';
import { env } from './support/upload-ui';

const ROOT = `nc-${randomBytes(3).toString('hex')}/`;
const APP_PATH = 'agree/notes/mon day.txt';
const CLI_FOLDER = 'from-cli';
const CLI_NAME = 'report 2026.txt';

let location: PrivateLocation;
let context: BrowserContext;
let page: Page;
let work: string;
let veil: (...args: string[]) => Promise<Run>;
/** The KMS key and the stack's endpoint, as every `veil` run here is given them. */
let kmsArgs: string[];

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const url = (path: string): string => `s3://${location.bucket}/${ROOT}${path}`;

function fileRow(name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

/** Opens Settings and signs in as a guest (credentials live in the page: a reload drops them). */
async function connectGuest(): Promise<void> {
  await page.goto(`${location.app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

test.describe.configure({ mode: 'serial', timeout: 60_000 });

test.beforeAll(async ({ browser }) => {
  location = await servePrivateLocation(ROOT);
  work = await mkdtemp(join(tmpdir(), 'veil-names-cli-'));
  ({ veil } = cliRunner(work, join(work, 'state')));
  kmsArgs = [
    '--kms-key',
    location.config.kms.keyId,
    '--region',
    location.config.region,
    '--endpoint-url',
    env('VEIL_MOTO_URL'),
  ];
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  // Without the save picker a download is handed to the browser, where Playwright sees it.
  await page.addInitScript(`delete window.showSaveFilePicker;`);
  await connectGuest();
});

test.afterAll(async () => {
  await context?.close();
  await location?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('a folder the app uploads is listed by `veil ls` under its clear path', async () => {
  const [top, ...rest] = APP_PATH.split('/');
  const dir = join(work, 'upload', top!);
  await mkdir(join(dir, ...rest.slice(0, -1)), { recursive: true });
  await writeFile(join(dir, ...rest), 'Monday notes\n');
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(1, {
    timeout: 30_000,
  });

  const stored = await location.keys();
  expect(stored).toHaveLength(2);
  expect(stored).toContain(`${ROOT}.veil/names-key`);
  for (const word of ['agree', 'notes', 'mon day']) expect(stored.join('\n')).not.toContain(word);

  const listed = await veil('ls', ...kmsArgs, url(''));
  expect(listed.stderr).toBe('');
  expect(listed.code).toBe(0);
  // One line: the clear path, Model C with the stack's key; the names key is not listed.
  const lines = listed.stdout.split('\n').filter((line) => line.trim() !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^ *\d+ +C +\S/);
  expect(lines[0]).toContain(` ${ROOT}${APP_PATH}  keys: C arn:aws:kms:`);
});

test('a file `veil cp` uploads shows up in Files under its clear name and downloads', async () => {
  const bytes = new Uint8Array(randomBytes(120_000));
  const local = join(work, 'report.bin');
  await writeFile(local, bytes);
  const copied = await veil('cp', ...kmsArgs, local, url(`${CLI_FOLDER}/${CLI_NAME}`));
  expect(copied.stderr).toBe('');
  expect(copied.code).toBe(0);
  const stored = await location.keys();
  expect(stored).toHaveLength(3);
  for (const word of [CLI_FOLDER, 'report']) expect(stored.join('\n')).not.toContain(word);

  // A fresh page: nothing the app cached from its own upload.
  await page.reload();
  await connectGuest();
  await page.getByRole('link', { name: 'Files' }).click();
  await fileRow(CLI_FOLDER).getByRole('link').click();
  await expect(page.getByTestId('breadcrumbs')).toContainText(CLI_FOLDER);
  await expect(page.getByTestId('name-unreadable')).toHaveCount(0);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    fileRow(CLI_NAME)
      .getByRole('button', { name: `Download ${CLI_NAME}` })
      .click(),
  ]);
  expect(download.suggestedFilename()).toBe(CLI_NAME);
  expect(sha256(new Uint8Array(await readFile(await download.path())))).toBe(sha256(bytes));
});
