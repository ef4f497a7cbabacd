/**
 * "Upload here" sends to the folder the address names, even when the files are picked before
 * that folder finished opening ([Note: folder asked for, folder shown] in
 * src/state/files/files.svelte.ts). The attack: the read of the location's names key is held,
 * so the Files view, opened on a subfolder, still shows the root while the file is picked; the
 * object must land in the subfolder, never in the root. Under load this once happened by itself
 * (the ZIP test's subfolder upload went to the root).
 */
import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { expect, test, type Route } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { signInWithKeys } from './support/signed-in';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

const top = `upload-here-${randomBytes(4).toString('hex')}`;
const name = `picked-${randomBytes(4).toString('hex')}.txt`;

test('a file picked while the folder opens goes to that folder, not the one shown before', async ({
  browser,
}) => {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  const bucket = env('VEIL_BUCKET');
  const keysNamed = async (): Promise<string[]> => {
    const reply = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (reply.Contents ?? [])
      .map((object) => object.Key ?? '')
      .filter((key) => key.endsWith(name));
  };
  const context = await browser.newContext();
  const page = await context.newPage();
  // Every request for the location's names key waits until released.
  const held: Route[] = [];
  let holding = true;
  await page.route('**/.veil/**', (route) => {
    if (holding) held.push(route);
    else void route.continue();
  });

  const origin = new URL(env('VEIL_APP_URL')).origin;
  await signInWithKeys(page, origin);
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.goto(`${origin}/#/files/${top}/inner`);
  await expect(page.getByTestId('files-view')).toBeVisible();
  // The names are not open yet, so the view still shows the root.
  await expect.poll(() => held.length).toBeGreaterThan(0);
  await page
    .getByTestId('upload-here-input')
    .setInputFiles({ name, mimeType: 'text/plain', buffer: Buffer.from('picked early\n') });

  holding = false;
  for (const route of held.splice(0)) await route.continue();
  await expect(
    page.getByTestId('upload-drawer').locator(`[data-testid="drawer-row"][data-path="${name}"]`),
  ).toHaveAttribute('data-phase', 'done', { timeout: 30_000 });
  const stored = await keysNamed();
  expect(stored).toHaveLength(1);
  // Before the fix it was stored at the root, the folder shown when it was picked.
  expect(stored[0], `stored as ${stored[0]}`).toMatch(new RegExp(`(^|/)${top}/inner/${name}$`));
  await expect(page.locator(`[data-testid="row"][data-name="${name}"]`)).toBeVisible();

  await context.close();
  const left = await keysNamed();
  if (left.length > 0) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: left.map((Key) => ({ Key })) },
      }),
    );
  }
  s3.destroy();
});
