/**
 * `npm run bench:core`: the core's encrypt and decrypt throughput in Node and in headless
 * Chromium, side by side with raw WebCrypto AES-GCM over the same bytes and chunk size, as
 * ratios, for several frame lengths (to choose the default frame length).
 *
 * Env: VEIL_BENCH_MIB (plaintext MiB per run, default 64), VEIL_BENCH_RUNS (default 7),
 * VEIL_CHROMIUM (browser path, default /usr/bin/chromium).
 */
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions } from '../scripts/chromium';
import { buildAndServe } from '../tests/e2e/harness/serve';
import type { BenchConfig, BenchRow } from './measure';
import { runBench } from './measure';

const KIB = 1024;
const config: BenchConfig = {
  totalBytes: Number(process.env.VEIL_BENCH_MIB ?? 64) * 1024 * KIB,
  frameLengths: [256 * KIB, 512 * KIB, 768 * KIB, 1024 * KIB],
  runs: Number(process.env.VEIL_BENCH_RUNS ?? 7),
  feedBytes: 4 * 1024 * KIB,
};

async function inChromium(): Promise<BenchRow[]> {
  const served = await buildAndServe(new URL('./browser-entry.ts', import.meta.url));
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage();
    await page.goto(served.url);
    await page.waitForFunction(() => document.title === 'ready');
    return await page.evaluate(
      (benchConfig) =>
        (window as unknown as { harness: { runBench: typeof runBench } }).harness.runBench(
          benchConfig,
        ),
      config,
    );
  } finally {
    await browser.close();
    await served.close();
  }
}

const fmt = (value: number, width: number): string => value.toFixed(0).padStart(width);
const ratio = (core: number, raw: number): string => (core / raw).toFixed(2).padStart(5);

function print(label: string, rows: readonly BenchRow[]): void {
  console.log(`\n${label}`);
  console.log('frame KiB | encrypt MB/s: raw  core ratio | decrypt MB/s: raw  core ratio');
  for (const row of rows) {
    console.log(
      `${fmt(row.frameBytes / KIB, 9)} |` +
        `${fmt(row.rawEncryptMBps, 18)}${fmt(row.coreEncryptMBps, 6)} ${ratio(row.coreEncryptMBps, row.rawEncryptMBps)} |` +
        `${fmt(row.rawDecryptMBps, 18)}${fmt(row.coreDecryptMBps, 6)} ${ratio(row.coreDecryptMBps, row.rawDecryptMBps)}`,
    );
  }
}

const startMs = performance.now();
console.log(
  `veil core bench: ${config.totalBytes / (1024 * KIB)} MiB per run, median of ${config.runs} runs, ` +
    `streams fed ${config.feedBytes / (1024 * KIB)} MiB chunks; raw = one AES-GCM call per frame-sized chunk`,
);
const nodeRows = await runBench(config);
print(`Node ${process.version}`, nodeRows);
const chromiumRows = await inChromium();
print('Chromium (headless)', chromiumRows);
const best = [...chromiumRows].sort(
  (a, b) => b.coreEncryptMBps + b.coreDecryptMBps - (a.coreEncryptMBps + a.coreDecryptMBps),
)[0];
if (best) {
  console.log(
    `\nFastest core frame length in Chromium (encrypt + decrypt): ${best.frameBytes / KIB} KiB; ` +
      `Veil's default is 512 KiB (DEFAULT_FRAME_BYTES).`,
  );
}
console.log(`done in ${((performance.now() - startMs) / 1000).toFixed(1)} s`);
