/**
 * After a revoke on a versioned bucket, the Share dialog names the older versions of the file
 * that still open with the revoked link and deletes them ([Note: removed people and older
 * versions] in src/transfer/people-versions.ts; views/share/LinkVersionsNotice.svelte), in
 * Chromium against moto. The app is served on the harness port with a config.json of its own: a
 * bucket made here with versioning on (CORS for the harness origin) and a root of its own.
 *
 * A file gets link 1, then link 2 (a new version, still holding link 1's key); revoking link 1
 * names 2 older versions, exactly the ones Node finds besides the original upload and the
 * current version; "Delete 2 older versions that still open with this link…" asks first, by
 * keyboard (the confirmation takes the focus), and afterwards the bucket, listed from Node,
 * holds only the original and the same current version. axe finds no serious violation with the
 * notice shown and with the confirmation asked.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPOSED_HEADERS, LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { serveStatic, type StaticServer } from '../../scripts/stack/static-server';
import { payloadOfLink } from '../../src/core/share-link';
import { seriousViolations } from './support/axe';
import { rowAction } from './support/row-menu';
import { signInWithKeys, uploadInModelC } from './support/signed-in';
import { env } from './support/upload-ui';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const ROOT = `linkver-${hex(3)}/`;
const NAME = `plan-${hex(4)}.bin`;

let s3: S3Client;
let bucket: string;
let app: StaticServer;
let work: string;
let page: Page;

/** The versions of the file in the bucket (from Node, not the app). */
async function versions(): Promise<{ versionId: string; isLatest: boolean }[]> {
  const key = `${ROOT}${NAME}`;
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (listed.Versions ?? [])
    .filter((v) => v.Key === key)
    .map((v) => ({ versionId: v.VersionId ?? '', isLatest: v.IsLatest === true }));
}

/** Opens the share dialog of the file, makes a link, returns it. */
async function makeLink(): Promise<string> {
  await page.goto(`${app.origin}/#/files/`);
  await rowAction(page, NAME, `Share link to ${NAME}`);
  const dialog = page.getByTestId('share-dialog');
  await expect(dialog).toHaveAttribute('data-phase', 'ready');
  await dialog.getByRole('button', { name: 'Create link' }).click();
  await expect(dialog).toHaveAttribute('data-phase', 'created', { timeout: 30_000 });
  const made = await dialog.getByLabel('Link', { exact: true }).inputValue();
  await dialog.getByTestId('share-close').click();
  await expect(dialog).not.toBeVisible();
  return made;
}

test.describe.configure({ mode: 'serial', timeout: 120_000 });

test.beforeAll(async ({ browser }) => {
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
  });
  work = await mkdtemp(join(tmpdir(), 'veil-linkver-'));
  bucket = `veil-linkver-${hex(4)}`;
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
  const served = (await (
    await fetch(`${new URL(env('VEIL_APP_URL')).origin}/config.json`)
  ).json()) as Record<string, unknown>;
  app = await serveStatic({
    root: process.env.VEIL_DIST_DIR ?? 'dist',
    port: Number(env('VEIL_HARNESS_PORT')),
    config: { ...served, bucket, prefix: ROOT },
  });
  page = await (await browser.newContext()).newPage();
});

test.afterAll(async () => {
  await page?.context().close();
  await app?.close();
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
  await rm(work, { recursive: true, force: true });
});

test('a revoke names the older versions that still open with the link; deleting them by keyboard leaves the original and the current one', async () => {
  await signInWithKeys(page, app.origin);
  await writeFile(join(work, NAME), randomBytes(200_000));
  await uploadInModelC(page, join(work, NAME));
  const [original] = await versions();
  const link1 = await makeLink();
  await makeLink(); // a new version, still holding link 1's key
  expect(await versions()).toHaveLength(3);

  await page.goto(`${app.origin}/#/files/`);
  await rowAction(page, NAME, `Share link to ${NAME}`);
  const dialog = page.getByTestId('share-dialog');
  const entry = dialog.locator(`li[data-link-id="${payloadOfLink(link1).linkId}"]`);
  await entry.getByRole('button', { name: /^Revoke link made/ }).click();
  await entry.getByRole('button', { name: 'Revoke now' }).click();
  await expect(entry).toHaveCount(0, { timeout: 30_000 });

  const all = await versions();
  const current = all.find((v) => v.isLatest)!;
  const stale = all
    .map((v) => v.versionId)
    .filter((id) => id !== current.versionId && id !== original?.versionId);
  const notice = dialog.getByTestId('share-kept-versions');
  await expect(notice).toHaveAttribute('data-state', 'kept');
  await expect(notice).toContainText('2 older versions of this file still hold the revoked link');
  const named = await notice
    .getByTestId('share-kept-version-ids')
    .locator('code')
    .allTextContents();
  expect(named.sort()).toEqual(stale.sort());
  expect(await seriousViolations(page, 'older versions named')).toEqual([]);

  const ask = notice.getByRole('button', {
    name: 'Delete 2 older versions that still open with this link…',
  });
  await ask.focus();
  await page.keyboard.press('Enter');
  const confirm = notice.getByRole('button', { name: 'Delete 2 versions now' });
  await expect(confirm).toBeFocused();
  expect(await seriousViolations(page, 'deletion asked')).toEqual([]);
  await page.keyboard.press('Enter');
  await expect(notice).toHaveAttribute('data-state', 'deleted', { timeout: 30_000 });
  await expect(notice.getByRole('status')).toContainText('Deleted 2 older versions');

  const left = await versions();
  expect(left.map((v) => v.versionId).sort()).toEqual(
    [original?.versionId, current.versionId].sort(),
  );
  expect(left.find((v) => v.isLatest)?.versionId).toBe(current.versionId);
});
