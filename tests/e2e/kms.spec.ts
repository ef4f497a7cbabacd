/**
 * Model C in Chromium through the built app against the local stack's moto: each way of getting
 * credentials (guest, user-pool sign-in, pasted IAM keys), then the KMS key check and the
 * round-trip self test (the core and the KMS keyring in the page, GenerateDataKey and Decrypt at
 * moto, the message stored in and read back from S3).
 *
 * Not tested here: the hosted UI (moto has none), key policies and IAM (moto ignores them), and
 * rejection of the pasted keys themselves (moto accepts any signature).
 */
import { expect, test, type Page } from '@playwright/test';

function appUrl(): string {
  const url = process.env.VEIL_APP_URL;
  if (!url) throw new Error('VEIL_APP_URL is not set: run through playwright.config.ts');
  return url;
}

async function openSettings(page: Page): Promise<void> {
  await page.goto(appUrl());
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page).toHaveURL(/#\/settings$/);
}

/**
 * How long an answer from KMS may take: "Check KMS key" is one DescribeKey and the self test
 * GenerateDataKey, PutObject, GetObject and Decrypt, each a request to moto, which answers late
 * when the machine is busy (beside the integration tests the key's ARN was once not shown within
 * the default 5 s), so the expectations that wait on KMS wait this long; a passing one returns as
 * soon as it holds.
 */
const KMS_ANSWER = { timeout: 20_000 };

async function selfTest(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Check KMS key' }).click();
  await expect(page.getByTestId('kms-key-arn')).toHaveText(
    /^arn:aws:kms:us-east-1:\d{12}:key\/[0-9a-f-]{36}$/,
    KMS_ANSWER,
  );
  await expect(page.getByTestId('kms-key-state')).toHaveText('Enabled');
  const arn = await page.getByTestId('kms-key-arn').textContent();

  await page.getByRole('button', { name: 'Run KMS self test' }).click();
  await expect(page.getByTestId('kms-self-test')).toContainText('Round trip OK', KMS_ANSWER);
  await expect(page.getByTestId('kms-self-test')).toContainText('read back from the bucket');
  await expect(page.getByTestId('kms-self-test-provider')).toHaveText('aws-kms');
  await expect(page.getByTestId('kms-self-test-arn')).toHaveText(arn ?? '');
}

test('Model C round trip in the browser with a Cognito guest identity', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const kmsTargets: string[] = [];
  page.on('request', (request) => {
    const target = request.headers()['x-amz-target'];
    if (target?.startsWith('TrentService.')) kmsTargets.push(target.slice('TrentService.'.length));
  });

  await openSettings(page);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  const identity = page.getByTestId('identity-id');
  await expect(identity).toHaveText(/^us-east-1:[0-9a-f-]{36}$/);
  await selfTest(page);
  // The context names the identity, never a file.
  const context = page.getByTestId('kms-self-test-context');
  await expect(context).toContainText('veil-identity-id');
  await expect(context).toContainText((await identity.textContent()) ?? '');
  expect(kmsTargets).toEqual(expect.arrayContaining(['DescribeKey', 'GenerateDataKey', 'Decrypt']));

  await page.getByRole('button', { name: 'List aliases' }).click();
  await expect(page.getByTestId('kms-aliases')).toContainText('alias/veil-demo', KMS_ANSWER);
  expect(errors).toEqual([]);
});

test('the demo user signs in; a wrong password gives a clear error', async ({ page }) => {
  await openSettings(page);
  const form = page.getByRole('form', { name: 'Sign in with user name and password' });
  await form.getByLabel('User name').fill('demo');
  await form.getByLabel('Password').fill('Not-the-password-1');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('credentials-error')).toContainText('LOGIN_FAILED');

  await form.getByLabel('Password').fill('Veil-demo-2026');
  await form.getByLabel('Password').press('Enter');
  await expect(page.getByTestId('credentials-status')).toContainText('Signed in as demo');
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:/);
  // The password field was cleared once used (the forms come back with Switch).
  await page.getByRole('button', { name: 'Switch' }).click();
  await expect(form.getByLabel('Password')).toHaveValue('');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await selfTest(page);
});

test('pasted IAM keys stay out of storage unless remembered, and never reach localStorage', async ({
  page,
}) => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  await openSettings(page);
  const form = page.getByRole('form', { name: 'Use IAM access keys' });
  await form.getByLabel('Access key id').fill('AKIAIOSFODNN7EXAMPLE');
  await form.getByLabel('Secret access key').fill(secret);
  await form.getByRole('button', { name: 'Use these keys' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('IAM access keys');
  await expect(page.getByTestId('credentials-status')).toContainText('AKIA…');
  await expect(page.getByTestId('identity-id')).toHaveCount(0);
  const stored = () =>
    page.evaluate(
      () => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }),
    );
  expect(await stored()).not.toContain(secret);
  await selfTest(page);

  await page.getByRole('button', { name: 'Switch' }).click();
  await form.getByLabel('Secret access key').fill(secret);
  await form.getByLabel('Remember for this tab (session storage)').check();
  await form.getByRole('button', { name: 'Use these keys' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('remembered for this tab');
  expect(await page.evaluate(() => sessionStorage.getItem('veil.iamKeys'))).toContain(secret);
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toContain(secret);
  // A reload in the same tab picks the remembered keys up again; signing out forgets them.
  await page.reload();
  await expect(page.getByTestId('credentials-status')).toContainText('remembered for this tab');
  await page.getByRole('button', { name: 'Sign out' }).click();
  expect(await stored()).not.toContain(secret);

  await form.getByLabel('Access key id').fill('not-a-key');
  await form.getByLabel('Secret access key').fill(secret);
  await form.getByRole('button', { name: 'Use these keys' }).click();
  await expect(page.getByTestId('credentials-error')).toContainText('CREDENTIALS_INVALID');
  await expect(page.getByTestId('credentials-error')).not.toContainText(secret);
});

test('the KMS actions work from the keyboard', async ({ page }) => {
  await openSettings(page);
  const guest = page.getByRole('button', { name: 'Get guest credentials' });
  await guest.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('identity-id')).toBeVisible();
  await page.getByRole('button', { name: 'Check KMS key' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('kms-key-state')).toHaveText('Enabled', KMS_ANSWER);
});
