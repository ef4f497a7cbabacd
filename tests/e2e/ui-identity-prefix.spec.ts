/**
 * A team deployment keeps each user's files in their own folder: config.json's prefix
 * `users/{identityId}/` (what infra/ writes, matching the role that confines each Cognito identity
 * to that folder). Upload writes there and Files lists there, for the identity of the session.
 * The page gets that config through page.route; moto does not evaluate the role's policy, so this
 * checks what the app does, not what IAM would refuse.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

test('uploads and the file list follow the per-identity prefix', async ({ page }) => {
  await page.route('**/config.json', async (route) => {
    const response = await route.fetch();
    const config = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...config, prefix: 'users/{identityId}/' } });
  });
  const nav = page.getByRole('navigation', { name: 'Main' });
  const work = await mkdtemp(join(tmpdir(), 'veil-identity-'));
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  try {
    const file = join(work, 'mine.txt');
    await writeFile(file, 'only for me\n'.repeat(100));

    await page.goto(`${env('VEIL_APP_URL')}#/files`);
    // Before connecting, the folder is not known yet; nothing is listed.
    await expect(page.getByTestId('files-empty')).toContainText('<your identity>');

    await nav.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Get guest credentials' }).click();
    const identityId = (await page.getByTestId('identity-id').textContent())?.trim() ?? '';
    expect(identityId).toMatch(/^us-east-1:/);

    await nav.getByRole('link', { name: 'Upload' }).click();
    await page.getByTestId('mode-C').check();
    await page.getByTestId('file-input').setInputFiles(file);
    await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(1, {
      timeout: 30_000,
    });
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: env('VEIL_BUCKET'), Prefix: `users/${identityId}/` }),
    );
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual([`users/${identityId}/mine.txt`]);

    await nav.getByRole('link', { name: 'Files' }).click();
    await expect(page.locator('[data-testid="row"][data-name="mine.txt"]')).toBeVisible();
    // The list starts at the user's folder, not at the bucket's root.
    await expect(page.locator('[data-testid="row"][data-name="users"]')).toHaveCount(0);
  } finally {
    s3.destroy();
    await rm(work, { recursive: true, force: true });
  }
});
