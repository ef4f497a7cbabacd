/**
 * The Settings view in Chromium against the local stack: "Check connection" all green for a
 * guest and for the demo user (whose ID token also passes the HSM proxy), the defaults for new
 * uploads surviving a reload, and the diagnosis for a bucket without CORS rules.
 *
 * The no-CORS bucket: moto answers every origin itself (flask-cors), so a bucket without CORS
 * rules does not make the browser's request fail there as it does on AWS; what it does do, as
 * measured, is leave out Access-Control-Expose-Headers, so the page cannot read ETag or the
 * checksum, which is exactly the case uploads stumble on. The test creates such a bucket in
 * moto from Node, points the page at it by serving config.json with that bucket (page.route),
 * and expects the CORS row to fail with UPLOAD_CORS_HEADERS, naming the headers uploads and
 * downloads read, and the rule to add. The "request blocked" branches (CONNECTION_CORS_BLOCKED
 * for PUT, GET, POST or DELETE) and a probe that cannot be deleted have unit tests with fakes.
 */
import {
  CreateBucketCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, test, type Page } from '@playwright/test';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

function motoS3(): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
}

/** Probe objects and unfinished multipart uploads the connection check left in `bucket`. */
async function probesLeft(bucket: string): Promise<string[]> {
  const s3 = motoS3();
  try {
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    return [
      ...(objects.Contents ?? []).map((o) => o.Key ?? ''),
      ...(uploads.Uploads ?? []).map((u) => `upload of ${u.Key ?? ''}`),
    ].filter((key) => key.includes('.veil-check/'));
  } finally {
    s3.destroy();
  }
}

function nav(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
}

async function openSettings(page: Page): Promise<void> {
  await page.goto(`${env('VEIL_APP_URL')}#/settings`);
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
}

async function signInDemo(page: Page): Promise<void> {
  const form = page.getByRole('form', { name: 'Sign in with user name and password' });
  await form.getByLabel('User name').fill('demo');
  await form.getByLabel('Password').fill('Veil-demo-2026');
  await form.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('credentials-status')).toContainText('Signed in as demo');
}

async function checkConnection(page: Page): Promise<Record<string, string | null>> {
  await page.getByTestId('check-connection').click();
  await expect(page.getByTestId('check-rows')).toBeVisible({ timeout: 20_000 });
  const statuses: Record<string, string | null> = {};
  for (const id of ['credentials', 'bucket', 'cors', 'kms', 'hsm-health', 'hsm-login']) {
    statuses[id] = await page.getByTestId(`check-${id}`).getAttribute('data-status');
  }
  return statuses;
}

async function screenshots(page: Page, name: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: test.info().outputPath(`${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  // Nothing wider than a phone's screen: no sideways scrolling.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.screenshot({ path: test.info().outputPath(`${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
}

test('check connection: all green as a guest (HSM sign-in skipped) and as the demo user', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await openSettings(page);
  // Signed out: credentials fail with what to do, the AWS checks say why they were skipped.
  const signedOut = await checkConnection(page);
  expect(signedOut).toMatchObject({ credentials: 'failed', bucket: 'skipped', 'hsm-health': 'ok' });
  await expect(page.getByTestId('check-credentials')).toContainText('CREDENTIALS_MISSING');

  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toBeVisible();
  expect(await checkConnection(page)).toEqual({
    credentials: 'ok',
    bucket: 'ok',
    cors: 'ok',
    kms: 'ok',
    'hsm-health': 'ok',
    'hsm-login': 'skipped',
  });
  await expect(page.getByTestId('check-hsm-login')).toContainText('user account');
  await expect(page.getByTestId('check-kms')).toContainText('Enabled');
  // The probe did PUT, ranged GET, multipart create and abort, and DELETE, and left nothing.
  await expect(page.getByTestId('check-cors')).toContainText('PUT, GET, POST and DELETE');
  expect(await probesLeft(env('VEIL_BUCKET'))).toEqual([]);

  // Signed in, the forms are put away: Switch brings them back.
  await page.getByRole('button', { name: 'Switch' }).click();
  await signInDemo(page);
  expect(await checkConnection(page)).toEqual({
    credentials: 'ok',
    bucket: 'ok',
    cors: 'ok',
    kms: 'ok',
    'hsm-health': 'ok',
    'hsm-login': 'ok',
  });
  await expect(page.getByTestId('check-hsm-login')).toContainText(env('VEIL_HSM_KEY_LABEL'));
  await screenshots(page, 'settings');
  expect(errors).toEqual([]);
});

test('the default model and its keys survive a reload', async ({ page }) => {
  await openSettings(page);
  await signInDemo(page);
  // Model C's alias list and Model B's labels come from KMS and the proxy once connected.
  const kmsKey = page.getByTestId('default-kms-key');
  await expect(kmsKey.locator('option', { hasText: 'alias/veil-demo' })).toHaveCount(1);
  await kmsKey.selectOption('alias/veil-demo');
  const hsmLabel = page.getByTestId('default-hsm-label');
  await expect(hsmLabel.locator('option', { hasText: env('VEIL_HSM_KEY_LABEL') })).toHaveCount(1);
  await hsmLabel.selectOption(env('VEIL_HSM_KEY_LABEL'));
  await page.getByLabel(/Model B · HSM/).check();
  await page.getByTestId('default-sse').selectOption('SSE-KMS');
  await page.getByTestId('default-sse-key').fill('alias/veil-demo');
  await page.getByTestId('default-sse-key').press('Tab');
  await expect(page.getByTestId('default-statement')).toContainText(
    'a key that never leaves the HSM (Model B · HSM)',
  );

  await page.reload();
  await expect(page.getByLabel(/Model B · HSM/)).toBeChecked();
  await expect(page.getByTestId('default-sse')).toHaveValue('SSE-KMS');
  await expect(page.getByTestId('default-sse-key')).toHaveValue('alias/veil-demo');
  // Signed out after the reload (credentials live in memory): the chosen keys are shown as fixed.
  await expect(page.getByTestId('default-hsm-label-fixed')).toHaveText(env('VEIL_HSM_KEY_LABEL'));
  await expect(page.getByTestId('default-kms-key-fixed')).toHaveText('alias/veil-demo');
  const stored = await page.evaluate(() => localStorage.getItem('veil:preferences'));
  expect(JSON.parse(stored ?? '{}')).toMatchObject({
    model: 'B',
    hsmKeyLabel: env('VEIL_HSM_KEY_LABEL'),
    kmsKeyId: 'alias/veil-demo',
    atRest: { type: 'SSE-KMS', kmsKeyId: 'alias/veil-demo' },
  });

  // Model A: a key generated in Keys becomes the vault default and is offered here.
  await nav(page, 'Keys').click();
  await page.getByLabel('Key name').fill('settings-key');
  await page.getByRole('button', { name: 'Generate AES-256 key' }).click();
  await page.getByTestId('pending-done').click();
  await nav(page, 'Settings').click();
  await page.getByLabel(/Model A · your key/).check();
  await expect(page.getByTestId('default-vault-key')).toHaveValue('settings-key');
  await page.reload();
  await expect(page.getByLabel(/Model A · your key/)).toBeChecked();
  await expect(page.getByTestId('default-vault-key')).toHaveValue('settings-key');
});

test('check connection explains a bucket without CORS rules and shows the rule to add', async ({
  page,
}) => {
  const bucket = `veil-nocors-${Date.now().toString(36)}`;
  const s3 = motoS3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();
  await page.route('**/config.json', async (route) => {
    const response = await route.fetch();
    const config = (await response.json()) as Record<string, unknown>;
    await route.fulfill({ response, json: { ...config, bucket } });
  });
  await openSettings(page);
  await expect(page.getByTestId('config-facts')).toContainText(bucket);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toBeVisible();
  const statuses = await checkConnection(page);
  expect(statuses).toMatchObject({ credentials: 'ok', bucket: 'ok', cors: 'failed' });
  const cors = page.getByTestId('check-cors');
  await expect(cors.getByRole('alert')).toHaveAttribute('data-code', 'UPLOAD_CORS_HEADERS');
  // Neither what uploads read (PUT) nor what Files and downloads read (ranged GET).
  await expect(cors).toContainText(
    'cannot read ETag, x-amz-checksum-crc32, x-amz-meta-veil-format, x-amz-meta-veil-model',
  );
  const rule = JSON.parse((await cors.getByTestId('cors-rule').textContent()) ?? '') as {
    AllowedOrigins: string[];
    ExposeHeaders: string[];
  }[];
  expect(rule[0]?.AllowedOrigins).toEqual([new URL(env('VEIL_APP_URL')).origin]);
  expect(rule[0]?.ExposeHeaders).toEqual(expect.arrayContaining(['ETag', 'x-amz-checksum-crc32']));
  await screenshots(page, 'settings-no-cors');
});

test('Learn compares the five mechanisms and the three models, as cards on a phone', async ({
  page,
}) => {
  await page.goto(`${env('VEIL_APP_URL')}#/learn`);
  const table = page.getByRole('table');
  for (const name of ['SSE-S3', 'SSE-KMS', 'SSE-C', 'CSE-KMS', 'CSE-C']) {
    await expect(
      table.getByRole('rowheader', { name: new RegExp(`^${name}\\b`) }).first(),
    ).toBeVisible();
  }
  for (const model of ['Model A · your key', 'Model B · HSM', 'Model C · AWS KMS']) {
    await expect(table).toContainText(`Veil ${model}`);
  }
  await expect(page.getByRole('columnheader', { name: 'What the host sees' })).toBeVisible();
  // Who can read what, precisely: no blanket "zero-knowledge" verdict for the models that trust
  // a service with data keys.
  await expect(table).not.toContainText('Zero-knowledge');
  const verdict = (model: string) =>
    table
      .getByRole('row')
      .filter({ hasText: `Veil ${model}` })
      .locator('td[data-label="Who can read your files"]');
  await expect(verdict('Model A · your key')).toHaveText(/^Nobody but the holders of the key/);
  await expect(verdict('Model B · HSM')).toContainText('your HSM proxy: it sees each data key');
  await expect(verdict('Model B · HSM')).toContainText('AWS cannot');
  await expect(verdict('Model C · AWS KMS')).toContainText(
    'AWS KMS returns each data key to the browser, so this depends on trusting AWS KMS and your key policy; every use is logged in CloudTrail',
  );
  const reveals = page.getByTestId('learn-bucket-reveals');
  for (const fact of ['Object names', 'Sizes', 'Times', 'Identity ids', 'Key names']) {
    await expect(reveals).toContainText(fact);
  }
  await screenshots(page, 'learn');
  // On a phone the header row is visually hidden and each cell carries its own label.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByRole('columnheader', { name: 'Who encrypts' })).not.toBeInViewport();
  const label = await table
    .locator('td[data-label="Who encrypts"]')
    .first()
    .evaluate((cell) => getComputedStyle(cell, '::before').content);
  expect(label).toBe('"Who encrypts"');
});
