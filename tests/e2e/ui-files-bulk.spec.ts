/**
 * Files: selection and bulk actions in Chromium against the local stack. Rows are selected by
 * click, shift-click (a range in the order shown), Space and Shift+Space on a focused checkbox,
 * Ctrl+A in the table and cleared with Esc; the toolbar counts them in a live region. A bulk
 * delete asks once, with the count and size of everything under the selected folders, and
 * removes exactly those keys (read back from moto in Node). New folder writes a zero-byte marker
 * that lists as a folder after a reload; the filter narrows the rows as typed and "Search
 * subfolders" finds matches below with their folder path. "Upload here" (the button, and a
 * synthetic drop of files) uploads into the folder shown, with progress in the drawer, and the
 * listing shows the new files when they finish.
 */
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import type { BrowserContext, Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { rowAction } from './support/row-menu';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

let s3: S3Client;
let bucket: string;
/** This run's folder at the bucket root, so other specs' objects do not matter. */
const top = `files-bulk-${randomBytes(4).toString('hex')}`;
let context: BrowserContext;
let page: Page;
const PLAIN = { 'veil-format': 'plain' };

async function put(key: string, body: Uint8Array | string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
      Metadata: PLAIN,
    }),
  );
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const reply = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(reply.Contents ?? []).map((object) => object.Key ?? ''));
    token = reply.NextContinuationToken;
  } while (token);
  return keys.sort();
}

function row(target: Page, name: string) {
  return target.locator(`[data-testid="row"][data-name="${name}"]`);
}

function checkbox(target: Page, name: string) {
  return row(target, name).getByTestId('select-row');
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

/** The names of the checked rows, in the order shown. */
async function checkedNames(target: Page): Promise<string[]> {
  return target
    .locator('[data-testid="row"]:has([data-testid="select-row"]:checked)')
    .evaluateAll((rows) => rows.map((element) => element.getAttribute('data-name') ?? ''));
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
  await Promise.all([
    ...['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt'].map((name) =>
      put(`${top}/sel/${name}`, `${name}\n`),
    ),
    put(`${top}/del/keep.txt`, 'keep\n'),
    put(`${top}/del/one.txt`, 'one\n'),
    put(`${top}/del/two.txt`, 'two\n'),
    put(`${top}/del/dir/x.txt`, 'x\n'),
    put(`${top}/del/dir/deeper/y.txt`, 'y\n'),
    put(`${top}/up/seed.txt`, 'seed\n'),
    put(`${top}/find/Report-Q1.txt`, 'q1\n'),
    put(`${top}/find/notes.txt`, 'notes\n'),
    put(`${top}/find/reports/annual.txt`, 'annual\n'),
    put(`${top}/find/old/deep/REPORT-2019.txt`, '2019\n'),
    put(`${top}/find/old/café.txt`, 'cafe\n'),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await connectAsGuest(page);
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
});

test('shift-click selects the range between two rows in the order shown', async () => {
  await openFolder(page, `${top}/sel/`);
  const status = page.getByTestId('selection-status');
  await checkbox(page, 'b.txt').click();
  await checkbox(page, 'd.txt').click({ modifiers: ['Shift'] });
  expect(await checkedNames(page)).toEqual(['b.txt', 'c.txt', 'd.txt']);
  await expect(status).toHaveText('3 selected: 3 files.');
  // The anchor stays on b.txt: shift-click above it makes the range a..b.
  await checkbox(page, 'a.txt').click({ modifiers: ['Shift'] });
  expect(await checkedNames(page)).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt']);
  // Sorting by name descending reverses the order shown: a range follows it.
  await page.getByTestId('clear-selection').click();
  await expect(status).toHaveText('Nothing selected.');
  // Rows start sorted by name ascending: one click on Name reverses them.
  await page.getByTestId('sort-name').click();
  await expect(page.locator('[data-testid="row"]').first()).toHaveAttribute('data-name', 'e.txt');
  await checkbox(page, 'e.txt').click();
  await checkbox(page, 'c.txt').click({ modifiers: ['Shift'] });
  expect(await checkedNames(page)).toEqual(['e.txt', 'd.txt', 'c.txt']);
  // Unchecking with Shift clears a range.
  await checkbox(page, 'd.txt').click({ modifiers: ['Shift'] });
  expect(await checkedNames(page)).toEqual(['c.txt']);
});

test('keyboard: Space toggles, Shift+Space extends, Ctrl+A selects all, Esc clears', async () => {
  await openFolder(page, `${top}/sel/`);
  const status = page.getByTestId('selection-status');
  // Back to ascending names and no selection, as the test before left them.
  await page.getByTestId('sort-name').click();
  await page.getByTestId('clear-selection').click();
  await expect(page.locator('[data-testid="row"]').first()).toHaveAttribute('data-name', 'a.txt');
  await checkbox(page, 'a.txt').focus();
  await page.keyboard.press('Space');
  expect(await checkedNames(page)).toEqual(['a.txt']);
  await checkbox(page, 'c.txt').focus();
  await page.keyboard.press('Shift+Space');
  expect(await checkedNames(page)).toEqual(['a.txt', 'b.txt', 'c.txt']);
  // The count is announced without focus leaving the checkbox.
  await expect(status).toHaveText('3 selected: 3 files.');
  await expect(checkbox(page, 'c.txt')).toBeFocused();
  await page.keyboard.press('Escape');
  expect(await checkedNames(page)).toEqual([]);
  await expect(status).toHaveText('Nothing selected.');
  await page.keyboard.press('Control+a');
  expect(await checkedNames(page)).toEqual(['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt']);
  await expect(page.getByTestId('select-all')).toBeChecked();
  await expect(checkbox(page, 'c.txt')).toBeFocused();
  // Ctrl+A outside the table is the browser's own (nothing is selected by it).
  await page.keyboard.press('Escape');
  await page.getByRole('heading', { name: 'Files', level: 1 }).focus();
  await page.keyboard.press('Control+a');
  expect(await checkedNames(page)).toEqual([]);
});

test('a bulk delete asks once with the count and size, then removes exactly the selection', async () => {
  await openFolder(page, `${top}/del/`);
  await checkbox(page, 'dir').click();
  await checkbox(page, 'one.txt').click();
  await checkbox(page, 'two.txt').click();
  const remove = page.getByRole('button', { name: 'Delete 2 files and 1 folder' });
  await remove.click();
  const dialog = page.getByTestId('delete-dialog');
  await expect(dialog.getByRole('heading')).toHaveText('Delete 2 files and 1 folder?');
  // 2 files and the 2 objects under dir/: 4 + 4 + 2 + 2 bytes.
  await expect(dialog.getByTestId('delete-count')).toContainText('4 objects (12 B stored)');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  // Cancel keeps everything and returns focus to the toolbar button.
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(remove).toBeFocused();
  expect(await keysUnder(`${top}/del/`)).toHaveLength(5);
  await remove.click();
  await dialog.getByTestId('confirm-delete').click();
  await expect(dialog).not.toBeVisible();
  await expect(row(page, 'one.txt')).toHaveCount(0);
  await expect(page.getByTestId('files-notice')).toHaveText(
    'Deleted 2 files and 1 folder: 4 objects.',
  );
  expect(await keysUnder(`${top}/del/`)).toEqual([`${top}/del/keep.txt`]);
  await expect(page.getByTestId('selection-status')).toHaveText('Nothing selected.');
});

test('New folder writes a marker that lists as a folder after a reload, and a delete removes it', async () => {
  await openFolder(page, `${top}/sel/`);
  const button = page.getByTestId('new-folder');
  await button.click();
  const dialog = page.getByTestId('new-folder-dialog');
  const field = dialog.getByLabel('Name');
  await expect(field).toBeFocused();
  // Refused names say why and write nothing.
  await field.fill('a/b');
  await dialog.getByTestId('create-folder').click();
  await expect(dialog.getByTestId('new-folder-problem')).toContainText('cannot be');
  await field.fill('a.txt');
  await expect(dialog.getByTestId('new-folder-problem')).toContainText('already');
  // Esc closes it, focus back on the button.
  await page.keyboard.press('Escape');
  await expect(dialog).not.toBeVisible();
  await expect(button).toBeFocused();
  expect(await keysUnder(`${top}/sel/a/`)).toEqual([]);

  await button.click();
  await field.fill('Empty one');
  await page.keyboard.press('Enter');
  await expect(dialog).not.toBeVisible();
  await expect(row(page, 'Empty one')).toHaveAttribute('data-kind', 'folder');
  await expect(page.getByTestId('files-notice')).toHaveText('Created folder Empty one.');
  const marker = `${top}/sel/Empty one/`;
  expect(await keysUnder(marker)).toEqual([marker]);
  // After a reload (guest credentials live in the page: connect again), it is still there.
  await page.reload();
  await connectAsGuest(page);
  await openFolder(page, `${top}/sel/`);
  await expect(row(page, 'Empty one')).toHaveAttribute('data-kind', 'folder');
  // Inside, the marker is the folder, not a file.
  await row(page, 'Empty one').getByRole('link').click();
  await expect(page.getByTestId('files-empty')).toContainText('This folder is empty');
  await openFolder(page, `${top}/sel/`);
  await rowAction(page, 'Empty one', 'Delete folder Empty one');
  const confirm = page.getByTestId('delete-dialog');
  await expect(confirm.getByTestId('delete-count')).toContainText('1 object');
  await confirm.getByTestId('confirm-delete').click();
  await expect(row(page, 'Empty one')).toHaveCount(0);
  expect(await keysUnder(marker)).toEqual([]);
});

test('the filter narrows the rows as typed; Search subfolders finds matches below with their path', async () => {
  await openFolder(page, `${top}/find/`);
  const filter = page.getByRole('searchbox', { name: 'Filter by name' });
  const status = page.getByTestId('find-status');
  await filter.fill('REPORT');
  const shown = page.locator('[data-testid="row"]');
  await expect(shown).toHaveCount(2);
  expect(await shown.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')))).toEqual([
    'reports',
    'Report-Q1.txt',
  ]);
  await expect(status).toHaveText('2 of 4 items in this folder match.');
  // Esc clears the filter and every row is back.
  await page.keyboard.press('Escape');
  await expect(filter).toHaveValue('');
  await expect(shown).toHaveCount(4);

  await filter.fill('report');
  await page.getByTestId('search-subfolders').click();
  await expect(status).toHaveText('3 matches in subfolders for “report”.');
  const found = (): Promise<string[]> =>
    shown.evaluateAll((rows) =>
      rows
        .map((r) => {
          const folder = r.querySelector('[data-testid="row-folder"]')?.textContent ?? '';
          return `${r.getAttribute('data-name') ?? ''}|${folder}`;
        })
        .sort(),
    );
  expect(await found()).toEqual(['REPORT-2019.txt|in old/deep', 'Report-Q1.txt|', 'reports|']);
  // A match deep down downloads from its own key (the row keeps the stored key).
  await expect(
    row(page, 'REPORT-2019.txt').getByRole('button', { name: 'Download REPORT-2019.txt' }),
  ).toBeVisible();
  // Case and Unicode forms do not matter: "CAFE" + combining acute finds café.txt.
  await filter.fill('CAFE\u0301');
  await expect(shown).toHaveCount(0);
  await expect(page.getByTestId('no-matches')).toBeVisible();
  await filter.press('Enter');
  await expect(status).toHaveText('1 match in subfolders for “CAFE\u0301”.');
  expect(await found()).toEqual(['café.txt|in old']);
  // Esc goes back to the folder's rows.
  await filter.press('Escape');
  await expect(filter).toHaveValue('');
  await expect(shown).toHaveCount(4);
  await expect(status).toHaveText('');
});

test('Upload here by the button and by a drop lands under the folder shown', async () => {
  const chosen = {
    name: 'by-button.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('chosen with the button\n'),
  };
  await openFolder(page, `${top}/up/`);
  // The Upload page's choice is a vault key and the vault is empty: refused, saying what to do.
  await page.getByTestId('upload-here-input').setInputFiles(chosen);
  await expect(page.getByTestId('upload-here-problem')).toContainText('Upload page');
  expect(await keysUnder(`${top}/up/`)).toEqual([`${top}/up/seed.txt`]);
  // With AWS KMS chosen on the Upload page, the same file goes into the folder shown.
  await page.goto(`${env('VEIL_APP_URL')}#/upload`);
  await page.getByTestId('mode-C').check();
  await openFolder(page, `${top}/up/`);
  await page.getByTestId('upload-here-input').setInputFiles(chosen);
  const drawer = page.getByTestId('upload-drawer');
  await expect(
    drawer.locator('[data-testid="drawer-row"][data-path="by-button.txt"]'),
  ).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  await expect(drawer.getByRole('link', { name: 'Upload page' })).toHaveAttribute(
    'href',
    '#/upload',
  );
  // The listing was refreshed when it finished.
  await expect(row(page, 'by-button.txt')).toBeVisible();

  // A drop: the view shows it is a drop target while files are over it.
  const view = page.getByTestId('files-view');
  const transfer = await page.evaluateHandle(() => {
    const data = new DataTransfer();
    data.items.add(new File(['dropped one\n'], 'dropped-1.txt', { type: 'text/plain' }));
    data.items.add(new File(['dropped two\n'], 'dropped-2.txt', { type: 'text/plain' }));
    return data;
  });
  await view.dispatchEvent('dragenter', { dataTransfer: transfer });
  await expect(view).toHaveClass(/dropping/);
  await view.dispatchEvent('drop', { dataTransfer: transfer });
  await expect(view).not.toHaveClass(/dropping/);
  for (const name of ['dropped-1.txt', 'dropped-2.txt']) {
    await expect(drawer.locator(`[data-testid="drawer-row"][data-path="${name}"]`)).toHaveAttribute(
      'data-phase',
      'done',
      { timeout: 30_000 },
    );
    await expect(row(page, name)).toBeVisible();
  }
  expect(await keysUnder(`${top}/up/`)).toEqual([
    `${top}/up/by-button.txt`,
    `${top}/up/dropped-1.txt`,
    `${top}/up/dropped-2.txt`,
    `${top}/up/seed.txt`,
  ]);
});
