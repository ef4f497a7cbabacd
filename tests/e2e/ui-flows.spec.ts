/**
 * The whole flow a newcomer has, in Chromium against the local stack: sign in as the demo user,
 * create a Model A key in Keys, upload a folder under each model (A: the vault key, B: the HSM
 * behind the proxy, C: AWS KMS) in Upload, browse each in Files with its badge, and download
 * every file through the save picker (replaced by an origin-private-file stub, as in
 * download.spec.ts), comparing the saved bytes with the originals.
 */
import { expect, test, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SAVE_PICKER_STUB = `
  window.showSaveFilePicker = async (options) => {
    const root = await navigator.storage.getDirectory();
    return root.getFileHandle(options.suggestedName, { create: true });
  };
`;
const BADGES = { A: 'Model A · your key', B: 'Model B · HSM', C: 'Model C · AWS KMS' } as const;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let work: string;

test.beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'veil-ui-flows-'));
});

test.afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Writes `files` under a new folder named `name`; returns its path. */
async function folder(name: string, files: Record<string, Uint8Array>): Promise<string> {
  const root = join(work, name);
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
  return root;
}

async function savedSha256(page: Page, name: string): Promise<string> {
  return page.evaluate(async (fileName) => {
    const root = await navigator.storage.getDirectory();
    const file = await (await root.getFileHandle(fileName)).getFile();
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  }, name);
}

function fileRow(page: Page, name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

test('upload a folder under each model, browse it, download to disk and compare bytes', async ({
  page,
}) => {
  test.setTimeout(90_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.addInitScript(SAVE_PICKER_STUB);
  const run = randomBytes(3).toString('hex');

  // Connect as the demo user (credentials for S3 and KMS, an ID token for the HSM proxy).
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  const form = page.getByRole('form', { name: 'Sign in with user name and password' });
  await form.getByLabel('User name').fill('demo');
  await form.getByLabel('Password').fill('Veil-demo-2026');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('Signed in as demo');

  // A Model A key in the vault.
  await page.getByRole('link', { name: 'Keys', exact: true }).click();
  await page.getByLabel('Key name').fill(`flow-key-${run}`);
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  await page.getByTestId('pending-done').click();
  await expect(page.getByTestId('vault-key')).toHaveCount(1);

  const uploaded: Record<string, Record<string, Uint8Array>> = {};
  for (const model of ['A', 'B', 'C'] as const) {
    const name = `album-${model.toLowerCase()}-${run}`;
    const files = {
      'cover.txt': new TextEncoder().encode(`Model ${model} cover\n`.repeat(40)),
      'photos/big.bin': new Uint8Array(randomBytes(600_000 + model.charCodeAt(0))),
    };
    uploaded[model] = files;
    const dir = await folder(name, files);
    await page.getByRole('link', { name: 'Upload', exact: true }).click();
    await page.getByTestId(`mode-${model}`).check();
    await page.getByLabel(/Destination folder/).fill(`flows-${run}`);
    await page.getByTestId('folder-input').setInputFiles(dir);
    await expect(
      page.locator(`[data-testid="upload-row"][data-phase="done"][data-path^="${name}/"]`),
    ).toHaveCount(2, { timeout: 30_000 });
  }

  await page.getByRole('link', { name: 'Files', exact: true }).click();
  await fileRow(page, `flows-${run}`).getByRole('link').click();
  for (const model of ['A', 'B', 'C'] as const) {
    const name = `album-${model.toLowerCase()}-${run}`;
    if (model !== 'A') {
      await page
        .getByTestId('breadcrumbs')
        .getByRole('link', { name: `flows-${run}` })
        .click();
    }
    await fileRow(page, name).getByRole('link').click();
    await expect(fileRow(page, 'cover.txt').getByTestId('badge')).toHaveText(BADGES[model]);
    await page.getByRole('button', { name: 'Download cover.txt' }).click();
    const cover = page.locator('[data-testid="download"][data-name="cover.txt"]').first();
    await expect(cover).toHaveAttribute('data-phase', 'done');
    expect(await savedSha256(page, 'cover.txt')).toBe(sha256(uploaded[model]!['cover.txt']!));

    await fileRow(page, 'photos').getByRole('link').click();
    await expect(fileRow(page, 'big.bin').getByTestId('badge')).toHaveText(BADGES[model]);
    await page.getByRole('button', { name: 'Download big.bin' }).click();
    const big = page.locator('[data-testid="download"][data-name="big.bin"]').first();
    await expect(big).toHaveAttribute('data-phase', 'done');
    expect(await savedSha256(page, 'big.bin')).toBe(sha256(uploaded[model]!['photos/big.bin']!));
    await page.getByRole('button', { name: 'Clear finished downloads' }).click();
  }
  expect(errors).toEqual([]);
});
