/**
 * Screenshots of every view and the main states at 1280x800 (desktop) and 390x844 (phone), for
 * a person to look at: overflow, clipped text, overlapping controls, contrast, tap targets.
 * Starts the local stack on free ports in a temporary directory, serves the built app
 * (VEIL_DIST_DIR, default dist/) with a root of its own, signs in as a guest, makes a key,
 * uploads two files, and walks the views in Debian's Chromium. Writes
 * `<name>-desktop.png` and `<name>-phone.png` (full page) into VEIL_SCREENSHOTS_DIR (default
 * screenshots/, ignored by git) and prints their paths.
 *
 *   npm run screenshots        # builds dist/ first
 */
import { chromium, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromiumLaunchOptions } from './chromium';
import { freePort } from './stack/process';
import { startStack, testBucketName } from './stack/stack';
import { serveStatic } from './stack/static-server';

const SIZES = [
  { label: 'desktop', width: 1280, height: 800 },
  { label: 'phone', width: 390, height: 844 },
] as const;
const ROOT = 'screenshots/';
const TIMEOUT_MS = 30_000;

const dist = process.env.VEIL_DIST_DIR ?? 'dist';
const out = resolve(process.env.VEIL_SCREENSHOTS_DIR ?? 'screenshots');
const written: string[] = [];

/** Saves the page at both sizes, full page, as `<name>-<size>.png`. */
async function shoot(page: Page, name: string): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    // Let the layout settle at the new width (no animation is waited for: none run here).
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(null))));
    const path = join(out, `${name}-${size.label}.png`);
    await page.screenshot({ path, fullPage: true });
    written.push(path);
  }
  await page.setViewportSize({ width: SIZES[0].width, height: SIZES[0].height });
}

/** Opens `view`, waits for its heading, and shoots it. */
async function view(page: Page, origin: string, hash: string, name: string): Promise<void> {
  await page.goto(`${origin}/#/${hash}`);
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  await shoot(page, name);
}

/** Opens the "More actions" menu of the Files row `rowName` and clicks its item `itemName`. */
async function rowItem(page: Page, rowName: string, itemName: string): Promise<void> {
  const row = page.locator(`[data-testid="row"][data-name="${rowName}"]`);
  await row.getByTestId('row-menu').click();
  await row.getByRole('menuitem', { name: itemName, exact: true }).click();
}

async function walk(page: Page, origin: string, work: string): Promise<void> {
  await page.goto(`${origin}/#/upload`);
  await page.getByTestId('worker-status').getByText('Worker ready').waitFor();
  for (const name of ['upload', 'files', 'keys', 'settings', 'learn']) {
    await view(page, origin, name, `${name}-signed-out`);
  }

  await page.goto(`${origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await page.getByTestId('identity-id').getByText('us-east-1:').waitFor();
  await shoot(page, 'settings-signed-in');

  await view(page, origin, 'keys', 'keys-empty');
  await page.getByLabel('Key name').fill('team-key');
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  await page.getByTestId('pending-key').waitFor();
  await shoot(page, 'keys-new-key');
  await page.getByRole('button', { name: 'Done without a copy' }).click();
  await page.getByTestId('vault-key').first().waitFor();
  await shoot(page, 'keys-with-key');

  const files = ['quarterly report with a rather long name 2026.txt', 'photo.bin'];
  await writeFile(join(work, files[0]!), 'Numbers for the quarter.\n'.repeat(40));
  await writeFile(join(work, files[1]!), new Uint8Array(300_000).fill(7));
  await view(page, origin, 'upload', 'upload-signed-in');
  await page.getByTestId('mode-C').check();
  await page.getByTestId('file-input').setInputFiles(files.map((name) => join(work, name)));
  await page
    .locator('[data-testid="upload-row"][data-phase="done"]')
    .nth(1)
    .waitFor({ timeout: TIMEOUT_MS });
  await shoot(page, 'upload-queue');

  await view(page, origin, 'files', 'files-rows');
  await page.locator('[data-testid="row"][data-name="photo.bin"]').waitFor();
  await page.getByRole('checkbox', { name: 'Select photo.bin' }).check();
  await shoot(page, 'files-selection');
  // A row's "More actions" menu, open on its items.
  const photoRow = page.locator('[data-testid="row"][data-name="photo.bin"]');
  await photoRow.getByTestId('row-menu').click();
  await photoRow.getByRole('menu').waitFor();
  await shoot(page, 'files-row-menu');
  await page.keyboard.press('Escape');
  await rowItem(page, 'photo.bin', 'Details of photo.bin');
  await page.getByTestId('details-dialog').getByTestId('details-keys').waitFor();
  await shoot(page, 'files-details');
  await page.keyboard.press('Escape');
  await rowItem(page, 'photo.bin', 'Delete photo.bin');
  await page.getByTestId('delete-dialog').getByRole('button', { name: 'Cancel' }).waitFor();
  await shoot(page, 'files-delete');
  await page.keyboard.press('Escape');

  await rowItem(page, 'photo.bin', 'Share link to photo.bin');
  const share = page.getByTestId('share-dialog');
  await share.getByRole('button', { name: 'Create link' }).click();
  await share.getByTestId('share-created').waitFor({ timeout: TIMEOUT_MS });
  await shoot(page, 'files-share-link');
  const link = await share.getByLabel('Link', { exact: true }).inputValue();
  await page.keyboard.press('Escape');

  const visitor = await page.context().browser()!.newPage();
  await visitor.goto(link);
  await visitor
    .locator('[data-testid="share-page"][data-state="ready"]')
    .waitFor({ timeout: TIMEOUT_MS });
  await shoot(visitor, 'share-page');
  await visitor.close();
}

async function main(): Promise<void> {
  if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist}/ is missing: run \`vite build\` first`);
  }
  await mkdir(out, { recursive: true });
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const dir = await mkdtemp(join(tmpdir(), 'veil-screenshots-'));
  const appPort = await freePort();
  const stack = await startStack({
    dir,
    motoPort: await freePort(),
    hsmPort: await freePort(),
    appOrigins: [`http://127.0.0.1:${appPort}`],
    bucket: testBucketName(),
  });
  const app = await serveStatic({
    root: dist,
    port: appPort,
    config: { ...stack.config, prefix: ROOT },
  });
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(TIMEOUT_MS);
    await walk(page, app.origin, dir);
  } finally {
    await browser.close();
    await app.close();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(`${written.length} screenshots in ${out}:\n${written.join('\n')}`);
}

await main();
