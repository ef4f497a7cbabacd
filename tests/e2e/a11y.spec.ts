/**
 * Accessibility: axe-core (support/axe.ts) runs on every view and on the states and dialogs a
 * user meets, and each must have no serious or critical violation; a failure lists them (rule,
 * element, what to fix). The app is served on the harness port with a root of its own, so the
 * files uploaded here do not appear in other specs' listings:
 * - before sign-in: Upload, Files (points to Settings), Keys (empty), Settings, Learn;
 * - signed in with IAM keys: Keys with a new key, Upload with a queue of finished uploads, Files
 *   with rows and with a selection, each row dialog (details, preview, versions, share link made,
 *   share with a person, protection change, rename, move, delete confirmation), new folder, a
 *   failed download's error notice;
 * - the share page of a valid link, of an expired one and of a damaged one.
 */
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { serveStatic, type StaticServer } from '../../scripts/stack/static-server';
import { payloadOfLink, shareLinkUrl } from '../../src/core/share-link';
import { seriousViolations } from './support/axe';
import { rowAction } from './support/row-menu';
import { env } from './support/upload-ui';

const ROOT = `a11y-${randomBytes(3).toString('hex')}/`;
const SAVE_PICKER_STUB = `
  window.showSaveFilePicker = async (options) => {
    const root = await navigator.storage.getDirectory();
    return root.getFileHandle(options.suggestedName, { create: true });
  };
`;

let s3: S3Client;
let bucket: string;
let app: StaticServer;
let work: string;
let context: BrowserContext;
let page: Page;
let link = '';
/** Every serious or critical violation seen, each line naming its state. */
const seen: string[] = [];

/**
 * Runs axe on the page as it is and keeps its serious and critical violations: the last test
 * asserts there were none, so one run lists every state's violations at once.
 */
async function check(target: Page, state: string): Promise<void> {
  seen.push(...(await seriousViolations(target, state)));
}

const row = (name: string): Locator => page.locator(`[data-testid="row"][data-name="${name}"]`);

async function openFiles(): Promise<void> {
  await page.goto(`${app.origin}/#/files`);
  await expect(page.getByTestId('file-table')).toBeVisible();
}

/** Opens a dialog by its button's name (or by `open`), checks it, closes it with Esc. */
async function checkDialog(
  opener: string | (() => Promise<void>),
  testid: string,
  state: string,
  ready?: (dialog: Locator) => Promise<void>,
): Promise<void> {
  if (typeof opener === 'string') {
    await page.getByRole('button', { name: opener, exact: true }).click();
  } else {
    await opener();
  }
  const dialog = page.getByTestId(testid).and(page.locator('dialog[open]'));
  await expect(dialog).toBeVisible();
  if (ready) await ready(dialog);
  await check(page, state);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
}

// Each axe run takes seconds, many more on a loaded machine.
test.describe.configure({ mode: 'serial', timeout: 480_000 });

test.beforeAll(async ({ browser }) => {
  bucket = env('VEIL_BUCKET');
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  work = await mkdtemp(join(tmpdir(), 'veil-a11y-'));
  const served = (await (
    await fetch(`${new URL(env('VEIL_APP_URL')).origin}/config.json`)
  ).json()) as Record<string, unknown>;
  app = await serveStatic({
    root: process.env.VEIL_DIST_DIR ?? 'dist',
    port: Number(env('VEIL_HARNESS_PORT')),
    config: { ...served, prefix: ROOT },
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.addInitScript(SAVE_PICKER_STUB);
});

test.afterAll(async () => {
  await context?.close();
  await app?.close();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: ROOT }));
  const left = (listed.Contents ?? []).map((object) => object.Key ?? '');
  if (left.length > 0) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: left.map((Key) => ({ Key })) },
      }),
    );
  }
  s3?.destroy();
  await rm(work, { recursive: true, force: true });
});

test('every view before sign-in', async () => {
  for (const view of ['upload', 'files', 'keys', 'settings', 'learn']) {
    await page.goto(`${app.origin}/#/${view}`);
    await expect(page.getByTestId('worker-status')).toHaveText(/Worker ready/);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await check(page, `${view} (signed out)`);
  }
});

test('Keys with a key, and Upload with a queue', async () => {
  // IAM keys, not a guest: moto's guest credentials last 90 s, less than this walk through the
  // views takes on a loaded machine, and a share link cannot outlive the sign-in.
  await page.goto(`${app.origin}/#/settings`);
  const form = page.getByRole('form', { name: 'Use IAM access keys' });
  // moto accepts any key; the app checks the form of an access key id.
  await form.getByLabel('Access key id').fill('AKIAIOSFODNN7EXAMPLE');
  await form.getByLabel('Secret access key').fill('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
  await form.getByRole('button', { name: 'Use these keys' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('IAM access keys');
  await check(page, 'settings (signed in)');

  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await page.getByLabel('Key name').fill('a11y-key');
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  await expect(page.getByTestId('pending-key')).toContainText('Key “a11y-key” created');
  await check(page, 'keys (new key, save a copy)');
  await page.getByRole('button', { name: 'Done without a copy' }).click();
  await expect(page.getByTestId('key-copies')).toHaveText(/^Only in this browser/);
  await check(page, 'keys (a key in the vault)');

  await writeFile(join(work, 'notes.txt'), 'Notes for the accessibility check.\n');
  await writeFile(join(work, 'photo.bin'), randomBytes(40_000));
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await check(page, 'upload (signed in, empty)');
  await page.getByTestId('mode-C').check();
  await page
    .getByTestId('file-input')
    .setInputFiles([join(work, 'notes.txt'), join(work, 'photo.bin')]);
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(2, {
    timeout: 30_000,
  });
  await check(page, 'upload (a queue)');
});

test('Files with rows, a selection, and every row dialog', async () => {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${ROOT}broken.bin`,
      Body: randomBytes(300),
      Metadata: { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A' },
    }),
  );
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: `${ROOT}album/cover.txt`, Body: 'cover' }),
  );
  await openFiles();
  await expect(row('notes.txt').getByTestId('badge')).toHaveText(/Model C/);
  await check(page, 'files (rows)');

  await row('notes.txt').getByRole('checkbox').check();
  await row('album').getByRole('checkbox').check();
  await expect(page.getByTestId('selection-toolbar')).toBeVisible();
  await check(page, 'files (a selection)');
  await page.getByTestId('clear-selection').click();

  /** Opens a row's dialog from the item named `itemName` of the row's menu. */
  const item = (rowName: string, itemName: string) => () => rowAction(page, rowName, itemName);
  await checkDialog(
    item('notes.txt', 'Details of notes.txt'),
    'details-dialog',
    'details dialog',
    (dialog) => expect(dialog.getByTestId('details-keys')).toContainText('Model C'),
  );
  await checkDialog(
    item('notes.txt', 'Preview notes.txt'),
    'preview-dialog',
    'preview dialog',
    (dialog) =>
      expect(dialog.getByTestId('preview-text')).toContainText('Notes for the accessibility'),
  );
  await checkDialog(
    item('notes.txt', 'Versions of notes.txt'),
    'versions-dialog',
    'versions dialog',
    (dialog) => expect(dialog.getByRole('heading', { name: /Versions of/ })).toBeVisible(),
  );
  await checkDialog(
    item('notes.txt', 'Share notes.txt with a person'),
    'share-person-dialog',
    'share with a person dialog',
  );
  await checkDialog(
    item('notes.txt', 'Change protection of notes.txt'),
    'protection-dialog',
    'protection dialog',
  );
  await checkDialog(item('notes.txt', 'Rename notes.txt'), 'move-dialog', 'rename dialog');
  await checkDialog(item('notes.txt', 'Move notes.txt'), 'move-dialog', 'move dialog');
  await checkDialog(item('album', 'Delete folder album'), 'delete-dialog', 'delete confirmation');
  await checkDialog('New folder…', 'new-folder-dialog', 'new folder dialog');
});

test('Files: the share link dialog, and a failed download’s error notice', async () => {
  await expect(page.getByTestId('file-table')).toBeVisible();

  await rowAction(page, 'notes.txt', 'Share link to notes.txt');
  const share = page.getByTestId('share-dialog');
  await expect(share).toHaveAttribute('data-phase', 'ready');
  await check(page, 'share link dialog');
  await share.getByRole('button', { name: 'Create link' }).click();
  // The link field, not the phase: what matters here is the dialog with a link in it.
  const made = share.getByLabel('Link', { exact: true });
  await expect(made).toHaveValue(/#\/share\//, { timeout: 30_000 });
  await check(page, 'share link dialog (link made)');
  link = await made.inputValue();
  await page.keyboard.press('Escape');
  await expect(share).toBeHidden();

  await row('broken.bin').getByRole('button', { name: 'Download broken.bin' }).click();
  const failed = page.locator('[data-testid="download"][data-name="broken.bin"]');
  await expect(failed).toHaveAttribute('data-phase', 'failed');
  await expect(failed.getByTestId('download-error')).toBeVisible();
  await check(page, 'files (an error notice)');
});

test('the share page: a valid link, an expired one, a damaged one', async ({ browser }) => {
  expect(link).toContain('#/share/');
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(link);
  await expect(visitor.getByTestId('share-page')).toHaveAttribute('data-state', 'ready', {
    timeout: 30_000,
  });
  await check(visitor, 'share page (valid link)');

  const expired = shareLinkUrl(`${app.origin}/`, {
    ...payloadOfLink(link),
    expiresAtMs: Date.now() - 60_000,
  });
  await visitor.goto(expired);
  await visitor.reload();
  await expect(visitor.getByTestId('share-page')).toHaveAttribute('data-state', 'expired');
  await check(visitor, 'share page (expired link)');

  await visitor.goto(`${app.origin}/#/share/not-a-link`);
  await visitor.reload();
  await expect(visitor.getByTestId('share-error')).toBeVisible();
  await check(visitor, 'share page (damaged link)');
  await visitor.context().close();
});

test('no serious or critical violation anywhere', () => {
  expect(seen, seen.join('\n')).toEqual([]);
});
