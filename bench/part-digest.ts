/**
 * `npm run bench:digest`: what the resume digests cost ([Note: resume digests] in
 * src/transfer/part-digest.ts). The same bytes are sealed the way the part builder seals them (one
 * AES-256-GCM call per 512 KiB frame), once alone and once with the SHA-256 of each frame's
 * plaintext beside the seal and one HMAC per 8 MiB part, in Node and in headless Chromium;
 * medians of several runs and their ratio, measured side by side in one process.
 *
 * Env: VEIL_BENCH_MIB (MiB per run, default 256), VEIL_BENCH_RUNS (default 7).
 */
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions } from '../scripts/chromium';
import { buildAndServe } from '../tests/e2e/harness/serve';

const MiB = 1024 * 1024;
const totalBytes = Number(process.env.VEIL_BENCH_MIB ?? 256) * MiB;
const runs = Number(process.env.VEIL_BENCH_RUNS ?? 7);

interface Figures {
  readonly sealMBps: number;
  readonly sealWithDigestMBps: number;
}

/** Runs in Node or in the page: it must be self-contained (it is serialized for the page). */
async function measure(config: { totalBytes: number; runs: number }): Promise<Figures> {
  const frameBytes = 512 * 1024;
  const partFrames = 16;
  const data = new Uint8Array(config.totalBytes);
  for (let at = 0; at < data.length; at += 65_536) {
    crypto.getRandomValues(data.subarray(at, Math.min(data.length, at + 65_536)));
  }
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const macKey = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const iv = new Uint8Array(12);
  const pass = async (withDigest: boolean): Promise<number> => {
    const started = performance.now();
    let hashes: Promise<ArrayBuffer>[] = [];
    for (let at = 0, frame = 0; at < data.length; at += frameBytes, frame++) {
      const plaintext = data.subarray(at, at + frameBytes);
      if (withDigest) hashes.push(crypto.subtle.digest('SHA-256', plaintext));
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext);
      if (withDigest && (frame + 1) % partFrames === 0) {
        const joined = new Uint8Array(hashes.length * 32);
        (await Promise.all(hashes)).forEach((hash, index) =>
          joined.set(new Uint8Array(hash), index * 32),
        );
        await crypto.subtle.sign('HMAC', macKey, joined);
        hashes = [];
      }
    }
    return data.length / 1e6 / ((performance.now() - started) / 1000);
  };
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const plain: number[] = [];
  const digested: number[] = [];
  await pass(false);
  for (let run = 0; run < config.runs; run++) {
    // Alternated, so drift in the machine's load hits both alike.
    plain.push(await pass(false));
    digested.push(await pass(true));
  }
  return { sealMBps: median(plain), sealWithDigestMBps: median(digested) };
}

async function inChromium(): Promise<Figures> {
  const served = await buildAndServe(new URL('./browser-entry.ts', import.meta.url));
  const browser = await chromium.launch(chromiumLaunchOptions());
  try {
    const page = await browser.newPage();
    await page.goto(served.url);
    await page.waitForFunction(() => document.title === 'ready');
    // The bundler names functions through a helper the page lacks; give it one.
    await page.evaluate('globalThis.__name = (target) => target');
    return await page.evaluate(measure, { totalBytes, runs });
  } finally {
    await browser.close();
    await served.close();
  }
}

function print(label: string, figures: Figures): void {
  console.log(
    `${label.padEnd(20)} seal ${figures.sealMBps.toFixed(0).padStart(5)} MB/s | ` +
      `seal + digest ${figures.sealWithDigestMBps.toFixed(0).padStart(5)} MB/s | ` +
      `ratio ${(figures.sealWithDigestMBps / figures.sealMBps).toFixed(2)}`,
  );
}

console.log(
  `veil digest bench: ${totalBytes / MiB} MiB per run, 512 KiB frames, 8 MiB parts, median of ${runs}`,
);
print(`Node ${process.version}`, await measure({ totalBytes, runs }));
print('Chromium (headless)', await inChromium());
