/**
 * Private names in the app, in Chromium against the local stack ([Note: names of the current
 * location]). The built app is served on the harness port with its own config.json: a root of
 * its own, `privateNames: true`, and every AWS endpoint pointed at a recording proxy in front of
 * moto (scripts/stack/fault-proxy.ts), so every byte the page sends to S3, KMS or Cognito is
 * seen. The default stack stays plain (the other specs expect clear keys); scenarios that need
 * another root or setting rewrite config.json for the page (page.route), endpoints unchanged.
 *
 * - A folder with nested names (a space, a non-ASCII letter) is uploaded under Model C as a
 *   guest: the names key is created on that first upload; Files shows the clear names, sizes,
 *   breadcrumbs and a clear #/files hash; the bucket, listed from Node, holds no clear name; the
 *   download is byte-identical and saved under its clear name; the same file again, Keep both:
 *   the clear name is numbered ("… (1).txt") and then encrypted.
 * - Names audit: no request to AWS (at the proxy, and in the browser's own request events) holds
 *   any file or folder name, raw, percent-encoded, NFC or NFD ([Note: name scan] in
 *   support/name-scan.ts); control: a plain location's upload is flagged by the same scan.
 * - The storage adversary: an object copied over another (CopyObject in moto) and an unencrypted
 *   object (veil-format: plain) put under an encrypted name are both refused with OBJECT_MISMATCH,
 *   and no download is saved.
 * - A names key made with a key this session does not have: a banner (NAMES_KEY_UNREADABLE), the
 *   stored keys listed and marked, and an upload refused with nothing written.
 *
 * Not claimed: moto enforces no IAM, so nothing here shows what a policy would refuse.
 */
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  expect,
  test,
  type Browser,
  type BrowserContext,
  type Page,
  type Request,
} from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, type FaultProxy } from '../../scripts/stack/fault-proxy';
import { serveStatic, type StaticServer } from '../../scripts/stack/static-server';
import { namesKeyStorageFor } from '../../src/aws/bucket-s3';
import { kmsApiFor } from '../../src/aws/clients';
import { KmsKeyring } from '../../src/keyrings/kms';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { privateNames } from '../../src/transfer/location-names';
import { ensureNamesKey, readNamesKey } from '../../src/transfer/names-key';
import { findNames, type NamedRequest } from './support/name-scan';
import { env } from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const NO_SAVE_PICKER = `delete window.showSaveFilePicker;`;
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** The token in every name uploaded here: a hit of it anywhere is a name, never chance. */
const TOKEN = hex(5);
const ROOT = `pn-${hex(3)}/`;
const TOP = `Projekt ${TOKEN}`;
const FILES: Record<string, Uint8Array> = {
  [`Übersicht Q3-${TOKEN}.txt`]: new TextEncoder().encode('Quarterly overview\n'.repeat(40)),
  [`Unterordner-${TOKEN}/bericht-${TOKEN}.bin`]: new Uint8Array(randomBytes(300_000)),
  [`Unterordner-${TOKEN}/tief-${TOKEN}/notiz-${TOKEN}.txt`]: new TextEncoder().encode('note\n'),
};

let s3: S3Client;
let kms: KMSClient;
let bucket: string;
let proxy: FaultProxy;
let app: StaticServer;
let baseConfig: Record<string, unknown>;
let work: string;
const summary: string[] = [];
/** Roots this spec wrote under, emptied at the end. */
const roots = new Set<string>([ROOT]);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

/** The location's names as Node opens them (KMS at moto opens the names key). */
async function nodeNames(root: string) {
  const keyring = new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true });
  const cipher = await readNamesKey(namesKeyStorageFor(s3, bucket), { bucket, root }, keyring);
  if (!cipher) throw new Error(`no names key under ${root}`);
  return privateNames({ bucket, root }, cipher);
}

/** A context whose page gets `change` applied to config.json, recording requests it sends. */
async function newContext(
  browser: Browser,
  change: Record<string, unknown> = {},
): Promise<{ context: BrowserContext; page: Page; seen: Promise<NamedRequest>[] }> {
  const context = await browser.newContext({ acceptDownloads: true });
  const seen: Promise<NamedRequest>[] = [];
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
  return { context, page, seen };
}

async function connectGuest(page: Page): Promise<void> {
  await page.goto(`${app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
}

/** Writes FILES-like content under a new folder `name`; returns its path. */
async function folder(name: string, files: Record<string, Uint8Array>): Promise<string> {
  const root = join(work, hex(4), name);
  for (const [path, bytes] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), bytes);
  }
  return root;
}

async function uploadFolder(page: Page, dir: string, count: number): Promise<void> {
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(count, {
    timeout: 30_000,
  });
}

function row(page: Page, name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

function downloadItem(page: Page, name: string) {
  return page.locator(`[data-testid="download"][data-name="${name}"]`);
}

/** The requests that went to AWS: every one the proxy saw, and the browser's to it. */
async function awsRequests(seen: Promise<NamedRequest>[]): Promise<NamedRequest[]> {
  const inBrowser = (await Promise.all(seen)).filter((request) => request.origin === proxy.url);
  const onWire = proxy.records.map((record) => ({
    origin: proxy.url,
    method: record.method,
    target: record.target,
    headerText: record.rawHeaders,
    body: record.body,
  }));
  return [...onWire, ...inBrowser];
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async () => {
  bucket = env('VEIL_BUCKET');
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL,
  });
  kms = new KMSClient({ region: 'us-east-1', endpoint: env('VEIL_MOTO_URL'), credentials: LOCAL });
  work = await mkdtemp(join(tmpdir(), 'veil-private-names-'));
  proxy = await startFaultProxy({ upstream: env('VEIL_MOTO_URL') });
  const served = (await (
    await fetch(`${new URL(env('VEIL_APP_URL')).origin}/config.json`)
  ).json()) as Record<string, unknown>;
  baseConfig = {
    ...served,
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
  if (summary.length > 0) console.log(`private names figures:\n  ${summary.join('\n  ')}`);
  await app?.close();
  await proxy?.close();
  for (const root of roots) {
    const left = s3 ? await keysUnder(root) : [];
    if (left.length > 0) {
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: left.map((Key) => ({ Key })) },
        }),
      );
    }
  }
  s3?.destroy();
  kms?.destroy();
  await rm(work, { recursive: true, force: true });
});

test('a folder uploaded with private names: clear in Files, encrypted in the bucket, no name on the wire', async ({
  browser,
}) => {
  proxy.records.length = 0;
  const { context, page, seen } = await newContext(browser);
  await connectGuest(page);
  await expect(page.getByTestId('names-setting')).toContainText(
    'Private names: on, created on first upload',
  );
  const dir = await folder(TOP, FILES);
  await uploadFolder(page, dir, 3);
  // The queue shows the clear paths.
  await expect(
    page.locator(
      `[data-testid="upload-row"][data-path="${TOP}/Unterordner-${TOKEN}/bericht-${TOKEN}.bin"]`,
    ),
  ).toBeVisible();

  // The bucket: the names key and three objects, no clear name (the token is in every name).
  const stored = await keysUnder(ROOT);
  expect(stored).toHaveLength(4);
  expect(stored).toContain(`${ROOT}.veil/names-key`);
  expect(stored.join('\n')).not.toContain(TOKEN);
  const names = await nodeNames(ROOT);
  for (const path of Object.keys(FILES)) {
    expect(stored).toContain(names.objectKey(`${TOP}/${path}`));
  }

  // Files: clear names, sizes, crumbs and hash.
  await page.getByRole('link', { name: 'Files' }).click();
  await expect(page.getByTestId('names-unreadable')).toHaveCount(0);
  await row(page, TOP).getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`#/files/${encodeURIComponent(TOP)}/$`));
  await expect(page.getByTestId('breadcrumbs')).toContainText(TOP);
  const overview = row(page, `Übersicht Q3-${TOKEN}.txt`);
  await expect(overview).toBeVisible();
  await expect(overview.locator('.col-size')).toHaveText(/\d/);
  await row(page, `Unterordner-${TOKEN}`).getByRole('link').click();
  await expect(page.getByTestId('breadcrumbs')).toContainText(`Unterordner-${TOKEN}`);
  // A link to this folder by its clear path opens it again.
  await page.goto(
    `${app.origin}/#/files/${encodeURIComponent(TOP)}/${encodeURIComponent(`Unterordner-${TOKEN}`)}/`,
  );
  const report = `bericht-${TOKEN}.bin`;
  await expect(row(page, report)).toBeVisible();
  await expect(row(page, `tief-${TOKEN}`)).toBeVisible();
  await expect(page.getByTestId('name-unreadable')).toHaveCount(0);
  await page.screenshot({ path: test.info().outputPath('private-files.png'), fullPage: true });

  // Download: byte-identical, saved under the clear name.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    row(page, report)
      .getByRole('button', { name: `Download ${report}` })
      .click(),
  ]);
  expect(download.suggestedFilename()).toBe(report);
  const saved = new Uint8Array(await readFile(await download.path()));
  expect(sha256(saved)).toBe(sha256(FILES[`Unterordner-${TOKEN}/${report}`]!));
  await expect(downloadItem(page, report)).toHaveAttribute('data-phase', 'done');

  // The same file again into the same folder: Keep both numbers the clear name, then encrypts it.
  const overviewName = `Übersicht Q3-${TOKEN}.txt`;
  const again = await folder('again', { [overviewName]: FILES[overviewName]! });
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByLabel(/Destination folder/).fill(TOP);
  await page.getByTestId('file-input').setInputFiles(join(again, overviewName));
  const conflict = page.locator(
    `[data-testid="upload-row"][data-path="${overviewName}"][data-phase="conflict"]`,
  );
  await expect(conflict).toContainText(`${TOP}/${overviewName}`);
  await conflict.getByRole('button', { name: `Keep both ${overviewName}` }).click();
  const kept = page.locator(`[data-testid="upload-row"][data-path="${overviewName}"]`).last();
  await expect(kept).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  await expect(kept.getByTestId('row-key')).toHaveText(`${TOP}/Übersicht Q3-${TOKEN} (1).txt`);
  expect(await keysUnder(ROOT)).toContain(names.objectKey(`${TOP}/Übersicht Q3-${TOKEN} (1).txt`));

  // The names audit: no request to AWS holds a name, in any form.
  const requests = await awsRequests(seen);
  const needles = [TOKEN, TOP, ...Object.keys(FILES).flatMap((path) => path.split('/'))];
  expect(findNames(requests, needles)).toEqual([]);
  expect(requests.length).toBeGreaterThan(10);
  const puts = proxy.records.filter((record) => record.method === 'PUT').length;
  summary.push(
    `names audit: ${requests.length} requests to AWS (${proxy.records.length} at the proxy, ${puts} PUTs), ${needles.length} names searched, 0 found`,
  );
  await context.close();
});

test('control: the same scan flags the names of a plain location', async ({ browser }) => {
  proxy.records.length = 0;
  const plainRoot = `pn-plain-${hex(3)}/`;
  roots.add(plainRoot);
  const token = hex(5);
  const { context, page, seen } = await newContext(browser, {
    prefix: plainRoot,
    privateNames: false,
  });
  await connectGuest(page);
  await expect(page.getByTestId('names-setting')).toContainText('Private names: off');
  const dir = await folder(`plain-${token}`, { [`clear-${token}.txt`]: new Uint8Array(20) });
  await uploadFolder(page, dir, 1);
  expect(await keysUnder(plainRoot)).toEqual([`${plainRoot}plain-${token}/clear-${token}.txt`]);
  const hits = findNames(await awsRequests(seen), [token]);
  expect(hits.some((hit) => hit.request.startsWith('PUT '))).toBe(true);
  summary.push(`control (plain names): the token found in ${hits.length} places`);
  await context.close();
});

test('the storage adversary: a swapped object and an unencrypted one are refused, nothing saved', async ({
  browser,
}) => {
  const names = await nodeNames(ROOT);
  const sub = `${TOP}/Unterordner-${TOKEN}`;
  const reportKey = names.objectKey(`${sub}/bericht-${TOKEN}.bin`);
  const noteName = `notiz-${TOKEN}.txt`;
  const noteKey = names.objectKey(`${sub}/tief-${TOKEN}/${noteName}`);
  const overviewName = `Übersicht Q3-${TOKEN}.txt`;
  const overviewKey = names.objectKey(`${TOP}/${overviewName}`);
  // The note's key now holds the report's message (bound to the report's key).
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: noteKey,
      CopySource: `${bucket}/${reportKey}`,
      MetadataDirective: 'COPY',
    }),
  );
  // The overview's key now holds an unencrypted object that says it is plain.
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: overviewKey,
      Body: new TextEncoder().encode('plain text put by the storage\n'),
      Metadata: { 'veil-format': 'plain' },
    }),
  );

  const { context, page } = await newContext(browser);
  const saved: string[] = [];
  page.on('download', (download) => saved.push(download.suggestedFilename()));
  await connectGuest(page);
  await page.goto(
    `${app.origin}/#/files/${encodeURIComponent(sub.split('/')[0]!)}/${encodeURIComponent(`Unterordner-${TOKEN}`)}/${encodeURIComponent(`tief-${TOKEN}`)}/`,
  );
  await row(page, noteName)
    .getByRole('button', { name: `Download ${noteName}` })
    .click();
  await expect(downloadItem(page, noteName)).toHaveAttribute('data-phase', 'failed');
  await expect(downloadItem(page, noteName).getByTestId('download-error')).toHaveAttribute(
    'data-code',
    'OBJECT_MISMATCH',
  );

  await page.goto(`${app.origin}/#/files/${encodeURIComponent(TOP)}/`);
  await row(page, overviewName)
    .getByRole('button', { name: `Download ${overviewName}` })
    .click();
  await expect(downloadItem(page, overviewName)).toHaveAttribute('data-phase', 'failed');
  await expect(downloadItem(page, overviewName).getByTestId('download-error')).toHaveAttribute(
    'data-code',
    'OBJECT_MISMATCH',
  );
  // A Blob download is handed to the browser only when it completes: none was.
  await page.waitForTimeout(500);
  expect(saved).toEqual([]);
  await context.close();
});

test('a names key made with another key: a banner, stored keys marked, and nothing written', async ({
  browser,
}) => {
  const root = `pn-other-${hex(3)}/`;
  roots.add(root);
  const otherKey = await RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(randomBytes(32)),
    keyName: 'not-in-this-browser',
    keyNamespace: 'veil',
  });
  const storage = namesKeyStorageFor(s3, bucket);
  const created = await ensureNamesKey(storage, { bucket, root }, otherKey, {
    'veil-app': 'veil',
    'veil-bucket': bucket,
  });
  // The adapter's create-only write (If-None-Match: *, 412 at moto) leaves an existing key as it is.
  const namesKeyKey = `${root}.veil/names-key`;
  const stored = await storage.read(namesKeyKey);
  expect(await storage.createOnly(namesKeyKey, new Uint8Array(8))).toBe(false);
  expect(
    Buffer.compare(Buffer.from((await storage.read(namesKeyKey))!), Buffer.from(stored!)),
  ).toBe(0);
  expect(await storage.read(`${root}.veil/missing`)).toBeUndefined();
  const hidden = privateNames({ bucket, root }, created.cipher).objectKey('hidden.txt');
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: hidden, Body: new Uint8Array(3) }));
  const before = await keysUnder(root);

  const { context, page } = await newContext(browser, { prefix: root });
  await connectGuest(page);
  await page.getByRole('link', { name: 'Files' }).click();
  const banner = page.getByTestId('names-unreadable');
  await expect(banner).toContainText('none of your keys opens them');
  await expect(banner).toContainText('NAMES_KEY_UNREADABLE');
  await expect(banner.getByRole('button', { name: 'Try again' })).toBeVisible();
  await expect(row(page, hidden.slice(root.length))).toBeVisible();
  await expect(row(page, hidden.slice(root.length)).getByTestId('name-unreadable')).toBeVisible();
  await expect(page.getByTestId('unreadable-count')).toContainText('1 name');
  await page.screenshot({ path: test.info().outputPath('names-unreadable.png'), fullPage: true });

  const dir = await folder(`blocked-${hex(2)}`, { 'a.txt': new Uint8Array(5) });
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('folder-input').setInputFiles(dir);
  await expect(page.getByTestId('add-error')).toHaveAttribute('data-code', 'NAMES_KEY_UNREADABLE');
  await expect(page.locator('[data-testid="upload-row"]')).toHaveCount(0);
  expect(await keysUnder(root)).toEqual(before);
  await context.close();
});
