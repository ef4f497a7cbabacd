/**
 * The private temporary file behind `veil cp '<link>' -` ([Note: stdout after verification] in
 * cp-link-stdout.ts): created in the OS temp folder with mode 0600, nothing reaches the output
 * before the download closed the sink, and the file is gone after a release, an abort, a
 * discard, a failed write to the output, and on SIGINT (discardPendingOutputs).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stdoutSink } from '../../../src/cli/cp-link-stdout';
import { discardPendingOutputs } from '../../../src/cli/files';
import { VeilError } from '../../../src/core/errors';

let folder = '';
let savedTmpdir: string | undefined;
beforeEach(() => {
  savedTmpdir = process.env.TMPDIR;
  folder = mkdtempSync(join(tmpdir(), 'veil-stdout-sink-'));
  process.env.TMPDIR = folder; // os.tmpdir() reads it on each call
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(folder, { recursive: true, force: true });
});

/** An output that keeps what it is given. */
function collector(): { out: PassThrough; bytes: () => Buffer } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { out, bytes: () => Buffer.concat(chunks) };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof VeilError ? error.code : String(error)),
  );
}

describe('stdoutSink', () => {
  it('writes a 0600 file in the temp folder and releases nothing before close', async () => {
    const sink = await stdoutSink(() => undefined);
    expect(sink.tempPath.startsWith(folder)).toBe(true);
    expect(statSync(sink.tempPath).mode & 0o777).toBe(0o600);
    const all = Buffer.from(Array.from({ length: 3 * 256 }, (_, i) => i % 256));
    await sink.write(all.subarray(0, 100));
    await sink.write(all.subarray(100));
    const { out, bytes } = collector();
    // Before the download closed the sink, nothing is released.
    expect(await codeOf(sink.release(out))).toBe('DOWNLOAD_SAVE_FAILED');
    expect(bytes().length).toBe(0);
    // The download still owns the file; its abort (or discard) removes it.
    expect(readdirSync(folder)).toHaveLength(1);
    await sink.discard();
    expect(readdirSync(folder)).toEqual([]);
  });

  it('after close: the output gets every byte and the file is gone', async () => {
    const sink = await stdoutSink(() => undefined);
    const all = Buffer.from(Array.from({ length: 5 * 256 }, (_, i) => i % 256));
    await sink.write(all);
    await sink.close();
    const { out, bytes } = collector();
    await sink.release(out);
    expect(bytes().equals(all)).toBe(true);
    expect(readdirSync(folder)).toEqual([]);
  });

  it('an abort removes the file and a release after it gives nothing', async () => {
    const sink = await stdoutSink(() => undefined);
    await sink.write(new Uint8Array([1, 2, 3]));
    await sink.abort(new VeilError('TRUNCATED'));
    expect(readdirSync(folder)).toEqual([]);
    const { out, bytes } = collector();
    expect(await codeOf(sink.release(out))).toBe('DOWNLOAD_SAVE_FAILED');
    expect(bytes().length).toBe(0);
    await sink.discard(); // safe again
  });

  it('an output that fails (a closed pipe) still leaves no file', async () => {
    const sink = await stdoutSink(() => undefined);
    await sink.write(new Uint8Array(10));
    await sink.close();
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }));
      },
    });
    broken.on('error', () => undefined);
    expect(await codeOf(sink.release(broken))).toContain('EPIPE');
    expect(readdirSync(folder)).toEqual([]);
  });

  it('SIGINT (discardPendingOutputs) stops the download and removes the file', async () => {
    const reasons: unknown[] = [];
    const sink = await stdoutSink((reason) => reasons.push(reason));
    await sink.write(new Uint8Array(10));
    discardPendingOutputs('SIGINT');
    expect(reasons).toEqual(['SIGINT']);
    expect(readdirSync(folder)).toEqual([]);
    await sink.discard();
  });
});
