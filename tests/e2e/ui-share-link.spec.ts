/**
 * Share links in Chromium against the local stack ([Note: share links]). The built app is served
 * on the harness port with a private-names location of its own and every AWS endpoint through a
 * recording proxy (as ui-move.spec.ts does). A file is uploaded under Model C with IAM keys, then:
 * - "Share link to <name>" makes a link (a rewrap) whose real expiry is shown; the link opens
 *   in a fresh browser context with no credentials and no config sign-in: the page shows the
 *   size and who shared it (no name: names are private and the box was left unticked), and
 *   Download saves byte-identical content (save picker stub, as in ui-files.spec.ts);
 * - wire audit: no request, neither in the browser (both contexts, recorded by Playwright) nor
 *   at the proxy, holds the link key (raw, base64 or hex: [Note: wire scan]), the fragment's
 *   text, or the file's name token;
 * - a link with the name included shows the name;
 * - Revoke (confirmed) in the dialog: the same link now shows "revoked", although its presigned
 *   URL still answers (moto does not verify presigned URLs at all, so the URL's own expiry is not
 *   what stops it here: the missing EDK is);
 * - a link whose key was changed in the fragment: WRONG_KEY, no byte written to the file picked;
 * - expiry: moto does not enforce presigned-URL expiry (README), so (1) a link past its own
 *   expiry shows the expired page from its stated time, and (2) S3's real answer to an expired
 *   URL (403 AccessDenied "Request has expired") is stubbed with page.route, labelled as such,
 *   and the page turns it into the expired page;
 * - a malformed fragment: SHARE_LINK_MALFORMED; no save picker and no service worker with a
 *   file over the in-memory limit: SHARE_TOO_LARGE_IN_MEMORY;
 * - the list attack ([Note: links from the header]): a bucket writer deletes the file's list of
 *   links; the dialog still shows the link (its key is in the header) as unknown, and Revoke
 *   takes the key out, so the link then shows "revoked";
 * - the toolbar's Share links… for two selected files: one link each with the same expiry, Copy
 *   all, a link from it opening byte-identically; a file gone from the bucket fails on its own
 *   while the other's link is made.
 */
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultProxy } from '../../scripts/stack/fault-proxy';
import type { StaticServer } from '../../scripts/stack/static-server';
import {
  encodeSharePayload,
  payloadOfLink,
  shareLinkUrl,
  type SharePayload,
} from '../../src/core/share-link';
import { linkListKey } from '../../src/transfer/share-list';
import { SecretIndex, scanRequests, type WireRequest } from '../support/wire-scan';
import { findNames, type NamedRequest } from './support/name-scan';
import {
  serveProxiedPrivateLocation,
  type ProxiedPrivateLocation,
} from './support/private-location';
import { recordRequests } from './support/request-recorder';
import { rowAction, rowMenuButton } from './support/row-menu';
import { SAVE_PICKER_STUB, savedFile } from './support/saved-file';
import { signInWithKeys, uploadInModelC } from './support/signed-in';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const TOKEN = hex(5);
const ROOT = `share-${hex(3)}/`;
const NAME = `geheim-${TOKEN}.bin`;
const CONTENT = new Uint8Array(randomBytes(1_300_000));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let location: ProxiedPrivateLocation;
let s3: S3Client;
let bucket: string;
let proxy: FaultProxy;
let app: StaticServer;
let work: string;
let sharer: Page;
let link = '';
const browserRequests: Promise<WireRequest>[] = [];

/** A fresh context with no credentials, the save picker stub, recorded. */
async function freshPage(browser: Browser, script = SAVE_PICKER_STUB): Promise<Page> {
  const context = await browser.newContext();
  recordRequests(context, browserRequests);
  const page = await context.newPage();
  await page.addInitScript(script);
  return page;
}

/** Opens the share dialog of the file, makes a link, returns it. */
async function makeLink(options: { includeName?: boolean; label?: string } = {}): Promise<string> {
  await sharer.goto(`${app.origin}/#/files/`);
  await rowAction(sharer, NAME, `Share link to ${NAME}`);
  const dialog = sharer.getByTestId('share-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'ready');
  // IAM keys do not expire: one hour by default, presets up to 7 days.
  await expect(dialog.getByLabel('Link works for')).toHaveValue('3600');
  await expect(dialog.getByRole('option', { name: '7 days' })).toHaveCount(1);
  const box = dialog.getByLabel('Include the file name in the link');
  await expect(box).not.toBeChecked();
  if (options.includeName) await box.check();
  if (options.label) await dialog.getByLabel(/Your name/).fill(options.label);
  await dialog.getByRole('button', { name: 'Create link' }).click();
  await expect(dialog).toHaveAttribute('data-phase', 'created', { timeout: 30_000 });
  await expect(dialog.getByTestId('share-created-expiry')).toContainText('Works until');
  const made = await dialog.getByLabel('Link', { exact: true }).inputValue();
  await dialog.getByTestId('share-close').click();
  await expect(dialog).not.toBeVisible();
  return made;
}

test.describe.configure({ mode: 'serial', timeout: 90_000 });

test.beforeAll(async ({ browser }) => {
  location = await serveProxiedPrivateLocation(ROOT);
  ({ s3, bucket, proxy, app } = location);
  work = await mkdtemp(join(tmpdir(), 'veil-share-'));
  const context = await browser.newContext();
  recordRequests(context, browserRequests);
  sharer = await context.newPage();
});

test.afterAll(async () => {
  await sharer?.context().close();
  await location?.close();
  await rm(work, { recursive: true, force: true });
});

test('a link made in Files opens in a fresh context without credentials, byte-identical', async ({
  browser,
}) => {
  await signInWithKeys(sharer, app.origin);
  await writeFile(join(work, NAME), CONTENT);
  await uploadInModelC(sharer, join(work, NAME));

  link = await makeLink({ label: 'Ada' });
  expect(link.startsWith(`${app.origin}/#/share/`)).toBe(true);
  const payload = payloadOfLink(link);
  expect(payload.name).toBeUndefined();
  expect(new URL(payload.url).searchParams.get('X-Amz-Expires')).toBe('3600');

  const page = await freshPage(browser);
  await page.goto(link);
  const shared = page.getByTestId('share-page');
  await expect(shared).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('share-name')).toContainText('not shared');
  await expect(page.getByTestId('share-by')).toHaveText('Ada');
  // The label is the link's own claim ([Note: the link's label is a claim]), and the key left
  // the address bar and history once it opened the file ([Note: the link key leaves the address
  // bar]); Download below still works from the page's memory.
  await expect(page.getByTestId('share-by-unverified')).toHaveText(
    '(as written in the link, not verified)',
  );
  expect(await page.evaluate(() => window.location.hash)).toBe('#/share/');
  await expect(page.getByTestId('share-size')).toHaveText('1.2 MiB');
  await expect(page.getByTestId('share-size')).toHaveAttribute('title', '1,300,000 bytes');
  await page.getByRole('button', { name: 'Download' }).click();
  await expect(page.getByTestId('share-done')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('share-done')).toContainText('Who made the link is not verified');
  expect(await savedFile(page, 'shared-file')).toEqual({
    sha256: sha256(CONTENT),
    sizeBytes: CONTENT.length,
  });
  await page.context().close();
});

test('a link with the name included shows it', async ({ browser }) => {
  const named = await makeLink({ includeName: true });
  expect(payloadOfLink(named).name).toBe(NAME);
  const page = await freshPage(browser);
  await page.goto(named);
  await expect(page.getByTestId('share-name')).toHaveText(NAME);
  await page.context().close();
});

test('wire audit: no request holds the link key, the fragment or the private name', async () => {
  const payload = payloadOfLink(link);
  const fragment = link.slice(link.indexOf('#/share/') + '#/share/'.length);
  const inBrowser = await Promise.all(browserRequests);
  const atProxy: WireRequest[] = proxy.records.map((r) => ({
    origin: proxy.url,
    method: r.method,
    target: r.target,
    headerText: r.rawHeaders,
    body: r.body,
  }));
  const all = [...inBrowser, ...atProxy];
  // The link's ranged GETs were seen in the browser and at the proxy.
  expect(inBrowser.some((r) => r.headerText.toLowerCase().includes('range: bytes='))).toBe(true);
  const index = new SecretIndex({ linkKey: payload.linkKey });
  const { hits, totals } = scanRequests(index, all);
  expect(hits).toEqual([]);
  const fragmentHead = fragment.slice(0, 40);
  const texts = all.map(
    (r) => `${r.target}\n${r.headerText}\n${Buffer.from(r.body).toString('latin1')}`,
  );
  expect(texts.filter((text) => text.includes(fragmentHead))).toEqual([]);
  expect(texts.filter((text) => text.includes('#/share/'))).toEqual([]);
  expect(findNames(all as NamedRequest[], [TOKEN, NAME])).toEqual([]);
  console.log(
    `share wire audit: ${totals.requests} requests (${inBrowser.length} in the browser, ${atProxy.length} at the proxy), ${totals.wireBytes} bytes, 0 hits`,
  );
});

test('revoke: the same link now shows revoked while its URL still answers', async ({ browser }) => {
  const payload = payloadOfLink(link);
  await sharer.goto(`${app.origin}/#/files/`);
  await rowAction(sharer, NAME, `Share link to ${NAME}`);
  const dialog = sharer.getByTestId('share-dialog');
  const entry = dialog.locator(`li[data-link-id="${payload.linkId}"]`);
  await expect(entry).toBeVisible();
  await entry.getByRole('button', { name: /^Revoke link made/ }).click();
  await entry.getByRole('button', { name: 'Revoke now' }).click();
  await expect(entry).toHaveCount(0, { timeout: 30_000 });
  await expect(dialog).toHaveAttribute('data-phase', 'ready');
  await sharer.keyboard.press('Escape');
  await expect(dialog).not.toBeVisible();
  await expect(rowMenuButton(sharer, NAME)).toBeFocused();

  // The presigned URL still answers (moto does not verify it, AWS would until it expires).
  expect((await fetch(payload.url)).status).toBe(200);
  const page = await freshPage(browser);
  await page.goto(link);
  await expect(page.getByTestId('share-page')).toHaveAttribute('data-state', 'revoked');
  await expect(page.getByTestId('share-revoked')).toContainText('This link was revoked');
  await page.context().close();
});

test('a tampered key in the fragment: WRONG_KEY before any save dialog, no file', async ({
  browser,
}) => {
  const good = payloadOfLink(await makeLink());
  const linkKey = good.linkKey.slice();
  linkKey[0]! ^= 0x01;
  const tampered = shareLinkUrl(`${app.origin}/`, { ...good, linkKey });
  const page = await freshPage(browser);
  await page.goto(tampered);
  // The header is opened with the link key when the page opens: no Download is offered.
  await expect(page.getByTestId('share-page')).toHaveAttribute('data-state', 'refused', {
    timeout: 30_000,
  });
  const error = page.getByTestId('share-error');
  await expect(error).toHaveAttribute('data-code', 'WRONG_KEY');
  await expect(error).toContainText('does not open the file');
  await expect(page.getByRole('button', { name: 'Download' })).toHaveCount(0);
  // The save picker was never shown, so no file was created.
  expect((await savedFile(page, 'shared-file')).sizeBytes).toBe(-1);
  await page.context().close();
});

test('expired links: by their stated time, and by S3’s "Request has expired" answer (stubbed)', async ({
  browser,
}) => {
  const good = payloadOfLink(link);
  const past: SharePayload = { ...good, expiresAtMs: Date.now() - 60_000 };
  const page = await freshPage(browser);
  await page.goto(shareLinkUrl(`${app.origin}/`, past));
  await expect(page.getByTestId('share-page')).toHaveAttribute('data-state', 'expired');
  await expect(page.getByTestId('share-expired')).toContainText('This link has expired');

  // moto never refuses an expired presigned URL; AWS answers 403 with this body. Stubbed here.
  const live = payloadOfLink(await makeLink());
  await page.route(
    (url) => url.href.startsWith(live.url.split('?')[0]!),
    (route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/xml',
        headers: { 'access-control-allow-origin': '*' },
        body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
      }),
  );
  await page.goto(shareLinkUrl(`${app.origin}/`, live));
  await page.reload();
  await expect(page.getByTestId('share-page')).toHaveAttribute('data-state', 'expired');
  await page.context().close();
});

test('a malformed fragment and a large file with no way to stream get clear errors', async ({
  browser,
}) => {
  const page = await freshPage(browser);
  await page.goto(`${app.origin}/#/share/not-a-link`);
  await expect(page.getByTestId('share-error')).toHaveAttribute(
    'data-code',
    'SHARE_LINK_MALFORMED',
  );

  const noWay = await freshPage(
    browser,
    'delete window.showSaveFilePicker; delete Navigator.prototype.serviceWorker;',
  );
  // The size a link states is what the page goes by before it reads a byte.
  const big = { ...payloadOfLink(await makeLink()), sizeBytes: 300 * 1024 * 1024 };
  await noWay.goto(`${app.origin}/#/share/${encodeSharePayload(big)}`);
  await expect(noWay.getByTestId('share-page')).toHaveAttribute('data-state', 'ready');
  await noWay.getByRole('button', { name: 'Download' }).click();
  const error = noWay.getByTestId('share-error');
  await expect(error).toHaveAttribute('data-code', 'SHARE_TOO_LARGE_IN_MEMORY');
  await expect(error).toContainText('held in memory');
  await noWay.context().close();
  await page.context().close();
});

test('a deleted list of links: the dialog shows the link from the header, and Revoke works', async ({
  browser,
}) => {
  const payload = payloadOfLink(await makeLink({ label: 'Ada' }));
  // The attack: whoever can write to the bucket deletes the file's list of links.
  const listKey = await linkListKey({ bucket, root: ROOT }, payload.key);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: listKey }));
  await sharer.goto(`${app.origin}/#/files/`);
  await rowAction(sharer, NAME, `Share link to ${NAME}`);
  const dialog = sharer.getByTestId('share-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'ready', { timeout: 30_000 });
  const entry = dialog.locator(`li[data-link-id="${payload.linkId}"]`);
  await expect(entry).toHaveAttribute('data-listed', 'false');
  await expect(entry).toContainText('Unknown link (not in this file’s list)');
  await entry.getByRole('button', { name: `Revoke unknown link ${payload.linkId}` }).click();
  await entry.getByRole('button', { name: 'Revoke now' }).click();
  await expect(entry).toHaveCount(0, { timeout: 30_000 });
  await dialog.getByTestId('share-close').click();
  const page = await freshPage(browser);
  await page.goto(shareLinkUrl(`${app.origin}/`, payload));
  await expect(page.getByTestId('share-page')).toHaveAttribute('data-state', 'revoked', {
    timeout: 30_000,
  });
  await page.context().close();
});

test('Share links… of two files: one link each, Copy all; a file gone fails on its own', async ({
  browser,
}) => {
  const second = `zweite-${TOKEN}.bin`;
  const third = `dritte-${TOKEN}.bin`;
  const content2 = new Uint8Array(randomBytes(70_000));
  const objectKeys = async (): Promise<string[]> =>
    ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: ROOT }))).Contents ?? [])
      .map((o) => o.Key ?? '')
      .filter((key) => !key.includes('.veil/'));
  await writeFile(join(work, second), content2);
  await writeFile(join(work, third), new Uint8Array(randomBytes(1000)));
  // Uploaded one after the other, so the listing tells which stored key is the third file's.
  let thirdKey = '';
  for (const name of [second, third]) {
    const before = new Set(await objectKeys());
    await sharer.goto(`${app.origin}/#/upload`);
    await sharer.getByTestId('mode-C').check();
    await sharer.getByTestId('file-input').setInputFiles(join(work, name));
    // The upload queue still shows the first test's upload: wait for the new object instead.
    const added = async () => (await objectKeys()).filter((key) => !before.has(key));
    await expect.poll(added, { timeout: 30_000 }).toHaveLength(1);
    thirdKey = (await added())[0]!;
  }
  await sharer.context().grantPermissions(['clipboard-read', 'clipboard-write'], {
    origin: app.origin,
  });
  await sharer.goto(`${app.origin}/#/files/`);
  const row = (name: string) => sharer.locator(`[data-testid="row"][data-name="${name}"]`);
  await row(second).getByTestId('select-row').click();
  await row(third).getByTestId('select-row').click();
  const button = sharer.getByRole('button', { name: 'Share links to 2 files' });
  await expect(button).toHaveText('Share links…');
  await button.click();
  const dialog = sharer.getByTestId('bulk-share-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'ready');
  await expect(dialog.getByLabel('Every link works for')).toHaveValue('3600');
  await expect(dialog.getByLabel('Include each file’s name in its link')).not.toBeChecked();
  const items = dialog.getByTestId('bulk-share-item');
  await expect(items).toHaveCount(2);
  const thirdIndex = (await items.allTextContents()).findIndex((text) => text.includes(third));
  expect(thirdIndex).toBeGreaterThanOrEqual(0);
  // One file is deleted behind the app's back: its link fails, the other's is made.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: thirdKey }));
  await dialog.getByRole('button', { name: 'Create 2 links' }).click();
  await expect(dialog).toHaveAttribute('data-phase', 'done', { timeout: 60_000 });
  await expect(dialog.getByTestId('bulk-share-status')).toHaveText('1 of 2 links made; 1 failed.');
  await expect(items.nth(thirdIndex)).toHaveAttribute('data-state', 'failed');
  await expect(items.nth(1 - thirdIndex)).toHaveAttribute('data-state', 'made');
  await expect(dialog.getByRole('button', { name: 'Try the failed again' })).toBeVisible();

  await dialog.getByTestId('bulk-share-copy').click();
  await expect(dialog.getByText('Copied 1 link.')).toBeVisible();
  const copied = await sharer.evaluate(() => navigator.clipboard.readText());
  const lines = copied.split('\n');
  expect(lines).toHaveLength(1);
  expect(copied).not.toContain(second);
  const made = payloadOfLink(lines[0]!);
  expect(made.name).toBeUndefined();
  expect(new URL(made.url).searchParams.get('X-Amz-Expires')).toBe('3600');
  await dialog.getByTestId('bulk-share-close').click();
  await expect(dialog).not.toBeVisible();

  const page = await freshPage(browser);
  await page.goto(lines[0]!);
  await expect(page.getByTestId('share-page')).toHaveAttribute('data-state', 'ready');
  await page.getByRole('button', { name: 'Download' }).click();
  await expect(page.getByTestId('share-done')).toBeVisible({ timeout: 30_000 });
  expect(await savedFile(page, 'shared-file')).toEqual({
    sha256: sha256(content2),
    sizeBytes: content2.length,
  });
  await page.context().close();
});
