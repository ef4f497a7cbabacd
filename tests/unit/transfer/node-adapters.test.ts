/**
 * The Node adapters of src/transfer/node on a temporary folder: the file source reads slices
 * from disk and fails on a missing path; the file sink writes a 0600 temporary file that close()
 * renames over the target and abort() removes; the file store keeps records across instances,
 * header bytes included, writes them 0600 in a 0700 folder and skips damaged files.
 */
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  TEMP_SUFFIX,
  fileRewrapStore,
  fileSink,
  fileUploadStore,
  openFileSource,
} from '../../../src/transfer/node';
import type { RewrapRecord } from '../../../src/transfer/rewrap-store';
import type { UploadRecord } from '../../../src/transfer/upload-store';

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veil-adapters-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(id: string, createdAtMs: number): UploadRecord {
  return {
    id,
    bucket: 'bucket',
    key: `key-${id}`,
    uploadId: id,
    protection: 'client-side',
    headerBytes: new Uint8Array([2, 0x04, 0x78, 0, 255]),
    frameBytes: 512 * 1024,
    framesPerPart: 16,
    partCount: 3,
    file: { name: 'a.bin', sizeBytes: 10, lastModifiedMs: 1_700_000_000_000, prefixSha256: 'ab' },
    parts: [{ partNumber: 1, etag: '"e1"', checksumCrc32: 'AAAAAA==' }],
    partDigests: [{ partNumber: 1, digest: 'ZGlnZXN0' }],
    createdAtMs,
  };
}

test('openFileSource reads slices of the file and names it', async () => {
  const path = join(dir, 'data.bin');
  const bytes = new Uint8Array(100_000).map((_, index) => index % 251);
  await writeFile(path, bytes);
  const file = await openFileSource(path);
  expect(file.name).toBe('data.bin');
  expect(file.size).toBe(100_000);
  expect(Number.isInteger(file.lastModified)).toBe(true);
  expect(new Uint8Array(await file.slice(70_000, 70_010).arrayBuffer())).toEqual(
    bytes.slice(70_000, 70_010),
  );
  expect((await openFileSource(path, { name: 'other' })).name).toBe('other');
});

test('openFileSource fails with IO_FAILED on a missing path or a folder', async () => {
  await expect(openFileSource(join(dir, 'missing'))).rejects.toMatchObject({
    code: 'IO_FAILED',
    detail: 'ENOENT',
  });
  await expect(openFileSource(dir)).rejects.toMatchObject({ code: 'IO_FAILED' });
});

test('fileSink writes a 0600 temporary file and renames it over the target on close', async () => {
  const target = join(dir, 'out.bin');
  await writeFile(target, 'old');
  const sink = await fileSink(target);
  await sink.write(new Uint8Array([1, 2, 3]));
  await sink.write(new Uint8Array([4, 5]));
  expect(sink.writtenBytes).toBe(5);
  expect(await readFile(target, 'utf8')).toBe('old');
  expect((await stat(sink.tempPath)).mode & 0o777).toBe(0o600);
  await sink.close();
  expect(new Uint8Array(await readFile(target))).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
  expect((await stat(target)).mode & 0o777).toBe(0o600);
  expect((await readdir(dir)).filter((name) => name.endsWith(TEMP_SUFFIX))).toEqual([]);
  await sink.close(); // a second close does nothing
});

test('fileSink abort removes the temporary file and leaves the target alone', async () => {
  const target = join(dir, 'out.bin');
  const sink = await fileSink(target);
  await sink.write(new Uint8Array([1, 2, 3]));
  await sink.abort(new Error('stop'));
  expect(await readdir(dir)).toEqual([]);
  await expect(sink.write(new Uint8Array([1]))).rejects.toMatchObject({
    code: 'DOWNLOAD_SAVE_FAILED',
  });
  await expect(sink.close()).rejects.toMatchObject({ code: 'DOWNLOAD_SAVE_FAILED' });
});

test('fileSink fails with DOWNLOAD_SAVE_FAILED when the folder is missing', async () => {
  await expect(fileSink(join(dir, 'no', 'out.bin'))).rejects.toMatchObject({
    code: 'DOWNLOAD_SAVE_FAILED',
    detail: 'ENOENT',
  });
});

test('fileUploadStore keeps records across instances, header bytes included', async () => {
  const folder = join(dir, 'store');
  const store = fileUploadStore(folder);
  await store.put(record('b/2+=', 2));
  await store.put(record('a.1', 1));
  const again = fileUploadStore(folder);
  const listed = await again.list();
  expect(listed.map((entry) => entry.id)).toEqual(['a.1', 'b/2+=']);
  expect(listed[0]).toEqual(record('a.1', 1));
  expect(listed[0]?.headerBytes).toBeInstanceOf(Uint8Array);
  expect(await again.get('b/2+=')).toEqual(record('b/2+=', 2));
  expect(await again.get('missing')).toBeUndefined();
  expect((await stat(folder)).mode & 0o777).toBe(0o700);
  const names = await readdir(folder);
  expect(names).toHaveLength(2);
  for (const name of names) {
    expect(name).toMatch(/^[0-9a-f]{64}\.json$/);
    expect((await stat(join(folder, name))).mode & 0o777).toBe(0o600);
  }
  await again.delete('a.1');
  expect((await store.list()).map((entry) => entry.id)).toEqual(['b/2+=']);
});

test('fileUploadStore skips damaged and foreign files', async () => {
  const folder = join(dir, 'store');
  const store = fileUploadStore(folder);
  await store.put(record('one', 1));
  await writeFile(join(folder, `${'0'.repeat(64)}.json`), '{ not json');
  await writeFile(join(folder, `${'1'.repeat(64)}.json`), JSON.stringify({ key: 'upload:x' }));
  await writeFile(join(folder, 'notes.txt'), 'hello');
  expect((await store.list()).map((entry) => entry.id)).toEqual(['one']);
});

test('fileRewrapStore keeps rewrap records beside upload records, each store seeing its own', async () => {
  const folder = join(dir, 'store');
  const rewrap: RewrapRecord = {
    id: 'rewrap-upload-1',
    bucket: 'b',
    key: 'k',
    uploadId: 'rewrap-upload-1',
    sourceEtag: '"e"',
    oldObjectBytes: 20_000_000,
    oldHeaderBytes: 300,
    newHeader: 'AAEC',
    putMaxBytes: 5 * 1024 * 1024,
    copyPartBytes: 128 * 1024 * 1024,
    parts: [{ partNumber: 1, etag: '"p1"' }],
    removed: [],
    added: [{ providerId: 'veil', providerInfo: 'bmFtZQ==', ciphertext: 'AQID' }],
    createdAtMs: 1,
  };
  await fileUploadStore(folder).put(record('one', 1));
  await fileRewrapStore(folder).put(rewrap);
  expect(await fileRewrapStore(folder).get('rewrap-upload-1')).toEqual(rewrap);
  expect((await fileRewrapStore(folder).list()).map((entry) => entry.id)).toEqual([
    'rewrap-upload-1',
  ]);
  expect((await fileUploadStore(folder).list()).map((entry) => entry.id)).toEqual(['one']);
  await fileRewrapStore(folder).delete('rewrap-upload-1');
  expect(await fileRewrapStore(folder).list()).toEqual([]);
});
