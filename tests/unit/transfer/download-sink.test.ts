/**
 * The save picker's sink ([Note: joined writes] in src/transfer/browser/download-sink.ts): small
 * chunks reach the file joined into writes of one block, through one reused buffer, in order;
 * a large chunk that meets an empty buffer goes through as it is; the buffer is not reused
 * before the file took its bytes; close writes the rest; abort and failures write nothing more.
 * The file is a WritableStream that keeps the very arrays it was given and reads them only after
 * a delay, as the browser's file writer may.
 */
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { sinkFromWritable } from '../../../src/transfer/browser/download-sink';

/** A file that reads each write's bytes a macrotask later, and records what it read. */
function slowFile(options: { failAtWrite?: number } = {}) {
  const writes: Uint8Array[] = [];
  const given: Uint8Array[] = [];
  let aborted: unknown;
  let closed = false;
  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      given.push(chunk);
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (options.failAtWrite === writes.length)
        throw new DOMException('full', 'QuotaExceededError');
      writes.push(chunk.slice());
    },
    close() {
      closed = true;
    },
    abort(reason) {
      aborted = reason;
    },
  });
  return {
    writable,
    writes,
    given,
    get aborted() {
      return aborted;
    },
    get closed() {
      return closed;
    },
    bytes: () => Uint8Array.from(writes.flatMap((write) => [...write])),
  };
}

/** `count` chunks of `size` bytes, each byte naming its position. */
function chunks(count: number, size: number): Uint8Array[] {
  return Array.from({ length: count }, (_, chunk) =>
    Uint8Array.from({ length: size }, (_, at) => (chunk * size + at) % 251),
  );
}

const joined = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('sinkFromWritable', () => {
  test('joins small chunks into whole blocks, in order, and close writes the rest', async () => {
    const file = slowFile();
    const sink = sinkFromWritable(file.writable, 64);
    const input = chunks(11, 20); // 220 bytes: three blocks of 64 and 28 left
    for (const chunk of input) await sink.write(chunk);
    expect(file.writes.map((write) => write.length)).toEqual([64, 64, 64]);
    await sink.close();
    expect(file.writes.map((write) => write.length)).toEqual([64, 64, 64, 28]);
    expect(file.bytes()).toEqual(joined(input));
    expect(file.closed).toBe(true);
  });

  test('the reused buffer is not overwritten before the file read it', async () => {
    const file = slowFile();
    const sink = sinkFromWritable(file.writable, 32);
    const input = chunks(8, 16);
    for (const chunk of input) await sink.write(chunk);
    await sink.close();
    // Every block went through the same buffer, and each write still read its own bytes.
    expect(new Set(file.given.map((write) => write.buffer)).size).toBe(1);
    expect(file.bytes()).toEqual(joined(input));
  });

  test('a chunk of a block or more that meets an empty buffer is written as it is', async () => {
    const file = slowFile();
    const sink = sinkFromWritable(file.writable, 32);
    const [large] = chunks(1, 80);
    await sink.write(large!);
    expect(file.given[0]).toBe(large);
    await sink.close();
    expect(file.writes).toHaveLength(1);
  });

  test('a large chunk after a small one is split across blocks in order', async () => {
    const file = slowFile();
    const sink = sinkFromWritable(file.writable, 32);
    const input = [chunks(1, 10)[0]!, chunks(2, 45)[1]!, chunks(1, 3)[0]!];
    for (const chunk of input) await sink.write(chunk);
    await sink.close();
    expect(file.writes.map((write) => write.length)).toEqual([32, 26]);
    expect(file.bytes()).toEqual(joined(input));
  });

  test('abort drops what the buffer holds and aborts the file', async () => {
    const file = slowFile();
    const sink = sinkFromWritable(file.writable, 64);
    await sink.write(chunks(1, 40)[0]!);
    await sink.abort(new VeilError('FRAME_TAMPERED'));
    expect(file.writes).toHaveLength(0);
    expect(file.aborted).toBeInstanceOf(VeilError);
    expect(file.closed).toBe(false);
  });

  test('a failed write is DOWNLOAD_SAVE_FAILED', async () => {
    const file = slowFile({ failAtWrite: 0 });
    const sink = sinkFromWritable(file.writable, 16);
    await expect(sink.write(chunks(1, 40)[0]!)).rejects.toMatchObject({
      code: 'DOWNLOAD_SAVE_FAILED',
    });
    expect(file.writes).toHaveLength(0);
  });

  test('a failure at close (the last partial block) is DOWNLOAD_SAVE_FAILED', async () => {
    const file = slowFile({ failAtWrite: 1 });
    const sink = sinkFromWritable(file.writable, 16);
    for (const chunk of chunks(2, 10)) await sink.write(chunk); // one block written, 4 bytes held
    await expect(sink.close()).rejects.toMatchObject({ code: 'DOWNLOAD_SAVE_FAILED' });
    expect(file.closed).toBe(false);
  });
});
