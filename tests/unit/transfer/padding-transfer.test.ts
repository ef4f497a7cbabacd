/**
 * [Note: size padding] through the engines: a padded upload (one PutObject and multipart) stores
 * a message of the Padmé length whose plaintext is the file then exactly the ISO padding, the
 * download engine strips it (also on a resumed download), a resumed padded upload is padded the
 * same way, and a message that claims padding without it is refused with PADDING_INVALID.
 */
import { describe, expect, test } from 'vitest';
import {
  PADDING_CONTEXT_KEY,
  concatBytes,
  decryptBytes,
  encryptBytes,
  paddedLength,
  paddingBytes,
  parseHeaderBytes,
  withPadding,
} from '../../../src/core';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { downloadObject } from '../../../src/transfer/download';
import { paddedSource, paddingBlob } from '../../../src/transfer/padded-source';
import { inProcessBuilder } from '../../../src/transfer/part-builder';
import { FileUpload } from '../../../src/transfer/upload';
import { MemoryUploadStore } from '../../../src/transfer/upload-store';
import { FakeDownloadS3, MemorySink } from './download-fake-s3';
import { FakeS3, s3Error } from './fake-s3';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const FRAME = 64 * 1024;
const NO_WAIT = { sleep: () => Promise.resolve() };
const CONTEXT = withPadding({ 'veil-app': 'veil' }, 'padme');

const keyring = () =>
  RawAesKeyring.fromBytes({
    keyBytes: Uint8Array.from({ length: 32 }, (_, i) => i * 5),
    keyName: 'unit',
    keyNamespace: 'veil',
  });

function content(sizeBytes: number): Uint8Array<ArrayBuffer> {
  // Ends in 0x80 0x00 0x00: content that itself looks like padding must survive.
  const bytes = Uint8Array.from({ length: sizeBytes }, (_, i) => (i * 7 + (i >> 11)) & 0xff);
  if (sizeBytes >= 3) bytes.set([0x80, 0, 0], sizeBytes - 3);
  return bytes;
}

async function upload(s3: FakeS3, file: File, extra: object = {}) {
  return FileUpload.start({
    s3,
    builder: inProcessBuilder,
    keyring: await keyring(),
    file,
    bucket: 'b',
    key: 'k',
    frameBytes: FRAME,
    partBytes: PART,
    retryHooks: NO_WAIT,
    origin: 'https://app.example',
    encryptionContext: CONTEXT,
    ...extra,
  });
}

async function download(body: Uint8Array, options: { resumeFromBytes?: number } = {}) {
  const s3 = new FakeDownloadS3();
  s3.put('k', body);
  const etag = s3.objects.get('k')!.etag;
  const sink = new MemorySink();
  const result = await downloadObject({
    s3,
    bucket: 'b',
    key: 'k',
    keyring: await keyring(),
    sink,
    rangeBytes: 2 * (FRAME + 32),
    retryHooks: NO_WAIT,
    origin: 'https://app.example',
    ...(options.resumeFromBytes !== undefined
      ? { resumeFrom: { writtenBytes: options.resumeFromBytes, etag } }
      : {}),
  });
  return { result, sink };
}

describe('paddedSource', () => {
  test('is the file then 0x80 and zeros to the Padmé length, with the same name and date', async () => {
    const bytes = content(100_000);
    const file = new File([bytes], 'a.bin', { lastModified: 1234, type: 'text/plain' });
    const source = paddedSource(file, 'padme');
    expect(source.size).toBe(paddedLength(bytes.length));
    expect([source.name, source.lastModified, source.type]).toEqual(['a.bin', 1234, 'text/plain']);
    expect(new Uint8Array(await source.arrayBuffer())).toEqual(
      concatBytes(bytes, paddingBytes(bytes.length)),
    );
    expect(paddedSource(file, undefined)).toBe(file);
  });

  test('spans many repeats of the shared zero Blob for padding beyond 1 MiB', async () => {
    const contentBytes = 2 ** 26 + 1; // 64 MiB + 1: Padmé adds 2 MiB - 1
    const blob = paddingBlob(contentBytes);
    expect(blob.size).toBe(paddedLength(contentBytes) - contentBytes);
    expect(blob.size).toBeGreaterThan(2 * MiB - 2);
    const bytes = new Uint8Array(await blob.arrayBuffer());
    expect(bytes[0]).toBe(0x80);
    expect(bytes.subarray(1).every((b) => b === 0)).toBe(true);
  });
});

describe('a padded upload and its download', () => {
  test.each([
    ['one PutObject', 300_000],
    ['multipart', 2 * PART + 12_345],
  ])(
    '%s: the object is the Padmé size, official readers see the padding, Veil strips it',
    async (_, size) => {
      const s3 = new FakeS3();
      const bytes = content(size);
      const file = new File([bytes], 'f.bin', { lastModified: 1 });
      const done = await (await upload(s3, file)).done;
      const body = s3.objects.get('k')!.body;
      expect(done.objectBytes).toBe(body.length);
      expect(parseHeaderBytes(body).encryptionContext[PADDING_CONTEXT_KEY]).toBe('padme');
      // What any ESDK reader outputs: the content then exactly the ISO padding.
      const plain = await decryptBytes(body, { keyring: await keyring() });
      expect(plain.length).toBe(paddedLength(size));
      expect(Buffer.compare(plain, concatBytes(bytes, paddingBytes(size)))).toBe(0);
      // What Veil's download engine writes: the content alone.
      const { sink, result } = await download(body);
      expect(sink.closed).toBe(true);
      expect(Buffer.compare(sink.bytes(), bytes)).toBe(0);
      expect(result.writtenBytes).toBe(size);
      // A resumed download (from inside the content) ends with the same bytes.
      const resumed = await download(body, { resumeFromBytes: size - 70_000 });
      expect(Buffer.compare(resumed.sink.bytes(), bytes.subarray(size - 70_000))).toBe(0);
    },
  );

  test('a resumed padded upload is padded the same way', async () => {
    const s3 = new FakeS3();
    const store = new MemoryUploadStore();
    s3.failWith = (call, input) =>
      call === 'part' && input.PartNumber === 2 ? s3Error('AccessDenied', 403) : undefined;
    const bytes = content(2 * PART + 7);
    const file = new File([bytes], 'f.bin', { lastModified: 5 });
    const first = await upload(s3, file, { store, keepOnFailure: true, partsInFlight: 1 });
    await expect(first.done).rejects.toMatchObject({ code: 'S3_REJECTED' });
    const [record] = await store.list();
    expect(record?.file.sizeBytes).toBe(bytes.length);
    s3.failWith = () => undefined;
    const resumed = FileUpload.resume(record!, file, {
      s3,
      builder: inProcessBuilder,
      keyring: await keyring(),
      store,
      retryHooks: NO_WAIT,
    });
    await expect(resumed.done).resolves.toMatchObject({ method: 'multipart' });
    const body = s3.objects.get('k')!.body;
    const plain = await decryptBytes(body, { keyring: await keyring() });
    expect(Buffer.compare(plain, concatBytes(bytes, paddingBytes(bytes.length)))).toBe(0);
  });

  test('a message that claims padding but has none is refused, and nothing is kept', async () => {
    const bytes = content(5000).fill(7);
    const body = await encryptBytes(bytes, {
      keyring: await keyring(),
      encryptionContext: CONTEXT,
      frameBytes: FRAME,
    });
    const s3 = new FakeDownloadS3();
    s3.put('k', body);
    const sink = new MemorySink();
    await expect(
      downloadObject({
        s3,
        bucket: 'b',
        key: 'k',
        keyring: await keyring(),
        sink,
        retryHooks: NO_WAIT,
        origin: 'https://app.example',
      }),
    ).rejects.toMatchObject({ code: 'PADDING_INVALID' });
    expect(sink.aborted).toBe(true);
    expect(sink.chunks).toEqual([]);
  });

  test('a scheme Veil does not know is refused before any output', async () => {
    const body = await encryptBytes(content(100), {
      keyring: await keyring(),
      encryptionContext: { [PADDING_CONTEXT_KEY]: 'bucket-v9' },
      frameBytes: FRAME,
    });
    await expect(download(body)).rejects.toMatchObject({ code: 'PADDING_UNKNOWN' });
  });
});
