/**
 * The raw primitives the engines are measured against, in the bench pages (bundled by
 * tests/e2e/harness/serve.ts): reading a File with `File.stream()`, raw WebCrypto AES-GCM in plain
 * workers, and the primitive pipeline, the fastest arrangement of those two alone: `File.stream()`
 * read into 512 KiB frames on the page, each frame transferred to the least busy of the workers,
 * sealed with one raw AES-GCM call and transferred back. It has no framing, no checksums and no
 * parts, so it is the floor the upload engine's CPU and time are compared with. Its mirror for
 * downloads copies 512 KiB sealed frames out of memory into the workers and opens each with one
 * raw AES-GCM call (primitiveDecryptMs).
 */

/** Reads `file` once with File.stream(); returns the elapsed milliseconds. */
export async function streamReadMs(file: Blob): Promise<number> {
  const startMs = performance.now();
  const reader = file.stream().getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
  }
  if (bytes !== file.size) throw new Error('short read');
  return performance.now() - startMs;
}

/** A plain worker: `encrypt` seals each frame it is sent, `repeat` times one frame over and over. */
const RAW_WORKER = `
let keyPromise = crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const ivOf = (seq) => { const iv = new Uint8Array(12); new DataView(iv.buffer).setUint32(8, seq); return iv; };
onmessage = async (event) => {
  const message = event.data;
  if (message.type === 'key') keyPromise = Promise.resolve(message.key);
  const key = await keyPromise;
  if (message.type === 'warm' || message.type === 'key') { postMessage({ type: message.type }); return; }
  if (message.type === 'decrypt') {
    const iv = ivOf(message.seq);
    const opened = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: iv }, key, message.frame);
    postMessage({ type: 'decrypt', seq: message.seq, sealed: opened }, [opened]);
    return;
  }
  if (message.type === 'encrypt') {
    const iv = ivOf(message.seq);
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: iv }, key, message.frame);
    postMessage({ type: 'encrypt', seq: message.seq, sealed }, [sealed]);
    return;
  }
  // repeat: the raw cipher alone, one call per frame, on one buffer made here.
  const { totalBytes, frameBytes, decrypt } = message;
  const frame = new Uint8Array(frameBytes);
  for (let at = 0; at < frameBytes; at += 65536) crypto.getRandomValues(frame.subarray(at, Math.min(frameBytes, at + 65536)));
  const iv = ivOf(1);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: iv }, key, frame);
  const startMs = performance.now();
  for (let done = 0; done < totalBytes; done += frameBytes) {
    if (decrypt) await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: iv }, key, sealed);
    else await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: iv }, key, frame);
  }
  postMessage({ type: 'repeat', ms: performance.now() - startMs });
};`;

let rawWorkers: Worker[] = [];

/** `count` plain workers, started once and warmed (key made) before any timing. */
async function workersOf(count: number): Promise<Worker[]> {
  if (rawWorkers.length === count) return rawWorkers;
  for (const worker of rawWorkers) worker.terminate();
  const url = URL.createObjectURL(new Blob([RAW_WORKER], { type: 'text/javascript' }));
  rawWorkers = Array.from({ length: count }, () => new Worker(url));
  URL.revokeObjectURL(url);
  await Promise.all(rawWorkers.map((worker) => ask(worker, { type: 'warm' })));
  return rawWorkers;
}

function ask(worker: Worker, message: object): Promise<{ ms?: number }> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ ms?: number }>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage(message);
  });
}

/**
 * Raw WebCrypto AES-GCM in `workers` plain workers, one call per frame, `totalBytes` split
 * between them; returns the elapsed milliseconds of the slowest worker.
 */
export async function rawAesMs(
  totalBytes: number,
  workers: number,
  frameBytes: number,
  decrypt = false,
): Promise<number> {
  const started = await workersOf(workers);
  const times = await Promise.all(
    started.map((worker) =>
      ask(worker, {
        type: 'repeat',
        totalBytes: Math.ceil(totalBytes / workers),
        frameBytes,
        decrypt,
      }),
    ),
  );
  return Math.max(...times.map((reply) => reply.ms ?? 0));
}

/** Frames a worker holds at once in the primitive pipelines (the rest wait on the page). */
const FRAMES_PER_WORKER = 4;

/**
 * Sends frames to the least busy of `pool` (at most FRAMES_PER_WORKER each, by transfer) and
 * counts the bytes that come back.
 */
function dispatcher(pool: Worker[], type: 'encrypt' | 'decrypt') {
  const inFlight = pool.map(() => 0);
  let wake: (() => void) | undefined;
  let returnedBytes = 0;
  let failure: Error | undefined;
  for (const [index, worker] of pool.entries()) {
    worker.onmessage = (event: MessageEvent<{ sealed: ArrayBuffer }>) => {
      inFlight[index] = (inFlight[index] ?? 1) - 1;
      returnedBytes += event.data.sealed.byteLength;
      wake?.();
    };
    worker.onerror = (event) => {
      failure = new Error(event.message);
      wake?.();
    };
  }
  const settle = (): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
    });
  let seq = 0;
  return {
    send: async (frame: Uint8Array<ArrayBuffer>): Promise<void> => {
      for (;;) {
        if (failure) throw failure;
        const least = inFlight.indexOf(Math.min(...inFlight));
        if ((inFlight[least] ?? 0) < FRAMES_PER_WORKER) {
          inFlight[least] = (inFlight[least] ?? 0) + 1;
          const whole = frame.byteLength === frame.buffer.byteLength;
          const buffer = whole ? frame.buffer : frame.slice().buffer;
          pool[least]?.postMessage({ type, seq: ++seq, frame: buffer }, [buffer]);
          return;
        }
        await settle();
      }
    },
    /** Waits for every frame sent; returns the bytes that came back. */
    drain: async (): Promise<number> => {
      while (inFlight.some((count) => count > 0)) {
        if (failure) throw failure;
        await settle();
      }
      return returnedBytes;
    },
  };
}

/**
 * The primitive pipeline on `file`: File.stream() (a BYOB reader where the stream is a byte
 * stream, so the bytes land in the frame directly; otherwise chunks copied into it), 512 KiB frames
 * transferred to the least busy of `workers` plain workers (at most FRAMES_PER_WORKER each), one
 * raw AES-GCM call per frame, the sealed frame transferred back and dropped. Returns the elapsed
 * milliseconds and the reader used.
 */
export async function primitivePipelineMs(
  file: Blob,
  workers: number,
  frameBytes: number,
): Promise<{ ms: number; reader: 'byob' | 'default' }> {
  const { send, drain } = dispatcher(await workersOf(workers), 'encrypt');
  const startMs = performance.now();
  const stream = file.stream();
  let kind: 'byob' | 'default' = 'default';
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = stream.getReader({ mode: 'byob' });
    kind = 'byob';
  } catch {
    byob = undefined;
  }
  if (byob) {
    for (;;) {
      let frame = new Uint8Array(frameBytes);
      let filled = 0;
      let done = false;
      while (filled < frameBytes) {
        const read = await byob.read(new Uint8Array(frame.buffer, filled, frameBytes - filled));
        if (read.done || !read.value) {
          done = true;
          break;
        }
        frame = new Uint8Array(read.value.buffer);
        filled += read.value.byteLength;
      }
      if (filled > 0) await send(frame.subarray(0, filled));
      if (done || filled < frameBytes) break;
    }
  } else {
    const reader = stream.getReader();
    let frame = new Uint8Array(frameBytes);
    let filled = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (let at = 0; at < value.length;) {
        const take = Math.min(frameBytes - filled, value.length - at);
        frame.set(value.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled === frameBytes) {
          await send(frame);
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    if (filled > 0) await send(frame.subarray(0, filled));
  }
  const sealedBytes = await drain();
  const ms = performance.now() - startMs;
  const frames = Math.ceil(file.size / frameBytes);
  if (sealedBytes !== file.size + 16 * frames) throw new Error('primitive pipeline lost frames');
  return { ms, reader: kind };
}

/**
 * The primitive decrypt pipeline: `totalBytes` of plaintext sealed on the page (untimed) as raw
 * AES-GCM frames back to back, then, timed, each frame copied out of that buffer (as a network
 * read delivers fresh bytes), transferred to the least busy of `workers` plain workers, opened
 * with one raw AES-GCM call and transferred back. Returns the elapsed milliseconds.
 */
export async function primitiveDecryptMs(
  totalBytes: number,
  workers: number,
  frameBytes: number,
): Promise<number> {
  const pool = await workersOf(workers);
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  await Promise.all(pool.map((worker) => ask(worker, { type: 'key', key })));
  const frames = Math.ceil(totalBytes / frameBytes);
  const sealed = new Uint8Array(totalBytes + 16 * frames);
  const plaintext = new Uint8Array(frameBytes);
  for (let seq = 1, at = 0; seq <= frames; seq++) {
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setUint32(8, seq);
    const length = Math.min(frameBytes, totalBytes - (seq - 1) * frameBytes);
    const one = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: iv },
      key,
      plaintext.subarray(0, length),
    );
    sealed.set(new Uint8Array(one), at);
    at += one.byteLength;
  }
  const { send, drain } = dispatcher(pool, 'decrypt');
  const startMs = performance.now();
  for (let at = 0; at < sealed.length; at += frameBytes + 16) {
    await send(sealed.slice(at, at + frameBytes + 16));
  }
  const openedBytes = await drain();
  const ms = performance.now() - startMs;
  if (openedBytes !== totalBytes) throw new Error('primitive decrypt lost frames');
  return ms;
}

/** Stops the plain workers. */
export function releaseWorkers(): void {
  for (const worker of rawWorkers) worker.terminate();
  rawWorkers = [];
}
