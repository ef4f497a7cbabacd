/**
 * `npm run bench:upload`: the upload engine in headless Chromium, ratios from one run.
 *
 * (a) the encrypt pipeline alone (read + encrypt in the worker pool, parts dropped by a sink, no
 *     network) against the limit measured in the same page: the slower of reading the same File
 *     with `File.stream()` and raw WebCrypto AES-GCM (one call per frame) in as many workers;
 *     also the same pipeline without encryption (slice reads in the workers only);
 * (b) an encrypted upload against a plaintext upload of the same file, same engine, same moto;
 * (c) peak memory of Chromium (sum of the RSS of its processes) while the pipeline runs over a
 *     1 GiB and a 2 GiB file picked from disk through an <input type=file>. These go to the sink,
 *     not to S3: moto holds objects in memory (about 5 GB for 1 GiB) and no disk-backed S3
 *     server is installed here, so (c) measures the browser side only.
 *
 * Env: VEIL_BENCH_MIB (file for a and b, default 64), VEIL_BENCH_RUNS (median of, default 3),
 * VEIL_BENCH_BIG_GIB (sizes for c, default "1,2"; "0" skips), VEIL_BENCH_WORKERS (default
 * min(4, cores)), VEIL_CHROMIUM. Writes bench/results/upload.json.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { chromium, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto } from '../scripts/stack/moto';
import { freePort } from '../scripts/stack/process';
import { provisionBucket, type ProvisionOptions } from '../scripts/stack/provision';
import { buildAndServe } from '../tests/e2e/harness/serve';
import type * as Entry from './upload-entry';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const MiB = 1024 * 1024;
const sizeBytes = Number(process.env.VEIL_BENCH_MIB ?? 64) * MiB;
const runs = Number(process.env.VEIL_BENCH_RUNS ?? 3);
const bigGiB = (process.env.VEIL_BENCH_BIG_GIB ?? '1,2')
  .split(',')
  .map(Number)
  .filter((gib) => gib > 0);
const workers = Number(process.env.VEIL_BENCH_WORKERS ?? Math.min(4, availableParallelism()));
const FRAME_BYTES = 512 * 1024;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

declare global {
  interface Window {
    bench: typeof Entry;
  }
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

async function medianMs(measure: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) times.push(await measure());
  return median(times);
}

/**
 * Sum of VmRSS of this process's Chromium descendants (Linux /proc), in bytes: all of them, and
 * the renderers (--type=renderer: the page and its workers) alone.
 */
async function chromiumRssBytes(): Promise<{ total: number; renderer: number }> {
  const parents = new Map<number, number>();
  const rss = new Map<number, number>();
  const renderers = new Set<number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      parents.set(Number(entry), ppid);
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('chrom')) continue;
      if (cmdline.includes('--type=renderer')) renderers.add(Number(entry));
      rss.set(Number(entry), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  let renderer = 0;
  for (const [pid, bytes] of rss) {
    for (let at: number | undefined = pid; at; at = parents.get(at)) {
      if (at === process.pid) {
        total += bytes;
        if (renderers.has(pid)) renderer += bytes;
        break;
      }
    }
  }
  return { total, renderer };
}

async function writeBigFile(path: string, bytes: number): Promise<void> {
  const block = randomBytes(16 * MiB);
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += block.length) {
    const chunk = block.subarray(0, Math.min(block.length, bytes - written));
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => {
    out.on('error', reject);
    out.end(resolve);
  });
}

async function peakMemory(page: Page, dir: string, gib: number) {
  const path = join(dir, `big-${gib}.bin`);
  await writeBigFile(path, gib * 1024 * MiB);
  await page.evaluate(() => window.bench.addFileInput());
  await page.setInputFiles('#bench-file', path);
  await page.evaluate(() => window.bench.takeInputFile('big'));
  const baseline = await chromiumRssBytes();
  const peak = { ...baseline };
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const now = await chromiumRssBytes();
      peak.total = Math.max(peak.total, now.total);
      peak.renderer = Math.max(peak.renderer, now.renderer);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  const ms = await page.evaluate(
    (w) => window.bench.uploadMs('big', w, 'client-side', {}),
    workers,
  );
  sampling = false;
  await sampler;
  await page.evaluate(() => window.bench.release('big'));
  await rm(path, { force: true });
  return {
    fileGiB: gib,
    pipelineMBps: round(mbps(gib * 1024 * MiB, ms)),
    baselineMiB: round(baseline.total / MiB, 0),
    peakMiB: round(peak.total / MiB, 0),
    growthMiB: round((peak.total - baseline.total) / MiB, 0),
    rendererBaselineMiB: round(baseline.renderer / MiB, 0),
    rendererPeakMiB: round(peak.renderer / MiB, 0),
    rendererGrowthMiB: round((peak.renderer - baseline.renderer) / MiB, 0),
  };
}

const startedMs = performance.now();
const dir = await mkdtemp(join(tmpdir(), 'veil-bench-upload-'));
const served = await buildAndServe(new URL('./upload-entry.ts', import.meta.url));
const motoPort = await freePort();
const moto = await startMoto(motoPort);
const motoUrl = `http://127.0.0.1:${motoPort}`;
const browser = await chromium.launch({
  executablePath: process.env.VEIL_CHROMIUM ?? '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
  headless: true,
});
try {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: motoUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  const bucket = 'veil-bench-upload';
  await provisionBucket(s3, { bucket, origins: [new URL(served.url).origin] } as ProvisionOptions);
  s3.destroy();

  const page = await browser.newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.bench = (window as unknown as { harness: typeof Entry }).harness;
  });
  await page.evaluate((size) => window.bench.makeFile('same', size), sizeBytes);
  console.log(
    `veil upload bench: ${sizeBytes / MiB} MiB file, ${workers} workers, frame 512 KiB, part 8 MiB, ` +
      `median of ${runs}`,
  );

  // (a) pipeline vs its limit. One warm-up run first.
  await page.evaluate((w) => window.bench.uploadMs('same', w, 'client-side', {}), workers);
  const pipelineMs = await medianMs(() =>
    page.evaluate((w) => window.bench.uploadMs('same', w, 'client-side', {}), workers),
  );
  const plainPipelineMs = await medianMs(() =>
    page.evaluate((w) => window.bench.uploadMs('same', w, 'none', {}), workers),
  );
  const readMs = await medianMs(() => page.evaluate(() => window.bench.streamReadMs('same')));
  const aesMs = await medianMs(() =>
    page.evaluate(([size, w, frame]) => window.bench.rawAesMs(size, w, frame), [
      sizeBytes,
      workers,
      FRAME_BYTES,
    ] as const),
  );
  const limitMs = Math.max(readMs, aesMs);
  const pipeline = {
    pipelineMBps: round(mbps(sizeBytes, pipelineMs)),
    readOnlyPipelineMBps: round(mbps(sizeBytes, plainPipelineMs)),
    fileStreamReadMBps: round(mbps(sizeBytes, readMs)),
    rawAesGcmMBps: round(mbps(sizeBytes, aesMs)),
    limitMBps: round(mbps(sizeBytes, limitMs)),
    limitedBy: readMs >= aesMs ? 'File.stream() read' : 'raw AES-GCM',
    ratioToLimit: round(limitMs / pipelineMs, 2),
  };
  console.log('\n(a) encrypt pipeline (read + encrypt, no network) vs the limit in the same run');
  console.table(pipeline);

  // (b) encrypted vs plaintext upload to moto, same engine.
  const target = { motoUrl, bucket };
  // Alternate the two so moto's growing memory weighs on both alike.
  const encryptedTimes: number[] = [];
  const plainTimes: number[] = [];
  for (let run = 0; run < runs; run++) {
    encryptedTimes.push(
      await page.evaluate(([w, t]) => window.bench.uploadMs('same', w, 'client-side', t), [
        workers,
        target,
      ] as const),
    );
    plainTimes.push(
      await page.evaluate(([w, t]) => window.bench.uploadMs('same', w, 'none', t), [
        workers,
        target,
      ] as const),
    );
  }
  const encryptedMs = median(encryptedTimes);
  const plainMs = median(plainTimes);
  const upload = {
    encryptedMBps: round(mbps(sizeBytes, encryptedMs)),
    plaintextMBps: round(mbps(sizeBytes, plainMs)),
    ratioEncryptedToPlain: round(plainMs / encryptedMs, 2),
  };
  console.log('\n(b) encrypted upload vs plaintext upload, same engine, moto on 127.0.0.1');
  console.table(upload);
  await page.evaluate(() => window.bench.release('same'));

  // (c) memory during big files (to the sink; see the file comment).
  const memory = [];
  for (const gib of bigGiB) memory.push(await peakMemory(page, dir, gib));
  if (memory.length > 0) {
    console.log(
      '\n(c) Chromium memory (sum of process RSS) while the pipeline runs over big files',
    );
    console.table(memory);
  }

  const results = {
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), chromium: browser.version() },
    settings: {
      fileMiB: sizeBytes / MiB,
      workers,
      frameBytes: FRAME_BYTES,
      partBytes: 8 * MiB,
      runs,
    },
    pipeline,
    upload,
    memory,
    notes: [
      'MB = 10^6 bytes. (a) and (c) send parts to a sink that drops them (no network).',
      '(b) uploads to moto on 127.0.0.1, which holds objects in memory.',
      '(c) is measured without S3: no disk-backed S3 server is installed here.',
      'readOnlyPipelineMBps: the same engine and workers with protection "none" (slice reads in the workers, no encryption).',
    ],
  };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/upload.json', import.meta.url),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  console.log(
    `\nwrote bench/results/upload.json; done in ${((performance.now() - startedMs) / 1000).toFixed(1)} s`,
  );
} finally {
  await browser.close();
  await moto.stop();
  await served.close();
  await rm(dir, { recursive: true, force: true });
}
