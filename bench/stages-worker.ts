/**
 * The module worker of bench/stages.ts: times each stage of building upload parts, one at a time
 * on one thread, over a whole file, with the engine's own functions (src/transfer/build-part.ts
 * does the same work interleaved): reading 16 MiB slices (and, for comparison, the whole file
 * with bytes() and through a BYOB reader into one reused buffer), sealing 512 KiB frames (the
 * core's sealFrame, and raw AES-GCM for reference), copying frames into 8 MiB parts (new ones,
 * and one used again as recycled part buffers are), a Blob of the sealed frames without a part,
 * the part checksum (the engine's CRC-32, the options of checksum-options.ts and WebCrypto
 * SHA-256), and the resume digests ([Note: resume digests]).
 */
import { sealFrame } from '../src/core';
import { crc32 } from '../src/transfer/crc32';
import { frameHash, partDigest } from '../src/transfer/part-digest';
import { crc32Slice8, wasmCrc32 } from './checksum-options';

/** What the page asks. */
export interface StagesRequest {
  readonly file: Blob;
  readonly frameBytes: number;
  readonly partBytes: number;
}

/** Milliseconds spent in each stage over the whole file. */
export type StageTimes = Record<string, number>;

const READ_BYTES = 16 * 1024 * 1024;

async function measure({ file, frameBytes, partBytes }: StagesRequest): Promise<StageTimes> {
  const times: StageTimes = {};
  const timed = async <T>(stage: string, work: () => T | Promise<T>): Promise<T> => {
    const startMs = performance.now();
    const value = await work();
    times[stage] = (times[stage] ?? 0) + performance.now() - startMs;
    return value;
  };
  const contentKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
  ]);
  const digestKey = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const messageId = crypto.getRandomValues(new Uint8Array(32));
  const wasm = wasmCrc32(partBytes + 4096);
  let seq = 0;
  // The reading options, each over the whole file: bytes() (the engine's), and a byte stream
  // read with a BYOB reader into one 16 MiB buffer used again for every slice.
  await timed('read: Blob.slice(16 MiB).bytes() (engine)', async () => {
    for (let at = 0; at < file.size; at += READ_BYTES) {
      const end = Math.min(file.size, at + READ_BYTES);
      const bytes = await (file.slice(at, end) as Blob & { bytes(): Promise<Uint8Array> }).bytes();
      if (bytes.length !== end - at) throw new Error('short read');
    }
  });
  await timed('read: File.stream() BYOB into a reused 16 MiB buffer', async () => {
    let buffer = new ArrayBuffer(READ_BYTES);
    const reader = file.stream().getReader({ mode: 'byob' });
    let total = 0;
    for (;;) {
      let filled = 0;
      let done = false;
      while (filled < READ_BYTES) {
        const read = await reader.read(new Uint8Array(buffer, filled, READ_BYTES - filled));
        if (read.value) buffer = read.value.buffer;
        if (read.done || !read.value) {
          done = true;
          break;
        }
        filled += read.value.byteLength;
      }
      total += filled;
      if (done) break;
    }
    if (total !== file.size) throw new Error('short read');
  });
  const reusedPart = new Uint8Array(partBytes + (partBytes / frameBytes) * 4096);
  for (let at = 0; at < file.size; at += READ_BYTES) {
    const slice = await timed(
      'read',
      async () =>
        new Uint8Array(await file.slice(at, Math.min(file.size, at + READ_BYTES)).arrayBuffer()),
    );
    for (let partAt = 0; partAt < slice.length; partAt += partBytes) {
      const plaintext = slice.subarray(partAt, partAt + partBytes);
      const frames: Uint8Array<ArrayBuffer>[] = [];
      for (let from = 0; from < plaintext.length; from += frameBytes) {
        frames.push(plaintext.subarray(from, from + frameBytes));
      }
      const firstSeq = seq + 1;
      const sealed = await timed('encrypt', async () => {
        const out = [];
        for (const frame of frames) {
          out.push(
            await sealFrame({
              contentKey,
              messageId,
              seq: ++seq,
              isFinal: false,
              plaintext: frame,
            }),
          );
        }
        return out;
      });
      await timed('raw AES-GCM (reference)', async () => {
        const iv = new Uint8Array(12);
        for (const frame of frames) {
          await crypto.subtle.encrypt(
            { name: 'AES-GCM', iv, additionalData: iv },
            contentKey,
            frame,
          );
        }
      });
      const part = await timed('copy into the part', () => {
        const bytes = new Uint8Array(
          sealed.reduce((sum, { prefix, sealed: body }) => sum + prefix.length + body.length, 0),
        );
        let writeAt = 0;
        for (const { prefix, sealed: body } of sealed) {
          bytes.set(prefix, writeAt);
          bytes.set(body, writeAt + prefix.length);
          writeAt += prefix.length + body.length;
        }
        return bytes;
      });
      await timed('copy into a reused part (recycled buffers)', () => {
        let writeAt = 0;
        for (const { prefix, sealed: body } of sealed) {
          reusedPart.set(prefix, writeAt);
          reusedPart.set(body, writeAt + prefix.length);
          writeAt += prefix.length + body.length;
        }
        return writeAt;
      });
      await timed('Blob of the sealed frames, in the worker (no part)', () => {
        const pieces: BlobPart[] = sealed.flatMap(({ prefix, sealed: body }) => [
          prefix as Uint8Array<ArrayBuffer>,
          body as Uint8Array<ArrayBuffer>,
        ]);
        const blob = new Blob(pieces);
        if (blob.size !== part.length) throw new Error('blob size');
      });
      const expected = crc32Slice8(part);
      await timed('checksum: CRC-32 JS, engine (crc32.ts)', () => crc32(part));
      await timed('checksum: CRC-32 JS, slicing by 8 (before)', () => crc32Slice8(part));
      const fromWasm = await timed('checksum: CRC-32 WebAssembly, slicing by 16', () => wasm(part));
      if (fromWasm !== expected || crc32(part) !== expected) throw new Error('CRC-32 mismatch');
      await timed('checksum: SHA-256 WebCrypto', () => crypto.subtle.digest('SHA-256', part));
      await timed('resume digests: SHA-256 per frame + HMAC per part', async () => {
        const hashes = await Promise.all(frames.map((frame) => frameHash(frame)));
        const range = { firstSeq, lastSeq: seq, plaintextBytes: plaintext.length };
        return partDigest(digestKey, range, hashes);
      });
    }
  }
  return times;
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<StagesRequest>) => void) | null;
  postMessage(message: { times?: StageTimes; error?: string }): void;
};
scope.onmessage = (event) => {
  measure(event.data).then(
    (times) => scope.postMessage({ times }),
    (error: unknown) => scope.postMessage({ error: String(error) }),
  );
};
