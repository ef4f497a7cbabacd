/**
 * Files' own writes and reads in a private-names location, with the wire audit of the
 * private-names spec: "Upload here" (button, and a drop into a folder), "New folder…", the
 * filter and "Search subfolders" all work in clear names in the page, while the bucket holds only
 * encrypted segments and no request to AWS (every one the fault proxy saw, and the browser's to
 * it) carries a name in any form. Each name holds a random token, so a hit is a name, never
 * chance.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { KMSClient } from '@aws-sdk/client-kms';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
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
import { recordRequests } from './support/request-recorder';
import { env } from './support/upload-ui';

const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const TOKEN = hex(5);
const ROOT = `fb-${hex(3)}/`;
const FIRST = `Bericht-${TOKEN}.txt`;
const FOLDER = `Ordner ${TOKEN}`;
const DROPPED = `notiz-${TOKEN}.txt`;

let location: ProxiedPrivateLocation;
let s3: S3Client;
let kms: KMSClient;
let bucket: string;
let proxy: FaultProxy;
let app: StaticServer;
let context: BrowserContext;
let page: Page;
const seen: Promise<NamedRequest>[] = [];

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '').sort();
}

function row(name: string) {
  return page.locator(`[data-testid="row"][data-name="${name}"]`);
}

function drawerRow(path: string) {
  return page.locator(`[data-testid="drawer-row"][data-path="${path}"]`);
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async ({ browser }) => {
  location = await serveProxiedPrivateLocation(ROOT);
  ({ s3, bucket, proxy, app } = location);
  kms = new KMSClient({ region: 'us-east-1', endpoint: env('VEIL_MOTO_URL'), credentials: LOCAL });
  context = await browser.newContext();
  recordRequests(context, seen);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  await location?.close();
  kms?.destroy();
});

test('upload here, new folder, filter and search in clear names; no name in the bucket or on the wire', async () => {
  await page.goto(`${app.origin}/#/settings`);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByRole('link', { name: 'Files' }).click();
  await expect(page.getByTestId('files-empty')).toBeVisible();

  // Upload here at the root: the first upload also makes the names key.
  await page.getByTestId('upload-here-input').setInputFiles({
    name: FIRST,
    mimeType: 'text/plain',
    buffer: Buffer.from('first\n'),
  });
  await expect(drawerRow(FIRST)).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  await expect(row(FIRST)).toBeVisible();

  // New folder: clear in Files, one encrypted marker in the bucket.
  await page.getByTestId('new-folder').click();
  await page.getByTestId('new-folder-name').fill(FOLDER);
  await page.getByTestId('create-folder').click();
  await expect(row(FOLDER)).toHaveAttribute('data-kind', 'folder');

  // A drop into that folder lands under its encrypted prefix.
  await row(FOLDER).getByRole('link').click();
  await expect(page.getByTestId('breadcrumbs')).toContainText(FOLDER);
  const transfer = await page.evaluateHandle((name) => {
    const data = new DataTransfer();
    data.items.add(new File(['dropped\n'], name, { type: 'text/plain' }));
    return data;
  }, DROPPED);
  await page.getByTestId('files-view').dispatchEvent('drop', { dataTransfer: transfer });
  await expect(drawerRow(DROPPED)).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  await expect(row(DROPPED)).toBeVisible();

  // Filter and subfolder search from the root, by clear names.
  await page.getByRole('link', { name: 'Files' }).click();
  await expect(row(FIRST)).toBeVisible();
  const filter = page.getByRole('searchbox', { name: 'Filter by name' });
  await filter.fill('BERICHT');
  await expect(page.locator('[data-testid="row"]')).toHaveCount(1);
  await filter.fill('notiz');
  await expect(page.locator('[data-testid="row"]')).toHaveCount(0);
  await page.getByTestId('search-subfolders').click();
  await expect(page.getByTestId('find-status')).toHaveText('1 match in subfolders for “notiz”.');
  await expect(row(DROPPED).getByTestId('row-folder')).toHaveText(`in ${FOLDER}`);

  // The bucket: names key, two files and the marker, every segment encrypted.
  const cipher = await readNamesKey(
    namesKeyStorageFor(s3, bucket),
    { bucket, root: ROOT },
    new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true }),
  );
  if (!cipher) throw new Error('no names key');
  const names = privateNames({ bucket, root: ROOT }, cipher);
  const stored = await keysUnder(ROOT);
  expect(stored.join('\n')).not.toContain(TOKEN);
  expect(stored).toEqual(
    [
      `${ROOT}.veil/names-key`,
      names.objectKey(FIRST),
      names.objectKey(`${FOLDER}/`),
      names.objectKey(`${FOLDER}/${DROPPED}`),
    ].sort(),
  );

  // The wire: nothing sent to AWS holds a name, in any form.
  const inBrowser = (await Promise.all(seen)).filter((request) => request.origin === proxy.url);
  const onWire = proxy.records.map((record) => ({
    origin: proxy.url,
    method: record.method,
    target: record.target,
    headerText: record.rawHeaders,
    body: record.body,
  }));
  const requests = [...onWire, ...inBrowser];
  expect(requests.length).toBeGreaterThan(10);
  expect(findNames(requests, [TOKEN, FIRST, FOLDER, DROPPED])).toEqual([]);
  console.log(
    `files bulk names audit: ${requests.length} requests to AWS (${proxy.records.length} at the proxy), 4 names searched, 0 found`,
  );
});
