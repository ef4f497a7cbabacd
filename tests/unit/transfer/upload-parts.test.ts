/**
 * The pure pieces split out of the upload engine: how lanes take runs of parts, which uploads a
 * retried Create left behind ([Note: a retried Create]), the options of a new message when an
 * upload starts over, and the ledger's digest pinning and ordered record writes ([Note: resume
 * digests]).
 */
import type { MultipartUpload } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../src/core/errors';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import {
  STRAY_MARGIN_MS,
  abortStrayUploads,
  strayUploads,
} from '../../../src/transfer/multipart-create';
import { prepareNew } from '../../../src/transfer/prepare';
import { takeRun } from '../../../src/transfer/upload-lanes';
import { UploadLedger, doneTotals, newRecord } from '../../../src/transfer/upload-ledger';
import { startOverOptions, type UploadSetup } from '../../../src/transfer/upload-options';
import { MemoryUploadStore, type UploadRecord } from '../../../src/transfer/upload-store';
import { inProcessBuilder } from '../../../src/transfer/part-builder';
import { FakeS3 } from './fake-s3';

const MiB = 1024 * 1024;

describe('takeRun', () => {
  test.each([
    [[], 2, [], []],
    [[1, 2, 3, 4, 5], 2, [1, 2], [3, 4, 5]],
    [[1, 2, 3], 4, [1, 2, 3], []],
    [[3, 4, 7, 8], 4, [3, 4], [7, 8]],
    [[5, 6], 1, [5], [6]],
    [[2, 1], 2, [2], [1]],
  ])('from %j, runs of %i: takes %j, leaves %j', (queue, runParts, run, left) => {
    const rest = [...queue];
    expect(takeRun(rest, runParts)).toEqual(run);
    expect(rest).toEqual(left);
  });
});

describe('strayUploads', () => {
  const keptMs = Date.UTC(2026, 0, 1, 12);
  const me = 'arn:aws:iam::1:user/me';
  const upload = (id: string, offsetMs: number | undefined, extra: Partial<MultipartUpload> = {}) =>
    ({
      Key: 'k',
      UploadId: id,
      ...(offsetMs === undefined ? {} : { Initiated: new Date(keptMs + offsetMs) }),
      Initiator: { ID: me },
      ...extra,
    }) satisfies MultipartUpload;
  const kept = { uploadId: 'kept', elapsedMs: 5_000 };

  test('takes same-key uploads of the same initiator from the Create attempts only', () => {
    const listed = [
      upload('kept', 0),
      upload('lost-answer', -4_000),
      upload('at-the-edge', -(5_000 + STRAY_MARGIN_MS)),
      upload('too-old', -(5_000 + STRAY_MARGIN_MS) - 1),
      upload('later', 1),
      upload('other-key', -1_000, { Key: 'k/longer' }),
      upload('other-initiator', -1_000, { Initiator: { ID: 'arn:aws:iam::1:user/you' } }),
      upload('no-initiator', -1_000, { Initiator: {} }),
      upload('no-date', undefined),
    ];
    expect(strayUploads(listed, 'k', kept)).toEqual(['lost-answer', 'at-the-edge', 'no-initiator']);
  });

  test('nothing when the kept upload is not listed or has no date', () => {
    expect(strayUploads([upload('lost-answer', -1)], 'k', kept)).toEqual([]);
    expect(strayUploads([upload('kept', undefined), upload('x', -1)], 'k', kept)).toEqual([]);
    const badDate = { ...upload('kept', 0), Initiated: new Date(Number.NaN) };
    expect(strayUploads([badDate, upload('x', -1)], 'k', kept)).toEqual([]);
  });

  test('abortStrayUploads aborts the strays and never throws', async () => {
    const s3 = new FakeS3();
    const first = await s3.createMultipartUpload({ Bucket: 'b', Key: 'k' });
    const second = await s3.createMultipartUpload({ Bucket: 'b', Key: 'k' });
    const target = { bucket: 'b', key: 'k' };
    await abortStrayUploads(s3, target, { uploadId: second.UploadId!, elapsedMs: 1_000 });
    expect([...s3.uploads.keys()]).toEqual([second.UploadId]);
    expect(s3.uploads.has(first.UploadId!)).toBe(false);

    s3.listMultipartUploads = () => Promise.reject(new Error('AccessDenied'));
    await expect(
      abortStrayUploads(s3, target, { uploadId: second.UploadId!, elapsedMs: 1 }),
    ).resolves.toBeUndefined();
    const noListing = { abortMultipartUpload: s3.abortMultipartUpload };
    await expect(
      abortStrayUploads(noListing, target, { uploadId: 'x', elapsedMs: 1 }),
    ).resolves.toBeUndefined();
  });
});

function record(extra: Partial<UploadRecord> = {}): UploadRecord {
  return {
    id: 'u1',
    bucket: 'b',
    key: 'k',
    uploadId: 'u1',
    protection: 'none',
    headerBytes: new Uint8Array(),
    frameBytes: 64 * 1024,
    framesPerPart: 80,
    partCount: 3,
    file: { name: 'f', sizeBytes: 12 * MiB, lastModifiedMs: 1, prefixSha256: '00' },
    parts: [],
    partDigests: [],
    objectOptions: { model: 'A', atRest: { type: 'SSE-S3' } },
    createdAtMs: 1,
    ...extra,
  };
}

describe('startOverOptions', () => {
  const setup: UploadSetup = { s3: new FakeS3(), builder: inProcessBuilder, partsInFlight: 2 };
  const file = new File([new Uint8Array(4)], 'f');

  test('a plain record keeps its object, sizes and object options', () => {
    expect(startOverOptions(record(), setup, file)).toEqual({
      ...setup,
      file,
      bucket: 'b',
      key: 'k',
      protection: 'none',
      frameBytes: 64 * 1024,
      partBytes: 80 * 64 * 1024,
      model: 'A',
      atRest: { type: 'SSE-S3' },
    });
  });

  test('an encrypted record keeps its context and takes startOverKeyring first', async () => {
    const keyring = await RawAesKeyring.fromBytes({
      keyBytes: new Uint8Array(32),
      keyName: 'n',
      keyNamespace: 'veil',
    });
    const other = await RawAesKeyring.fromBytes({
      keyBytes: new Uint8Array(32).fill(1),
      keyName: 'o',
      keyNamespace: 'veil',
    });
    const { headerBytes } = await prepareNew(file, {
      bucket: 'b',
      key: 'k',
      keyring,
      encryptionContext: { purpose: 'test' },
      frameBytes: 64 * 1024,
    });
    const encrypted = record({ protection: 'client-side', headerBytes });
    expect(
      startOverOptions(encrypted, { ...setup, keyring, startOverKeyring: other }, file),
    ).toMatchObject({
      keyring: other,
      protection: 'client-side',
      encryptionContext: { purpose: 'test' },
    });
    expect(startOverOptions(encrypted, { ...setup, keyring }, file)).toMatchObject({ keyring });
    expect(startOverOptions(encrypted, setup, file)).toBeUndefined();
  });

  test('a record without object options cannot start over', () => {
    const older = record(); // as a record of an older Veil: no object options
    Reflect.deleteProperty(older, 'objectOptions');
    expect(startOverOptions(older, setup, file)).toBeUndefined();
  });
});

describe('UploadLedger', () => {
  test('pins a digest before the first send, then requires the same one', async () => {
    const store = new MemoryUploadStore();
    const ledger = new UploadLedger(store);
    await ledger.pinDigest(1, 'd1'); // no record yet: nothing written
    expect(await store.list()).toEqual([]);
    ledger.begin(record());
    await ledger.pinDigest(2, 'd2');
    expect((await store.get('u1'))?.partDigests).toEqual([
      { partNumber: 1, digest: 'd1' },
      { partNumber: 2, digest: 'd2' },
    ]);
    await expect(ledger.pinDigest(2, 'd2')).resolves.toBeUndefined();
    await expect(ledger.pinDigest(2, 'other')).rejects.toMatchObject({
      code: 'RESUME_FILE_CHANGED',
      detail: 'part 2',
    });
    await expect(ledger.pinDigest(3, undefined)).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
  });

  test('a record that cannot be written stops the part', async () => {
    const store = new MemoryUploadStore();
    store.put = () => Promise.reject(new Error('quota'));
    const ledger = new UploadLedger(store);
    ledger.begin(record());
    const pinned = ledger.pinDigest(1, 'd1');
    await expect(pinned).rejects.toBeInstanceOf(VeilError);
    await expect(pinned).rejects.toMatchObject({ code: 'UPLOAD_RECORD_UNWRITABLE' });
    await expect(ledger.settled()).resolves.toBeUndefined();
  });

  test('writes wait for each other and hold the parts done when they run, ascending', async () => {
    const store = new MemoryUploadStore();
    const written: number[][] = [];
    const put = store.put.bind(store);
    let slow = true;
    store.put = async (next) => {
      if (slow) {
        slow = false;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      written.push(next.parts.map((part) => part.partNumber));
      return put(next);
    };
    const ledger = new UploadLedger(store);
    ledger.adopt(record({ partDigests: [{ partNumber: 2, digest: 'd2' }] }), [
      { partNumber: 2, etag: '"e2"' },
    ]);
    expect(ledger.pendingParts(3)).toEqual([1, 3]);
    ledger.partDone({ partNumber: 3, etag: '"e3"' });
    ledger.partDone({ partNumber: 1, etag: '"e1"', checksumCrc32: 'AAAAAA==' });
    await ledger.settled();
    expect(written).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(ledger.doneParts().map((part) => part.partNumber)).toEqual([1, 2, 3]);
    expect((await store.get('u1'))?.partDigests).toEqual([{ partNumber: 2, digest: 'd2' }]);
    expect((await store.get('u1'))?.parts).toEqual([
      { partNumber: 1, etag: '"e1"', checksumCrc32: 'AAAAAA==' },
      { partNumber: 2, etag: '"e2"' },
      { partNumber: 3, etag: '"e3"' },
    ]);
    await expect(ledger.pinDigest(2, 'changed')).rejects.toMatchObject({
      code: 'RESUME_FILE_CHANGED',
    });
  });

  test('doneTotals and newRecord', async () => {
    const file = new File([new Uint8Array(12 * MiB)], 'f');
    const prepared = await prepareNew(file, {
      bucket: 'b',
      key: 'k',
      protection: 'none',
      frameBytes: 64 * 1024,
      partBytes: 5 * MiB,
    });
    const { plan } = prepared;
    expect(plan.partCount).toBe(3);
    expect(
      doneTotals(plan, [
        { partNumber: 1, etag: '"e"' },
        { partNumber: 3, etag: '"f"' },
      ]),
    ).toEqual({ parts: 2, objectBytes: 7 * MiB, plaintextBytes: 7 * MiB });
    const fresh = newRecord({
      uploadId: 'u9',
      bucket: 'b',
      key: 'k',
      prepared,
      file: record().file,
      objectOptions: { model: 'C' },
    });
    expect(fresh).toMatchObject({
      id: 'u9',
      uploadId: 'u9',
      protection: 'none',
      partCount: plan.partCount,
      parts: [],
      partDigests: [],
      objectOptions: { model: 'C' },
    });
  });
});
