/**
 * `npm run bench:upload`: the upload engine in headless Chromium, ratios from one run.
 *
 * (a) the encrypt pipeline alone (read + encrypt in the worker pool, parts dropped by a sink, no
 *     network) on a file picked from disk, against the primitive pipeline measured in the same
 *     page on the same File (primitives.ts: File.stream() into 512 KiB frames, one raw AES-GCM
 *     call per frame in as many plain workers, buffers transferred; no framing, checksums or
 *     parts) and `File.stream()` alone, alternated, with medians, the ratios and the Chromium CPU
 *     time per GiB read from /proc; also raw AES-GCM alone and the same pipeline without
 *     encryption (and, with VEIL_BENCH_ONE_PART=1, the earlier one-part-per-job arrangement);
 *     then where the time goes: each stage of building parts timed alone on one thread (stages.ts);
 * (b) an encrypted upload against a plaintext upload of the same in-memory file, same engine,
 *     same moto;
 * (c) peak memory of Chromium (sum of the RSS of its processes, of the renderer, which holds
 *     the page and its workers, and the page's JS heap; memory-sampler.ts) while a 1 GiB and a
 *     2 GiB file upload to the disk-backed S3 stand-in (download-server.ts; moto would hold them
 *     in memory): in a Chromium with no DevTools client attached ([Note: detached page] in
 *     detached-page.ts), from a file its page wrote to OPFS on disk, and in the Playwright page,
 *     from a file picked from disk.
 *
 * Env: VEIL_BENCH_PIPELINE_MIB (file for a, default 512), VEIL_BENCH_MIB (file for b, default
 * 64), VEIL_BENCH_RUNS (medians of a, default 5), VEIL_BENCH_UPLOAD_RUNS (medians of b, default
 * 3; 0 skips), VEIL_BENCH_BIG_GIB (sizes for c, default "1,2"; "0" skips), VEIL_BENCH_WORKERS (default
 * min(4, cores)), VEIL_BENCH_ONE_PART, VEIL_BENCH_STAGE_RUNS (medians of the stage table, default
 * 3; 0 skips), VEIL_CHROMIUM. Writes bench/results/upload.json.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { chromium, type Page } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMoto } from '../scripts/stack/moto';
import { freePort } from '../scripts/stack/process';
import { provisionBucket } from '../scripts/stack/provision';
import { buildAndServe } from '../tests/e2e/harness/serve';
import { loadAverage } from './chromium-proc';
import { sampleMemory } from './memory-sampler';
import { runDetached } from './detached-page';
import { measurePipeline } from './upload-pipeline';
import { startDiskS3 } from './download-server';
import type * as Entry from './upload-entry';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const MiB = 1024 * 1024;
const sizeBytes = Number(process.env.VEIL_BENCH_MIB ?? 64) * MiB;
const runs = Number(process.env.VEIL_BENCH_RUNS ?? 5);
const uploadRuns = Number(process.env.VEIL_BENCH_UPLOAD_RUNS ?? 3);
const pipelineBytes = Number(process.env.VEIL_BENCH_PIPELINE_MIB ?? 512) * MiB;
const bigGiB = (process.env.VEIL_BENCH_BIG_GIB ?? '1,2')
  .split(',')
  .map(Number)
  .filter((gib) => gib > 0);
const workers = Number(process.env.VEIL_BENCH_WORKERS ?? Math.min(4, availableParallelism()));
const FRAME_BYTES = 512 * 1024;
const onePart = process.env.VEIL_BENCH_ONE_PART === '1';
const stageRounds = Number(process.env.VEIL_BENCH_STAGE_RUNS ?? 3);
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

async function peakMemory(
  page: Page,
  dir: string,
  gib: number,
  diskS3Url: string,
  diskDir: string,
) {
  const path = join(dir, `big-${gib}.bin`);
  await writeBigFile(path, gib * 1024 * MiB);
  await page.evaluate(() => window.bench.addFileInput());
  await page.setInputFiles('#bench-file', path);
  await page.evaluate(() => window.bench.takeInputFile('big'));
  const sampler = await sampleMemory(page);
  const ms = await page.evaluate(
    ([w, endpoint]) =>
      window.bench.uploadMs('big', w, 'client-side', { endpoint, bucket: 'bench' }),
    [workers, diskS3Url] as const,
  );
  const figures = await sampler.stop();
  await page.evaluate(() => window.bench.release('big'));
  await rm(path, { force: true });
  // The object the disk-backed endpoint assembled: exactly the message's size.
  await takeStoredObject(diskDir, await page.evaluate(() => window.bench.lastUploadObjectBytes()));
  return {
    fileGiB: gib,
    page: 'Playwright (DevTools attached)',
    uploadMBps: round(mbps(gib * 1024 * MiB, ms)),
    loadAverage: await loadAverage(),
    ...figures,
  };
}

/** The single object the disk-backed endpoint holds: checked to be `objectBytes`, then removed. */
async function takeStoredObject(diskDir: string, objectBytes: number): Promise<void> {
  const stored = (await readdir(diskDir)).filter((name) => !name.startsWith('.'));
  if (stored.length !== 1 || (await stat(join(diskDir, stored[0] ?? ''))).size !== objectBytes) {
    throw new Error(`the uploaded object is missing or has the wrong size: ${stored.join(', ')}`);
  }
  await rm(join(diskDir, stored[0] ?? ''), { force: true });
}

/**
 * The same upload in a Chromium with no DevTools client attached ([Note: detached page]): the
 * page writes the file to its origin-private file system on disk first and uploads it from
 * there; the baseline is taken once the file is written.
 */
async function detachedPeakMemory(gib: number, diskS3Url: string, diskDir: string) {
  let sampler: Awaited<ReturnType<typeof sampleMemory>> | undefined;
  const { result } = await runDetached<Entry.DetachedUpload, Entry.DetachedUploadResult>(
    served.url,
    { endpoint: diskS3Url, fileBytes: gib * 1024 * MiB, workers },
    {
      onReady: async (browserPid) => {
        await new Promise((resolve) => setTimeout(resolve, 2000)); // the written file settles
        sampler = await sampleMemory(undefined, { browserPid });
      },
    },
  );
  const figures = await sampler?.stop();
  if (!figures) throw new Error('the detached page never got ready');
  await takeStoredObject(diskDir, result.objectBytes);
  return {
    fileGiB: gib,
    page: 'detached',
    uploadMBps: round(mbps(gib * 1024 * MiB, result.ms)),
    loadAverage: await loadAverage(),
    ...figures,
    heapPeakMiB: Math.round(result.heap.peakBytes / MiB),
    heapGrowthMiB: Math.round(result.heap.growthBytes / MiB),
  };
}

const startedMs = performance.now();
const dir = await mkdtemp(join(tmpdir(), 'veil-bench-upload-'));
const served = await buildAndServe(new URL('./upload-entry.ts', import.meta.url));
const motoPort = await freePort();
const moto = await startMoto(motoPort);
const motoUrl = `http://127.0.0.1:${motoPort}`;
const launchOptions = {
  executablePath: process.env.VEIL_CHROMIUM ?? '/usr/bin/chromium',
  args: CHROMIUM_ARGS,
  headless: true,
};
const browser = await chromium.launch(launchOptions);
try {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: motoUrl,
    forcePathStyle: true,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
  });
  const bucket = 'veil-bench-upload';
  await provisionBucket(s3, { bucket, origins: [new URL(served.url).origin] });
  s3.destroy();

  const page = await browser.newPage();
  page.on('crash', () => console.error('the page crashed (renderer gone)'));
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.bench = (window as unknown as { harness: typeof Entry }).harness;
  });
  await page.evaluate((size) => window.bench.makeFile('same', size), sizeBytes);
  console.log(
    `veil upload bench: ${pipelineBytes / MiB} MiB file from disk for (a), ${sizeBytes / MiB} MiB ` +
      `in memory for (b), ${workers} workers, frame 512 KiB, part 8 MiB, medians of ${runs} (a) ` +
      `and ${uploadRuns} (b)`,
  );

  // (a) the pipeline against the primitive pipeline and File.stream(), and where the time goes,
  // in a browser of its own (upload-pipeline.ts).
  const pipelinePath = join(dir, 'pipeline.bin');
  await writeBigFile(pipelinePath, pipelineBytes);
  const { pipeline, stages } = await measurePipeline({
    url: served.url,
    launch: () => chromium.launch(launchOptions),
    path: pipelinePath,
    fileBytes: pipelineBytes,
    workers,
    runs,
    stageRuns: stageRounds,
    onePart,
  });
  await rm(pipelinePath, { force: true });

  // (b) encrypted vs plaintext upload to moto, same engine.
  const target = { endpoint: motoUrl, bucket };
  // Alternate the two so moto's growing memory weighs on both alike.
  const encryptedTimes: number[] = [];
  const plainTimes: number[] = [];
  for (let run = 0; run < uploadRuns; run++) {
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
  const upload =
    uploadRuns === 0
      ? {}
      : {
          encryptedMBps: round(mbps(sizeBytes, encryptedMs)),
          plaintextMBps: round(mbps(sizeBytes, plainMs)),
          ratioEncryptedToPlain: round(plainMs / encryptedMs, 2),
        };
  if (uploadRuns > 0) {
    console.log('\n(b) encrypted upload vs plaintext upload, same engine, moto on 127.0.0.1');
    console.table(upload);
  }
  await page.evaluate(() => window.bench.release('same'));

  // (c) memory while big files upload to the disk-backed endpoint.
  const memory = [];
  if (bigGiB.length > 0) {
    const diskDir = join(dir, 'disk-s3');
    await mkdir(diskDir);
    const disk = await startDiskS3(diskDir);
    try {
      for (const gib of bigGiB) {
        memory.push(await detachedPeakMemory(gib, disk.url, diskDir));
        memory.push(await peakMemory(page, dir, gib, disk.url, diskDir));
      }
    } finally {
      await disk.close();
    }
    console.log(
      '\n(c) Chromium memory (sum of process RSS; renderer = the page and its workers) while ' +
        'big files upload to the disk-backed S3 stand-in on 127.0.0.1',
    );
    console.table(memory);
  }

  const results = {
    date: new Date().toISOString(),
    machine: { cores: availableParallelism(), chromium: browser.version() },
    settings: {
      fileMiB: sizeBytes / MiB,
      pipelineFileMiB: pipelineBytes / MiB,
      uploadRuns,
      workers,
      frameBytes: FRAME_BYTES,
      partBytes: 8 * MiB,
      runs,
    },
    pipeline,
    stagesMsPerGiB: stages,
    upload,
    memory,
    notes: [
      'MB = 10^6 bytes. (a) sends parts to a sink that drops them (no network).',
      '(a) primitive pipeline: File.stream() into 512 KiB frames on the page, each transferred to the least busy of as many plain workers, one raw AES-GCM call, transferred back; alternated with the engine on the same File.',
      "(a) cpuMsPerGiB: CPU time of all Chromium processes (from /proc) per GiB of plaintext, median (least moved by a shared machine's load).",
      '(b) uploads to moto on 127.0.0.1, which holds objects in memory.',
      '(c) uploads to a disk-backed S3 stand-in on 127.0.0.1 (bench/download-server.ts); the object size is checked.',
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
