/**
 * [Note: lazy seams] in the browser: the first paint fetches no AWS SDK code (signing in fetches
 * it), and a view whose chunk cannot be fetched says so with a catalogued error and can be tried
 * again. The build-time measure is tests/integration/initial-js.test.ts.
 */
import { expect, test, type Page } from '@playwright/test';

function appUrl(): string {
  const url = process.env.VEIL_APP_URL;
  if (!url) throw new Error('VEIL_APP_URL is not set: run through playwright.config.ts');
  return url;
}

/** Every same-origin script the page fetched, with its text. */
function recordScripts(page: Page): Map<string, Promise<string>> {
  const scripts = new Map<string, Promise<string>>();
  page.on('response', (response) => {
    const url = response.url();
    if (url.startsWith(new URL(appUrl()).origin) && /\/assets\/[^/]+\.js$/.test(url)) {
      scripts.set(url, response.text());
    }
  });
  return scripts;
}

/** The fetched scripts that hold AWS SDK code (its user agent marker, in every SDK client). */
async function sdkScripts(scripts: Map<string, Promise<string>>): Promise<string[]> {
  const found: string[] = [];
  for (const [url, text] of scripts) if ((await text).includes('aws-sdk-js')) found.push(url);
  return found;
}

test('the Upload view paints without AWS SDK code; signing in fetches it', async ({ page }) => {
  const scripts = recordScripts(page);
  await page.goto(`${appUrl()}#/upload`);
  await expect(page.getByRole('heading', { name: 'Upload', level: 1 })).toBeVisible();
  await expect(page.getByTestId('worker-status')).toHaveText('Worker ready · WebCrypto available');
  await page.waitForLoadState('networkidle');
  expect(scripts.size).toBeGreaterThan(2);
  expect(await sdkScripts(scripts)).toEqual([]);

  // The same check finds the SDK once the user signs in: the marker is a real one.
  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.getByRole('button', { name: 'Get guest credentials' }).click();
  await expect(page.getByTestId('identity-id')).toHaveText(/^us-east-1:[0-9a-f-]{36}$/);
  expect((await sdkScripts(scripts)).length).toBeGreaterThan(0);
});

test('a view whose code cannot be fetched says so, and Try again shows it', async ({ page }) => {
  let offline = true;
  await page.route(/\/assets\/Learn-[\w-]+\.js$/, (route) =>
    offline ? route.abort('internetdisconnected') : route.continue(),
  );
  await page.goto(`${appUrl()}#/learn`);
  const notice = page.getByTestId('view-load-error');
  await expect(notice).toBeVisible();
  await expect(notice).toHaveAttribute('data-code', 'APP_CODE_UNAVAILABLE');
  await expect(notice).toContainText('Part of the app could not be loaded');
  await expect(page.getByRole('heading', { name: 'How your files are protected' })).toHaveCount(0);

  offline = false;
  await notice.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByRole('heading', { name: 'How your files are protected' })).toBeVisible();
  await expect(page.getByTestId('view-load-error')).toHaveCount(0);
});
