/**
 * A signed-in sharer, as the share and Files specs set one up: IAM access keys pasted in
 * Settings (moto accepts any key; the app checks the form of an access key id), which do not
 * expire, so share links may last up to 7 days and a long spec outlives no sign-in (moto's guest
 * credentials last 90 s); then files uploaded under Model C (KMS) from the Upload view.
 */
import { expect, type Page } from '@playwright/test';

/** A well-formed access key id and secret; moto takes any. */
export const IAM_KEYS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

/** Signs `page` in with IAM_KEYS in Settings of the app served at `origin`. */
export async function signInWithKeys(page: Page, origin: string): Promise<void> {
  await page.goto(`${origin}/#/settings`);
  const form = page.getByRole('form', { name: 'Use IAM access keys' });
  await form.getByLabel('Access key id').fill(IAM_KEYS.accessKeyId);
  await form.getByLabel('Secret access key').fill(IAM_KEYS.secretAccessKey);
  await form.getByRole('button', { name: 'Use these keys' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('IAM access keys');
}

/**
 * Uploads `paths` under Model C from the Upload view and waits until the queue shows that many
 * rows done (a queue that already holds rows done would need its own wait).
 */
export async function uploadInModelC(page: Page, ...paths: string[]): Promise<void> {
  await page.getByRole('link', { name: 'Upload', exact: true }).click();
  await page.getByTestId('mode-C').check();
  await page.getByTestId('file-input').setInputFiles(paths);
  await expect(page.locator('[data-testid="upload-row"][data-phase="done"]')).toHaveCount(
    paths.length,
    { timeout: 30_000 },
  );
}
