/**
 * The upload engine in headless Chromium against moto (started by the global setup): real module
 * workers encrypt frames, parts go straight to S3 with UploadPart, small files with PutObject.
 * Every object is fetched back in Node and decrypted with the core (decryptBytes) and with the
 * live peer @aws-crypto/client-node, then compared with the pattern the page uploaded.
 *
 * The harness page is served from its own origin, so the specs create their own bucket whose CORS
 * rule names that origin and exposes ETag and the checksum headers (provisionBucket). The global
 * setup's bucket exposes them to the app's origin only, which is how the CORS check is tested.
 * moto does not verify the part checksums sent with Complete (measured), so no test claims it.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketCorsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMS, KMSClient } from '@aws-sdk/client-kms';
import {
  CommitmentPolicy,
  KmsKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import { expect, test } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page, Request } from '@playwright/test';
import { provisionBucket } from '../../scripts/stack/provision';
import { serializeKeyFile } from '../../src/core/key-file';
import { decryptBytes } from '../../src/core/one-shot';
import { encryptFrame } from '../../src/core/frame';
import { openMessageHeader, parseHeaderBytes } from '../../src/core/message';
import { frameCount } from '../../src/core/sizes';
import { kmsApiFor } from '../../src/aws/clients';
import { KmsKeyring } from '../../src/keyrings/kms';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { buildAndServe, type ServedHarness } from './harness/serve';
import type * as UploadHarness from './harness/upload-entry';
import { patternBytes, type UploadParams } from './harness/upload-entry';

declare global {
  interface Window {
    upload: typeof UploadHarness;
  }
}

const MiB = 1024 * 1024;
const PART = 8 * MiB;
const KEY_BYTES = Uint8Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 0xff);
const KEY_BASE64 = Buffer.from(KEY_BYTES).toString('base64');
const execFileAsync = promisify(execFile);
const LOCAL = { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' };
const peer = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

let served: ServedHarness;
let page: Page;
let s3: S3Client;
let bucket: string;
let seed = 1;

function motoUrl(): string {
  const url = process.env.VEIL_MOTO_URL;
  if (!url) throw new Error('VEIL_MOTO_URL is not set: run through playwright.config.ts');
  return url;
}

function params(overrides: Partial<UploadParams> & { sizeBytes: number }): UploadParams {
  return {
    motoUrl: motoUrl(),
    bucket,
    key: `uploads/${test.info().title.replace(/[^\w]+/g, '-')}-${seed}`,
    keyBase64: KEY_BASE64,
    seed: seed++,
    ...overrides,
  };
}

async function getObject(key: string, from = bucket): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: from, Key: key }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

/** Decrypts with the core and with client-node; both must give `expected`. */
async function expectDecrypts(ciphertext: Uint8Array, expected: Uint8Array): Promise<void> {
  const ring = await RawAesKeyring.fromBytes({
    keyBytes: KEY_BYTES.slice(),
    keyName: 'upload-test',
    keyNamespace: 'veil',
  });
  const ours = await decryptBytes(ciphertext, { keyring: ring });
  expect(Buffer.compare(ours, expected)).toBe(0);
  const peerRing = new RawAesKeyringNode({
    keyName: 'upload-test',
    keyNamespace: 'veil',
    unencryptedMasterKey: KEY_BYTES.slice(),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  });
  const { plaintext } = await peer.decrypt(peerRing, Buffer.from(ciphertext));
  expect(Buffer.compare(plaintext, expected)).toBe(0);
}

/** Runs `npx veil decrypt ARGS object` (bin/veil.mjs) and returns the plaintext it wrote. */
async function veilDecrypt(
  ciphertext: Uint8Array,
  args: string[],
  env: Record<string, string> = {},
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'veil-upload-cli-'));
  try {
    await writeFile(join(dir, 'object.veil'), ciphertext);
    await execFileAsync(
      process.execPath,
      ['bin/veil.mjs', 'decrypt', ...args, join(dir, 'object.veil'), join(dir, 'plain.bin')],
      { env: { ...process.env, ...env } },
    );
    return await readFile(join(dir, 'plain.bin'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function openUploads(key: string, from = bucket): Promise<number> {
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: from, Prefix: key }));
  return listed.Uploads?.length ?? 0;
}

/** Counts UploadPart requests and the most that were in flight at once. */
function watchParts(target: Page): { started: number; maxInFlight: number; stop(): void } {
  const watch = { started: 0, maxInFlight: 0, inFlight: 0, stop: () => undefined as void };
  const isPart = (request: Request): boolean =>
    request.method() === 'PUT' && /[?&]partNumber=\d+/.test(request.url());
  const onRequest = (request: Request): void => {
    if (!isPart(request)) return;
    watch.started += 1;
    watch.inFlight += 1;
    watch.maxInFlight = Math.max(watch.maxInFlight, watch.inFlight);
  };
  const onDone = (request: Request): void => {
    if (isPart(request)) watch.inFlight -= 1;
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
  served = await buildAndServe(new URL('./harness/upload-entry.ts', import.meta.url));
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: motoUrl(),
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  bucket = `veil-upload-${Date.now().toString(36)}`;
  await provisionBucket(s3, {
    bucket,
    origins: [new URL(served.url).origin],
  });
  page = await browser.newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.upload = (window as unknown as { harness: typeof UploadHarness }).harness;
  });
});

test.afterAll(async () => {
  await page?.close();
  await served?.close();
  s3?.destroy();
});

test('starts a pool of module workers that answer', async () => {
  expect(await page.evaluate(() => window.upload.poolSize(2))).toBe(2);
});

for (const [label, sizeBytes, method, partCount] of [
  ['0 B', 0, 'put', 1],
  ['1 B', 1, 'put', 1],
  ['exactly one part (8 MiB)', PART, 'put', 1],
  ['one part plus one byte', PART + 1, 'multipart', 2],
  ['several parts (40 MiB + 12345 B)', 5 * PART + 12_345, 'multipart', 6],
] as const) {
  test(`uploads ${label} and the object decrypts with the core and client-node`, async () => {
    const input = params({ sizeBytes });
    const watch = watchParts(page);
    const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
    watch.stop();
    expect(outcome).toMatchObject({ ok: true, result: { method, partCount } });
    if (!outcome.ok) return;
    expect(outcome.progress).toMatchObject({
      state: 'done',
      plaintextBytes: sizeBytes,
      encryptedBytes: sizeBytes,
      uploadedBytes: outcome.result.objectBytes,
      partsDone: partCount,
    });
    expect(watch.started).toBe(method === 'put' ? 0 : partCount);
    const ciphertext = await getObject(input.key);
    expect(ciphertext.length).toBe(outcome.result.objectBytes);
    expect(parseHeaderBytes(ciphertext).frameBytes).toBe(512 * 1024);
    await expectDecrypts(ciphertext, patternBytes(sizeBytes, input.seed));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: input.key }));
    expect(head.ContentType).toBe('application/octet-stream');
    expect(head.Metadata).toEqual({ 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A' });
    expect(await openUploads(input.key)).toBe(0);
    if (method === 'multipart') {
      expect(outcome.progress.rateBytesPerSecond).toBeGreaterThan(0);
      expect(outcome.progress.etaSeconds).toBe(0);
      expect(outcome.progressEvents).toBeGreaterThanOrEqual(2 * partCount);
    }
  });
}

test('Model C: an upload under a KMS key at moto decrypts with the core, client-node and npx veil', async () => {
  const sizeBytes = 2 * PART + 5;
  const input = params({ sizeBytes, kmsKeyId: 'alias/veil-demo' });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  expect(outcome).toMatchObject({ ok: true, result: { method: 'multipart', partCount: 3 } });
  const ciphertext = await getObject(input.key);
  const header = parseHeaderBytes(ciphertext);
  // The key, then the binding to the object's bucket and key ([Note: location binding]).
  expect(header.encryptedDataKeys.map((edk) => edk.providerId)).toEqual([
    'aws-kms',
    'veil-location',
  ]);
  const kms = new KMSClient({ region: 'us-east-1', endpoint: motoUrl(), credentials: LOCAL });
  try {
    const ours = await decryptBytes(ciphertext, {
      keyring: new KmsKeyring({ clients: () => kmsApiFor(kms, 'us-east-1'), discovery: true }),
    });
    expect(Buffer.compare(ours, patternBytes(sizeBytes, input.seed))).toBe(0);
  } finally {
    kms.destroy();
  }
  const peerRing = new KmsKeyringNode({
    discovery: true,
    clientProvider: () => new KMS({ region: 'us-east-1', endpoint: motoUrl(), credentials: LOCAL }),
  });
  const { plaintext } = await peer.decrypt(peerRing, Buffer.from(ciphertext));
  expect(Buffer.compare(plaintext, patternBytes(sizeBytes, input.seed))).toBe(0);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: input.key }));
  expect(head.Metadata?.['veil-model']).toBe('C');
  const viaCli = await veilDecrypt(
    ciphertext,
    ['--kms-key', 'alias/veil-demo', '--region', 'us-east-1', '--endpoint-url', motoUrl()],
    {
      AWS_ACCESS_KEY_ID: LOCAL.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  );
  expect(Buffer.compare(viaCli, patternBytes(sizeBytes, input.seed))).toBe(0);
});

test('an uploaded object decrypts with `npx veil decrypt` and the key file', async () => {
  const sizeBytes = PART + 1;
  const input = params({ sizeBytes });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  expect(outcome.ok).toBe(true);
  const keyFile = join(tmpdir(), `veil-upload-key-${process.pid}.jwk`);
  await writeFile(
    keyFile,
    serializeKeyFile({ keyBytes: KEY_BYTES.slice(), keyName: 'upload-test', keyNamespace: 'veil' }),
  );
  try {
    const plain = await veilDecrypt(await getObject(input.key), ['--key-file', keyFile]);
    expect(Buffer.compare(plain, patternBytes(sizeBytes, input.seed))).toBe(0);
  } finally {
    await rm(keyFile, { force: true });
  }
});

test('SSE-S3 at rest is requested on top of client-side encryption', async () => {
  const input = params({ sizeBytes: PART + 1, atRest: { type: 'SSE-S3' } });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  expect(outcome.ok).toBe(true);
  // moto records the setting; it does not encrypt anything, and this test claims no more.
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: input.key }));
  expect(head.ServerSideEncryption).toBe('AES256');
  await expectDecrypts(await getObject(input.key), patternBytes(PART + 1, input.seed));
});

test('SSE-KMS at rest with a key id is requested on a single PutObject too', async () => {
  const input = params({
    sizeBytes: 1000,
    atRest: { type: 'SSE-KMS', kmsKeyId: 'alias/veil-demo' },
  });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  expect(outcome).toMatchObject({ ok: true, result: { method: 'put' } });
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: input.key }));
  expect(head.ServerSideEncryption).toBe('aws:kms');
  expect(head.SSEKMSKeyId).toContain('veil-demo');
  await expectDecrypts(await getObject(input.key), patternBytes(1000, input.seed));
});

test('parts really upload in parallel', async () => {
  const input = params({ sizeBytes: 6 * PART, partsInFlight: 4, workers: 2 });
  const watch = watchParts(page);
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  watch.stop();
  expect(outcome.ok).toBe(true);
  expect(watch.started).toBe(6);
  expect(watch.maxInFlight).toBeGreaterThanOrEqual(2);
  await expectDecrypts(await getObject(input.key), patternBytes(6 * PART, input.seed));
});

test('the plain mode uploads the file as it is through the same engine', async () => {
  const input = params({ sizeBytes: 2 * PART + 7, protection: 'none' });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  expect(outcome).toMatchObject({ ok: true, result: { method: 'multipart', partCount: 3 } });
  const stored = await getObject(input.key);
  expect(Buffer.compare(stored, patternBytes(2 * PART + 7, input.seed))).toBe(0);
});

test('cancel aborts the multipart upload: no upload and no object remain', async () => {
  const input = params({ sizeBytes: 6 * PART, partsInFlight: 2 });
  const id = await page.evaluate((p) => window.upload.begin(p), input);
  await page.waitForFunction((uploadId) => window.upload.progress(uploadId).partsDone >= 1, id);
  expect(await openUploads(input.key)).toBe(1);
  await page.evaluate((uploadId) => window.upload.cancel(uploadId), id);
  const outcome = await page.evaluate((uploadId) => window.upload.wait(uploadId), id);
  expect(outcome).toMatchObject({ ok: false, code: 'UPLOAD_CANCELLED' });
  expect(await openUploads(input.key)).toBe(0);
  await expect(
    s3.send(new HeadObjectCommand({ Bucket: bucket, Key: input.key })),
  ).rejects.toMatchObject({ name: 'NotFound' });
  expect(await page.evaluate(() => window.upload.storedRecords())).toEqual([]);
});

test('pause stops sending parts and resume finishes a correct object', async () => {
  const input = params({ sizeBytes: 6 * PART, partsInFlight: 2 });
  const watch = watchParts(page);
  const id = await page.evaluate((p) => window.upload.begin(p), input);
  await page.waitForFunction((uploadId) => window.upload.progress(uploadId).partsDone >= 1, id);
  await page.evaluate((uploadId) => window.upload.pause(uploadId), id);
  const startedAtPause = watch.started;
  const doneAtPause = await page.evaluate((uploadId) => window.upload.progress(uploadId), id);
  expect(doneAtPause.state).toBe('paused');
  await page.waitForTimeout(1_500);
  expect(watch.started).toBe(startedAtPause);
  await page.evaluate((uploadId) => window.upload.resume(uploadId), id);
  const outcome = await page.evaluate((uploadId) => window.upload.wait(uploadId), id);
  watch.stop();
  expect(outcome).toMatchObject({ ok: true, result: { partCount: 6 } });
  await expectDecrypts(await getObject(input.key), patternBytes(6 * PART, input.seed));
});

test('injected failures on some UploadPart requests are retried to a correct object', async () => {
  const input = params({ sizeBytes: 4 * PART + 3, maxAttempts: 4 });
  const attempts = new Map<number, number>();
  await page.route(
    (url) => url.pathname.endsWith(input.key) && url.searchParams.has('partNumber'),
    async (route) => {
      if (route.request().method() !== 'PUT') return route.continue();
      const partNumber = Number(new URL(route.request().url()).searchParams.get('partNumber'));
      const attempt = (attempts.get(partNumber) ?? 0) + 1;
      attempts.set(partNumber, attempt);
      if (partNumber === 2 && attempt <= 2) return route.abort('failed');
      if (partNumber === 4 && attempt === 1) {
        return route.fulfill({
          status: 503,
          headers: {
            'access-control-allow-origin': new URL(served.url).origin,
            'content-type': 'application/xml',
          },
          body: '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>slow down</Message></Error>',
        });
      }
      return route.continue();
    },
  );
  try {
    const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
    expect(outcome).toMatchObject({ ok: true, result: { partCount: 5 } });
  } finally {
    await page.unrouteAll({ behavior: 'wait' });
  }
  expect(attempts.get(2)).toBe(3);
  expect(attempts.get(4)).toBe(2);
  expect(attempts.get(1)).toBe(1);
  await expectDecrypts(await getObject(input.key), patternBytes(4 * PART + 3, input.seed));
});

test('a part that keeps failing fails the upload and aborts the multipart upload', async () => {
  const input = params({ sizeBytes: 2 * PART + 1, maxAttempts: 2 });
  await page.route(
    (url) => url.pathname.endsWith(input.key) && url.searchParams.get('partNumber') === '2',
    (route) => route.abort('failed'),
  );
  try {
    const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
    // Network errors on every attempt: the engine cannot tell a dead network from CORS.
    expect(outcome).toMatchObject({ ok: false, code: 'S3_UNREACHABLE' });
  } finally {
    await page.unrouteAll({ behavior: 'wait' });
  }
  expect(await openUploads(input.key)).toBe(0);
});

test('an upload kept after a failure resumes: only missing parts are sent, the file is checked', async () => {
  const sizeBytes = 3 * PART + 99;
  const input = params({ sizeBytes, maxAttempts: 1, keepOnFailure: true, partsInFlight: 1 });
  await page.route(
    (url) => url.pathname.endsWith(input.key) && url.searchParams.get('partNumber') === '3',
    (route) => route.abort('failed'),
  );
  let uploadId: string | undefined;
  try {
    const id = await page.evaluate((p) => window.upload.begin(p), input);
    const outcome = await page.evaluate((u) => window.upload.wait(u), id);
    expect(outcome).toMatchObject({ ok: false, code: 'S3_UNREACHABLE' });
    uploadId = await page.evaluate((u) => window.upload.uploadIdOf(u), id);
  } finally {
    await page.unrouteAll({ behavior: 'wait' });
  }
  expect(uploadId).toBeDefined();
  expect(await openUploads(input.key)).toBe(1);
  const records = await page.evaluate(() => window.upload.storedRecords());
  expect(records.find((record) => record.uploadId === uploadId)?.parts).toEqual([1, 2]);

  // A different file (same name, size and date, other bytes) is refused.
  const other = await page.evaluate(
    ([u, p]) => window.upload.resumeStored(u, p).then((id) => window.upload.wait(id)),
    [uploadId!, { ...input, seed: input.seed + 1000 }] as const,
  );
  expect(other).toMatchObject({ ok: false, code: 'RESUME_FILE_MISMATCH' });

  const watch = watchParts(page);
  const resumed = await page.evaluate(
    ([u, p]) => window.upload.resumeStored(u, p).then((id) => window.upload.wait(id)),
    [uploadId!, input] as const,
  );
  watch.stop();
  expect(resumed).toMatchObject({ ok: true, result: { method: 'multipart', partCount: 4 } });
  expect(watch.started).toBe(2);
  await expectDecrypts(await getObject(input.key), patternBytes(sizeBytes, input.seed));
  expect(await openUploads(input.key)).toBe(0);
});

/** Creates a bucket whose one CORS rule allows the harness origin and exposes `expose`. */
async function bucketExposing(name: string, expose: string[]): Promise<string> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(
    new PutBucketCorsCommand({
      Bucket: name,
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [new URL(served.url).origin],
            AllowedMethods: ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'],
            AllowedHeaders: ['*'],
            ...(expose.length > 0 ? { ExposeHeaders: expose } : {}),
          },
        ],
      },
    }),
  );
  return name;
}

test('a reload in the middle, then the same file again, finishes a byte-identical object', async () => {
  const sizeBytes = 5 * PART + 777;
  const input = params({ sizeBytes, partsInFlight: 1 });
  // Slow the parts down so the reload lands mid-upload.
  await page.route(
    (url) => url.pathname.endsWith(input.key) && url.searchParams.has('partNumber'),
    async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await route.continue().catch(() => undefined);
    },
  );
  const id = await page.evaluate((p) => window.upload.begin(p), input);
  await page.waitForFunction((u) => window.upload.progress(u).partsDone >= 2, id);
  const uploadId = await page.evaluate((u) => window.upload.uploadIdOf(u), id);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.reload();
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.upload = (window as unknown as { harness: typeof UploadHarness }).harness;
  });
  const stored = await page.evaluate(() => window.upload.storedRecords());
  const record = stored.find((entry) => entry.uploadId === uploadId);
  expect(record?.parts.slice(0, 2)).toEqual([1, 2]);
  expect(record?.parts.length).toBeLessThan(6);

  const watch = watchParts(page);
  const outcome = await page.evaluate(
    ([u, p]) => window.upload.resumeStored(u, p).then((rid) => window.upload.wait(rid)),
    [uploadId!, input] as const,
  );
  watch.stop();
  expect(outcome).toMatchObject({ ok: true, result: { method: 'multipart', partCount: 6 } });
  expect(watch.started).toBe(6 - (record?.parts.length ?? 0));
  expect(await page.evaluate(() => window.upload.storedRecords())).toEqual([]);

  // Byte-identical to an uninterrupted upload with the same header: re-encrypt every frame in Node.
  const object = await getObject(input.key);
  const header = parseHeaderBytes(object);
  const ring = await RawAesKeyring.fromBytes({
    keyBytes: KEY_BYTES.slice(),
    keyName: 'upload-test',
    keyNamespace: 'veil',
  });
  const contentKey = await openMessageHeader(header, { keyring: ring });
  const plaintext = patternBytes(sizeBytes, input.seed);
  const frames = frameCount(sizeBytes, header.frameBytes);
  const expected: Uint8Array[] = [object.subarray(0, header.headerBytes)];
  for (let seq = 1; seq <= frames; seq++) {
    expected.push(
      await encryptFrame({
        contentKey,
        messageId: header.messageId,
        seq,
        isFinal: seq === frames,
        plaintext: plaintext.subarray((seq - 1) * header.frameBytes, seq * header.frameBytes),
      }),
    );
  }
  expect(Buffer.compare(object, Buffer.concat(expected))).toBe(0);
  await expectDecrypts(object, plaintext);
});

test('a bucket whose CORS rule hides ETag stops at the first part with the rule to add', async () => {
  const hidden = await bucketExposing(`${bucket}-no-expose`, []);
  const watch = watchParts(page);
  const input = params({ sizeBytes: 3 * PART, bucket: hidden, partsInFlight: 1 });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  watch.stop();
  expect(outcome).toMatchObject({ ok: false, code: 'UPLOAD_CORS_HEADERS' });
  if (outcome.ok) return;
  expect(watch.started).toBe(1);
  expect(outcome.detail).toMatch(/^cannot read ETag, x-amz-checksum-crc32;/);
  expect(outcome.detail).toContain(`"AllowedOrigins":["${new URL(served.url).origin}"]`);
  expect(outcome.detail).toContain('"ExposeHeaders":["ETag","x-amz-checksum-crc32"');
  expect(await openUploads(input.key, hidden)).toBe(0);
});

test('a CORS rule that exposes ETag but not the checksum is caught too', async () => {
  const partial = await bucketExposing(`${bucket}-etag-only`, ['ETag']);
  const input = params({ sizeBytes: PART + 1, bucket: partial });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  expect(outcome).toMatchObject({ ok: false, code: 'UPLOAD_CORS_HEADERS' });
  if (outcome.ok) return;
  expect(outcome.detail).toMatch(/^cannot read x-amz-checksum-crc32;/);
  expect(await openUploads(input.key, partial)).toBe(0);
});

test('a bucket whose CORS rules do not allow this origin is reported with the rule', async () => {
  // The global setup's bucket allows the app's origin only; the browser refuses the responses.
  const other = process.env.VEIL_BUCKET;
  if (!other) throw new Error('VEIL_BUCKET is not set');
  const input = params({ sizeBytes: 1, bucket: other, maxAttempts: 2 });
  const outcome = await page.evaluate((p) => window.upload.uploadOnce(p), input);
  expect(outcome).toMatchObject({ ok: false, code: 'S3_UNREACHABLE' });
  if (outcome.ok) return;
  expect(outcome.detail).toContain(`"AllowedOrigins":["${new URL(served.url).origin}"]`);
});
