/**
 * The streaming ZIP ([Note: a streaming ZIP]): entries fed by downloads through a sink, read back
 * with a small central-directory reader; a failing entry errors the ZIP and aborts the target;
 * the listing of a selection (zip-plan.ts).
 */
import { describe, expect, it } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { DownloadSink } from '../../../../src/transfer/download-setup';
import type { Row } from '../../../../src/state/files/listing';
import type { ZipEntry } from '../../../../src/state/files/zip-entries';
import { planZip } from '../../../../src/state/files/zip-plan';
import {
  ENTRY_BUFFER_CHUNKS,
  entryPipe,
  pipeZip,
  zipStream,
} from '../../../../src/state/files/zip-stream';

/** The stored entries of a ZIP (client-zip stores, never compresses): path → bytes. */
function readZip(zip: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end -= 1;
  if (end < 0) throw new Error('no end of central directory');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i += 1) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    expect(view.getUint16(at + 10, true)).toBe(0); // stored
    const size = view.getUint32(at + 20, true);
    const nameBytes = view.getUint16(at + 28, true);
    const extraBytes = view.getUint16(at + 30, true);
    const commentBytes = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = new TextDecoder().decode(zip.subarray(at + 46, at + 46 + nameBytes));
    const data = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    out.set(name, zip.slice(data, data + size));
    at += 46 + nameBytes + extraBytes + commentBytes;
  }
  return out;
}

/** A sink that keeps what is written and how it ended. */
function memorySink(): DownloadSink & { bytes(): Uint8Array; ended: string } {
  const chunks: Uint8Array[] = [];
  const sink = {
    ended: 'open',
    write(chunk: Uint8Array) {
      chunks.push(chunk.slice());
      return Promise.resolve();
    },
    close() {
      sink.ended = 'closed';
      return Promise.resolve();
    },
    abort() {
      sink.ended = 'aborted';
      return Promise.resolve();
    },
    bytes: () => new Uint8Array(Buffer.concat(chunks)),
  };
  return sink;
}

const entry = (path: string, key = path): ZipEntry => ({ key, sizeBytes: 1, path });
const bytesOf = (key: string, length: number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => (i * 7 + key.length) % 251);

/** A download that writes `bytesOf(key)` in chunks of 1000 bytes, like the engine. */
async function fakeDownload(item: ZipEntry, sink: DownloadSink): Promise<void> {
  const all = bytesOf(item.key, item.key.length * 1500);
  for (let at = 0; at < all.length; at += 1000) await sink.write(all.slice(at, at + 1000));
  await sink.close();
}

describe('zipStream', () => {
  it('writes every entry byte for byte under its path', async () => {
    const entries = [entry('a.txt'), entry('docs/b.bin'), entry('docs/sub/c.jpg')];
    const done: string[] = [];
    const sink = memorySink();
    let lastBytes = 0;
    await pipeZip(
      zipStream(entries, fakeDownload, (e) => done.push(e.path)),
      sink,
      (n) => (lastBytes = n),
    );
    expect(sink.ended).toBe('closed');
    expect(done).toEqual(entries.map((e) => e.path));
    const read = readZip(sink.bytes());
    expect([...read.keys()]).toEqual(entries.map((e) => e.path));
    for (const e of entries) expect(read.get(e.path)).toEqual(bytesOf(e.key, e.key.length * 1500));
    expect(lastBytes).toBe(sink.bytes().length);
  });

  it('errors the ZIP naming the file that failed, and aborts the target', async () => {
    const entries = [entry('a.txt'), entry('bad.txt'), entry('c.txt')];
    const started: string[] = [];
    const sink = memorySink();
    const failing = async (item: ZipEntry, into: DownloadSink): Promise<void> => {
      started.push(item.path);
      if (item.path !== 'bad.txt') return fakeDownload(item, into);
      await into.write(new Uint8Array(10));
      const error = new VeilError('FRAME_TAMPERED');
      await into.abort(error); // as the engine does
      throw error;
    };
    const failure = await pipeZip(zipStream(entries, failing), sink).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(VeilError);
    expect((failure as VeilError).code).toBe('ZIP_FILE_FAILED');
    expect((failure as VeilError).detail).toBe('bad.txt');
    expect(((failure as VeilError).cause as VeilError).code).toBe('FRAME_TAMPERED');
    expect(sink.ended).toBe('aborted');
    expect(started).toEqual(['a.txt', 'bad.txt']);
  });

  it('keeps a cancel a cancel', async () => {
    const sink = memorySink();
    const cancelled = (_: ZipEntry, into: DownloadSink): Promise<void> => {
      const error = new VeilError('DOWNLOAD_CANCELLED');
      return into.abort(error).then(() => Promise.reject(error));
    };
    const failure = await pipeZip(zipStream([entry('a')], cancelled), sink).catch(
      (error: unknown) => error,
    );
    expect((failure as VeilError).code).toBe('DOWNLOAD_CANCELLED');
    expect(sink.ended).toBe('aborted');
  });
});

describe('entryPipe', () => {
  it('makes the download wait until the reader takes its chunks (backpressure)', async () => {
    const pipe = entryPipe('x');
    let written = 0;
    const writing = (async () => {
      for (let i = 0; i < 10; i += 1) {
        await pipe.sink.write(new Uint8Array(1));
        written += 1;
      }
      await pipe.sink.close();
    })();
    // With no reader nothing drains, however long it waits: the writes stop at the buffer.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(written).toBeLessThanOrEqual(ENTRY_BUFFER_CHUNKS + 1);
    const reader = pipe.readable.getReader();
    let read = 0;
    while (!(await reader.read()).done) read += 1;
    await writing;
    expect(read).toBe(10);
  });
});

describe('planZip', () => {
  const file = (key: string, name = key.split('/').at(-1)!): Row => ({
    kind: 'file',
    key,
    name,
    sizeBytes: 5,
    lastModifiedMs: undefined,
    etag: undefined,
  });
  it('lists folders into their files, leaving out markers and Veil’s own folder', async () => {
    const objects = ['top/photos/', 'top/photos/a.jpg', 'top/photos/2024/b.jpg'];
    const s3 = {
      list: ({ prefix }: { prefix: string }) =>
        Promise.resolve({
          objects: objects
            .filter((key) => key.startsWith(prefix))
            .map((key) => ({ key, sizeBytes: 3, lastModifiedMs: undefined, etag: undefined })),
          folders: [],
          nextToken: undefined,
        }),
    };
    const rows: Row[] = [
      file('top/readme.txt'),
      { kind: 'folder', prefix: 'top/photos/', name: 'photos' },
    ];
    const entries = await planZip(s3, 'top/', rows, undefined);
    expect(entries.map((e) => [e.key, e.path])).toEqual([
      ['top/readme.txt', 'readme.txt'],
      ['top/photos/a.jpg', 'photos/a.jpg'],
      ['top/photos/2024/b.jpg', 'photos/2024/b.jpg'],
    ]);
  });

  it('names an unreadable row without its stored name', async () => {
    const s3 = { list: () => Promise.reject(new Error('not listed')) };
    const rows: Row[] = [{ ...file('top/XyZ', 'XyZ'), unreadable: true }];
    const entries = await planZip(s3, 'top/', rows, undefined);
    expect(entries.map((e) => e.path)).toEqual(['unreadable']);
  });
});
