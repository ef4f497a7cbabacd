import { expect, test } from '@playwright/test';

function appUrl(): string {
  const url = process.env.VEIL_APP_URL;
  if (!url) throw new Error('VEIL_APP_URL is not set: run through playwright.config.ts');
  return url;
}

test('the app loads its config, the worker answers, and a Cognito guest gets credentials', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));

  await page.goto(appUrl());
  await expect(page.getByTestId('config-status')).toHaveText(
    `${process.env.VEIL_BUCKET ?? ''} · us-east-1`,
  );
  await expect(page.getByTestId('worker-status')).toHaveText('Worker ready · WebCrypto available');

  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await expect(page).toHaveURL(/#\/settings$/);
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  const identity = page.getByTestId('identity-id');
  await expect(identity).toHaveText(/^us-east-1:[0-9a-f-]{36}$/);

  // The worker really was a module worker loaded from the app's origin.
  expect(requests.some((url) => /\/assets\/worker-[\w-]+\.js$/.test(url))).toBe(true);
  // The credentials came from the local Cognito endpoint, not from anywhere else.
  const origins = new Set(requests.map((url) => new URL(url).origin));
  expect([...origins].sort()).toEqual([new URL(appUrl()).origin, process.env.VEIL_MOTO_URL].sort());
  expect(errors).toEqual([]);
});

test('a missing or invalid config.json shows a clear error page', async ({ page }) => {
  await page.route('**/config.json', (route) =>
    route.fulfill({ contentType: 'application/json', body: '{"region":"nowhere","bucket":"b"}' }),
  );
  await page.goto(appUrl());
  await expect(page.getByTestId('config-error')).toContainText('CONFIG_INVALID');
  await expect(page.getByTestId('config-error')).toContainText('region');

  await page.route('**/config.json', (route) => route.fulfill({ status: 404 }));
  await page.reload();
  await expect(page.getByTestId('config-error')).toContainText('CONFIG_MISSING');
});

test('navigation works from the keyboard', async ({ page }) => {
  await page.goto(appUrl());
  await expect(page.getByTestId('config-status')).toBeVisible();
  const learn = page.getByRole('link', { name: 'Learn' });
  await learn.focus();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#\/learn$/);
  await expect(page.getByRole('link', { name: 'Learn' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('table')).toContainText('SSE-C');
});
