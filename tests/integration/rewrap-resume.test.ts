/**
 * [Note: rewrap resume] against moto: a multipart rewrap cut off by the network keeps its upload
 * and record while the original stays whole and readable with the old key; resumeRewrap (with
 * ListParts, or the record alone) finishes it as the same rewrap, sending only what is missing;
 * a source overwritten meanwhile fails with REWRAP_SOURCE_CHANGED and leaves no upload or record;
 * a cancel discards; an upload gone from S3 is REWRAP_RESUME_GONE; a Complete whose answer was
 * lost is recognised as done.
 */
import { AbortMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decryptBytes, parseHeaderBytes } from '../../src/core';
import { rewrapObject } from '../../src/transfer/rewrap';
import { discardRewrap, findRewraps, resumeRewrap } from '../../src/transfer/rewrap-resume';
import { rewrapS3For, type RewrapS3 } from '../../src/transfer/rewrap-s3';
import { isResumableRewrapFailure } from '../../src/transfer/rewrap-session';
import {
  KeyValueRewrapStore,
  MemoryRewrapStore,
  type RewrapStore,
} from '../../src/transfer/rewrap-store';
import { patternBytes, testKeyBytes } from '../unit/core/helpers';
import {
  FAST_RETRY,
  MIB,
  openUploads,
  rawKeyring,
  readObject,
  rejection,
  sameBytes,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';

const OLD_KEY = testKeyBytes(256, 51);
const NEW_KEY = testKeyBytes(256, 52);
const SIZE = 12 * MIB + 777; // part 1 and three copies of at most 5 MiB

let stack: RewrapMoto;
let real: RewrapS3;

beforeAll(async () => {
  stack = await startRewrapMoto('veil-rewrap-resume');
  real = rewrapS3For(stack.client, { blobBodies: false });
});

afterAll(async () => {
  await stack?.stop();
});

/** The network as it fails: fetch's TypeError, retried and then S3_UNREACHABLE. */
const networkDown = (): Promise<never> => Promise.reject(new TypeError('fetch failed'));

/** A seam whose network goes down for good after `copies` copies (or at part 1 when 0). */
function failingAfter(copies: number): RewrapS3 {
  let made = 0;
  return {
    ...real,
    uploadPart: (input, signal) => (copies === 0 ? networkDown() : real.uploadPart(input, signal)),
    uploadPartCopy: (input, signal) =>
      made++ < copies ? real.uploadPartCopy(input, signal) : networkDown(),
  };
}

async function setupFor(key: string, s3: RewrapS3, store: RewrapStore) {
  return {
    s3,
    store,
    bucket: stack.bucket,
    key,
    openWith: await rawKeyring(OLD_KEY, 'old'),
    addWith: await rawKeyring(NEW_KEY, 'new'),
    remove: [{ keyName: 'old' }],
    copyPartBytes: 5 * MIB,
    copiesInFlight: 1,
    retry: FAST_RETRY,
  };
}

/** Starts a rewrap of a new object that the network cuts off; checks what it leaves. */
async function interrupted(key: string, copies: number) {
  const stored = await storeMessage(stack, key, SIZE, await rawKeyring(OLD_KEY, 'old'));
  const store = new MemoryRewrapStore();
  const error = await rejection(rewrapObject(await setupFor(key, failingAfter(copies), store)));
  expect(error.code).toBe('S3_UNREACHABLE');
  expect(isResumableRewrapFailure(error)).toBe(true);
  // The original is whole and opens with the old key; the upload and its record wait.
  const now = await readObject(stack, key);
  expect(sameBytes(now, stored.message)).toBe(true);
  const opened = await decryptBytes(now, { keyring: await rawKeyring(OLD_KEY, 'old') });
  expect(sameBytes(opened, stored.plaintext)).toBe(true);
  expect(await openUploads(stack)).toBe(1);
  const [record, ...others] = await findRewraps(store, stack.bucket, key);
  expect(others).toHaveLength(0);
  expect(record!.parts.map((part) => part.partNumber).sort()).toEqual(
    copies === 0 ? [] : [1, ...Array.from({ length: copies }, (_, i) => i + 2)],
  );
  return { ...stored, store, record: record! };
}

describe('rewrap resume in moto', () => {
  test.each([
    ['ListParts', true],
    ['the record alone', false],
  ])('an interrupted rewrap resumes, knowing what is done from %s', async (_label, listing) => {
    const key = `resume/after-copies-${String(listing)}.veil`;
    const { message, plaintext, store, record } = await interrupted(key, 1);
    const s3: RewrapS3 = listing ? real : { ...real, listParts: undefined };
    const result = await resumeRewrap({ s3, store, id: record.id, retry: FAST_RETRY });

    const stored = await readObject(stack, key);
    const oldHeader = parseHeaderBytes(message);
    const header = parseHeaderBytes(stored);
    expect(
      sameBytes(stored.subarray(header.headerBytes), message.subarray(oldHeader.headerBytes)),
    ).toBe(true);
    const opened = await decryptBytes(stored, { keyring: await rawKeyring(NEW_KEY, 'new') });
    expect(sameBytes(opened, plaintext)).toBe(true);
    await expect(
      decryptBytes(stored, { keyring: await rawKeyring(OLD_KEY, 'old') }),
    ).rejects.toMatchObject({ code: 'NO_MATCHING_EDK' });
    // Only the two copies left were made; part 1 was not sent again.
    expect(result.sentBytes).toBe(0);
    expect(result.copiedBytes).toBe(stored.length - 10 * MIB);
    expect(result.objectBytes).toBe(stored.length);
    expect(result.removed).toHaveLength(1);
    expect(result.added).toHaveLength(1);
    expect(await openUploads(stack)).toBe(0);
    expect(await store.list()).toHaveLength(0);
  });

  test('a rewrap cut off at part 1 sends part 1 again on resume (ciphertext, no new nonce)', async () => {
    const key = 'resume/at-part-1.veil';
    const { plaintext, store, record } = await interrupted(key, 0);
    const result = await resumeRewrap({ s3: real, store, id: record.id, retry: FAST_RETRY });
    expect(result.sentBytes).toBe(5 * MIB);
    const stored = await readObject(stack, key);
    const opened = await decryptBytes(stored, { keyring: await rawKeyring(NEW_KEY, 'new') });
    expect(sameBytes(opened, plaintext)).toBe(true);
    expect(await openUploads(stack)).toBe(0);
  });

  test('a HEAD whose ETag the page cannot read (CORS on GET only) still resumes', async () => {
    // moto applies CORS to GET but not HEAD, so in a page HEAD's ETag is unreadable; the resume
    // must learn it from a GET rather than take every source for changed.
    const key = 'resume/hidden-head-etag.veil';
    const { plaintext, store, record } = await interrupted(key, 1);
    const hiding: RewrapS3 = {
      ...real,
      headObject: async (bucket, name, signal) => ({
        ...(await real.headObject(bucket, name, signal)),
        etag: undefined,
      }),
    };
    await resumeRewrap({ s3: hiding, store, id: record.id, retry: FAST_RETRY });
    const stored = await readObject(stack, key);
    const opened = await decryptBytes(stored, { keyring: await rawKeyring(NEW_KEY, 'new') });
    expect(sameBytes(opened, plaintext)).toBe(true);
    expect(await openUploads(stack)).toBe(0);
    expect(await store.list()).toHaveLength(0);
  });

  test('a source overwritten before the resume fails with REWRAP_SOURCE_CHANGED, no orphan', async () => {
    const key = 'resume/overwritten.veil';
    const { store, record } = await interrupted(key, 1);
    const newBody = patternBytes(1000, 77);
    await stack.client.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: newBody }),
    );
    const error = await rejection(resumeRewrap({ s3: real, store, id: record.id }));
    expect(error.code).toBe('REWRAP_SOURCE_CHANGED');
    expect(sameBytes(await readObject(stack, key), newBody)).toBe(true);
    expect(await openUploads(stack)).toBe(0);
    expect(await store.list()).toHaveLength(0);
  });

  test('a cancel aborts and deletes the record; discardRewrap does the same', async () => {
    const key = 'resume/cancelled.veil';
    const { message, store, record } = await interrupted(key, 1);
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(
      resumeRewrap({ s3: real, store, id: record.id, signal: controller.signal }),
    );
    expect(error.code).toBe('REWRAP_CANCELLED');
    expect(await openUploads(stack)).toBe(0);
    expect(await store.list()).toHaveLength(0);
    expect(sameBytes(await readObject(stack, key), message)).toBe(true);

    const again = await interrupted('resume/discarded.veil', 1);
    await discardRewrap({ s3: real, store: again.store, id: again.record.id });
    expect(await openUploads(stack)).toBe(0);
    expect(await again.store.list()).toHaveLength(0);
  });

  test('a store that cannot save the record stops the rewrap before part 1, no orphan', async () => {
    const key = 'resume/unwritable.veil';
    const { message } = await storeMessage(stack, key, SIZE, await rawKeyring(OLD_KEY, 'old'));
    const memory = new MemoryRewrapStore();
    const store: RewrapStore = {
      list: () => memory.list(),
      get: (id) => memory.get(id),
      delete: (id) => memory.delete(id),
      put: () => Promise.reject(new Error('quota')),
    };
    const error = await rejection(rewrapObject(await setupFor(key, real, store)));
    expect(error.code).toBe('REWRAP_RECORD_UNWRITABLE');
    expect(sameBytes(await readObject(stack, key), message)).toBe(true);
    expect(await openUploads(stack)).toBe(0);
  });

  test('an upload gone from S3, or no record, is REWRAP_RESUME_GONE', async () => {
    const key = 'resume/gone.veil';
    const { store, record } = await interrupted(key, 1);
    await stack.client.send(
      new AbortMultipartUploadCommand({
        Bucket: stack.bucket,
        Key: key,
        UploadId: record.uploadId,
      }),
    );
    const error = await rejection(resumeRewrap({ s3: real, store, id: record.id }));
    expect(error.code).toBe('REWRAP_RESUME_GONE');
    expect(await store.list()).toHaveLength(0);
    const none = await rejection(resumeRewrap({ s3: real, store, id: 'no-such-id' }));
    expect(none.code).toBe('REWRAP_RESUME_GONE');
  });

  test('a Complete whose answer was lost is recognised as done by the resume', async () => {
    const key = 'resume/lost-answer.veil';
    const { plaintext } = await storeMessage(stack, key, SIZE, await rawKeyring(OLD_KEY, 'old'));
    // A store over a key-value API, as the app's IndexedDB and the command line's folder are.
    const entries = new Map<string, unknown>();
    const store = new KeyValueRewrapStore({
      get: (k) => Promise.resolve(structuredClone(entries.get(k))),
      set: (k, v) => Promise.resolve(void entries.set(k, structuredClone(v))),
      del: (k) => Promise.resolve(void entries.delete(k)),
      entries: () => Promise.resolve([...entries.entries()]),
    });
    let completes = 0;
    const s3: RewrapS3 = {
      ...real,
      completeMultipartUpload: async (input, signal) => {
        if (completes++ === 0) await real.completeMultipartUpload(input, signal);
        return networkDown();
      },
    };
    const error = await rejection(
      rewrapObject({ ...(await setupFor(key, s3, new MemoryRewrapStore())), store }),
    );
    expect(error.code).toBe('S3_UNREACHABLE');
    const [record] = await store.list();
    const result = await resumeRewrap({ s3: real, store, id: record!.id });
    expect(result.sentBytes + result.copiedBytes).toBe(0);
    const stored = await readObject(stack, key);
    expect(result.etag).toBeDefined();
    const opened = await decryptBytes(stored, { keyring: await rawKeyring(NEW_KEY, 'new') });
    expect(sameBytes(opened, plaintext)).toBe(true);
    expect(await store.list()).toHaveLength(0);
  });
});
