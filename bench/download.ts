/**
 * `npm run bench:download`: the download engine in headless Chromium, ratios from one run.
 *
 * (0) the decrypt pipeline without a network: the engine and its worker pool reading ranges of a
 *     Veil object held in the page's memory, into a sink that drops the plaintext, against raw
 *     WebCrypto AES-GCM decryption (one call per 512 KiB frame, the same frame over and over) in
 *     as many plain workers, and the primitive decrypt pipeline (fresh 512 KiB frames copied out
 *     of memory, transferred to as many plain workers, one raw call each; primitives.ts);
 *     alternated, medians, and the Chromium CPU time per GiB (from /proc); and the engine again
 *     with every range copied out before the clock and the CPU count start (the engine without
 *     its source's cost);
 * (a) download + decrypt (worker pool) + write to the origin-private file system of a Veil object
 *     against the plain download of an object of the same size through the same engine and save
 *     path (no decryption), from a disk-backed S3 stand-in on loopback (download-server.ts):
 *     alternated in a Chromium with no DevTools client attached (the figure users get; [Note:
 *     detached page] in detached-page.ts), and again in the Playwright page for comparison;
 * (b) peak memory of Chromium (sum of the RSS of its processes, of its renderers alone, and the
 *     page's JS heap; memory-sampler.ts) while a 1 GiB and a 2 GiB Veil object download from
 *     that disk-backed stand-in, to OPFS in a persistent profile (the incognito profile keeps
 *     OPFS in memory) through the save picker, in a detached Chromium and in the Playwright page,
 *     and into the browser's downloads through Veil's service worker (the target for browsers
 *     without the picker; Playwright's page, which can accept the browser's download); each
 *     service-worker download is checked complete and of the right size.
 *
 * Env: VEIL_BENCH_MIB (object for 0 and a, default 256), VEIL_BENCH_RUNS (median of, default 3;
 * 0 skips a), VEIL_BENCH_MEMORY_RUNS (median of 0, default 5; 0 skips),
 * VEIL_BENCH_BIG_GIB (sizes for b, default "1,2"; "0" skips), VEIL_BENCH_WORKERS (default
 * min(4, cores)), VEIL_CHROMIUM. Writes bench/results/download.json.
 */
import { chromium } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createEncryptStream } from '../src/core/encrypt-stream';
import { RawAesKeyring } from '../src/keyrings/raw-aes';
import { chromiumLaunchOptions } from '../scripts/chromium';
import { buildAndServe } from '../tests/e2e/harness/serve';
import { loadAverage, withCpu } from './chromium-proc';
import { sampleMemory } from './memory-sampler';
import { runDetached } from './detached-page';
import { startDiskS3 } from './download-server';
import type * as Entry from './download-entry';

const MiB = 1024 * 1024;
const sizeBytes = Number(process.env.VEIL_BENCH_MIB ?? 256) * MiB;
const runs = Number(process.env.VEIL_BENCH_RUNS ?? 3);
const memoryRuns = Number(process.env.VEIL_BENCH_MEMORY_RUNS ?? 5);
const FRAME_BYTES = 512 * 1024;
const bigGiB = (process.env.VEIL_BENCH_BIG_GIB ?? '1,2')
  .split(',')
  .map(Number)
  .filter((gib) => gib > 0);
const workers = Number(process.env.VEIL_BENCH_WORKERS ?? Math.min(4, availableParallelism()));
const KEY = randomBytes(32);
const KEY_BASE64 = KEY.toString('base64');

declare global {
  interface Window {
    downloadBench: typeof Entry;
  }
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** Random bytes from one 16 MiB block, `totalBytes` in all. */
function randomSource(totalBytes: number): ReadableStream<Uint8Array> {
  const block = new Uint8Array(randomBytes(16 * MiB));
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) {
        controller.close();
        return;
      }
      const chunk = block.slice(0, Math.min(block.length, totalBytes - sent));
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

/** Writes a Veil object of `plaintextBytes` to `path` with the core (flat memory). */
async function writeVeilObject(path: string, plaintextBytes: number): Promise<number> {
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(KEY),
    keyName: 'bench',
    keyNamespace: 'veil',
  });
  await randomSource(plaintextBytes)
    .pipeThrough(createEncryptStream({ keyring, plaintextBytes }))
    .pipeTo(Writable.toWeb(createWriteStream(path)) as WritableStream<Uint8Array>);
  return (await stat(path)).size;
}

async function writePlainObject(path: string, bytes: number): Promise<void> {
  await randomSource(bytes).pipeTo(
    Writable.toWeb(createWriteStream(path)) as WritableStream<Uint8Array>,
  );
}

const startedMs = performance.now();
const dir = await mkdtemp(join(tmpdir(), 'veil-bench-download-'));
const profile = await mkdtemp(join(tmpdir(), 'veil-bench-profile-'));
const served = await buildAndServe(new URL('./download-entry.ts', import.meta.url));
const s3 = await startDiskS3(dir);
const context = await chromium.launchPersistentContext(profile, chromiumLaunchOptions());
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.addInitScript(`
    window.showSaveFilePicker = async (options) => {
      const root = await navigator.storage.getDirectory();
      return root.getFileHandle(options.suggestedName, { create: true });
    };`);
  await page.goto(served.url);
  await page.waitForFunction(() => document.title === 'ready');
  await page.evaluate(() => {
    window.downloadBench = (window as unknown as { harness: typeof Entry }).harness;
  });
  const run = (key: string, target: 'opfs' | 'service-worker' = 'opfs') =>
    page.evaluate((p) => window.downloadBench.downloadMs(p), {
      endpoint: s3.url,
      key,
      keyBase64: KEY_BASE64,
      workers,
      target,
    });

  let memoryPipeline = {};
  if (memoryRuns > 0) {
    await page.evaluate(([bytes, key]) => window.downloadBench.makeMemoryObject(bytes, key), [
      sizeBytes,
      KEY_BASE64,
    ] as const);
    const decrypt = (source: 'copy' | 'ready' = 'copy') =>
      withCpu(() =>
        page.evaluate((p) => window.downloadBench.memoryDecryptMs(p), {
          keyBase64: KEY_BASE64,
          workers,
          source,
        }),
      );
    const raw = () =>
      withCpu(() =>
        page.evaluate(([bytes, w, frame]) => window.downloadBench.rawAesMs(bytes, w, frame, true), [
          sizeBytes,
          workers,
          FRAME_BYTES,
        ] as const),
      );
    const primitive = () =>
      withCpu(() =>
        page.evaluate(
          ([bytes, w, frame]) => window.downloadBench.primitiveDecryptMs(bytes, w, frame),
          [sizeBytes, workers, FRAME_BYTES] as const,
        ),
      );
    await decrypt();
    await raw();
    await primitive();
    const pipelineMs: number[] = [];
    const pipelineCpu: number[] = [];
    const rawMs: number[] = [];
    const rawCpu: number[] = [];
    const primitiveMs: number[] = [];
    const primitiveCpu: number[] = [];
    const readyMs: number[] = [];
    const readyCpu: number[] = [];
    const loads = [await loadAverage()];
    for (let i = 0; i < memoryRuns; i++) {
      const run = await decrypt();
      if (run.value.writtenBytes !== sizeBytes) throw new Error('memory run');
      pipelineMs.push(run.value.ms);
      pipelineCpu.push(run.cpuMs);
      const base = await raw();
      rawMs.push(base.value);
      rawCpu.push(base.cpuMs);
      const floor = await primitive();
      primitiveMs.push(floor.value);
      primitiveCpu.push(floor.cpuMs);
      await page.evaluate(() => window.downloadBench.readyRanges());
      const alone = await decrypt('ready');
      if (alone.value.writtenBytes !== sizeBytes) throw new Error('memory run');
      readyMs.push(alone.value.ms);
      readyCpu.push(alone.cpuMs);
      loads.push(await loadAverage());
    }
    const perGiB = (cpu: number[]): number => round((median(cpu) * 1024 * MiB) / sizeBytes, 0);
    memoryPipeline = {
      plaintextMiB: sizeBytes / MiB,
      workers,
      loadAverage: `${Math.min(...loads)}–${Math.max(...loads)}`,
      decryptPipelineMBps: round(mbps(sizeBytes, median(pipelineMs))),
      rawAesGcmDecryptMBps: round(mbps(sizeBytes, median(rawMs))),
      primitiveDecryptMBps: round(mbps(sizeBytes, median(primitiveMs))),
      ratioToRaw: round(median(rawMs) / median(pipelineMs), 2),
      ratioToPrimitive: round(median(primitiveMs) / median(pipelineMs), 2),
      sourceReadyMBps: round(mbps(sizeBytes, median(readyMs))),
      sourceReadyRatioToRaw: round(median(rawMs) / median(readyMs), 2),
      cpuMsPerGiB: perGiB(pipelineCpu),
      rawCpuMsPerGiB: perGiB(rawCpu),
      primitiveCpuMsPerGiB: perGiB(primitiveCpu),
      sourceReadyCpuMsPerGiB: perGiB(readyCpu),
    };
    console.log('(0) decrypt pipeline from memory vs raw AES-GCM decryption:');
    console.table(memoryPipeline);
    await page.evaluate(() => window.downloadBench.releaseMemoryObject());
  }

  let pipeline = {};
  if (runs > 0) {
    const objectBytes = await writeVeilObject(join(dir, 'veil-a'), sizeBytes);
    await writePlainObject(join(dir, 'plain-a'), objectBytes);
    const veilMs: number[] = [];
    const plainMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const veil = await run('veil-a');
      if (veil.kind !== 'esdk-framed' || veil.writtenBytes !== sizeBytes)
        throw new Error('veil run');
      veilMs.push(veil.ms);
      const plain = await run('plain-a');
      if (plain.kind !== 'plain') throw new Error('plain run');
      plainMs.push(plain.ms);
    }
    // The same pairs in a Chromium without DevTools attached ([Note: detached page]); the first
    // pair starts the workers and is not counted.
    const { result: detached, marks } = await runDetached<Entry.DetachedJob, Entry.DetachedResult>(
      served.url,
      {
        kind: 'compare',
        endpoint: s3.url,
        keyBase64: KEY_BASE64,
        workers,
        runs: runs + 1,
        veilKey: 'veil-a',
        plainKey: 'plain-a',
      },
    );
    if (detached.writtenBytes !== sizeBytes) throw new Error('detached veil run');
    const detachedVeilMs = detached.veilMs.slice(1);
    const detachedPlainMs = detached.plainMs.slice(1);
    // Chromium's CPU time of each run, from the page's marks around it (the first pair dropped).
    const cpuOf = (key: string): number[] => {
      const spans: number[] = [];
      marks.forEach((mark, index) => {
        const end = marks[index + 1];
        if (mark.label === `${key} start` && end?.label === `${key} end`) {
          spans.push(end.cpuMs - mark.cpuMs);
        }
      });
      return spans.slice(1);
    };
    const perGiB = (cpuMs: number[], bytes: number): number =>
      round((median(cpuMs) * 1024 * MiB) / bytes, 0);
    const veilCpuMsPerGiB = perGiB(cpuOf('veil-a'), sizeBytes);
    const plainCpuMsPerGiB = perGiB(cpuOf('plain-a'), objectBytes);
    pipeline = {
      objectMiB: round(objectBytes / MiB),
      workers,
      loadAverage: await loadAverage(),
      decryptMBps: round(mbps(sizeBytes, median(detachedVeilMs))),
      plainMBps: round(mbps(objectBytes, median(detachedPlainMs))),
      ratio: round(median(detachedPlainMs) / median(detachedVeilMs), 2),
      decryptCpuMsPerGiB: veilCpuMsPerGiB,
      plainCpuMsPerGiB,
      cpuRatio: round(plainCpuMsPerGiB / veilCpuMsPerGiB, 2),
      devToolsDecryptMBps: round(mbps(sizeBytes, median(veilMs))),
      devToolsPlainMBps: round(mbps(objectBytes, median(plainMs))),
      devToolsRatio: round(median(plainMs) / median(veilMs), 2),
    };
    console.log('download + decrypt + write vs plain download + write:', pipeline);
  }

  const memory = [];
  for (const gib of bigGiB) {
    const key = `veil-big-${gib}`;
    await writeVeilObject(join(dir, key), gib * 1024 * MiB);
    // Through the save picker in a detached Chromium ([Note: detached page]): its baseline is
    // taken once the page is ready; the page reports its own heap.
    let sampler: Awaited<ReturnType<typeof sampleMemory>> | undefined;
    const { result: detached } = await runDetached<Entry.DetachedJob, Entry.DetachedResult>(
      served.url,
      { kind: 'download', endpoint: s3.url, keyBase64: KEY_BASE64, workers, key },
      {
        onReady: async (browserPid) => {
          await new Promise((resolve) => setTimeout(resolve, 2000)); // the new browser settles
          sampler = await sampleMemory(undefined, { browserPid });
        },
      },
    );
    const seen = await sampler?.stop();
    if (!seen || detached.writtenBytes !== gib * 1024 * MiB) throw new Error('detached run');
    memory.push({
      objectGiB: gib,
      target: 'opfs (detached)',
      MBps: round(mbps(detached.writtenBytes, detached.veilMs[0] ?? 0)),
      loadAverage: await loadAverage(),
      ...seen,
      heapPeakMiB: Math.round(detached.heap.peakBytes / MiB),
      heapGrowthMiB: Math.round(detached.heap.growthBytes / MiB),
    });
    console.log('peak memory:', memory.at(-1));
    for (const target of ['opfs', 'service-worker'] as const) {
      const sampler = await sampleMemory(page);
      const started = target === 'service-worker' ? page.waitForEvent('download') : undefined;
      const result = await run(key, target);
      if (started) {
        // The browser's download must finish complete and of the right size.
        const download = await started;
        const failure = await download.failure();
        const saved = failure ? 0 : (await stat(await download.path())).size;
        if (saved !== result.writtenBytes) throw new Error(`download ${failure ?? saved}`);
        await download.delete();
      }
      const figures = await sampler.stop();
      const row = {
        objectGiB: gib,
        target: `${target} (DevTools attached)`,
        MBps: round(mbps(result.writtenBytes, result.ms)),
        loadAverage: await loadAverage(),
        ...figures,
      };
      console.log('peak memory:', row);
      memory.push(row);
    }
    await rm(join(dir, key), { force: true });
  }
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(
    new URL('./results/download.json', import.meta.url),
    `${JSON.stringify({ memoryPipeline, pipeline, memory, seconds: round((performance.now() - startedMs) / 1000) }, null, 2)}\n`,
  );
} finally {
  await context.close();
  await s3.close();
  await served.close();
  await rm(dir, { recursive: true, force: true });
  await rm(profile, { recursive: true, force: true });
}
