/**
 * Model B in real Chromium: the browser asks the HSM proxy (on SoftHSM2) for a data key with the
 * demo user's ID token, encrypts with it, and unwraps it again through the proxy to decrypt.
 */
import { expect, test, type Page } from '@playwright/test';
import { buildAndServe, type ServedHarness } from './harness/serve';
import type * as HsmHarness from './harness/hsm-entry';

declare global {
  interface Window {
    hsmHarness: typeof HsmHarness;
  }
}

let served: ServedHarness;
let page: Page;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

test.beforeAll(async ({ browser }) => {
  served = await buildAndServe(new URL('./harness/hsm-entry.ts', import.meta.url), {
    port: Number(env('VEIL_HARNESS_PORT')),
  });
  page = await browser.newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.hsmHarness = (window as unknown as { harness: typeof HsmHarness }).harness;
  });
});

test.afterAll(async () => {
  await page?.close();
  await served?.close();
});

test('a message round-trips through the HSM proxy from the browser', async () => {
  const result = await page.evaluate(
    ([url, token, label]) => window.hsmHarness.roundTrip(url, token, label, 300_000),
    [env('VEIL_HSM_URL'), env('VEIL_DEMO_ID_TOKEN'), env('VEIL_HSM_KEY_LABEL')] as const,
  );
  expect(result).toEqual({
    ok: true,
    providerIds: ['veil-hsm'],
    labels: [env('VEIL_HSM_KEY_LABEL')],
  });
});

test('the browser gets catalogued errors for a bad token and an ungranted label', async () => {
  const codes = await page.evaluate(
    async ([url, token, label]) => [
      await window.hsmHarness.encryptError(url, 'not-a-token', label),
      await window.hsmHarness.encryptError(url, token, 'not-granted'),
    ],
    [env('VEIL_HSM_URL'), env('VEIL_DEMO_ID_TOKEN'), env('VEIL_HSM_KEY_LABEL')] as const,
  );
  expect(codes).toEqual(['HSM_UNAUTHENTICATED', 'HSM_FORBIDDEN_LABEL']);
});
