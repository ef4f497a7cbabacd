/**
 * Files: a row's "More actions" menu (views/ui/MenuButton.svelte, the WAI-ARIA APG menu button
 * pattern), in Chromium against the local stack, on plain objects put through the S3 API:
 * - a file row shows Download and the menu button, a folder row only the menu button; the
 *   button says it has a menu (aria-haspopup, aria-expanded, aria-controls while open);
 * - keyboard only: Tab to the button, Enter opens on the first item, ArrowDown to Rename…,
 *   Enter opens the rename dialog, Esc closes it and focus is back on the menu button; ArrowUp
 *   opens on the last item (Delete, set apart), Home/End/typed letters move;
 * - Escape, Tab and a click outside close it; one menu is open at a time;
 * - axe finds no serious or critical violation with the menu open;
 * - at 390 px the row's actions keep to one line and the menu stays on screen, opening upwards
 *   near the bottom of the page (a screenshot is written to the test's output folder).
 */
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test, type BrowserContext, type Locator, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { seriousViolations } from './support/axe';
import { focused, tabTo } from './support/keyboard';
import { fileRowOf, openRowMenu, rowMenuButton } from './support/row-menu';
import { env } from './support/upload-ui';

const top = `row-menu-${randomBytes(4).toString('hex')}`;
const FILE = 'report.txt';
const OTHER = 'notes.txt';
const FOLDER = 'album';
const MANY = Array.from(
  { length: 14 },
  (_, index) => `page-${String(index + 1).padStart(2, '0')}.txt`,
);

let s3: S3Client;
let bucket: string;
let context: BrowserContext;
let page: Page;

async function openFolder(path: string): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/files/${path}`);
  await expect(page.getByTestId('file-table')).toBeVisible();
}

const focusedName = async (): Promise<string> => (await focused(page)).name;
const openMenus = (): Locator => page.getByRole('menu');

/** The accessible names of the open menu's items, in order. */
async function itemNames(menu: Locator): Promise<string[]> {
  return menu
    .getByRole('menuitem')
    .evaluateAll((items) => items.map((item) => item.getAttribute('aria-label') ?? ''));
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async ({ browser }) => {
  bucket = env('VEIL_BUCKET');
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  const keys = [
    `${top}/${FILE}`,
    `${top}/${OTHER}`,
    `${top}/${FOLDER}/cover.txt`,
    ...MANY.map((name) => `${top}/many/${name}`),
  ];
  await Promise.all(
    keys.map((key) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: `${key}\n`,
          Metadata: { 'veil-format': 'plain' },
        }),
      ),
    ),
  );
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await page.getByRole('button', { name: /guest/i }).first().click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
});

test.afterAll(async () => {
  await context?.close();
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${top}/` }));
  const objects = (listed.Contents ?? []).map((object) => ({ Key: object.Key ?? '' }));
  if (objects.length > 0) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
  }
});

test('a file row shows Download and a menu button, a folder row only the menu button', async () => {
  await openFolder(`${top}/`);
  const file = fileRowOf(page, FILE);
  await expect(file.getByRole('button')).toHaveText(['Download', '⋯']);
  await expect(file.getByRole('button', { name: `Download ${FILE}` })).toBeVisible();
  // Every other action is in the menu, not on the row.
  await expect(file.getByRole('button', { name: `Rename ${FILE}` })).toHaveCount(0);
  const button = rowMenuButton(page, FILE);
  await expect(button).toHaveAccessibleName(`More actions for ${FILE}`);
  await expect(button).toHaveAttribute('aria-haspopup', 'menu');
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await expect(button).not.toHaveAttribute('aria-controls', /./);
  await expect(fileRowOf(page, FOLDER).getByRole('button')).toHaveCount(1);
  await expect(rowMenuButton(page, FOLDER)).toHaveAccessibleName(
    `More actions for folder ${FOLDER}`,
  );

  const menu = await openRowMenu(page, FOLDER);
  expect(await itemNames(menu)).toEqual([
    `Change protection of folder ${FOLDER}`,
    `Rename folder ${FOLDER}`,
    `Move folder ${FOLDER}`,
    `Delete folder ${FOLDER}`,
  ]);
  await expect(rowMenuButton(page, FOLDER)).toHaveAttribute(
    'aria-controls',
    (await menu.getAttribute('id')) ?? 'no id',
  );
  await page.keyboard.press('Escape');
  await expect(openMenus()).toHaveCount(0);
});

test('keyboard only: Enter opens the menu, ArrowDown reaches Rename…, Esc comes back', async () => {
  await openFolder(`${top}/`);
  await page.locator('body').evaluate((body) => (body as HTMLElement).focus());
  const more = `More actions for ${FILE}`;
  await tabTo(page, more);
  await page.keyboard.press('Enter');
  const menu = fileRowOf(page, FILE).getByRole('menu');
  await expect(menu).toBeVisible();
  await expect(rowMenuButton(page, FILE)).toHaveAttribute('aria-expanded', 'true');
  const names = await itemNames(menu);
  expect(names[0]).toBe(`Preview ${FILE}`);
  expect(names.at(-1)).toBe(`Delete ${FILE}`);
  // The items keep the ids of the actions they run.
  await expect(menu.getByRole('menuitem').last()).toHaveAttribute('data-action', 'delete');
  await expect(menu.getByRole('menuitem').last()).toHaveClass(/danger/);
  await expect.poll(focusedName).toBe(names[0]);

  const rename = names.indexOf(`Rename ${FILE}`);
  expect(rename).toBeGreaterThan(0);
  for (let step = 1; step <= rename; step += 1) {
    await page.keyboard.press('ArrowDown');
    await expect.poll(focusedName).toBe(names[step]);
    expect((await focused(page)).ringShown).toBe(true);
  }
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('move-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading')).toContainText(`Rename “${FILE}”`);
  await expect(dialog.getByTestId('move-input')).toBeFocused();
  await expect(openMenus()).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect.poll(focusedName).toBe(more);

  // ArrowUp opens on the last item; it wraps to the first, End and Home jump, letters search.
  await page.keyboard.press('ArrowUp');
  await expect.poll(focusedName).toBe(`Delete ${FILE}`);
  await page.keyboard.press('ArrowDown');
  await expect.poll(focusedName).toBe(names[0]);
  await page.keyboard.press('End');
  await expect.poll(focusedName).toBe(`Delete ${FILE}`);
  await page.keyboard.press('Home');
  await expect.poll(focusedName).toBe(names[0]);
  await page.keyboard.press('m');
  await expect.poll(focusedName).toBe(`Move ${FILE}`);
  await page.keyboard.press('s');
  await expect.poll(focusedName).toBe(`Share link to ${FILE}`);
  await page.keyboard.press('s');
  await expect.poll(focusedName).toBe(`Share ${FILE} with a person`);
  await page.keyboard.press('Escape');
  await expect(openMenus()).toHaveCount(0);
  await expect.poll(focusedName).toBe(more);
});

test('Escape, Tab and a click outside close the menu; one menu is open at a time', async () => {
  await openFolder(`${top}/`);
  // notes.txt is above report.txt: Tab from its closed menu button goes to report.txt's
  // checkbox, and so does Tab from its open menu.
  const button = rowMenuButton(page, OTHER);
  await button.focus();
  await page.keyboard.press('Tab');
  const next = await focusedName();
  expect(next).toBe(`Select ${FILE}`);
  await button.focus();
  await page.keyboard.press('Enter');
  await expect(openMenus()).toHaveCount(1);
  await page.keyboard.press('Tab');
  await expect(openMenus()).toHaveCount(0);
  await expect(button).toHaveAttribute('aria-expanded', 'false');
  await expect.poll(focusedName).toBe(next);

  // A click outside closes it and leaves focus alone.
  await button.click();
  await expect(openMenus()).toHaveCount(1);
  await page.getByRole('heading', { level: 1 }).click();
  await expect(openMenus()).toHaveCount(0);

  // Opening another row's menu closes the first, even without a press outside (a click event
  // alone: the open menu may cover the other button); a click on its button again closes it.
  await rowMenuButton(page, FILE).click();
  await expect(fileRowOf(page, FILE).getByRole('menu')).toBeVisible();
  await button.dispatchEvent('click');
  await expect(fileRowOf(page, OTHER).getByRole('menu')).toBeVisible();
  await expect(openMenus()).toHaveCount(1);
  await expect(rowMenuButton(page, FILE)).toHaveAttribute('aria-expanded', 'false');
  await button.dispatchEvent('click');
  await expect(openMenus()).toHaveCount(0);

  // Esc in the menu closes only the menu: the selection it would otherwise clear stays.
  await fileRowOf(page, FILE).getByTestId('select-row').check();
  await openRowMenu(page, OTHER);
  await page.keyboard.press('Escape');
  await expect(openMenus()).toHaveCount(0);
  await expect(fileRowOf(page, FILE).getByTestId('select-row')).toBeChecked();
  await fileRowOf(page, FILE).getByTestId('select-row').uncheck();
});

test('axe finds no serious or critical violation with a menu open', async () => {
  await openFolder(`${top}/`);
  await openRowMenu(page, FILE);
  expect(await seriousViolations(page, 'files (a row menu open)')).toEqual([]);
  await page.keyboard.press('Escape');
});

test('at 390 px the actions keep to one line and the menu stays on screen, upwards at the bottom', async () => {
  await page.setViewportSize({ width: 390, height: 700 });
  await openFolder(`${top}/many/`);
  const last = MANY.at(-1) ?? '';
  const download = fileRowOf(page, last).getByRole('button', { name: `Download ${last}` });
  const button = rowMenuButton(page, last);
  await button.evaluate((element) => element.scrollIntoView({ block: 'end' }));
  const downloadBox = await download.boundingBox();
  const buttonBox = await button.boundingBox();
  if (!downloadBox || !buttonBox) throw new Error('the row’s buttons are not shown');
  expect(Math.abs(downloadBox.y - buttonBox.y)).toBeLessThan(4);
  // The button sits in the bottom part of the screen, where a menu below would not fit.
  expect(buttonBox.y).toBeGreaterThan(700 / 2);

  const menu = await openRowMenu(page, last);
  const menuBox = await menu.boundingBox();
  if (!menuBox) throw new Error('the menu is not shown');
  expect(menuBox.y + menuBox.height).toBeLessThanOrEqual(buttonBox.y);
  expect(menuBox.y).toBeGreaterThanOrEqual(0);
  expect(menuBox.x).toBeGreaterThanOrEqual(0);
  expect(menuBox.x + menuBox.width).toBeLessThanOrEqual(390);
  await page.screenshot({ path: test.info().outputPath('row-menu-phone.png') });
  await page.keyboard.press('Escape');

  // The first row's menu, with room below, opens downwards and also stays on screen.
  const first = MANY[0] ?? '';
  await rowMenuButton(page, first).evaluate((element) =>
    element.scrollIntoView({ block: 'start' }),
  );
  const firstBox = await rowMenuButton(page, first).boundingBox();
  const below = await (await openRowMenu(page, first)).boundingBox();
  if (!firstBox || !below) throw new Error('the first row’s menu is not shown');
  expect(below.y).toBeGreaterThanOrEqual(firstBox.y + firstBox.height);
  expect(below.y + below.height).toBeLessThanOrEqual(700);
  expect(below.x).toBeGreaterThanOrEqual(0);
  expect(below.x + below.width).toBeLessThanOrEqual(390);
  await page.keyboard.press('Escape');
  await page.setViewportSize({ width: 1280, height: 800 });
});
