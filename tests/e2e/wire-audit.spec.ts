/**
 * Wire audit: nothing readable leaves the browser. Files of known random content are uploaded in
 * Chromium under Model A (raw AES), B (HSM proxy) and C (KMS at moto), then downloaded again in
 * the page (the keyring unwraps the data key a second time), while every request is recorded
 * twice:
 * - in the browser, by Playwright's request events on the context (page and dedicated workers;
 *   a control test has a worker send a request and checks it is seen), with URL, headers and body
 *   (a Blob body may be reported without its bytes: the proxies below see every byte);
 * - on the wire, by a recording proxy (scripts/stack/fault-proxy.ts, forwarding everything) in
 *   front of moto (S3 and KMS) and one in front of the HSM proxy: the page is configured with the
 *   proxies' URLs, so every byte sent to a configured service crosses them.
 * The secrets are the plaintext, the Model A wrapping key, the data key and the content key
 * derived from it. Data keys are known two ways that must agree: the page wraps its keyring in a
 * recorder that copies each data key the keyring returns to the engine, and Node unwraps the EDK
 * of the stored object independently (A: the known wrapping key; B: the HSM proxy, called
 * directly; C: KMS Decrypt at moto). The content key is HKDF-SHA-512 of the data key and the
 * message id (FORMAT.md section 4), computed in Node.
 *
 * Asserted for each model: no request (URL, headers, body; raw or as base64/hex, see
 * [Note: wire scan]) holds any 32-byte window of any secret, except Model B's data key in
 * requests to the HSM proxy, which the model allows; every request goes to the harness origin or
 * a configured service; the object decrypts to the plaintext and the download saves it exactly;
 * both recorders saw every UploadPart and every ranged GET. CORS preflights appear only at the
 * proxies (Playwright does not report them); responses are not scanned (a KMS or HSM answer
 * carries the data key back to the page by design).
 * Two controls show the audit can fail: an upload without encryption must be flagged, and with
 * Model A plus an HSM key as second wrapper the data key (sent base64 in the wrap request) must be
 * found in that one request to the HSM proxy, and nowhere else.
 */
import { GetObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { expect, test } from '@playwright/test';
import type { BrowserContext, Page, Request } from '@playwright/test';
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { startFaultProxy, isUploadPart, type FaultProxy } from '../../scripts/stack/fault-proxy';
import { demoIdToken } from '../../scripts/stack/stack';
import { parseHeaderBytes } from '../../src/core/message';
import { decryptBytes } from '../../src/core/one-shot';
import { LOCAL_CREDENTIALS as LOCAL, directKeyring, randomContent } from '../support/net-node';
import { SecretIndex, scanRequests, type WireRequest } from '../support/wire-scan';
import { buildAndServe, type ServedHarness } from './harness/serve';
import type * as NetHarness from './harness/network-entry';
import type { NetDownloadParams, NetUploadParams } from './harness/network-entry';

declare global {
  interface Window {
    net: typeof NetHarness;
  }
}

const MiB = 1024 * 1024;
const PART_BYTES = 5 * MiB;
const SIZE_BYTES = 2 * PART_BYTES + 4321;

let served: ServedHarness;
let context: BrowserContext;
let page: Page;
let s3: S3Client;
let s3Proxy: FaultProxy;
let hsmProxy: FaultProxy;
let idToken: string;
const seenInBrowser: Promise<WireRequest & { url: string }>[] = [];
const summary: string[] = [];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through playwright.config.ts`);
  return value;
}

async function recordBrowserRequest(request: Request): Promise<WireRequest & { url: string }> {
  const url = new URL(request.url());
  const headers = await request.allHeaders().catch(() => request.headers());
  return {
    url: request.url(),
    origin: url.origin,
    method: request.method(),
    target: url.pathname + url.search,
    headerText: Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\r\n'),
    body: request.postDataBuffer() ?? Buffer.alloc(0),
  };
}

function proxyRequests(proxy: FaultProxy): WireRequest[] {
  return proxy.records.map((record) => ({
    origin: proxy.url,
    method: record.method,
    target: record.target,
    headerText: record.rawHeaders,
    body: record.body,
  }));
}

async function browserRequests(): Promise<(WireRequest & { url: string })[]> {
  return Promise.all(seenInBrowser.splice(0));
}

function resetRecorders(): void {
  seenInBrowser.length = 0;
  s3Proxy.records.length = 0;
  hsmProxy.records.length = 0;
}

async function getObject(key: string): Promise<Uint8Array> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: env('VEIL_BUCKET'), Key: key }));
  return new Uint8Array(await reply.Body!.transformToByteArray());
}

test.describe.configure({ timeout: 120_000 });

test.beforeAll(async ({ browser }) => {
  served = await buildAndServe(new URL('./harness/network-entry.ts', import.meta.url), {
    port: Number(env('VEIL_HARNESS_PORT')),
  });
  s3Proxy = await startFaultProxy({ upstream: env('VEIL_MOTO_URL') });
  hsmProxy = await startFaultProxy({ upstream: env('VEIL_HSM_URL') });
  const config = (await (
    await fetch(`${new URL(env('VEIL_APP_URL')).origin}/config.json`)
  ).json()) as {
    cognito: { userPoolClientId: string };
  };
  idToken = await demoIdToken(env('VEIL_MOTO_URL'), 'us-east-1', config.cognito.userPoolClientId);
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: env('VEIL_MOTO_URL'),
    forcePathStyle: true,
    credentials: LOCAL,
  });
  context = await browser.newContext();
  context.on('request', (request) => seenInBrowser.push(recordBrowserRequest(request)));
  page = await context.newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.net = (window as unknown as { harness: typeof NetHarness }).harness;
  });
});

test.afterAll(async () => {
  if (summary.length > 0) console.log(`wire audit figures:\n  ${summary.join('\n  ')}`);
  await context?.close();
  await served?.close();
  await s3Proxy?.close();
  await hsmProxy?.close();
  s3?.destroy();
});

test('control: a request sent by a dedicated worker is recorded with its body', async () => {
  resetRecorders();
  const status = await page.evaluate((url) => window.net.workerFetch(url), `${served.url}canary`);
  expect(status).toBe(404);
  const seen = await browserRequests();
  const canary = seen.find((request) => request.url.endsWith('/canary'));
  expect(canary?.method).toBe('POST');
  expect(Buffer.from(canary!.body).toString()).toBe('from-a-worker');
});

for (const model of ['A', 'B', 'C'] as const) {
  test(`Model ${model}: no plaintext, wrapping key or data key leaves the browser in an upload and a download`, async () => {
    resetRecorders();
    const contentKeyHex = randomBytes(32).toString('hex');
    const rawKey = randomBytes(32);
    const plaintext = randomContent(SIZE_BYTES, contentKeyHex);
    const input: NetUploadParams = {
      endpoint: s3Proxy.url,
      bucket: env('VEIL_BUCKET'),
      key: `audit/model-${model}-${Date.now()}`,
      sizeBytes: SIZE_BYTES,
      contentKeyHex,
      model,
      partBytes: PART_BYTES,
      frameBytes: 64 * 1024,
      partsInFlight: 2,
      ...(model === 'A' ? { rawKeyBase64: rawKey.toString('base64') } : {}),
      ...(model === 'B'
        ? { hsm: { proxyUrl: hsmProxy.url, keyLabel: env('VEIL_HSM_KEY_LABEL'), idToken } }
        : {}),
      ...(model === 'C' ? { kmsKeyId: 'alias/veil-demo' } : {}),
    };
    const outcome = await page.evaluate((p) => window.net.uploadOnce(p), input);
    expect(outcome, JSON.stringify(outcome)).toMatchObject({
      ok: true,
      result: { method: 'multipart', partCount: 3 },
    });
    // The same object downloaded in the page (ranged GETs, the keyring unwraps the data key).
    const download: NetDownloadParams = {
      endpoint: s3Proxy.url,
      bucket: input.bucket,
      key: input.key,
      fileName: `audit-${model}-${Date.now()}.bin`,
      model,
      rangeBytes: 1024 * 1024,
      ...(input.rawKeyBase64 ? { rawKeyBase64: input.rawKeyBase64 } : {}),
      ...(model === 'B' ? { hsm: { proxyUrl: hsmProxy.url, idToken } } : {}),
    };
    const fetched = await page.evaluate((p) => window.net.download(p), download);
    expect(fetched, JSON.stringify(fetched)).toMatchObject({ ok: true });
    const saved = await page.evaluate((name) => window.net.savedFile(name), download.fileName);
    expect(saved.sha256).toBe(createHash('sha256').update(plaintext).digest('hex'));
    // One data key handed out by the keyring for the upload, the same one again for the download.
    const recorded = await page.evaluate(() => window.net.takeDataKeys());
    expect(recorded).toHaveLength(2);
    expect(recorded[1]).toBe(recorded[0]);
    const dataKey = Buffer.from(recorded[0]!, 'base64');
    expect(dataKey.length).toBe(32);

    // The stored object: its EDK opens (in Node, directly) to the recorded data key, and it
    // decrypts to the plaintext.
    const object = await getObject(input.key);
    const header = parseHeaderBytes(object);
    const ring = await directKeyring(
      model,
      { motoUrl: env('VEIL_MOTO_URL'), hsmUrl: env('VEIL_HSM_URL'), idToken },
      rawKey,
    );
    expect(header.suiteId).toBe(0x0478);
    const unwrapped = await ring.onDecrypt({
      suiteId: header.suiteId,
      encryptionContext: header.encryptionContext,
      encryptedDataKeys: header.encryptedDataKeys,
    });
    expect(Buffer.compare(Buffer.from(unwrapped!), dataKey)).toBe(0);
    expect(Buffer.compare(await decryptBytes(object, { keyring: ring }), plaintext)).toBe(0);
    const info = Buffer.concat([Buffer.from([0x04, 0x78]), Buffer.from('DERIVEKEY')]);
    const contentKey = Buffer.from(hkdfSync('sha512', dataKey, header.messageId, info, 32));

    const secrets: Record<string, Uint8Array> = { plaintext, dataKey, contentKey };
    if (model === 'A') secrets.wrappingKey = rawKey;
    const index = new SecretIndex(secrets);
    const inBrowser = await browserRequests();
    const onWire = [...proxyRequests(s3Proxy), ...proxyRequests(hsmProxy)];
    const browserScan = scanRequests(index, inBrowser);
    const wireScan = scanRequests(index, onWire);

    // Allowed: Model B's data key, to the HSM proxy only.
    const allowed = (origin: string, secret: string): boolean =>
      model === 'B' && secret === 'dataKey' && origin === hsmProxy.url;
    const allHits = [...browserScan.hits, ...wireScan.hits];
    const allowedHits = allHits.filter(({ request, hit }) => allowed(request.origin, hit.secret));
    const leaks = allHits
      .filter(({ request, hit }) => !allowed(request.origin, hit.secret))
      .map(
        ({ request, hit }) =>
          `${hit.secret} in ${request.method} ${request.origin}${request.target} (${hit.view})`,
      );
    expect(leaks).toEqual([]);

    // Every request goes to the harness origin or a configured service.
    const origins = new Set(inBrowser.map((request) => request.origin));
    const configured = new Set([new URL(served.url).origin, s3Proxy.url, hsmProxy.url]);
    expect([...origins].filter((origin) => !configured.has(origin))).toEqual([]);

    // Both recorders saw each of the 3 UploadParts, with the whole body at the proxy.
    const browserParts = inBrowser.filter((request) => isUploadPart(request));
    const wireParts = s3Proxy.records.filter((record) => isUploadPart(record));
    expect(browserParts).toHaveLength(3);
    expect(wireParts).toHaveLength(3);
    const isRangedGet = (request: { method: string; headerText?: string; rawHeaders?: string }) =>
      request.method === 'GET' && /^range: /im.test(request.headerText ?? request.rawHeaders ?? '');
    const browserGets = inBrowser.filter(isRangedGet).length;
    expect(browserGets).toBeGreaterThanOrEqual(11);
    expect(s3Proxy.records.filter(isRangedGet)).toHaveLength(browserGets);
    const objectBytes = object.length;
    expect(wireParts.reduce((sum, record) => sum + record.body.length, 0)).toBe(objectBytes);
    expect(
      s3Proxy.records.every((record) => record.status !== undefined && record.status < 400),
    ).toBe(true);
    if (model === 'B') {
      const targets = hsmProxy.records.map((record) => record.target);
      expect(targets).toContain('/v1/data-keys');
      expect(targets).toContain('/v1/data-keys/decrypt');
    } else {
      expect(hsmProxy.records).toHaveLength(0);
    }
    if (model === 'C') {
      const targets = s3Proxy.records.map((record) => record.headers['x-amz-target'] ?? '');
      expect(targets).toContain('TrentService.GenerateDataKey');
      expect(targets).toContain('TrentService.Decrypt');
    }
    const listed = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: input.bucket, Prefix: input.key }),
    );
    expect(listed.Uploads ?? []).toEqual([]);
    const line =
      `Model ${model}: ${index.windows} secret windows; browser ${browserScan.totals.requests} requests, ` +
      `${browserScan.totals.wireBytes} B (+${browserScan.totals.decodedBytes} B decoded); ` +
      `wire ${wireScan.totals.requests} requests, ${wireScan.totals.wireBytes} B ` +
      `(+${wireScan.totals.decodedBytes} B decoded); ${browserParts.length} UploadParts and ` +
      `${browserGets} ranged GETs seen by both; leaks 0; allowed (data key to the HSM proxy) ` +
      `${allowedHits.length}`;
    summary.push(line);
    console.log(line);
  });
}

test('Model A with an HSM key as a second wrapper: the data key goes to the HSM proxy and nowhere else', async () => {
  resetRecorders();
  const contentKeyHex = randomBytes(32).toString('hex');
  const rawKey = randomBytes(32);
  const plaintext = randomContent(PART_BYTES + 999, contentKeyHex);
  const input: NetUploadParams = {
    endpoint: s3Proxy.url,
    bucket: env('VEIL_BUCKET'),
    key: `audit/model-a-and-b-${Date.now()}`,
    sizeBytes: plaintext.length,
    contentKeyHex,
    model: 'A',
    rawKeyBase64: rawKey.toString('base64'),
    hsm: { proxyUrl: hsmProxy.url, keyLabel: env('VEIL_HSM_KEY_LABEL'), idToken },
    partBytes: PART_BYTES,
    frameBytes: 64 * 1024,
  };
  const outcome = await page.evaluate((p) => window.net.uploadOnce(p), input);
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, result: { partCount: 2 } });
  const [recorded] = await page.evaluate(() => window.net.takeDataKeys());
  const dataKey = Buffer.from(recorded!, 'base64');
  const object = await getObject(input.key);
  expect(parseHeaderBytes(object).encryptedDataKeys.map((edk) => edk.providerId)).toEqual([
    'veil',
    'veil-hsm',
    'veil-location',
  ]);
  // The HSM EDK alone opens the object: the proxy wrapped this very data key.
  const viaHsm = await directKeyring('B', {
    motoUrl: env('VEIL_MOTO_URL'),
    hsmUrl: env('VEIL_HSM_URL'),
    idToken,
  });
  expect(Buffer.compare(await decryptBytes(object, { keyring: viaHsm }), plaintext)).toBe(0);
  const index = new SecretIndex({ plaintext, dataKey, wrappingKey: rawKey });
  const hits = [
    ...scanRequests(index, await browserRequests()).hits,
    ...scanRequests(index, [...proxyRequests(s3Proxy), ...proxyRequests(hsmProxy)]).hits,
  ].map(
    ({ request, hit }) =>
      `${hit.secret} ${request.method} ${request.origin}${request.target} ${hit.view}`,
  );
  // Seen by both recorders, base64 in the JSON body of the wrap request, and nowhere else.
  const expected = `dataKey POST ${hsmProxy.url}/v1/data-keys/encrypt base64`;
  expect(hits).toEqual([expected, expected]);
  summary.push(
    'Model A + HSM wrapper: data key found in 1 request, POST /v1/data-keys/encrypt (base64), by both recorders; nowhere else',
  );
});

test('control: an upload without encryption is flagged by the same audit', async () => {
  resetRecorders();
  const contentKeyHex = randomBytes(32).toString('hex');
  const plaintext = randomContent(PART_BYTES + 100, contentKeyHex);
  const input: NetUploadParams = {
    endpoint: s3Proxy.url,
    bucket: env('VEIL_BUCKET'),
    key: `audit/plain-${Date.now()}`,
    sizeBytes: plaintext.length,
    contentKeyHex,
    model: 'A',
    rawKeyBase64: randomBytes(32).toString('base64'),
    protection: 'none',
    partBytes: PART_BYTES,
  };
  const outcome = await page.evaluate((p) => window.net.uploadOnce(p), input);
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true, result: { partCount: 2 } });
  const index = new SecretIndex({ plaintext });
  const wire = scanRequests(index, proxyRequests(s3Proxy));
  expect(wire.hits.filter(({ request }) => isUploadPart(request))).toHaveLength(2);
  // Parts may leave as Blob bodies ([Note: Blob request bodies] in src/transfer/s3-api.ts), which
  // Playwright's request events can report without their bytes (here, the plain parts): the
  // browser recorder sees both part requests, and their bytes are audited at the proxy, which
  // every S3 request crosses.
  const inBrowser = await browserRequests();
  expect(inBrowser.filter((request) => isUploadPart(request))).toHaveLength(2);
  summary.push(
    'control (no encryption): flagged on the wire in 2 of 2 parts (the browser recorder sees both part requests; their Blob bodies only at the proxy)',
  );
});
