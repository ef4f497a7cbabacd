/**
 * `npm run bench:padding`: what size padding ([Note: size padding] in src/core/padding.ts) costs.
 *
 * (a) Space: Padmé's overhead, (padded length - file size) / file size with the padded length
 *     paddedLength(L) = Padmé(L + 1), over VEIL_BENCH_SAMPLES sizes drawn log-uniformly from
 *     1 KiB to 4 GiB (default 1,000,000, a fixed seed), and over the sizes of the regular files
 *     under VEIL_BENCH_TREE (default /usr/share): mean, median, p95 and largest per file, and
 *     for the tree also the total bytes stored against the total bytes of the files, and the
 *     same for its files of 1 KiB or more (the 0x80 byte dominates tiny files).
 * (b) Time: stripping the padding while streaming (createUnpadStream) against a pass-through
 *     TransformStream, side by side over the same padded plaintext (VEIL_BENCH_MIB MiB of file,
 *     default 256, then its padding) in 1 MiB chunks, runs alternating (VEIL_BENCH_RUNS, default
 *     7): medians in MB/s and their ratio.
 *
 * The machine's load (os.loadavg) is printed first and last.
 */
import { readdir, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { paddedLength } from '../src/core/padding';
import { createUnpadStream } from '../src/core/unpad';

const samples = Number(process.env.VEIL_BENCH_SAMPLES ?? 1_000_000);
const tree = process.env.VEIL_BENCH_TREE ?? '/usr/share';
const streamMiB = Number(process.env.VEIL_BENCH_MIB ?? 256);
const runs = Number(process.env.VEIL_BENCH_RUNS ?? 7);
const MiB = 1024 * 1024;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/** A small deterministic PRNG (mulberry32), so the log-uniform figures repeat. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Overhead {
  readonly files: number;
  readonly meanPercent: number;
  readonly medianPercent: number;
  readonly p95Percent: number;
  readonly maxPercent: number;
  /** Total padded bytes over total file bytes, less one, in percent. */
  readonly totalPercent: number;
}

function overheadOf(sizes: number[]): Overhead {
  const ratios: number[] = [];
  let fileBytes = 0;
  let paddedBytes = 0;
  for (const size of sizes) {
    const padded = paddedLength(size);
    ratios.push(((padded - size) / size) * 100);
    fileBytes += size;
    paddedBytes += padded;
  }
  const sum = ratios.reduce((a, b) => a + b, 0);
  ratios.sort((a, b) => a - b);
  return {
    files: sizes.length,
    meanPercent: sum / ratios.length,
    medianPercent: percentile(ratios, 0.5),
    p95Percent: percentile(ratios, 0.95),
    maxPercent: ratios.at(-1) ?? 0,
    totalPercent: (paddedBytes / fileBytes - 1) * 100,
  };
}

function logUniformSizes(count: number): number[] {
  const next = random(19);
  const low = Math.log2(1024);
  const high = Math.log2(4 * 1024 ** 3);
  return Array.from({ length: count }, () => Math.round(2 ** (low + next() * (high - low))));
}

async function treeSizes(root: string): Promise<number[]> {
  const sizes: number[] = [];
  const folders = [root];
  while (folders.length > 0) {
    const folder = folders.pop() ?? '';
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) folders.push(path);
      else if (entry.isFile()) {
        const info = await stat(path).catch(() => undefined);
        if (info && info.size > 0) sizes.push(info.size);
      }
    }
  }
  return sizes;
}

/** The padded plaintext: `fileBytes` of pseudo-random content, 0x80, zeros to the Padmé size. */
function paddedPlaintext(fileBytes: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(paddedLength(fileBytes));
  for (let at = 0; at < fileBytes; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(fileBytes, at + 65536)));
  }
  bytes[fileBytes] = 0x80;
  return bytes;
}

async function timeStream(
  data: Uint8Array,
  transform: TransformStream<Uint8Array, Uint8Array>,
): Promise<{ ms: number; outBytes: number }> {
  let at = 0;
  let outBytes = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= data.length) {
        controller.close();
        return;
      }
      controller.enqueue(data.subarray(at, at + MiB));
      at += MiB;
    },
  });
  const sink = new WritableStream<Uint8Array>({
    write(chunk) {
      outBytes += chunk.length;
    },
  });
  const startMs = performance.now();
  await source.pipeThrough(transform).pipeTo(sink);
  return { ms: performance.now() - startMs, outBytes };
}

const fmt = (n: number, digits = 2): string => n.toFixed(digits);

function printOverhead(label: string, o: Overhead): void {
  console.log(
    `${label}: ${o.files} files; overhead per file mean ${fmt(o.meanPercent)}%, median ` +
      `${fmt(o.medianPercent)}%, p95 ${fmt(o.p95Percent)}%, max ${fmt(o.maxPercent)}%; ` +
      `total bytes +${fmt(o.totalPercent)}%`,
  );
}

async function main(): Promise<void> {
  console.log(
    `load ${loadavg()
      .map((l) => fmt(l))
      .join(' ')}`,
  );
  printOverhead('log-uniform 1 KiB..4 GiB', overheadOf(logUniformSizes(samples)));
  const real = await treeSizes(tree);
  if (real.length > 0) {
    printOverhead(`files under ${tree}`, overheadOf(real));
    // The 0x80 byte dominates tiny files (1 byte is stored as 2): the same files from 1 KiB on.
    printOverhead(
      `files under ${tree} of 1 KiB or more`,
      overheadOf(real.filter((s) => s >= 1024)),
    );
  }

  const fileBytes = streamMiB * MiB + 12_345;
  const data = paddedPlaintext(fileBytes);
  const passMBps: number[] = [];
  const unpadMBps: number[] = [];
  for (let run = 0; run < runs; run++) {
    const pass = await timeStream(data, new TransformStream<Uint8Array, Uint8Array>());
    const strip = await timeStream(data, createUnpadStream());
    if (strip.outBytes !== fileBytes || pass.outBytes !== data.length) {
      throw new Error('the streams gave back the wrong number of bytes');
    }
    passMBps.push(data.length / 1e6 / (pass.ms / 1000));
    unpadMBps.push(data.length / 1e6 / (strip.ms / 1000));
  }
  const pass = median(passMBps);
  const strip = median(unpadMBps);
  console.log(
    `stream ${fmt(data.length / MiB, 1)} MiB padded plaintext (${streamMiB} MiB file) in 1 MiB ` +
      `chunks, median of ${runs}: pass-through ${fmt(pass, 0)} MB/s, unpad ${fmt(strip, 0)} MB/s, ` +
      `unpad/pass-through ${fmt(strip / pass)}`,
  );
  console.log(
    `load ${loadavg()
      .map((l) => fmt(l))
      .join(' ')}`,
  );
}

await main();
