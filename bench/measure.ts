/**
 * The benchmark body, run unchanged in Node and in Chromium: the core's streaming encrypt and
 * decrypt against raw WebCrypto AES-GCM over the same bytes with the same chunk size (one
 * subtle.encrypt / subtle.decrypt per frame-sized chunk, sequential, as the core does).
 */
import { createDecryptStream } from '../src/core/decrypt-stream';
import { createEncryptStream } from '../src/core/encrypt-stream';
import type { Keyring } from '../src/core/keyring';
import { RawAesKeyring } from '../src/keyrings/raw-aes';

/** What to measure. */
export interface BenchConfig {
  /** Plaintext bytes per measured run. */
  readonly totalBytes: number;
  /** Frame lengths to try (bytes); also the raw AES-GCM chunk size. */
  readonly frameLengths: readonly number[];
  /** Runs per figure; the median is reported. */
  readonly runs: number;
  /** Size of the chunks fed to the streams (like File slices or network reads), in bytes. */
  readonly feedBytes: number;
}

/** Median throughputs for one frame length, in MB/s (10^6 bytes per second). */
export interface BenchRow {
  readonly frameBytes: number;
  readonly rawEncryptMBps: number;
  readonly coreEncryptMBps: number;
  readonly rawDecryptMBps: number;
  readonly coreDecryptMBps: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

async function timeIt(run: () => Promise<void>): Promise<number> {
  const startMs = performance.now();
  await run();
  return performance.now() - startMs;
}

function fillRandom(bytes: Uint8Array<ArrayBuffer>): void {
  for (let offsetBytes = 0; offsetBytes < bytes.length; offsetBytes += 65536) {
    crypto.getRandomValues(bytes.subarray(offsetBytes, offsetBytes + 65536));
  }
}

function source(data: Uint8Array, feedBytes: number): ReadableStream<Uint8Array> {
  let offsetBytes = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offsetBytes >= data.length) {
          controller.close();
          return;
        }
        controller.enqueue(data.subarray(offsetBytes, offsetBytes + feedBytes));
        offsetBytes += feedBytes;
      },
    },
    { highWaterMark: 0 },
  );
}

async function pipeToChunks(
  stream: ReadableStream<Uint8Array>,
  keep: Uint8Array[] | undefined,
): Promise<void> {
  await stream.pipeTo(
    new WritableStream<Uint8Array>({
      write(chunk) {
        keep?.push(chunk);
      },
    }),
  );
}

function join(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offsetBytes = 0;
  for (const chunk of chunks) {
    out.set(chunk, offsetBytes);
    offsetBytes += chunk.length;
  }
  return out;
}

interface Timings {
  rawEncryptMs: number[];
  coreEncryptMs: number[];
  rawDecryptMs: number[];
  coreDecryptMs: number[];
}

const ivFor = (index: number): Uint8Array<ArrayBuffer> => {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setUint32(8, index + 1);
  return iv;
};

/** One run of each of the four measurements, interleaved so drift affects them alike. */
async function runOnce(
  data: Uint8Array,
  rawKey: CryptoKey,
  keyring: Keyring,
  frameBytes: number,
  config: BenchConfig,
  timings: Timings,
): Promise<void> {
  const sealed: Uint8Array<ArrayBuffer>[] = [];
  timings.rawEncryptMs.push(
    await timeIt(async () => {
      for (let index = 0; index * frameBytes < data.length; index++) {
        const chunk = data.subarray(index * frameBytes, (index + 1) * frameBytes);
        sealed.push(
          new Uint8Array(
            await crypto.subtle.encrypt(
              { name: 'AES-GCM', iv: ivFor(index) },
              rawKey,
              chunk as Uint8Array<ArrayBuffer>,
            ),
          ),
        );
      }
    }),
  );
  const kept: Uint8Array[] = [];
  timings.coreEncryptMs.push(
    await timeIt(() =>
      pipeToChunks(
        source(data, config.feedBytes).pipeThrough(createEncryptStream({ keyring, frameBytes })),
        kept,
      ),
    ),
  );
  timings.rawDecryptMs.push(
    await timeIt(async () => {
      for (const [index, chunk] of sealed.entries()) {
        await crypto.subtle.decrypt({ name: 'AES-GCM', iv: ivFor(index) }, rawKey, chunk);
      }
    }),
  );
  sealed.length = 0;
  const ciphertext = join(kept);
  kept.length = 0;
  timings.coreDecryptMs.push(
    await timeIt(() =>
      pipeToChunks(
        source(ciphertext, config.feedBytes).pipeThrough(createDecryptStream({ keyring })),
        undefined,
      ),
    ),
  );
}

/** Runs the whole benchmark; returns one row per frame length. */
export async function runBench(config: BenchConfig): Promise<BenchRow[]> {
  const data = new Uint8Array(config.totalBytes);
  fillRandom(data);
  const keyBytes = new Uint8Array(32);
  crypto.getRandomValues(keyBytes);
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes,
    keyName: 'bench',
    keyNamespace: 'veil',
  });
  const megabytes = config.totalBytes / 1e6;
  const rows: BenchRow[] = [];
  const rawKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  const rate = (timesMs: number[]): number => megabytes / (median(timesMs) / 1000);
  for (const frameBytes of config.frameLengths) {
    const timings: Timings = {
      rawEncryptMs: [],
      coreEncryptMs: [],
      rawDecryptMs: [],
      coreDecryptMs: [],
    };
    for (let run = 0; run < config.runs; run++) {
      await runOnce(data, rawKey, keyring, frameBytes, config, timings);
    }
    rows.push({
      frameBytes,
      rawEncryptMBps: rate(timings.rawEncryptMs),
      coreEncryptMBps: rate(timings.coreEncryptMs),
      rawDecryptMBps: rate(timings.rawDecryptMs),
      coreDecryptMBps: rate(timings.coreDecryptMs),
    });
  }
  return rows;
}
