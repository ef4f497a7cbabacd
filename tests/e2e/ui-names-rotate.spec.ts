/**
 * "Rotate names key…" in Settings, in Chromium against the local stack ([Note: names key
 * rotation] in src/transfer/names-rotate.ts). As in ui-private-names.spec.ts the built app is
 * served on the harness port with its own config.json (a root of its own, `privateNames: true`);
 * Model C is the key model for new uploads, and a folder uploaded as a guest creates the names
 * key. Then the dialog (opened from Settings, Plan focused) plans every object, rotates and says
 * so; Esc closes it and focus returns to the button. Afterwards:
 * - the bucket, listed from Node, holds none of the old stored keys, no `.veil/names-key.next`,
 *   and every object under its name by the new names key (opened in Node);
 * - Files shows the same clear names, and a file downloads byte-identically.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic, type StaticServer } from '../../scripts/stack/static-server';
import { namesKeyStorageFor } from '../../src/aws/bucket-s3';
import { kmsApiFor } from '../../src/aws/clients';
import { KmsKeyring } from '../../src/keyrings/kms';
import { privateNames } from '../../src/transfer/location-names';
import { readNamesKey } from '../../src/transfer/names-key';
import { env } from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const NO_SAVE_PICKER = `delete window.showSaveFilePicker;`;
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

const TOKEN = hex(5);
const ROOT = `rot-${hex(3)}/`;
const TOP = `Mappe ${TOKEN}`;
const REPORT = `bericht-${TOKEN}.bin`;
const FILES: Record<string, Uint8Array> = {
  [`liste-${TOKEN}.txt`]: new TextEncoder().encode('a list\n'.repeat(50)),
  [`unter-${TOKEN}/${REPORT}`]: new Uint8Array(randomBytes(250_000)),
  [`unter-${TOKEN}/notiz-${TOKEN}.txt`]: new TextEncoder().encode('note\n'),
};

let s3: S3Client;
let kms: KMSClient;
let bucket: string;
let app: StaticServer;
let work: string;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

/** The location's names as Node opens them (KMS at moto opens the names key). */
async function nodeNames() {
  const keyring = new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });
  const location = { bucket, root: ROOT };
  const cipher = await readNamesKey(namesKeyStorageFor(s3, bucket), location, keyring);
  if (!cipher) throw new Error(`no names key under ${ROOT}`);
  return privateNames(location, cipher);
}

function row(page: Page, name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

test.describe.configure({ mode: 'serial', timeout: 120_000 });

test.beforeAll(async () => {
  bucket = env('VEIL_BUCKET');
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL,
  });
  kms = new KMSClient({ region: 'us-east-1', endpoint: env('VEIL_MOTO_URL'), credentials: LOCAL });
  work = await mkdtemp(join(tmpdir(), 'veil-names-rotate-'));
  const served = (await (
    await fetch(`${new URL(env('VEIL_APP_URL')).origin}/config.json`)
  ).json()) as Record<string, unknown>;
  app = await serveStatic({
    root: process.env.VEIL_DIST_DIR ?? 'dist',
    port: Number(env('VEIL_HARNESS_PORT')),
    config: { ...served, prefix: ROOT, privateNames: true },
  });
});

test.afterAll(async () => {
  await app?.close();
  const left = s3 ? await keysUnder(ROOT) : [];
  if (left.length > 0) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: left.map((Key) => ({ Key })) },
      }),
    );
  }
  s3?.destroy();
  kms?.destroy();
  await rm(work, { recursive: true, force: true });
});

test('rotating the names key renames every object; Files shows the same names and the file downloads', async ({
  browser,
}) => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.addInitScript(NO_SAVE_PICKER);
  await page.goto(`${app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await page.locator('[data-testid="default-model"] input[value="C"]').check();

  // A folder uploaded under Model C creates the names key.
  const dir = join(work, TOP);
  for (const [path, bytes] of Object.entries(FILES)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(3, {
    timeout: 30_000,
  });
  const before = await keysUnder(ROOT);
  expect(before).toHaveLength(4);
  const oldObjects = before.filter((key) => !key.startsWith(`${ROOT}.veil/`));
  expect(oldObjects).toHaveLength(3);

  // Settings: Rotate names key… opens the dialog with Plan focused.
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page.getByTestId('names-setting')).toHaveAttribute('data-state', 'private');
  const open = page.getByTestId('names-rotate');
  await open.click();
  const dialog = page.getByRole('dialog', { name: 'Rotate the names key' });
  await expect(dialog).toBeVisible();
  const plan = dialog.getByTestId('names-rotation-plan-button');
  await expect(plan).toBeFocused();
  await expect(dialog.getByTestId('names-rotation-started')).toHaveCount(0);
  await plan.click();
  await expect(dialog.getByTestId('names-rotation-summary')).toContainText('3 objects are renamed');
  await expect(dialog.getByTestId('names-rotation-start')).toBeFocused();
  await dialog.getByTestId('names-rotation-start').click();
  await expect(dialog.getByTestId('names-rotation-done')).toContainText(
    'Names key rotated: 3 objects were renamed',
    { timeout: 60_000 },
  );
  await expect(dialog).toHaveAttribute('data-phase', 'finished');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(open).toBeFocused();

  // The bucket: none of the old stored keys, the new names key in place, every object renamed.
  const after = await keysUnder(ROOT);
  for (const key of oldObjects) expect(after).not.toContain(key);
  expect(after).toContain(`${ROOT}.veil/names-key`);
  expect(after).not.toContain(`${ROOT}.veil/names-key.next`);
  expect(after).toHaveLength(4);
  expect(after.join('\n')).not.toContain(TOKEN);
  const names = await nodeNames();
  for (const path of Object.keys(FILES)) expect(after).toContain(names.objectKey(`${TOP}/${path}`));

  // Files: the same clear names; the file downloads byte-identically.
  await page.getByRole('link', { name: 'Files', exact: true }).click();
  await row(page, TOP).getByRole('link').click();
  await expect(row(page, `liste-${TOKEN}.txt`)).toBeVisible();
  await row(page, `unter-${TOKEN}`).getByRole('link').click();
  await expect(row(page, `notiz-${TOKEN}.txt`)).toBeVisible();
  await expect(page.getByTestId('name-unreadable')).toHaveCount(0);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row(page, REPORT)
      .getByRole('button', { name: `Download ${REPORT}` })
      .click(),
  ]);
  const saved = new Uint8Array(await readFile(await download.path()));
  expect(sha256(saved)).toBe(sha256(FILES[`unter-${TOKEN}/${REPORT}`]!));
  await context.close();
});
