/**
 * The tamper matrix in Chromium, through the download engine against moto: the upload engine
 * writes a real object (Model A, the app's 512 KiB frames), the spec moves a copy to a new key
 * as Veil would (its header bound to that key: [Note: location binding]), tampers with it in
 * Node and puts it there with the same metadata (as someone with write access to the bucket
 * could), and the page downloads it into an origin-private file through the save
 * picker stub of download.spec.ts. One case per category of the representative matrix, plus
 * re-labelled contexts and wrong keys: each must fail with a code its [Note: expected codes of
 * the tamper matrix] allows and leave the saved file empty. Prints the figures.
 */
import {
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  GetObjectCommand,
} from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { provisionBucket } from '../../scripts/stack/provision';
import { concatBytes, parseHeaderBytes, rewrapHeader } from '../../src/core';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { buildAndServe, type ServedHarness } from './harness/serve';
import type * as DownloadHarness from './harness/download-entry';
import type { DownloadParams } from './harness/download-entry';
import {
  Tally,
  contextCases,
  dissect,
  representativeCases,
  type TamperCase,
} from '../proof/tamper-matrix';

declare global {
  interface Window {
    download: typeof DownloadHarness;
  }
}

const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 13 + 7) & 0xff);
const KEY_BASE64 = Buffer.from(KEY_BYTES).toString('base64');
const OTHER_KEY_BASE64 = Buffer.from(KEY_BYTES.map((byte) => byte ^ 0x3c)).toString('base64');
const SIZE_BYTES = 3 * 512 * 1024 + 1000;
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

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

function params(key: string, extra: Partial<DownloadParams> = {}): DownloadParams {
  return {
    motoUrl: env('VEIL_MOTO_URL'),
    bucket,
    key,
    fileName: `${key.replace(/\W+/g, '-')}.bin`,
    raw: { keyBase64: KEY_BASE64 },
    ...extra,
  };
}

test.describe.configure({ timeout: 180_000 });

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
  bucket = `veil-tamper-${Date.now().toString(36)}`;
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

test('every category of tampering fails in the browser with its code and saves nothing', async () => {
  const original = 'tamper/original';
  const uploaded = await page.evaluate((p) => window.download.uploadOnce(p), {
    motoUrl: env('VEIL_MOTO_URL'),
    bucket,
    key: original,
    keyBase64: KEY_BASE64,
    sizeBytes: SIZE_BYTES,
    seed: 41,
  });
  expect(uploaded.ok).toBe(true);
  const good = await page.evaluate((p) => window.download.download(p), params(original));
  expect(good).toMatchObject({
    ok: true,
    result: { kind: 'esdk-framed', writtenBytes: SIZE_BYTES },
  });

  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: original }));
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: original }));
  const originalBytes = new Uint8Array(await reply.Body!.transformToByteArray());
  const message = dissect(originalBytes);
  expect(message.frames).toHaveLength(4);

  const casesOf = (bytes: Uint8Array): TamperCase[] =>
    [...representativeCases(dissect(bytes)), ...contextCases(dissect(bytes))]
      // An object cut to 0 bytes is left out: on moto the engine cannot read the ETag of an
      // empty object (no ranged GET follows the HEAD) and stops with DOWNLOAD_CORS_HEADERS,
      // which says nothing about real S3; the core and command-line proofs cover that cut.
      .filter((tamper) => tamper.bytes.length > 0);
  const all = casesOf(originalBytes);
  const chosen = new Map<string, number[]>();
  all.forEach((tamper, index) => {
    const list = chosen.get(tamper.category) ?? [];
    // Two per category (the first and the last the matrix lists): spread, yet quick.
    chosen.set(tamper.category, list.length < 2 ? [...list, index] : [list[0] as number, index]);
  });
  // The original moved to `key` as Veil moves objects: same body, header bound to `key`.
  const openWith = await RawAesKeyring.fromBytes({
    keyBytes: KEY_BYTES.slice(),
    keyName: 'upload-test',
    keyNamespace: 'veil',
  });
  const movedTo = async (key: string): Promise<Uint8Array> => {
    const header = parseHeaderBytes(originalBytes.subarray(0, 64 * 1024));
    const moved = await rewrapHeader(header, {
      openWith,
      location: { from: { bucket, key: original }, to: { bucket, key }, rule: 'required' },
    });
    return concatBytes(moved.headerBytes, originalBytes.subarray(header.headerBytes));
  };
  const tally = new Tally();
  const misses: string[] = [];
  const check = async (
    category: string,
    name: string,
    download: DownloadParams,
    expected: readonly string[],
  ): Promise<void> => {
    const outcome = await page.evaluate((p) => window.download.download(p), download);
    const saved = await page.evaluate((file) => window.download.savedFile(file), download.fileName);
    const code = outcome.ok ? undefined : outcome.code;
    if (!tally.add(category, code, expected) || saved.sizeBytes !== 0) {
      misses.push(
        `${category} ${name}: ${code ?? 'accepted'} (expected ${expected.join('|')}), saved ${saved.sizeBytes} B`,
      );
    }
  };
  for (const [index, position] of [...chosen.values()].flat().entries()) {
    const key = `tamper/case-${index}`;
    const tamper = casesOf(await movedTo(key))[position];
    expect(tamper?.name).toBe(all[position]?.name);
    if (!tamper) continue;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: tamper.bytes,
        Metadata: head.Metadata,
      }),
    );
    await check(tamper.category, tamper.name, params(key), tamper.expected);
  }
  // Untampered but under another key than its own: moved by storage, not by Veil.
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: 'tamper/moved',
      Body: originalBytes,
      Metadata: head.Metadata,
    }),
  );
  await check('moved by storage', 'the original under another key', params('tamper/moved'), [
    'OBJECT_MISMATCH',
  ]);
  await check(
    'wrong key',
    'same key name, other key',
    params(original, { raw: { keyBase64: OTHER_KEY_BASE64 }, fileName: 'wrong-key.bin' }),
    ['WRONG_KEY'],
  );
  await check(
    'wrong key',
    'other key name',
    params(original, {
      raw: { keyBase64: KEY_BASE64, keyName: 'someone-else' },
      fileName: 'wrong-name.bin',
    }),
    ['NO_MATCHING_EDK'],
  );
  console.log(
    `[proof] tamper matrix, browser (download engine, Chromium, moto)\n${tally.format('download')}`,
  );
  expect(misses).toEqual([]);
  expect(tally.tried).toBeGreaterThanOrEqual(45);
});
