/**
 * Rename and move in Files, in Chromium against the local stack, in a private-names location
 * ([Note: move plan], [Note: move by rewrap]). As in ui-private-names.spec.ts the built app is
 * served on the harness port with its own config.json (a root of its own, `privateNames: true`,
 * AWS endpoints through the recording proxy), and a folder is uploaded under Model C as a guest
 * (the names key is created by that upload). Then:
 * - a file is renamed and a nested folder moved, through their dialogs (typed, Enter to plan,
 *   Enter to start): Files shows the new clear names and not the old ones; the bucket, listed
 *   from Node, holds every object under the new names' keys and no clear name; the moved file
 *   downloads byte-identically;
 * - the field refuses what NAME_INVALID refuses as it is typed;
 * - renaming onto a name that exists is flagged in the plan, fails with MOVE_DESTINATION_EXISTS
 *   ("already exists") and both objects stay byte for byte;
 * - a rename cancelled while its PutObject is held (Esc does not close the dialog meanwhile)
 *   leaves the file where it was and writes nothing at the new name;
 * - no request the proxy saw (uploads, listings, moves) holds a file or folder name ([Note: name
 *   scan] in support/name-scan.ts);
 * - keyboard: Rename… in the row's menu opens the dialog with the field focused, Esc closes it
 *   and focus returns to the menu button.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultProxy } from '../../scripts/stack/fault-proxy';
import type { StaticServer } from '../../scripts/stack/static-server';
import { namesKeyStorageFor } from '../../src/aws/bucket-s3';
import { kmsApiFor } from '../../src/aws/clients';
import { KmsKeyring } from '../../src/keyrings/kms';
import { privateNames } from '../../src/transfer/location-names';
import { readNamesKey } from '../../src/transfer/names-key';
import { findNames, type NamedRequest } from './support/name-scan';
import {
  serveProxiedPrivateLocation,
  type ProxiedPrivateLocation,
} from './support/private-location';
import { rowAction, rowMenuButton } from './support/row-menu';
import { env } from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const NO_SAVE_PICKER = `delete window.showSaveFilePicker;`;
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The token in every name: a hit of it in a stored key is a clear name, never chance. */
const TOKEN = hex(5);
const ROOT = `mv-${hex(3)}/`;
const TOP = `Ordner ${TOKEN}`;
const RENAMED = `umbenannt-${TOKEN}.txt`;
const FILES: Record<string, Uint8Array> = {
  [`alt-${TOKEN}.txt`]: new TextEncoder().encode('renamed in Files\n'.repeat(30)),
  [`belegt-${TOKEN}.txt`]: new TextEncoder().encode('a name that is taken\n'.repeat(20)),
  [`sub-${TOKEN}/tief-${TOKEN}/daten-${TOKEN}.bin`]: new Uint8Array(randomBytes(200_000)),
  [`sub-${TOKEN}/tief-${TOKEN}/notiz-${TOKEN}.txt`]: new TextEncoder().encode('note\n'),
};
const DEST = `Ziel-${TOKEN}`;

let location: ProxiedPrivateLocation;
let s3: S3Client;
let kms: KMSClient;
let bucket: string;
let proxy: FaultProxy;
let app: StaticServer;
let work: string;
let page: Page;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

async function getObject(key: string): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

/** The location's names as Node opens them (KMS at moto opens the names key). */
async function nodeNames() {
  const keyring = new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });
  const location = { bucket, root: ROOT };
  const cipher = await readNamesKey(namesKeyStorageFor(s3, bucket), location, keyring);
  if (!cipher) throw new Error(`no names key under ${ROOT}`);
  return privateNames(location, cipher);
}

function row(name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

async function openFolder(...segments: string[]): Promise<void> {
  await page.goto(`${app.origin}/#/files/${segments.map(encodeURIComponent).join('/')}/`);
  await expect(page.getByTestId('file-table')).toBeVisible();
}

/** Types into the open dialog, plans with Enter, starts with Enter, waits for the run's end. */
async function runDialog(typed: string): Promise<void> {
  const dialog = page.getByTestId('move-dialog');
  const field = dialog.getByTestId('move-input');
  await expect(field).toBeFocused();
  await field.fill(typed);
  await field.press('Enter');
  await expect(dialog).toHaveAttribute('data-phase', 'planned');
  await expect(dialog.getByTestId('move-summary')).toBeVisible();
  await expect(dialog.getByTestId('move-start')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveAttribute('data-phase', 'finished', { timeout: 30_000 });
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async ({ browser }: { browser: Browser }) => {
  location = await serveProxiedPrivateLocation(ROOT);
  ({ s3, bucket, proxy, app } = location);
  kms = new KMSClient({ region: 'us-east-1', endpoint: env('VEIL_MOTO_URL'), credentials: LOCAL });
  work = await mkdtemp(join(tmpdir(), 'veil-move-'));
  const context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await page.addInitScript(NO_SAVE_PICKER);
});

test.afterAll(async () => {
  await page?.context().close();
  await location?.close();
  kms?.destroy();
  await rm(work, { recursive: true, force: true });
});

test('a file renamed and a nested folder moved: new clear names in Files, none in the bucket', async () => {
  await page.goto(`${app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  const dir = join(work, TOP);
  for (const [path, bytes] of Object.entries(FILES)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), bytes);
  }
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(4, {
    timeout: 30_000,
  });
  const before = await keysUnder(ROOT);
  expect(before).toHaveLength(5);

  // Rename a file: the field starts with its name and refuses bad names as they are typed.
  await openFolder(TOP);
  const old = `alt-${TOKEN}.txt`;
  await rowAction(page, old, `Rename ${old}`);
  const dialog = page.getByTestId('move-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'editing');
  await expect(dialog.getByTestId('move-input')).toHaveValue(old);
  await expect(dialog.getByTestId('move-problem')).toHaveText('That is its name already.');
  for (const [bad, said] of [
    ['..', 'cannot be a name'],
    ['a/b', 'cannot hold “/”'],
    ['', 'Type a name.'],
  ] as const) {
    await dialog.getByTestId('move-input').fill(bad);
    await expect(dialog.getByTestId('move-problem')).toContainText(said);
    await expect(dialog.getByRole('button', { name: 'Plan' })).toBeDisabled();
  }
  await runDialog(RENAMED);
  await expect(dialog.locator('[data-testid="run-item"][data-state="done"]')).toHaveCount(1);
  await expect(dialog.getByTestId('run-items')).toContainText(`${TOP}/${RENAMED}`);
  await dialog.getByTestId('move-close').click();
  await expect(row(RENAMED)).toBeVisible();
  await expect(row(old)).toHaveCount(0);
  // The row that opened the dialog is gone: focus is on the view's heading, not lost.
  await expect(page.getByRole('heading', { name: 'Files', level: 1 })).toBeFocused();

  // Move a nested folder (two objects) into another folder, typed as a clear path.
  await openFolder(TOP, `sub-${TOKEN}`);
  const deep = `tief-${TOKEN}`;
  await rowAction(page, deep, `Move folder ${deep}`);
  await expect(dialog).toHaveAttribute('data-kind', 'move');
  await expect(dialog.getByTestId('move-input')).toHaveValue(`${TOP}/sub-${TOKEN}/`);
  await dialog.getByTestId('move-input').fill(`${TOP}/sub-${TOKEN}/${deep}/x`);
  await expect(dialog.getByTestId('move-problem')).toHaveText('A folder cannot go inside itself.');
  await runDialog(`${TOP}/${DEST}`);
  await expect(dialog.getByTestId('move-summary')).toContainText('2 objects move');
  await expect(dialog.locator('[data-testid="run-item"][data-state="done"]')).toHaveCount(2);
  await dialog.getByTestId('move-close').click();
  await expect(row(deep)).toHaveCount(0);
  await openFolder(TOP, DEST, deep);
  const data = `daten-${TOKEN}.bin`;
  await expect(row(data)).toBeVisible();
  await expect(row(`notiz-${TOKEN}.txt`)).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('moved-folder.png'), fullPage: true });

  // The bucket: as many objects, under the new names' keys, none under the old, no clear name.
  const after = await keysUnder(ROOT);
  expect(after).toHaveLength(before.length);
  expect(after.join('\n')).not.toContain(TOKEN);
  const names = await nodeNames();
  for (const path of [
    `${TOP}/${RENAMED}`,
    `${TOP}/belegt-${TOKEN}.txt`,
    `${TOP}/${DEST}/${deep}/${data}`,
    `${TOP}/${DEST}/${deep}/notiz-${TOKEN}.txt`,
  ]) {
    expect(after).toContain(names.objectKey(path));
  }
  expect(after).not.toContain(names.objectKey(`${TOP}/${old}`));
  expect(after).not.toContain(names.objectKey(`${TOP}/sub-${TOKEN}/${deep}/${data}`));

  // The moved file downloads byte-identically, under its clear name.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row(data)
      .getByRole('button', { name: `Download ${data}` })
      .click(),
  ]);
  expect(download.suggestedFilename()).toBe(data);
  const saved = new Uint8Array(await readFile(await download.path()));
  expect(sha256(saved)).toBe(sha256(FILES[`sub-${TOKEN}/${deep}/${data}`]!));
});

test('renaming onto a name that exists fails with the clear message, and both files stay', async () => {
  const names = await nodeNames();
  const taken = `belegt-${TOKEN}.txt`;
  const takenKey = names.objectKey(`${TOP}/${taken}`);
  const renamedKey = names.objectKey(`${TOP}/${RENAMED}`);
  const bytesBefore = [sha256(await getObject(takenKey)), sha256(await getObject(renamedKey))];

  await openFolder(TOP);
  await rowAction(page, taken, `Rename ${taken}`);
  const dialog = page.getByTestId('move-dialog');
  await runDialog(RENAMED);
  // The plan said so before the run.
  await expect(dialog.getByTestId('move-taken')).toContainText('already exists');
  await page.screenshot({ path: test.info().outputPath('rename-taken.png') });
  await expect(dialog.locator('[data-testid="run-item"][data-state="failed"]')).toHaveAttribute(
    'data-code',
    'MOVE_DESTINATION_EXISTS',
  );
  await expect(dialog.getByTestId('run-failure')).toContainText(
    'A file of that name already exists',
  );
  await dialog.getByTestId('move-close').click();
  await expect(dialog).not.toBeVisible();
  await expect(row(taken)).toBeVisible();
  await expect(row(RENAMED)).toBeVisible();
  expect([sha256(await getObject(takenKey)), sha256(await getObject(renamedKey))]).toEqual(
    bytesBefore,
  );
});

test('a rename cancelled while its PutObject is held leaves the file where it was', async () => {
  const names = await nodeNames();
  const taken = `belegt-${TOKEN}.txt`;
  const sourceKey = names.objectKey(`${TOP}/${taken}`);
  const destinationKey = names.objectKey(`${TOP}/abgebrochen-${TOKEN}.txt`);
  const bytesBefore = sha256(await getObject(sourceKey));
  let held = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route(`**/${destinationKey}*`, async (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    held += 1;
    await gate;
    await route.abort().catch(() => undefined);
  });
  await openFolder(TOP);
  await rowAction(page, taken, `Rename ${taken}`);
  const dialog = page.getByTestId('move-dialog');
  await dialog.getByTestId('move-input').fill(`abgebrochen-${TOKEN}.txt`);
  await dialog.getByTestId('move-input').press('Enter');
  await dialog.getByTestId('move-start').click();
  await expect.poll(() => held).toBeGreaterThan(0);
  // While a file moves, Esc does not close the dialog.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeVisible();
  await dialog.getByTestId('run-cancel').click();
  await expect(dialog.getByTestId('protection-run')).toHaveAttribute('data-state', 'cancelled');
  await expect(dialog.getByTestId('run-item')).toHaveAttribute('data-state', 'cancelled');
  release();
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await dialog.getByTestId('move-close').click();
  await expect(row(taken)).toBeVisible();
  expect(sha256(await getObject(sourceKey))).toBe(bytesBefore);
  expect(await keysUnder(ROOT)).not.toContain(destinationKey);
});

test('no request to AWS held a file or folder name', () => {
  const requests: NamedRequest[] = proxy.records.map((record) => ({
    origin: proxy.url,
    method: record.method,
    target: record.target,
    headerText: record.rawHeaders,
    body: record.body,
  }));
  expect(requests.filter((request) => request.method === 'PUT').length).toBeGreaterThan(5);
  expect(findNames(requests, [TOKEN, TOP, RENAMED, DEST])).toEqual([]);
  console.log(`move names audit: ${requests.length} requests at the proxy, 0 names found`);
});

test('keyboard: the dialog opens with its field focused, Esc closes it, focus returns', async () => {
  await openFolder(TOP);
  // In the row's menu: Enter opens it, a typed "r" jumps to Rename…, Enter runs it.
  const button = rowMenuButton(page, RENAMED);
  await button.focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('r');
  await expect(page.getByRole('menuitem', { name: `Rename ${RENAMED}` })).toBeFocused();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('move-dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('heading')).toContainText(`Rename “${RENAMED}”`);
  await expect(dialog.getByTestId('move-input')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).not.toBeVisible();
  await expect(button).toBeFocused();

  await page.keyboard.press('Enter');
  await page.keyboard.press('m');
  await expect(page.getByRole('menuitem', { name: `Move ${RENAMED}` })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog.getByTestId('move-input')).toBeFocused();
  await expect(dialog.getByTestId('move-input')).toHaveValue(`${TOP}/`);
  await page.keyboard.press('Escape');
  await expect(dialog).not.toBeVisible();
  await expect(button).toBeFocused();
});
