/**
 * The service-worker save target in headless Chromium ([Note: service-worker download] in
 * src/transfer/browser/download-sw-sink.ts): the page has no File System Access API (an init
 * script deletes `showSaveFilePicker`), the object is above the Blob limit, so chooseSaveTarget streams
 * it through public/veil-download-sw.js (copied into the harness build like the app's) into a
 * real browser download, which Playwright catches. The downloaded file's bytes are compared with
 * the pattern's; a failure after the first bytes must leave a failed download, never a complete
 * one; cancelling the download in the browser cancels the Veil download. The production build
 * (served with its strict CSP by the global setup) carries the worker at its root and lets the
 * app register it.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import type { Download, Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { provisionBucket } from '../../scripts/stack/provision';
import { buildAndServe, type ServedHarness } from './harness/serve';
import type * as DownloadHarness from './harness/download-entry';
import type { DownloadParams, SaveTargetParams } from './harness/download-entry';
import { patternBytes, type UploadParams } from './harness/upload-entry';

declare global {
  interface Window {
    download: typeof DownloadHarness;
  }
}

const MiB = 1024 * 1024;
const FRAME_OBJECT_BYTES = 512 * 1024 + 32;
const KEY_BASE64 = Buffer.from(
  Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 0xff),
).toString('base64');

/** A browser without the File System Access API. */
const NO_PICKER = `
  delete window.showSaveFilePicker;
  if ('showSaveFilePicker' in window) window.showSaveFilePicker = undefined;
`;

let served: ServedHarness;
let page: Page;
let s3: S3Client;
let bucket: string;
let seed = 500;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function uploaded(sizeBytes: number): Promise<UploadParams> {
  const input: UploadParams = {
    motoUrl: env('VEIL_MOTO_URL'),
    bucket,
    key: `sw/${sizeBytes}-${seed}`,
    keyBase64: KEY_BASE64,
    sizeBytes,
    seed: seed++,
  };
  const outcome = await page.evaluate((p) => window.download.uploadOnce(p), input);
  expect(outcome.ok).toBe(true);
  return input;
}

function params(key: string): DownloadParams {
  return {
    motoUrl: env('VEIL_MOTO_URL'),
    bucket,
    key,
    fileName: `${key.replace(/\W+/g, '-')}.bin`,
    raw: { keyBase64: KEY_BASE64 },
    // Two frames per ranged GET: several writes, so the stream really streams.
    rangeBytes: 2 * FRAME_OBJECT_BYTES,
    rangesInFlight: 2,
    workers: 2,
  };
}

/** Above the Blob limit, so chooseSaveTarget must pick the service worker. */
const viaWorker: SaveTargetParams = { sizeBytes: 1, blobLimitBytes: 0, kind: 'service-worker' };

/** Runs the harness download with the service-worker target; returns the outcome. */
function downloadViaWorker(p: DownloadParams) {
  return page.evaluate(([q, target]) => window.download.download(q, true, undefined, target), [
    p,
    viaWorker,
  ] as const);
}

test.describe.configure({ timeout: 90_000 });

test.beforeAll(async ({ browser }) => {
  served = await buildAndServe(new URL('./harness/download-entry.ts', import.meta.url), {
    port: Number(env('VEIL_HARNESS_PORT')),
  });
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  bucket = `veil-download-sw-${Date.now().toString(36)}`;
  await provisionBucket(s3, { bucket, origins: [new URL(served.url).origin] });
  const context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await page.addInitScript(NO_PICKER);
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.download = (window as unknown as { harness: typeof DownloadHarness }).harness;
  });
  const picker = await page.evaluate(
    () => (window as unknown as Record<string, unknown>).showSaveFilePicker,
  );
  expect(picker).toBeUndefined();
});

test.afterAll(async () => {
  await page?.context().close();
  await served?.close();
  s3?.destroy();
});

test('without the save picker a multi-frame object streams through the service worker to a download', async () => {
  for (const sizeBytes of [3 * MiB + 5, 0]) {
    const input = await uploaded(sizeBytes);
    const p = params(input.key);
    const [download, outcome] = await Promise.all([
      page.waitForEvent('download'),
      downloadViaWorker(p),
    ]);
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      result: { kind: 'esdk-framed', writtenBytes: sizeBytes },
    });
    expect(await download.failure()).toBeNull();
    expect(download.suggestedFilename()).toBe(p.fileName);
    expect(new URL(download.url()).pathname).toMatch(/^\/veil-download\/[0-9a-f]{32}$/);
    const bytes = await readFile(await download.path());
    expect(bytes.length).toBe(sizeBytes);
    expect(sha256(bytes)).toBe(sha256(patternBytes(sizeBytes, input.seed)));
  }
  // Registered lazily, once, with the narrow scope: it controls no page of the app.
  const scopes = await page.evaluate(async () =>
    (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope),
  );
  expect(scopes).toEqual([new URL('/veil-download/', served.url).href]);
  expect(await page.evaluate(() => navigator.serviceWorker.controller)).toBeNull();
});

test('a tampered frame after the first bytes fails the browser download, never completes it', async () => {
  const input = await uploaded(4 * MiB + 100);
  const object = await getObject(input.key);
  const header = object.length - 4 * (2 * FRAME_OBJECT_BYTES) - (100 + 40);
  // Frame 6 sits in the third ranged GET; the first two are already in the browser's download.
  const at = header + 5 * FRAME_OBJECT_BYTES + 1000;
  object[at] = (object[at] ?? 0) ^ 0x01;
  await putObject(input.key, object);
  const p = params(input.key);
  const [download, outcome] = await Promise.all([
    page.waitForEvent('download'),
    downloadViaWorker({ ...p, rangesInFlight: 1 }),
  ]);
  expect(outcome).toMatchObject({ ok: false, code: 'FRAME_TAMPERED' });
  expect(await download.failure()).not.toBeNull();
});

test('cancelling the download in the browser cancels the Veil download', async () => {
  const input = await uploaded(6 * MiB);
  const p = params(input.key);
  // Hold the body's third ranged GET until the browser's download was cancelled.
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let bodyGets = 0;
  await page.route(
    (url) => url.pathname.endsWith(input.key),
    async (route) => {
      const range = route.request().headers()['range'] ?? '';
      if (route.request().method() === 'GET' && /^bytes=(\d+)-/.exec(range)?.[1] !== '0') {
        bodyGets += 1;
        if (bodyGets === 4) await held;
      }
      await route.continue();
    },
  );
  try {
    const started = page.waitForEvent('download');
    const running = downloadViaWorker({ ...p, rangesInFlight: 1 });
    const download: Download = await started;
    await download.cancel();
    expect(await download.failure()).toBe('canceled');
    release();
    expect(await running).toMatchObject({ ok: false, code: 'DOWNLOAD_CANCELLED' });
  } finally {
    release();
    await page.unrouteAll({ behavior: 'wait' });
  }
});

async function getObject(key: string): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

async function putObject(key: string, body: Uint8Array): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

test('the production build serves the worker at its root, and its CSP lets the app register it', async ({
  browser,
}) => {
  const context = await browser.newContext();
  try {
    const app = await context.newPage();
    const response = await app.goto(env('VEIL_APP_URL'));
    expect(response?.headers()['content-security-policy']).toContain("worker-src 'self'");
    const scope = await app.evaluate(async () => {
      const registration = await navigator.serviceWorker.register('/veil-download-sw.js', {
        scope: '/veil-download/',
      });
      return registration.scope;
    });
    expect(scope).toBe(new URL('/veil-download/', env('VEIL_APP_URL')).href);
  } finally {
    await context.close();
  }
});
