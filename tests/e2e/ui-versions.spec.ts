/**
 * A file's versions in Files ([Note: a file's versions] in src/state/files/versions-core.ts), in
 * Chromium against moto. The built app is served on the harness port with a config.json of its
 * own: a bucket made here with versioning on (CORS for the harness origin), a root of its own,
 * private names on, and every AWS endpoint pointed at a recording proxy in front of moto
 * (scripts/stack/fault-proxy.ts), so every request the page sends is searched for names.
 *
 * - Two uploads of one file (v1, then v2 with Replace): Versions… shows 2, the current marked;
 *   the older one downloads byte-identical to v1; Restore makes v1 current (the Files download
 *   then equals v1) and 3 versions are listed; Delete asks first and removes exactly that version
 *   (the bucket, listed from Node, agrees). Keyboard: the dialog opens with Enter, Esc closes a
 *   delete confirmation and then the dialog, focus returns each time. No request holds a name.
 * - The storage adversary: another file's object copied in (CopyObject in moto) as a version of
 *   this key is refused with OBJECT_MISMATCH on Restore (nothing copied: the bucket's versions
 *   are unchanged) and on Download (nothing saved).
 * - A bucket without versioning (the stack's own): the dialog says versioning is off, with no
 *   actions.
 *
 * Not claimed: moto enforces no IAM, so nothing here shows what a refused s3:DeleteObjectVersion
 * looks like (the unit tests cover VERSIONS_DENIED with an SDK-shaped 403).
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type Browser, type Page, type Request } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, type FaultProxy } from '../../scripts/stack/fault-proxy';
import { EXPOSED_HEADERS } from '../../scripts/stack/provision';
import { serveStatic, type StaticServer } from '../../scripts/stack/static-server';
import { namesKeyStorageFor } from '../../src/aws/bucket-s3';
import { kmsApiFor } from '../../src/aws/clients';
import { KmsKeyring } from '../../src/keyrings/kms';
import { privateNames } from '../../src/transfer/location-names';
import { readNamesKey } from '../../src/transfer/names-key';
import { findNames, type NamedRequest } from './support/name-scan';
import { rowAction, rowMenuButton } from './support/row-menu';
import { env } from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const NO_SAVE_PICKER = `delete window.showSaveFilePicker;`;
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The token in every name uploaded here: a hit of it anywhere is a name, never chance. */
const TOKEN = hex(5);
const ROOT = `ver-${hex(3)}/`;
const NAME = `notes-${TOKEN}.txt`;
const OTHER = `other-${TOKEN}.txt`;
const V1 = new TextEncoder().encode('version one\n'.repeat(300));
const V2 = new TextEncoder().encode('version two, longer\n'.repeat(500));
const OTHER_BYTES = new TextEncoder().encode('another file\n'.repeat(50));

let s3: S3Client;
let kms: KMSClient;
let bucket: string;
let proxy: FaultProxy;
let app: StaticServer;
let baseConfig: Record<string, unknown>;
let work: string;
const seen: Promise<NamedRequest>[] = [];

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The versions of `key` in the bucket, newest first (from Node, not the app). */
async function versionsOf(key: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]
    .filter((version) => version.Key === key)
    .sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0))
    .map((version) => version.VersionId ?? '');
}

/** The stored key of a clear name at the root, as Node opens the names key. */
async function storedKey(name: string): Promise<string> {
  const keyring = new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });
  const cipher = await readNamesKey(
    namesKeyStorageFor(s3, bucket),
    { bucket, root: ROOT },
    keyring,
  );
  if (!cipher) throw new Error(`no names key under ${ROOT}`);
  return privateNames({ bucket, root: ROOT }, cipher).objectKey(name);
}

/** A page recording every request it sends, with `change` applied to config.json. */
async function newPage(browser: Browser, change: Record<string, unknown> = {}): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true });
  context.on('request', (request: Request) => {
    seen.push(
      (async () => {
        const url = new URL(request.url());
        const headers = await request.allHeaders().catch(() => request.headers());
        return {
          origin: url.origin,
          method: request.method(),
          target: url.pathname + url.search,
          headerText: Object.entries(headers)
            .map(([name, value]) => `${name}: ${value}`)
            .join('\r\n'),
          body: request.postDataBuffer() ?? Buffer.alloc(0),
        };
      })(),
    );
  });
  if (Object.keys(change).length > 0) {
    await context.route('**/config.json', (route) =>
      route.fulfill({ json: { ...baseConfig, ...change } }),
    );
  }
  const page = await context.newPage();
  await page.addInitScript(NO_SAVE_PICKER);
  await page.goto(`${app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  return page;
}

async function upload(page: Page, name: string, bytes: Uint8Array, replace = false) {
  await writeFile(join(work, name), bytes);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('file-input').setInputFiles(join(work, name));
  const row = page.locator(`[data-testid="upload-row"][data-path="${name}"]`).last();
  if (replace) {
    await expect(row).toHaveAttribute('data-phase', 'conflict');
    await row.getByRole('button', { name: `Replace ${name}` }).click();
  }
  await expect(row).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
}

const fileRow = (page: Page, name: string) =>
  page.locator(`[data-testid="row"][data-name="${name}"]`);
const dialog = (page: Page) => page.getByTestId('versions-dialog');
const versionRows = (page: Page) => dialog(page).getByTestId('version');

async function openVersions(page: Page, name: string): Promise<void> {
  await rowAction(page, name, `Versions of ${name}`);
  await expect(dialog(page)).toBeVisible();
  await expect(dialog(page).getByRole('heading', { name: `Versions of “${name}”` })).toBeVisible();
}

/** Saves what `click` downloads; returns its bytes. */
async function saved(page: Page, click: () => Promise<void>): Promise<Uint8Array> {
  const [download] = await Promise.all([page.waitForEvent('download'), click()]);
  expect(download.suggestedFilename()).toBe(NAME);
  return new Uint8Array(await readFile(await download.path()));
}

test.describe.configure({ mode: 'serial', timeout: 120_000 });

test.beforeAll(async () => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL,
  });
  kms = new KMSClient({ region: 'us-east-1', endpoint: env('VEIL_MOTO_URL'), credentials: LOCAL });
  work = await mkdtemp(join(tmpdir(), 'veil-versions-'));
  bucket = `veil-versions-${hex(4)}`;
  const harness = `http://127.0.0.1:${env('VEIL_HARNESS_PORT')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [harness],
            AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: EXPOSED_HEADERS,
          },
        ],
      },
    }),
  );
  // moto only: its CORS preflight on an existing key needs s3:OptionsObject allowed.
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:OptionsObject',
            Resource: `arn:aws:s3:::${bucket}/*`,
          },
        ],
      }),
    }),
  );
  proxy = await startFaultProxy({ upstream: env('VEIL_MOTO_URL') });
  const served = (await (
    await fetch(`${new URL(env('VEIL_APP_URL')).origin}/config.json`)
  ).json()) as Record<string, unknown>;
  baseConfig = {
    ...served,
    bucket,
    prefix: ROOT,
    privateNames: true,
    endpoints: {
      s3: proxy.url,
      kms: proxy.url,
      cognitoIdentity: proxy.url,
      cognitoIdentityProvider: proxy.url,
    },
  };
  app = await serveStatic({
    root: process.env.VEIL_DIST_DIR ?? 'dist',
    port: Number(env('VEIL_HARNESS_PORT')),
    config: baseConfig,
  });
});

test.afterAll(async () => {
  await app?.close();
  await proxy?.close();
  if (s3 && bucket) {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    for (const version of [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]) {
      await s3.send(
        new DeleteObjectCommand({ Bucket: bucket, Key: version.Key, VersionId: version.VersionId }),
      );
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  }
  s3?.destroy();
  kms?.destroy();
  await rm(work, { recursive: true, force: true });
});

test('versions of a file: list, download, restore and delete one, by keyboard too, no name on the wire', async ({
  browser,
}) => {
  const page = await newPage(browser);
  await upload(page, NAME, V1);
  await upload(page, OTHER, OTHER_BYTES);
  await upload(page, NAME, V2, true);
  const key = await storedKey(NAME);
  expect(key).not.toContain(TOKEN);
  expect(await versionsOf(key)).toHaveLength(2);

  await page.getByRole('link', { name: 'Files' }).click();
  await openVersions(page, NAME);
  await expect(versionRows(page)).toHaveCount(2);
  await expect(versionRows(page).nth(0)).toHaveAttribute('data-current', 'true');
  await expect(versionRows(page).nth(0)).toContainText('Current');
  await expect(versionRows(page).nth(1)).toHaveAttribute('data-current', 'false');
  // The current version offers no Restore; the older one does.
  await expect(
    versionRows(page)
      .nth(0)
      .getByRole('button', { name: /^Restore/ }),
  ).toHaveCount(0);
  // Sizes are read when asked: the plaintext sizes of v2 and v1.
  await dialog(page).getByTestId('show-sizes').click();
  await expect(versionRows(page).nth(0).getByTestId('version-size')).toHaveText(/^\d/);
  await expect(versionRows(page).nth(1).getByTestId('version-size')).toHaveText('3.5 KiB');
  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: test.info().outputPath(`versions-${width}x${height}.png`) });
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // The older version downloads byte-identical to v1.
  const older = await saved(page, () =>
    versionRows(page)
      .nth(1)
      .getByRole('button', { name: /^Download version 2 / })
      .click(),
  );
  expect(sha256(older)).toBe(sha256(V1));
  await expect(dialog(page).getByTestId('download')).toHaveAttribute('data-phase', 'done');

  // Restore v1: three versions, v1's copy current, and the Files download equals v1.
  await versionRows(page)
    .nth(1)
    .getByRole('button', { name: /^Restore version 2 / })
    .click();
  await expect(dialog(page).getByTestId('versions-done')).toContainText(
    'kept as a previous version',
  );
  await expect(versionRows(page)).toHaveCount(3);
  await expect(versionRows(page).nth(0)).toHaveAttribute('data-current', 'true');
  expect(await versionsOf(key)).toHaveLength(3);
  await page.keyboard.press('Escape');
  await expect(dialog(page)).toBeHidden();
  const current = await saved(page, () =>
    fileRow(page, NAME)
      .getByRole('button', { name: `Download ${NAME}` })
      .click(),
  );
  expect(sha256(current)).toBe(sha256(V1));

  // Keyboard: Enter opens the row's menu, "v" jumps to Versions…, Enter opens it; Esc closes a
  // delete confirmation first, then the dialog, and focus is back on the menu button.
  const versionsButton = rowMenuButton(page, NAME);
  await versionsButton.focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('v');
  await expect(page.getByRole('menuitem', { name: `Versions of ${NAME}` })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog(page)).toBeVisible();
  await expect(versionRows(page)).toHaveCount(3);
  const deleteOldest = versionRows(page)
    .nth(2)
    .getByRole('button', { name: /^Delete version 3 / });
  await deleteOldest.focus();
  await page.keyboard.press('Enter');
  await expect(dialog(page).getByTestId('version-confirm')).toBeVisible();
  await expect(dialog(page).getByRole('button', { name: 'Keep it' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog(page).getByTestId('version-confirm')).toHaveCount(0);
  await expect(dialog(page)).toBeVisible();
  await expect(deleteOldest).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog(page)).toBeHidden();
  await expect(versionsButton).toBeFocused();

  // Delete the oldest version (the first v1) after confirming: exactly it goes.
  await openVersions(page, NAME);
  const oldestId = await versionRows(page).nth(2).getAttribute('data-version-id');
  await versionRows(page)
    .nth(2)
    .getByRole('button', { name: /^Delete version 3 / })
    .click();
  await expect(dialog(page).getByTestId('version-confirm-text')).toContainText(
    'The current file stays as it is.',
  );
  await dialog(page).getByTestId('confirm-version-delete').click();
  await expect(versionRows(page)).toHaveCount(2);
  await expect(dialog(page).locator(`[data-version-id="${oldestId}"]`)).toHaveCount(0);
  const left = await versionsOf(key);
  expect(left).toHaveLength(2);
  expect(left).not.toContain(oldestId);
  await page.keyboard.press('Escape');

  // The names audit: no request to AWS holds a name, in any form.
  const inBrowser = (await Promise.all(seen)).filter((request) => request.origin === proxy.url);
  const onWire = proxy.records.map((record) => ({
    origin: proxy.url,
    method: record.method,
    target: record.target,
    headerText: record.rawHeaders,
    body: record.body,
  }));
  const requests = [...onWire, ...inBrowser];
  expect(requests.some((request) => request.target.includes('versions'))).toBe(true);
  expect(findNames(requests, [TOKEN, NAME, OTHER])).toEqual([]);
  await page.context().close();
});

test('a version swapped in by storage is refused on restore and on download (OBJECT_MISMATCH)', async ({
  browser,
}) => {
  const key = await storedKey(NAME);
  const otherKey = await storedKey(OTHER);
  const [good] = await versionsOf(key);
  // The storage copies another file's object in as a new version of this key, then puts the
  // good version back on top, so the swapped one sits among the previous versions.
  const swap = await s3.send(
    new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/${otherKey}` }),
  );
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: key,
      CopySource: `${bucket}/${key}?versionId=${good}`,
    }),
  );
  const swappedId = swap.VersionId ?? '';
  const before = await versionsOf(key);
  expect(before).toHaveLength(4);

  const page = await newPage(browser);
  const downloads: string[] = [];
  page.on('download', (download) => downloads.push(download.suggestedFilename()));
  await page.getByRole('link', { name: 'Files' }).click();
  await openVersions(page, NAME);
  const swapped = dialog(page).locator(`[data-testid="version"][data-version-id="${swappedId}"]`);
  await expect(swapped).toHaveAttribute('data-current', 'false');
  await swapped.getByRole('button', { name: /^Restore / }).click();
  await expect(dialog(page).getByTestId('versions-action-error')).toHaveAttribute(
    'data-code',
    'OBJECT_MISMATCH',
  );
  expect(await versionsOf(key)).toEqual(before);

  await swapped.getByRole('button', { name: /^Download / }).click();
  const item = dialog(page).getByTestId('download');
  await expect(item).toHaveAttribute('data-phase', 'failed');
  await expect(item.getByTestId('download-error')).toHaveAttribute('data-code', 'OBJECT_MISMATCH');
  // A Blob download is handed to the browser only when it completes: none was.
  await page.waitForTimeout(500);
  expect(downloads).toEqual([]);
  await page.context().close();
});

test('a bucket without versioning: the dialog says versioning is off, with no actions', async ({
  browser,
}) => {
  const plainRoot = `ver-off-${hex(3)}/`;
  const page = await newPage(browser, {
    bucket: env('VEIL_BUCKET'),
    prefix: plainRoot,
    privateNames: false,
  });
  const name = `flat-${hex(3)}.txt`;
  await upload(page, name, V1);
  await page.getByRole('link', { name: 'Files' }).click();
  await rowAction(page, name, `Versions of ${name}`);
  await expect(dialog(page).getByTestId('versioning-off')).toContainText(
    'Versioning is off for this bucket',
  );
  await expect(dialog(page).getByTestId('versioning-off')).toContainText('cannot be undone');
  await expect(versionRows(page)).toHaveCount(0);
  await expect(
    dialog(page).getByRole('button', { name: /^(Download|Restore|Delete) / }),
  ).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(dialog(page)).toBeHidden();
  await s3.send(
    new DeleteObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: `${plainRoot}${name}` }),
  );
  await page.context().close();
});
