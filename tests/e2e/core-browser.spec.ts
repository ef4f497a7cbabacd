/**
 * The encryption core in real headless Chromium, on the browser's WebCrypto: round trips over a
 * boundary table, a tamper case, and vectors from ../shared/esdk/vectors (one written by
 * client-node, one written by ESDK-NET with suite 0x0578). Self-contained: it builds and serves
 * its own harness (tests/e2e/harness) and needs nothing from the global setup.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { buildAndServe } from './harness/serve';
import type { ServedHarness } from './harness/serve';
import type * as CoreHarness from './harness/core-entry';

const VECTORS = new URL('../../../shared/esdk/vectors/', import.meta.url);
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 3)).toString('base64');
const VECTOR_KEY = 'AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=';

declare global {
  interface Window {
    harness: typeof CoreHarness;
  }
}

let served: ServedHarness;
let page: Page;

test.beforeAll(async ({ browser }) => {
  served = await buildAndServe(new URL('./harness/core-entry.ts', import.meta.url));
  page = await browser.newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
});

test.afterAll(async () => {
  await page?.close();
  await served?.close();
});

test('runs in a secure context with WebCrypto', async () => {
  expect(await page.evaluate(() => window.isSecureContext && !!crypto.subtle)).toBe(true);
});

for (const [plaintextBytes, frameBytes] of [
  [0, 1024],
  [1, 1024],
  [1023, 1024],
  [1024, 1024],
  [1025, 1024],
  [10 * 1024 + 5, 1024],
  [1_200_000, 524_288],
] as const) {
  test(`round-trips ${plaintextBytes} bytes at frame ${frameBytes}`, async () => {
    const result = await page.evaluate(
      ([key, size, frame]) => window.harness.roundTrip(key, size, frame),
      [KEY, plaintextBytes, frameBytes] as const,
    );
    expect(result.ok).toBe(true);
  });
}

test('rejects tampering in the browser', async () => {
  const codes = await page.evaluate(async (key) => {
    return [
      await window.harness.tamper(key, 'first-frame'),
      await window.harness.tamper(key, 'final-frame'),
      await window.harness.tamper(key, 'header-auth-tag'),
    ];
  }, KEY);
  expect(codes[0]).toBe('FRAME_TAMPERED');
  expect(codes[1]).toBe('FRAME_TAMPERED');
  expect(codes[2]).toBe('HEADER_TAMPERED');
});

test('passes the non-extractable content key to a Web Worker; frames work out of order', async () => {
  const result = await page.evaluate((key) => window.harness.framesAcrossWorker(key), KEY);
  expect(result).toEqual({ workerOk: true, workerExtractable: false, outOfOrderOk: true });
});

for (const [set, name] of [
  ['generated-client-node-0478', 'ec-sort-case-and-unicode'],
  ['committing/v4-Net-4.0.1', '0578-ec_len_2-cmm_Default-74967b4f-3015-44cc-870e-8cc8b525bb6c'],
] as const) {
  test(`decrypts the vector ${set}/${name}`, async () => {
    const ciphertext = readFileSync(new URL(`${set}/ciphertexts/${name}`, VECTORS)).toString(
      'base64',
    );
    const plaintextFile = set.startsWith('generated') ? name : 'small';
    const expected = readFileSync(new URL(`${set}/plaintexts/${plaintextFile}`, VECTORS)).toString(
      'base64',
    );
    const decrypted = await page.evaluate(
      ([message, key]) =>
        window.harness.decryptMessage(message, key, 'aes-256', 'aws-raw-vectors-persistant'),
      [ciphertext, VECTOR_KEY] as const,
    );
    expect(decrypted).toBe(expected);
  });
}
