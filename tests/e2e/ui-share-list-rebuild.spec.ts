/**
 * "Rebuild list" in the Share dialog, in Chromium against the local stack ([Note: rebuilding a
 * list of links]). A private-names location of its own; a file uploaded under Model C with IAM
 * keys and a link made. The attack: whoever can write to the bucket replaces the file's list of
 * links by garbage, which blocks new links. The dialog then says the list could not be read,
 * still lists the link from the file's header, and disables Create link; Rebuild list… (confirmed)
 * writes a fresh list, after which a new link is made and opens in a fresh context with no
 * credentials, byte-identical, and the old link still opens too (rebuilding removed no key).
 * axe finds no serious violation in the dialog with the notice, nor after the rebuild.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { payloadOfLink } from '../../src/core/share-link';
import { linkListKey } from '../../src/transfer/share-list';
import { seriousViolations } from './support/axe';
import { servePrivateLocation, type PrivateLocation } from './support/private-location';
import { rowAction } from './support/row-menu';
import { SAVE_PICKER_STUB, savedFile } from './support/saved-file';
import { signInWithKeys, uploadInModelC } from './support/signed-in';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const ROOT = `rebuild-${hex(3)}/`;
const NAME = `liste-${hex(5)}.bin`;
const CONTENT = new Uint8Array(randomBytes(200_000));
const GARBAGE = new Uint8Array(300).fill(7);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let location: PrivateLocation;
let work: string;
let sharer: Page;

test.describe.configure({ mode: 'serial', timeout: 120_000 });

test.beforeAll(async ({ browser }) => {
  location = await servePrivateLocation(ROOT);
  work = await mkdtemp(join(tmpdir(), 'veil-rebuild-'));
  sharer = await (await browser.newContext()).newPage();
});

test.afterAll(async () => {
  await sharer?.context().close();
  await location?.close();
  await rm(work, { recursive: true, force: true });
});

/** Downloads `link` in a fresh context with no credentials; the saved file's digest. */
async function downloadInFreshContext(browser: Browser, link: string): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(SAVE_PICKER_STUB);
  await page.goto(link);
  await expect(page.getByTestId('share-page')).toHaveAttribute('data-state', 'ready', {
    timeout: 30_000,
  });
  await page.getByRole('button', { name: 'Download' }).click();
  await expect(page.getByTestId('share-done')).toBeVisible({ timeout: 30_000 });
  const saved = await savedFile(page, 'shared-file');
  await context.close();
  return saved.sha256;
}

async function openDialog(): Promise<ReturnType<Page['getByTestId']>> {
  await sharer.goto(`${location.app.origin}/#/files/`);
  await rowAction(sharer, NAME, `Share link to ${NAME}`);
  const dialog = sharer.getByTestId('share-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'ready', { timeout: 30_000 });
  return dialog;
}

async function createLink(dialog: ReturnType<Page['getByTestId']>): Promise<string> {
  await dialog.getByRole('button', { name: 'Create link' }).click();
  await expect(dialog).toHaveAttribute('data-phase', 'created', { timeout: 30_000 });
  return dialog.getByLabel('Link', { exact: true }).inputValue();
}

test('a garbage list: the notice, Rebuild list, then a new link opens and the old one too', async ({
  browser,
}) => {
  await signInWithKeys(sharer, location.app.origin);
  await writeFile(join(work, NAME), CONTENT);
  await uploadInModelC(sharer, join(work, NAME));

  let dialog = await openDialog();
  const oldLink = await createLink(dialog);
  const old = payloadOfLink(oldLink);
  await dialog.getByTestId('share-close').click();

  // The attack: the file's list of links is replaced by garbage in the bucket.
  const listKey = await linkListKey({ bucket: location.bucket, root: ROOT }, old.key);
  await location.s3.send(
    new PutObjectCommand({ Bucket: location.bucket, Key: listKey, Body: GARBAGE }),
  );

  dialog = await openDialog();
  const notice = dialog.getByTestId('share-list-error');
  await expect(notice).toContainText('This file’s list of links could not be read: it is damaged');
  await expect(notice).toHaveAttribute('data-rebuildable', 'true');
  await expect(dialog.getByRole('button', { name: 'Create link' })).toBeDisabled();
  const entry = dialog.locator(`li[data-link-id="${old.linkId}"]`);
  await expect(entry).toHaveAttribute('data-listed', 'false');
  expect(await seriousViolations(sharer, 'share dialog, list unreadable')).toEqual([]);

  // Asked first; "Keep it as it is" writes nothing.
  await notice.getByRole('button', { name: 'Rebuild list…' }).click();
  await expect(notice.getByRole('button', { name: 'Rebuild now' })).toBeFocused();
  await notice.getByRole('button', { name: 'Keep it as it is' }).click();
  const stored = await location.s3.send(
    new GetObjectCommand({ Bucket: location.bucket, Key: listKey }),
  );
  expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(GARBAGE)).toBe(true);

  await notice.getByRole('button', { name: 'Rebuild list…' }).click();
  await notice.getByRole('button', { name: 'Rebuild now' }).click();
  const rebuilt = dialog.getByTestId('share-list-rebuilt');
  await expect(rebuilt).toBeVisible({ timeout: 30_000 });
  await expect(rebuilt).toBeFocused();
  expect(await seriousViolations(sharer, 'share dialog, list rebuilt')).toEqual([]);
  await expect(dialog.getByTestId('share-list-error')).toHaveCount(0);
  await expect(entry).toHaveAttribute('data-listed', 'true');
  await expect(entry).toContainText(
    'Unknown link (its details were lost when the list was rebuilt)',
  );
  await expect(
    entry.getByRole('button', { name: `Revoke unknown link ${old.linkId}` }),
  ).toBeVisible();

  const fresh = await createLink(dialog);
  await expect(dialog.locator('li[data-link-id]')).toHaveCount(2);
  await dialog.getByTestId('share-close').click();

  expect(await downloadInFreshContext(browser, fresh)).toBe(sha256(CONTENT));
  expect(await downloadInFreshContext(browser, oldLink)).toBe(sha256(CONTENT));
});
