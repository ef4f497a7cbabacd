/**
 * [Note: resume digests] as an adversary would test it: a part S3 received but whose answer was
 * lost, a file changed after its first 8 MiB with its name, size and date kept, then a resume (or a
 * pause and resume in the same page). Every UploadPart body that left the engine is recorded and
 * cut into frames; no (message id, seq) may ever carry two different ciphertexts, and the upload
 * must end as a new message holding the new content.
 */
import { describe, expect, test } from 'vitest';
import { toHex } from '../../../src/core/bytes';
import { parseHeaderBytes } from '../../../src/core/message';
import { decryptBytes } from '../../../src/core/one-shot';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import { FileUpload, type UploadOptions, type UploadSetup } from '../../../src/transfer/upload';
import {
  MemoryUploadStore,
  type UploadRecord,
  type UploadStore,
} from '../../../src/transfer/upload-store';
import { UploadLedger } from '../../../src/transfer/upload-ledger';
import { inProcessBuilder } from '../../../src/transfer/part-builder';
import { FakeS3, s3Error } from './fake-s3';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const FRAME = 64 * 1024;
const NO_WAIT = { sleep: () => Promise.resolve() };
const FINAL_MARKER = 0xffffffff;

const keyring = () =>
  RawAesKeyring.fromBytes({
    keyBytes: Uint8Array.from({ length: 32 }, (_, i) => 255 - i),
    keyName: 'digests',
    keyNamespace: 'veil',
  });

/** A File whose bytes can change under the same name, size and date (as `cp -p` leaves it). */
class ChangingFile extends File {
  current: Uint8Array;

  constructor(current: Uint8Array) {
    super([], 'salaries.csv', { lastModified: 1_700_000_000_000 });
    this.current = current;
  }

  override get size(): number {
    return this.current.length;
  }

  override slice(start?: number, end?: number): Blob {
    return new Blob([this.current.slice(start, end)]);
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.current.slice().buffer);
  }
}

function content(sizeBytes: number): Uint8Array {
  return Uint8Array.from({ length: sizeBytes }, (_, i) => (i * 31 + (i >> 10)) & 0xff);
}

/** A store that remembers the header of every upload id it was ever given. */
class RecordingStore extends MemoryUploadStore {
  readonly headers = new Map<string, Uint8Array>();
  readonly puts: UploadRecord[] = [];

  override put(record: UploadRecord): Promise<void> {
    this.headers.set(record.uploadId, record.headerBytes);
    this.puts.push(structuredClone(record));
    return super.put(record);
  }
}

/**
 * Every frame any UploadPart carried, as (message id, seq) → the distinct sealed bytes (IV,
 * ciphertext and tag) seen for it.
 */
function framesOnTheWire(s3: FakeS3, store: RecordingStore): Map<string, Set<string>> {
  const seen = new Map<string, Set<string>>();
  for (const { uploadId, partNumber, body } of s3.sentParts) {
    const headerBytes = store.headers.get(uploadId);
    expect(headerBytes, `the header of ${uploadId}`).toBeDefined();
    const messageId = toHex(parseHeaderBytes(headerBytes!).messageId);
    const view = Buffer.from(body.buffer, body.byteOffset, body.length);
    let at = partNumber === 1 ? headerBytes!.length : 0;
    while (at < view.length) {
      let seq: number;
      let sealed: Buffer;
      if (view.readUInt32BE(at) === FINAL_MARKER) {
        seq = view.readUInt32BE(at + 4);
        const contentBytes = view.readUInt32BE(at + 8 + 12);
        sealed = view.subarray(at + 8, at + 8 + 12 + 4 + contentBytes + 16);
        at += 8 + 12 + 4 + contentBytes + 16;
      } else {
        seq = view.readUInt32BE(at);
        sealed = view.subarray(at + 4, at + 4 + 12 + FRAME + 16);
        at += 4 + 12 + FRAME + 16;
      }
      const key = `${messageId}:${seq}`;
      const set = seen.get(key) ?? new Set<string>();
      set.add(sealed.toString('hex'));
      seen.set(key, set);
    }
  }
  return seen;
}

/** The (message id, seq) pairs that carried more than one ciphertext: nonce reuse. */
function reusedIvs(seen: Map<string, Set<string>>): string[] {
  return [...seen].filter(([, sealed]) => sealed.size > 1).map(([key]) => key);
}

async function options(
  s3: FakeS3,
  file: File,
  store: UploadStore,
  extra: Partial<UploadOptions> = {},
): Promise<UploadOptions> {
  return {
    s3,
    builder: inProcessBuilder,
    keyring: await keyring(),
    store,
    file,
    bucket: 'b',
    key: 'salaries.csv',
    model: 'A',
    frameBytes: FRAME,
    partBytes: PART,
    retryHooks: NO_WAIT,
    origin: 'https://app.example',
    ...extra,
  };
}

async function storedPlaintext(s3: FakeS3): Promise<Uint8Array> {
  const stored = s3.objects.get('salaries.csv');
  expect(stored).toBeDefined();
  return decryptBytes(stored!.body, { keyring: await keyring() });
}

/** Changes one byte at 11 MiB (in part 3), keeping name, size and date. */
function changeAt11MiB(file: ChangingFile): void {
  const changed = file.current.slice();
  changed[11 * MiB + 7] = (changed[11 * MiB + 7] ?? 0) ^ 0x5a;
  file.current = changed;
}

/**
 * An upload kept after a failure: part `lostPart` reaches S3 but its answer is lost on every
 * attempt, so the upload fails with its multipart upload and record kept. Returns the record.
 */
async function keptUpload(
  s3: FakeS3,
  store: RecordingStore,
  file: File,
  lostPart: number,
): Promise<UploadRecord> {
  s3.loseAnswerOfPart = (partNumber) => partNumber === lostPart;
  await FileUpload.start(
    await options(s3, file, store, { keepOnFailure: true, partsInFlight: 1 }),
  ).done.catch(() => undefined);
  s3.loseAnswerOfPart = () => false;
  const [record] = await store.list();
  expect(record).toBeDefined();
  return record!;
}

/** What a resume of an upload in `store` needs. */
async function resumeSetup(s3: FakeS3, store: UploadStore): Promise<UploadSetup> {
  return { s3, builder: inProcessBuilder, keyring: await keyring(), store, retryHooks: NO_WAIT };
}

describe('resume digests', () => {
  test('a part S3 received, a file changed after 8 MiB, a resume: a new message, no IV reused', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(4 * PART));
    // Part 3 reaches S3 but its answer is lost on every attempt: the upload fails and is kept.
    s3.loseAnswerOfPart = (partNumber) => partNumber === 3;
    const first = FileUpload.start(
      await options(s3, file, store, { keepOnFailure: true, partsInFlight: 1 }),
    );
    await expect(first.done).rejects.toMatchObject({ code: 'S3_UNREACHABLE' });
    const [kept] = await store.list();
    expect(kept?.partDigests?.map((d) => d.partNumber)).toEqual([1, 2, 3]);
    const record = kept!;
    const firstUploadId = record.uploadId;
    expect(s3.uploads.get(firstUploadId)?.parts.has(3)).toBe(true);

    s3.loseAnswerOfPart = () => false;
    changeAt11MiB(file);
    const resumed = FileUpload.resume(record, file, await resumeSetup(s3, store));
    await expect(resumed.done).resolves.toMatchObject({ method: 'multipart', partCount: 4 });

    // The attack: every frame that left the page, under both messages.
    const seen = framesOnTheWire(s3, store);
    expect(seen.size).toBeGreaterThan(4 * (PART / FRAME));
    expect(reusedIvs(seen)).toEqual([]);
    expect(resumed.progress.startedOver).toEqual({ code: 'RESUME_FILE_CHANGED', detail: 'part 3' });
    expect(Buffer.compare(await storedPlaintext(s3), file.current)).toBe(0);
    const finalHeader = parseHeaderBytes(s3.objects.get('salaries.csv')!.body);
    expect(toHex(finalHeader.messageId)).not.toBe(
      toHex(parseHeaderBytes(record.headerBytes).messageId),
    );
    // The abandoned upload is gone from the bucket, and so is its record.
    expect(s3.uploads.has(firstUploadId)).toBe(false);
    expect(await store.list()).toEqual([]);
  });

  test('the same file resumes the same message and sends no part again that S3 holds', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(4 * PART));
    const record = await keptUpload(s3, store, file, 3);
    s3.sentParts.length = 0;
    const resumed = FileUpload.resume(record, file, await resumeSetup(s3, store));
    await resumed.done;
    expect(resumed.startedOver).toBeUndefined();
    // Part 3 was verified and sent again (its answer was lost), part 4 is new.
    expect(s3.sentParts.map((part) => part.partNumber).sort()).toEqual([3, 4]);
    const finalHeader = parseHeaderBytes(s3.objects.get('salaries.csv')!.body);
    expect(toHex(finalHeader.messageId)).toBe(
      toHex(parseHeaderBytes(record.headerBytes).messageId),
    );
    expect(Buffer.compare(await storedPlaintext(s3), file.current)).toBe(0);
  });

  test('a pause, a changed file and a resume in the same page start a new message', async () => {
    const s3 = new FakeS3();
    s3.partDelayMs = 40;
    const store = new RecordingStore();
    const file = new ChangingFile(content(4 * PART));
    const upload = FileUpload.start(await options(s3, file, store, { partsInFlight: 1 }));
    // Pause while part 3 is on the wire: its request is aborted, its bytes have left.
    while (!s3.sentParts.some((part) => part.partNumber === 3)) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    upload.pause();
    changeAt11MiB(file);
    upload.resume();
    await upload.done;
    expect(reusedIvs(framesOnTheWire(s3, store))).toEqual([]);
    expect(upload.startedOver).toEqual({ code: 'RESUME_FILE_CHANGED', detail: 'part 3' });
    expect(Buffer.compare(await storedPlaintext(s3), file.current)).toBe(0);
  });

  test('a record without digests is not continued: it starts over, or fails when it cannot', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(3 * PART));
    const record = await keptUpload(s3, store, file, 2);
    const setup = await resumeSetup(s3, store);
    // As an older Veil wrote it: no digests, no object options.
    const older: UploadRecord = { ...record };
    delete (older as { partDigests?: unknown }).partDigests;
    delete (older as { objectOptions?: unknown }).objectOptions;
    await store.put(older);
    const refused = FileUpload.resume(older, file, setup);
    await expect(refused.done).rejects.toMatchObject({ code: 'RESUME_UNVERIFIABLE' });
    expect(s3.uploads.has(record.uploadId)).toBe(false);
    expect(s3.objects.size).toBe(0);

    // With its object options, the upload starts over as a new message with a fresh key.
    const second = await keptUpload(s3, store, file, 2);
    const withoutDigests: UploadRecord = { ...second };
    delete (withoutDigests as { partDigests?: unknown }).partDigests;
    await store.put(withoutDigests);
    const restarted = FileUpload.resume(withoutDigests, file, setup);
    await restarted.done;
    expect(restarted.startedOver?.code).toBe('RESUME_UNVERIFIABLE');
    expect(s3.objects.get('salaries.csv')?.metadata).toBeUndefined();
    expect(Buffer.compare(await storedPlaintext(s3), file.current)).toBe(0);
    expect(reusedIvs(framesOnTheWire(s3, store))).toEqual([]);
  });

  test('S3 holding a part the record has no digest for is a doubt that starts over', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(3 * PART));
    const record = await keptUpload(s3, store, file, 2);
    const forgotten = { ...record, partDigests: record.partDigests!.slice(0, 1) };
    await store.put(forgotten);
    const resumed = FileUpload.resume(forgotten, file, await resumeSetup(s3, store));
    await resumed.done;
    expect(resumed.startedOver).toEqual({
      code: 'RESUME_UNVERIFIABLE',
      detail: 'S3 holds part 2 without a digest',
    });
    expect(Buffer.compare(await storedPlaintext(s3), file.current)).toBe(0);
  });

  test("each part's digest is saved before its first byte is sent; a store that fails stops it", async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(3 * PART));
    const order: string[] = [];
    const uploadPart = s3.uploadPart;
    s3.uploadPart = (input, signal) => {
      const saved = store.puts.at(-1)?.partDigests?.map((d) => d.partNumber) ?? [];
      order.push(`part ${input.PartNumber} after digests [${saved.join(',')}]`);
      return uploadPart(input, signal);
    };
    await FileUpload.start(await options(s3, file, store, { partsInFlight: 1 })).done;
    expect(order).toEqual([
      'part 1 after digests [1]',
      'part 2 after digests [1,2]',
      'part 3 after digests [1,2,3]',
    ]);

    const failing = new RecordingStore();
    let puts = 0;
    failing.put = (record) => {
      puts += 1;
      // The first write (the new record) succeeds; the write of part 1's digest fails.
      return puts === 1
        ? RecordingStore.prototype.put.call(failing, record)
        : Promise.reject(new Error('QuotaExceededError'));
    };
    const s3b = new FakeS3();
    const upload = FileUpload.start(await options(s3b, file, failing, { partsInFlight: 1 }));
    await expect(upload.done).rejects.toMatchObject({ code: 'UPLOAD_RECORD_UNWRITABLE' });
    expect(s3b.sentParts).toEqual([]);
  });

  test('a new multipart upload is announced before its record is written or a part is sent', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(2 * PART));
    const seen: string[] = [];
    const upload = FileUpload.start(
      await options(s3, file, store, {
        onUploadCreated: (uploadId) => {
          seen.push(`${uploadId} with ${store.puts.length} records, ${s3.sentParts.length} parts`);
          return Promise.resolve();
        },
      }),
    );
    await upload.done;
    expect(seen).toEqual(['upload-1 with 0 records, 0 parts']);

    const refused = FileUpload.start(
      await options(new FakeS3(), file, new RecordingStore(), {
        onUploadCreated: () => Promise.reject(new Error('lock refused')),
      }),
    );
    await expect(refused.done).rejects.toThrow('lock refused');
  });

  test('a stale copy of the record (another tab kept sending) is resumed with the digests the store has', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(4 * PART));
    // Part 3 leaves the page but S3 keeps nothing (a 500 on every attempt): ListParts cannot tell.
    s3.failWith = (call, input) =>
      call === 'part' && input.PartNumber === 3 ? s3Error('InternalError', 500) : undefined;
    await FileUpload.start(
      await options(s3, file, store, { keepOnFailure: true, partsInFlight: 1 }),
    ).done.catch(() => undefined);
    s3.failWith = () => undefined;
    // The copy another tab read before part 3 was pinned: digests of parts 1 and 2 only.
    const stale = store.puts.find((put) => put.partDigests?.length === 2);
    expect(stale?.partDigests?.map((d) => d.partNumber)).toEqual([1, 2]);
    expect(s3.sentParts.some((part) => part.partNumber === 3)).toBe(true);

    changeAt11MiB(file);
    const resumed = FileUpload.resume(stale!, file, await resumeSetup(s3, store));
    await resumed.done;
    expect(reusedIvs(framesOnTheWire(s3, store))).toEqual([]);
    expect(resumed.startedOver).toEqual({ code: 'RESUME_FILE_CHANGED', detail: 'part 3' });
    expect(Buffer.compare(await storedPlaintext(s3), file.current)).toBe(0);
  });

  test('a resume cancelled before its check ends aborts the stored upload', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(3 * PART));
    const record = await keptUpload(s3, store, file, 2);
    const resumed = FileUpload.resume(record, file, await resumeSetup(s3, store));
    await resumed.cancel();
    await expect(resumed.done).rejects.toMatchObject({ code: 'UPLOAD_CANCELLED' });
    expect(s3.uploads.size).toBe(0);
    expect(await store.list()).toEqual([]);
  });

  test('a cancel while the old upload is being aborted ends the upload: nothing is written', async () => {
    const s3 = new FakeS3();
    const store = new RecordingStore();
    const file = new ChangingFile(content(3 * PART));
    // Part 3 (10 to 15 MiB) was sent; the change at 11 MiB is in it, so the resume starts over.
    const record = await keptUpload(s3, store, file, 3);
    changeAt11MiB(file);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const abort = s3.abortMultipartUpload;
    let aborting = false;
    s3.abortMultipartUpload = async (input) => {
      aborting = true;
      await held;
      return abort(input);
    };
    const resumed = FileUpload.resume(record, file, await resumeSetup(s3, store));
    // Cancel while the start-over is aborting the old upload.
    while (!aborting) await new Promise((resolve) => setTimeout(resolve, 2));
    const cancelled = resumed.cancel();
    release();
    await cancelled;
    await expect(resumed.done).rejects.toMatchObject({ code: 'UPLOAD_CANCELLED' });
    expect(s3.objects.size).toBe(0);
    expect(s3.uploads.size).toBe(0);
  });
});

describe('UploadLedger', () => {
  test('a digest whose save failed is saved again before its part is sent again', async () => {
    const saved: UploadRecord[] = [];
    let failNext = false;
    const store: UploadStore = {
      list: () => Promise.resolve([]),
      get: () => Promise.resolve(undefined),
      delete: () => Promise.resolve(),
      put: (record) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('QuotaExceededError'));
        }
        saved.push(structuredClone(record));
        return Promise.resolve();
      },
    };
    const ledger = new UploadLedger(store);
    ledger.begin({
      id: 'upload-1',
      bucket: 'b',
      key: 'k',
      uploadId: 'upload-1',
      protection: 'client-side',
      headerBytes: new Uint8Array(0),
      frameBytes: FRAME,
      framesPerPart: PART / FRAME,
      partCount: 2,
      file: { name: 'f', sizeBytes: PART + 1, lastModifiedMs: 0, prefixSha256: '' },
      parts: [],
      partDigests: [],
      createdAtMs: 0,
    });
    await ledger.settled();
    failNext = true;
    await expect(ledger.pinDigest(1, 'digest-1')).rejects.toMatchObject({
      code: 'UPLOAD_RECORD_UNWRITABLE',
    });
    // The part is built again (a pause, a retry): the same digest must reach the store first.
    await ledger.pinDigest(1, 'digest-1');
    expect(saved.at(-1)?.partDigests).toEqual([{ partNumber: 1, digest: 'digest-1' }]);
    await expect(ledger.pinDigest(1, 'digest-2')).rejects.toMatchObject({
      code: 'RESUME_FILE_CHANGED',
    });
  });
});
