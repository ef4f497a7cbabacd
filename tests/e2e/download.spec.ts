/**
 * The download engine in headless Chromium against moto (started by the global setup): objects
 * uploaded by the upload engine (Models A, B, C) and objects written by @aws-crypto/client-node
 * (0x0478 and 0x0578) are fetched with ranged GETs, decrypted in module workers and saved through
 * the File System Access save picker, which Playwright cannot drive: an init script replaces
 * `showSaveFilePicker` with a stub returning a handle in the origin-private file system, so the
 * app's createWritable() path runs unchanged. The saved file's SHA-256 is compared with the
 * pattern's. Failures must leave the OPFS file empty (the writable was aborted, nothing committed).
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import { expect, test } from '@playwright/test';
import type { Page, Request } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { provisionBucket } from '../../scripts/stack/provision';
import { parseHeaderBytes } from '../../src/core/message';
import { buildAndServe, type ServedHarness } from './harness/serve';
import type * as DownloadHarness from './harness/download-entry';
import type { DownloadParams } from './harness/download-entry';
import { patternBytes, type UploadParams } from './harness/upload-entry';

declare global {
  interface Window {
    download: typeof DownloadHarness;
  }
}

const MiB = 1024 * 1024;
const PART = 8 * MiB;
const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 0xff);
const KEY_BASE64 = Buffer.from(KEY_BYTES).toString('base64');
const OTHER_KEY_BASE64 = Buffer.from(KEY_BYTES.map((byte) => byte ^ 0x5a)).toString('base64');
const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** Replaces the save picker with one that returns an origin-private file (see the file comment). */
const SAVE_PICKER_STUB = `
  window.showSaveFilePicker = async (options) => {
    const root = await navigator.storage.getDirectory();
    return root.getFileHandle(options.suggestedName, { create: true });
  };
`;

let served: ServedHarness;
let page: Page;
let s3: S3Client;
let bucket: string;
let seed = 100;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

function slug(): string {
  return `${test
    .info()
    .title.replace(/[^\w]+/g, '-')
    .slice(0, 60)}-${seed}`;
}

function uploadParams(sizeBytes: number, extra: Partial<UploadParams> = {}): UploadParams {
  return {
    motoUrl: env('VEIL_MOTO_URL'),
    bucket,
    key: `downloads/${slug()}`,
    keyBase64: KEY_BASE64,
    sizeBytes,
    seed: seed++,
    ...extra,
  };
}

function downloadParams(key: string, extra: Partial<DownloadParams> = {}): DownloadParams {
  return {
    motoUrl: env('VEIL_MOTO_URL'),
    bucket,
    key,
    fileName: `${key.replace(/\W+/g, '-')}.bin`,
    raw: { keyBase64: KEY_BASE64 },
    ...extra,
  };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Uploads `sizeBytes` of a pattern through the upload engine in the page; returns the params. */
async function uploaded(
  sizeBytes: number,
  extra: Partial<UploadParams> = {},
): Promise<UploadParams> {
  const input = uploadParams(sizeBytes, extra);
  const outcome = await page.evaluate((p) => window.download.uploadOnce(p), input);
  expect(outcome.ok).toBe(true);
  return input;
}

async function getObject(key: string): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

async function putObject(key: string, body: Uint8Array): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Downloads and expects failure with `code` and an empty (or absent) saved file. */
async function expectFailure(params: DownloadParams, code: string): Promise<void> {
  const outcome = await page.evaluate((p) => window.download.download(p), params);
  expect(outcome).toMatchObject({ ok: false, code });
  const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
  expect(saved.sizeBytes).toBe(0);
}

function peerKeyring(): RawAesKeyringNode {
  return new RawAesKeyringNode({
    keyName: 'upload-test',
    keyNamespace: 'veil',
    unencryptedMasterKey: KEY_BYTES.slice(),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  });
}

/** Counts ranged GETs of `key` and the most in flight at once. */
function watchGets(
  target: Page,
  key: string,
): { started: number; maxInFlight: number; stop(): void } {
  const watch = { started: 0, maxInFlight: 0, inFlight: 0, stop: () => undefined as void };
  const isGet = (request: Request): boolean =>
    request.method() === 'GET' && new URL(request.url()).pathname.endsWith(key);
  const onRequest = (request: Request): void => {
    if (!isGet(request)) return;
    watch.started += 1;
    watch.inFlight += 1;
    watch.maxInFlight = Math.max(watch.maxInFlight, watch.inFlight);
  };
  const onDone = (request: Request): void => {
    if (isGet(request)) watch.inFlight -= 1;
  };
  target.on('request', onRequest);
  target.on('requestfinished', onDone);
  target.on('requestfailed', onDone);
  watch.stop = () => {
    target.off('request', onRequest);
    target.off('requestfinished', onDone);
    target.off('requestfailed', onDone);
  };
  return watch;
}

test.describe.configure({ timeout: 120_000 });

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
  bucket = `veil-download-${Date.now().toString(36)}`;
  await provisionBucket(s3, { bucket, origins: [new URL(served.url).origin] });
  page = await browser.newPage();
  await page.addInitScript(SAVE_PICKER_STUB);
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.download = (window as unknown as { harness: typeof DownloadHarness }).harness;
  });
});

test.afterAll(async () => {
  await page?.close();
  await served?.close();
  s3?.destroy();
});

for (const [label, sizeBytes] of [
  ['0 B', 0],
  ['1 B', 1],
  ['exactly one part (8 MiB)', PART],
  ['one part plus one byte', PART + 1],
  ['several parts (40 MiB + 12345 B)', 5 * PART + 12_345],
] as const) {
  test(`an uploaded object of ${label} downloads byte-identical through the save picker`, async () => {
    const input = await uploaded(sizeBytes);
    const params = downloadParams(input.key, { rangesInFlight: 4, workers: 2 });
    const watch = watchGets(page, input.key);
    const outcome = await page.evaluate((p) => window.download.download(p), params);
    watch.stop();
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      result: { kind: 'esdk-framed', label: 'decrypted', writtenBytes: sizeBytes },
    });
    if (!outcome.ok) return;
    expect(outcome.progress).toMatchObject({
      state: 'done',
      writtenBytes: sizeBytes,
      etaSeconds: 0,
    });
    const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
    expect(saved).toEqual({
      exists: true,
      sizeBytes,
      sha256: sha256(patternBytes(sizeBytes, input.seed)),
    });
    if (sizeBytes > 2 * PART) {
      expect(watch.maxInFlight).toBeGreaterThanOrEqual(2);
      expect(watch.maxInFlight).toBeLessThanOrEqual(4 + 1);
      expect(outcome.progress.rateBytesPerSecond).toBeGreaterThan(0);
    }
  });
}

test('Model C (KMS) and Model B (HSM proxy) uploads download with their keyrings', async () => {
  const kmsInput = await uploaded(PART + 7, { kmsKeyId: 'alias/veil-demo' });
  const hsm = { proxyUrl: env('VEIL_HSM_URL'), idToken: env('VEIL_DEMO_ID_TOKEN') };
  const hsmInput = await uploaded(3 * MiB + 1, {
    hsm: { ...hsm, keyLabel: env('VEIL_HSM_KEY_LABEL') },
  });
  for (const [input, keys] of [
    [kmsInput, { kms: true }],
    [hsmInput, { hsm }],
  ] as const) {
    // A multi-keyring: the raw AES child cannot open it, the other one does.
    const params = downloadParams(input.key, keys);
    const outcome = await page.evaluate((p) => window.download.download(p), params);
    expect(outcome).toMatchObject({ ok: true, result: { kind: 'esdk-framed' } });
    const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
    expect(saved.sha256).toBe(sha256(patternBytes(input.sizeBytes, input.seed)));
  }
});

for (const [suite, suiteId, kind] of [
  [
    '0x0478',
    AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
    'esdk-framed',
  ],
  [
    '0x0578',
    AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    'esdk-stream',
  ],
] as const) {
  test(`an object written by client-node with suite ${suite} downloads and decrypts`, async () => {
    for (const [sizeBytes, frameLength] of [
      [3 * MiB + 5, 64 * 1024],
      [2 * MiB, 4096], // an exact multiple: client-node ends with an empty final frame
    ] as const) {
      const plain = patternBytes(sizeBytes, seed++);
      const { result } = await peer.encrypt(peerKeyring(), Buffer.from(plain), {
        suiteId,
        frameLength,
      });
      const key = `downloads/${slug()}-${sizeBytes}`;
      await putObject(key, new Uint8Array(result));
      const params = downloadParams(key);
      const outcome = await page.evaluate((p) => window.download.download(p), params);
      expect(outcome).toMatchObject({ ok: true, result: { kind, writtenBytes: sizeBytes } });
      const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
      expect(saved.sha256).toBe(sha256(plain));
    }
  });
}

test('a plain (non-ESDK) object downloads as it is, labelled plain', async () => {
  const input = await uploaded(PART + 3, { protection: 'none' });
  const params = downloadParams(input.key, { raw: undefined });
  const outcome = await page.evaluate((p) => window.download.download(p), params);
  expect(outcome).toMatchObject({ ok: true, result: { kind: 'plain', label: 'plain' } });
  const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
  expect(saved.sha256).toBe(sha256(patternBytes(PART + 3, input.seed)));
});

test('without the save picker a small object is saved through a Blob download', async () => {
  const input = await uploaded(PART + 11);
  const params = downloadParams(input.key);
  const [saved, outcome] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate((p) => window.download.download(p, true), params),
  ]);
  expect(outcome).toMatchObject({ ok: true, result: { writtenBytes: PART + 11 } });
  expect(saved.suggestedFilename()).toBe(params.fileName);
  const bytes = await readFile(await saved.path());
  expect(sha256(bytes)).toBe(sha256(patternBytes(PART + 11, input.seed)));
});

test('a flipped ciphertext byte in S3 fails with FRAME_TAMPERED and leaves no output', async () => {
  const input = await uploaded(2 * PART + 9);
  const object = await getObject(input.key);
  const middle = Math.floor(object.length / 2);
  object[middle] = (object[middle] ?? 0) ^ 0x10;
  await putObject(input.key, object);
  await expectFailure(downloadParams(input.key), 'FRAME_TAMPERED');
});

test('an object without its final frame fails with TRUNCATED and leaves no output', async () => {
  const input = await uploaded(PART + 100);
  const object = await getObject(input.key);
  const header = parseHeaderBytes(object);
  // The final frame holds the last 100 bytes: 100 + 40 bytes of frame.
  expect((object.length - header.headerBytes - 140) % (512 * 1024 + 32)).toBe(0);
  await putObject(input.key, object.subarray(0, object.length - 140));
  await expectFailure(downloadParams(input.key), 'TRUNCATED');
});

test('two frames swapped in S3 fail with OUT_OF_ORDER and leave no output', async () => {
  const input = await uploaded(PART + 5);
  const object = await getObject(input.key);
  const header = parseHeaderBytes(object);
  const frameSize = 512 * 1024 + 32;
  const at = (seq: number): number => header.headerBytes + (seq - 1) * frameSize;
  const swapped = object.slice();
  swapped.set(object.subarray(at(5), at(6)), at(4));
  swapped.set(object.subarray(at(4), at(5)), at(5));
  await putObject(input.key, swapped);
  await expectFailure(downloadParams(input.key), 'OUT_OF_ORDER');
});

test('cancel through the AbortSignal stops the download and leaves no output', async () => {
  const input = await uploaded(4 * PART);
  const params = downloadParams(input.key, { rangesInFlight: 1 });
  const outcome = await page.evaluate(([p, bytes]) => window.download.download(p, false, bytes), [
    params,
    1,
  ] as const);
  expect(outcome).toMatchObject({ ok: false, code: 'DOWNLOAD_CANCELLED' });
  const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
  expect(saved.sizeBytes).toBe(0);
});

test('the wrong key fails with WRONG_KEY and leaves no output', async () => {
  const input = await uploaded(MiB);
  await expectFailure(
    downloadParams(input.key, { raw: { keyBase64: OTHER_KEY_BASE64 } }),
    'WRONG_KEY',
  );
});

test('an object replaced during the download fails with DOWNLOAD_OBJECT_CHANGED', async () => {
  const input = await uploaded(3 * PART);
  let gets = 0;
  await page.route(
    (url) => url.pathname.endsWith(input.key),
    async (route) => {
      if (route.request().method() === 'GET' && ++gets === 4) {
        // Overwrite the object between the header and the body's ranged GETs.
        await putObject(input.key, patternBytes(3 * PART, 1));
      }
      await route.continue();
    },
  );
  try {
    await expectFailure(
      downloadParams(input.key, { rangesInFlight: 1, rangeBytes: 4 * MiB }),
      'DOWNLOAD_OBJECT_CHANGED',
    );
  } finally {
    await page.unrouteAll({ behavior: 'wait' });
  }
  expect(gets).toBeGreaterThanOrEqual(4);
});

test('transient failures of ranged GETs are retried to a byte-identical file', async () => {
  const input = await uploaded(2 * PART);
  let failed = 0;
  await page.route(
    (url) => url.pathname.endsWith(input.key),
    async (route) => {
      const range = route.request().headers()['range'] ?? '';
      if (route.request().method() === 'GET' && !range.startsWith('bytes=0-') && failed < 2) {
        failed += 1;
        return route.abort('failed');
      }
      return route.continue();
    },
  );
  try {
    const params = downloadParams(input.key, { maxAttempts: 4 });
    const outcome = await page.evaluate((p) => window.download.download(p), params);
    expect(outcome.ok).toBe(true);
    const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
    expect(saved.sha256).toBe(sha256(patternBytes(2 * PART, input.seed)));
  } finally {
    await page.unrouteAll({ behavior: 'wait' });
  }
  expect(failed).toBe(2);
});

test('a plaintext range fetch returns exactly those bytes and reads only its frames', async () => {
  const sizeBytes = 4 * PART + 777;
  const input = await uploaded(sizeBytes);
  const plain = patternBytes(sizeBytes, input.seed);
  for (const [start, end] of [
    [0, 10],
    [PART - 5, PART + 5],
    [3 * PART + 123, 4 * PART + 777],
  ] as const) {
    const watch = watchGets(page, input.key);
    const reply = await page.evaluate(([p, s, e]) => window.download.range(p, s, e), [
      downloadParams(input.key),
      start,
      end,
    ] as const);
    watch.stop();
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(Buffer.compare(Buffer.from(reply.base64, 'base64'), plain.subarray(start, end))).toBe(0);
    // Header, final-frame check and a couple of frame batches: far fewer GETs than the 33 MiB.
    expect(watch.started).toBeLessThanOrEqual(5);
  }
});

test('a download into a file handle continues after a network failure, byte-identical', async () => {
  const sizeBytes = 3 * PART + 21;
  const input = await uploaded(sizeBytes);
  const params = downloadParams(input.key, {
    rangesInFlight: 1,
    rangeBytes: 4 * MiB,
    maxAttempts: 2,
  });
  // The network drops for the body from its third ranged GET on (the header, the final-frame
  // check and two body ranges get through).
  let bodyGets = 0;
  await page.route(
    (url) => url.pathname.endsWith(input.key),
    async (route) => {
      const range = route.request().headers()['range'] ?? '';
      if (route.request().method() === 'GET' && !range.startsWith('bytes=0-')) {
        bodyGets += 1;
        if (bodyGets > 3) return route.abort('internetdisconnected');
      }
      return route.continue();
    },
  );
  const first = await page.evaluate((p) => window.download.downloadResumable(p), params);
  await page.unrouteAll({ behavior: 'wait' });
  expect(first.outcome).toMatchObject({ ok: false, code: 'S3_UNREACHABLE' });
  expect(first.kept).toBe(true);
  expect(first.writtenBytes).toBeGreaterThan(0);
  expect(first.writtenBytes).toBeLessThan(sizeBytes);
  const kept = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
  expect(kept.sizeBytes).toBe(first.writtenBytes);
  expect(kept.sha256).toBe(sha256(patternBytes(sizeBytes, input.seed).subarray(0, kept.sizeBytes)));

  const watch = watchGets(page, input.key);
  const resumed = await page.evaluate(([p, from]) => window.download.downloadResumable(p, from), [
    params,
    { writtenBytes: first.writtenBytes, etag: first.etag ?? '' },
  ] as const);
  watch.stop();
  expect(resumed.outcome).toMatchObject({
    ok: true,
    result: { writtenBytes: sizeBytes, resumedFromBytes: first.writtenBytes },
  });
  const saved = await page.evaluate((name) => window.download.savedFile(name), params.fileName);
  expect(saved).toEqual({
    exists: true,
    sizeBytes,
    sha256: sha256(patternBytes(sizeBytes, input.seed)),
  });
  // Header, final-frame check and only the ranges after the resume point (24 MiB in 4 MiB GETs
  // in all; at least 8 MiB of them were not fetched again).
  expect(watch.started).toBeLessThanOrEqual(2 + 5);
});
