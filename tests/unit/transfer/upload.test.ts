/**
 * The upload engine against an in-memory S3 (fake-s3.ts) with parts built in process: the
 * decision between PutObject and multipart, the assembled object, parallel lanes, retries,
 * pause/resume, cancel, the CORS check, and resume from a stored record.
 */
import { describe, expect, test } from 'vitest';
import { decryptBytes } from '../../../src/core/one-shot';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { FileUpload, type UploadOptions } from '../../../src/transfer/upload';
import { MemoryUploadStore, fileIdentity, sameFile } from '../../../src/transfer/upload-store';
import { inProcessBuilder } from '../../../src/transfer/part-builder';
import { FakeS3, s3Error } from './fake-s3';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const FRAME = 64 * 1024;
const NO_WAIT = { sleep: () => Promise.resolve() };

const keyring = () =>
  RawAesKeyring.fromBytes({
    keyBytes: Uint8Array.from({ length: 32 }, (_, i) => i * 3),
    keyName: 'unit',
    keyNamespace: 'veil',
  });

function file(sizeBytes: number, seed = 1, name = 'f.bin'): File {
  const bytes = Uint8Array.from(
    { length: sizeBytes },
    (_, i) => (i * 7 + seed * 13 + (i >> 12)) & 0xff,
  );
  return new File([bytes], name, { lastModified: 1_000 });
}

async function options(
  s3: FakeS3,
  f: File,
  extra: Partial<UploadOptions> = {},
): Promise<UploadOptions> {
  return {
    s3,
    builder: inProcessBuilder,
    keyring: await keyring(),
    file: f,
    bucket: 'b',
    key: 'k',
    frameBytes: FRAME,
    partBytes: PART,
    retryHooks: NO_WAIT,
    origin: 'https://app.example',
    ...extra,
  };
}

async function expectObject(s3: FakeS3, f: File): Promise<void> {
  const stored = s3.objects.get('k');
  expect(stored).toBeDefined();
  const back = await decryptBytes(stored!.body, { keyring: await keyring() });
  expect(Buffer.compare(back, new Uint8Array(await f.arrayBuffer()))).toBe(0);
}

describe('FileUpload', () => {
  test.each([
    [0, 'put', ['put']],
    [1, 'put', ['put']],
    [PART, 'put', ['put']],
    [PART + 1, 'multipart', ['create', 'part:1', 'part:2', 'complete']],
  ])('%i bytes go by %s', async (size, method, calls) => {
    const s3 = new FakeS3();
    const f = file(size);
    const upload = FileUpload.start(await options(s3, f, { model: 'A' }));
    await expect(upload.done).resolves.toMatchObject({ method });
    expect([...s3.calls].sort()).toEqual([...calls].sort());
    await expectObject(s3, f);
    expect(upload.progress).toMatchObject({
      state: 'done',
      encryptedBytes: size,
      partsDone: calls.length === 1 ? 1 : 2,
    });
    if (method === 'put')
      expect(s3.objects.get('k')?.metadata).toEqual({
        'veil-format': 'esdk-v2-0478-framed',
        'veil-model': 'A',
      });
  });

  test('runs parts in parallel lanes, bounded by partsInFlight', async () => {
    const s3 = new FakeS3();
    s3.partDelayMs = 20;
    const f = file(4 * PART + 3);
    await FileUpload.start(await options(s3, f, { partsInFlight: 3 })).done;
    expect(s3.maxPartsInFlight).toBe(3);
    await expectObject(s3, f);
  });

  test('a pool builds runs of consecutive parts, still within partsInFlight', async () => {
    const s3 = new FakeS3();
    s3.partDelayMs = 5;
    const runs: number[][] = [];
    const single: number[] = [];
    const pool = {
      size: 2,
      buildPart: async (job: Parameters<typeof inProcessBuilder.buildPart>[0]) => {
        single.push(job.firstSeq);
        return inProcessBuilder.buildPart(job);
      },
      buildParts: async (job: Parameters<NonNullable<typeof inProcessBuilder.buildParts>>[0]) => {
        runs.push(job.parts.map((part) => part.firstSeq));
        return inProcessBuilder.buildParts!(job);
      },
    };
    const f = file(5 * PART + 9);
    const upload = FileUpload.start(
      await options(s3, f, { builder: pool, partsInFlight: 4, partBytes: 8 * MiB }),
    );
    await upload.done;
    await expectObject(s3, f);
    // 8 MiB parts, 2 workers, 4 parts in flight: runs of two parts, two runs at once.
    const framesPerPart = (8 * MiB) / FRAME;
    expect(runs).toEqual([
      [1, 1 + framesPerPart],
      [1 + 2 * framesPerPart, 1 + 3 * framesPerPart],
    ]);
    expect(single).toEqual([]);
    expect(s3.maxPartsInFlight).toBeLessThanOrEqual(4);
    expect(upload.progress).toMatchObject({ partsDone: 4, encryptedBytes: f.size });
  });

  test('retries transient part failures and still assembles the right object', async () => {
    const s3 = new FakeS3();
    const seen = new Map<number, number>();
    s3.failWith = (call, input) => {
      if (call !== 'part') return undefined;
      const n = (seen.get(input.PartNumber ?? 0) ?? 0) + 1;
      seen.set(input.PartNumber ?? 0, n);
      return input.PartNumber === 2 && n <= 2 ? s3Error('InternalError', 500) : undefined;
    };
    const f = file(2 * PART + 1);
    await FileUpload.start(await options(s3, f)).done;
    expect(seen.get(2)).toBe(3);
    await expectObject(s3, f);
  });

  test('a Create whose answer was lost is retried, and the upload it made is aborted', async () => {
    const s3 = new FakeS3();
    s3.loseCreateAnswers = 1;
    const f = file(PART + 1);
    await FileUpload.start(await options(s3, f)).done;
    await expectObject(s3, f);
    expect(s3.calls.filter((call) => call === 'create')).toHaveLength(2);
    expect(s3.calls).toContain('abort');
    expect(s3.uploads.size).toBe(0);
  });

  test('after a retried Create, uploads that are not ours or not from that Create stay', async () => {
    const s3 = new FakeS3();
    s3.loseCreateAnswers = 1;
    const now = Date.now();
    const later = s3.addUpload('k', new Date(now + 3_600_000));
    const otherInitiator = s3.addUpload('k', new Date(now), 'arn:aws:iam::444455556666:user/x');
    const older = s3.addUpload('k', new Date(now - 3_600_000));
    const otherKey = s3.addUpload('k2', new Date(now));
    const f = file(PART + 1);
    await FileUpload.start(await options(s3, f)).done;
    await expectObject(s3, f);
    expect(s3.calls).toContain('abort');
    expect([...s3.uploads.keys()].sort()).toEqual([later, otherInitiator, older, otherKey].sort());
  });

  test('after a retried Create, nothing is aborted when the kept upload is not listed', async () => {
    const s3 = new FakeS3();
    s3.loseCreateAnswers = 1;
    const listAll = s3.listMultipartUploads;
    s3.listMultipartUploads = async (input) => {
      const listed = await listAll(input);
      return { ...listed, Uploads: listed.Uploads?.filter((u) => u.UploadId === 'upload-1') };
    };
    const f = file(PART + 1);
    await FileUpload.start(await options(s3, f)).done;
    await expectObject(s3, f);
    expect(s3.calls).not.toContain('abort');
    expect([...s3.uploads.keys()]).toEqual(['upload-1']);
  });

  test('a permanent failure aborts the multipart upload and names the S3 error', async () => {
    const s3 = new FakeS3();
    const store = new MemoryUploadStore();
    s3.failWith = (call, input) =>
      call === 'part' && input.PartNumber === 2 ? s3Error('AccessDenied', 403) : undefined;
    const upload = FileUpload.start(await options(s3, file(2 * PART + 1), { store }));
    await expect(upload.done).rejects.toMatchObject({
      code: 'S3_REJECTED',
      detail: 'upload: AccessDenied',
    });
    expect(s3.calls).toContain('abort');
    expect(s3.uploads.size).toBe(0);
    expect(await store.list()).toEqual([]);
  });

  test('hidden ETag or checksum headers stop at once with the CORS rule', async () => {
    for (const hide of ['hideEtag', 'hideChecksum'] as const) {
      const s3 = new FakeS3();
      s3[hide] = true;
      const upload = FileUpload.start(await options(s3, file(3 * PART), { partsInFlight: 1 }));
      const error = await upload.done.catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UPLOAD_CORS_HEADERS' });
      expect((error as { detail: string }).detail).toContain(
        '"AllowedOrigins":["https://app.example"]',
      );
      expect(s3.calls.filter((call) => call.startsWith('part'))).toEqual(['part:1']);
      expect(s3.uploads.size).toBe(0);
    }
  });

  test('network errors on every attempt are reported as unreachable, with the rule', async () => {
    const s3 = new FakeS3();
    s3.failWith = (call) => (call === 'put' ? new TypeError('Failed to fetch') : undefined);
    const upload = FileUpload.start(
      await options(s3, file(10), { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } }),
    );
    await expect(upload.done).rejects.toMatchObject({ code: 'S3_UNREACHABLE' });
    expect(s3.calls).toEqual(['put', 'put', 'put']);
  });

  test('cancel aborts requests in flight and the multipart upload, and forgets the record', async () => {
    const s3 = new FakeS3();
    s3.partDelayMs = 200;
    const store = new MemoryUploadStore();
    const upload = FileUpload.start(await options(s3, file(3 * PART), { store, partsInFlight: 2 }));
    // Cancel while parts are in flight (a loaded machine may take a while to get there).
    while (!s3.calls.includes('part:1')) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(upload.uploadId).toBeDefined();
    await upload.cancel();
    await expect(upload.done).rejects.toMatchObject({ code: 'UPLOAD_CANCELLED' });
    expect(upload.state).toBe('cancelled');
    expect(s3.calls).toContain('abort');
    expect(s3.uploads.size).toBe(0);
    expect(s3.objects.size).toBe(0);
    expect(await store.list()).toEqual([]);
  });

  test('pause holds new parts back; resume completes the same object', async () => {
    const s3 = new FakeS3();
    s3.partDelayMs = 30;
    const f = file(4 * PART);
    const upload = FileUpload.start(await options(s3, f, { partsInFlight: 1 }));
    while (upload.progress.partsDone < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    upload.pause();
    expect(upload.state).toBe('paused');
    const callsAtPause = s3.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(s3.calls.length).toBeLessThanOrEqual(callsAtPause + 1);
    upload.resume();
    await upload.done;
    await expectObject(s3, f);
  });

  test('keepOnFailure keeps the record; resume skips parts S3 has, checks the file, and finishes', async () => {
    const s3 = new FakeS3();
    const store = new MemoryUploadStore();
    s3.failWith = (call, input) =>
      call === 'part' && input.PartNumber === 3 ? s3Error('AccessDenied', 403) : undefined;
    const f = file(3 * PART + 5);
    const first = FileUpload.start(
      await options(s3, f, { store, keepOnFailure: true, partsInFlight: 1 }),
    );
    await expect(first.done).rejects.toMatchObject({ code: 'S3_REJECTED' });
    const [record] = await store.list();
    expect(record?.parts.map((part) => part.partNumber)).toEqual([1, 2]);
    expect(s3.uploads.size).toBe(1);
    s3.failWith = () => undefined;

    const setup = {
      s3,
      builder: inProcessBuilder,
      keyring: await keyring(),
      store,
      retryHooks: NO_WAIT,
    };
    const other = FileUpload.resume(record!, file(3 * PART + 5, 2), setup);
    await expect(other.done).rejects.toMatchObject({ code: 'RESUME_FILE_MISMATCH' });
    const renamed = FileUpload.resume(record!, file(3 * PART + 5, 1, 'g.bin'), setup);
    await expect(renamed.done).rejects.toMatchObject({ code: 'RESUME_FILE_MISMATCH' });

    s3.calls.length = 0;
    const resumed = FileUpload.resume(record!, f, setup);
    await expect(resumed.done).resolves.toMatchObject({ method: 'multipart', partCount: 4 });
    expect([...s3.calls].sort()).toEqual(['complete', 'list', 'part:3', 'part:4']);
    expect([s3.calls[0], s3.calls.at(-1)]).toEqual(['list', 'complete']);
    await expectObject(s3, f);
    expect(await store.list()).toEqual([]);
  });

  test('resume re-sends a stored part whose ETag S3 no longer has, and reports a vanished upload', async () => {
    const s3 = new FakeS3();
    const store = new MemoryUploadStore();
    s3.failWith = (call, input) =>
      call === 'part' && input.PartNumber === 2 ? s3Error('AccessDenied', 403) : undefined;
    const f = file(2 * PART + 5);
    await FileUpload.start(
      await options(s3, f, { store, keepOnFailure: true, partsInFlight: 1 }),
    ).done.catch(() => undefined);
    const [record] = await store.list();
    s3.failWith = () => undefined;
    const setup = {
      s3,
      builder: inProcessBuilder,
      keyring: await keyring(),
      store,
      retryHooks: NO_WAIT,
    };
    s3.calls.length = 0;
    const tampered = {
      ...record!,
      parts: record!.parts.map((part) => ({ ...part, etag: '"other"' })),
    };
    await store.put(tampered);
    await FileUpload.resume(tampered, f, setup).done;
    expect([...s3.calls].sort()).toEqual(['complete', 'list', 'part:1', 'part:2', 'part:3']);
    expect([s3.calls[0], s3.calls.at(-1)]).toEqual(['list', 'complete']);
    await expectObject(s3, f);
    await expect(FileUpload.resume(record!, f, setup).done).rejects.toMatchObject({
      code: 'RESUME_UPLOAD_GONE',
    });
  });

  test('the plain mode stores the file as it is', async () => {
    const s3 = new FakeS3();
    const f = file(PART + 9);
    await FileUpload.start(await options(s3, f, { protection: 'none', keyring: undefined })).done;
    expect(Buffer.compare(s3.objects.get('k')!.body, new Uint8Array(await f.arrayBuffer()))).toBe(
      0,
    );
  });

  test('guards its options', async () => {
    const s3 = new FakeS3();
    const base = await options(s3, file(1));
    expect(() => FileUpload.start({ ...base, keyring: undefined })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
    expect(() => FileUpload.start({ ...base, bucket: '' })).toThrow(
      expect.objectContaining({ code: 'BAD_ARGUMENT' }),
    );
    expect(() => FileUpload.start({ ...base, partsInFlight: 0 })).toThrow(
      expect.objectContaining({ code: 'OUT_OF_RANGE' }),
    );
    await expect(FileUpload.start({ ...base, partBytes: MiB }).done).rejects.toMatchObject({
      code: 'OUT_OF_RANGE',
    });
  });
});

describe('fileIdentity', () => {
  test('differs for other bytes, names and dates', async () => {
    const a = await fileIdentity(file(100));
    expect(sameFile(a, await fileIdentity(file(100)))).toBe(true);
    expect(sameFile(a, await fileIdentity(file(100, 2)))).toBe(false);
    expect(sameFile(a, await fileIdentity(file(100, 1, 'x')))).toBe(false);
    expect(a.prefixSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
