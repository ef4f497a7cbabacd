/**
 * The rewrap engine against moto with the real SDK client (rewrapS3For): messages our core wrote
 * are stored, rewrapped from one raw AES key to another, and read back. After each, the object
 * opens with the new key in Veil and in client-node, not with the removed one; the bytes after
 * the header are the old ones; the metadata badge changed and the rest was kept. A concurrent
 * overwrite fails with REWRAP_SOURCE_CHANGED and keeps the other writer's object; a cancel or a
 * refused copy aborts the multipart upload and leaves the original. What moto does not enforce
 * (the copy condition, Complete's If-Match: rewrap-moto-conditions.test.ts) is said at each test.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VeilError, decryptBytes, encryptBytes, parseHeaderBytes } from '../../src/core';
import type { ErrorCode, Keyring } from '../../src/core';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { objectParams } from '../../src/transfer/object-params';
import { rewrapObject } from '../../src/transfer/rewrap';
import type { RewrapProgress, RewrapSetup } from '../../src/transfer/rewrap-options';
import { rewrapS3For, type RewrapS3 } from '../../src/transfer/rewrap-s3';
import {
  PEER_SUITE_0578,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from '../unit/core/helpers';
import { startRewrapMoto, type RewrapMoto } from './rewrap-moto';

const BUCKET = 'veil-rewrap';
const MIB = 1024 * 1024;
const OLD_KEY = testKeyBytes(256, 11);
const NEW_KEY = testKeyBytes(256, 12);
const FAST_RETRY = { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 };

let stack: RewrapMoto | undefined;
let client: S3Client;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET);
  client = stack.client;
});

afterAll(async () => {
  await stack?.stop();
});

const keyring = (bytes: Uint8Array, keyName: string): Promise<Keyring> =>
  RawAesKeyring.fromBytes({ keyBytes: bytes.slice(), keyNamespace: 'veil', keyName });

/** Stores a message of `plaintextBytes` under the old key, as an upload would (model A, SSE-S3). */
async function store(
  key: string,
  plaintextBytes: number,
): Promise<{ plaintext: Uint8Array; message: Uint8Array }> {
  const plaintext = patternBytes(plaintextBytes, plaintextBytes % 251);
  const message = await encryptBytes(plaintext, { keyring: await keyring(OLD_KEY, 'old') });
  const params = objectParams(true, 'A', { type: 'SSE-S3' });
  await client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: message,
      ...params,
      Metadata: { ...params.Metadata, note: 'kept' },
    }),
  );
  return { plaintext, message };
}

async function read(key: string): Promise<Uint8Array> {
  const reply = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return reply.Body!.transformToByteArray();
}

async function openUploads(): Promise<number> {
  const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }));
  return listed.Uploads?.length ?? 0;
}

async function setupFor(key: string, s3: RewrapS3 = rewrapS3For(client, { blobBodies: false })) {
  return {
    s3,
    bucket: BUCKET,
    key,
    openWith: await keyring(OLD_KEY, 'old'),
    addWith: await keyring(NEW_KEY, 'new'),
    remove: [{ keyName: 'old' }],
    model: 'B',
    copyPartBytes: 5 * MIB,
    retry: FAST_RETRY,
  } satisfies RewrapSetup;
}

async function failure(run: Promise<unknown>): Promise<VeilError> {
  const error = await run.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(VeilError);
  return error as VeilError;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe('rewrapObject in moto', () => {
  test.each([
    ['0 B', 0],
    ['1 B', 1],
    ['5 MiB - 1', 5 * MIB - 1],
    ['5 MiB + 1', 5 * MIB + 1],
    ['12 MiB', 12 * MIB + 777],
  ])('replaces the key of a %s file', async (_label, plaintextBytes) => {
    const key = `sizes/${plaintextBytes}.veil`;
    const { plaintext, message } = await store(key, plaintextBytes);
    const oldHeader = parseHeaderBytes(message);
    const progress: RewrapProgress[] = [];
    const result = await rewrapObject({
      ...(await setupFor(key)),
      onProgress: (p) => progress.push(p),
    });

    const stored = await read(key);
    const header = parseHeaderBytes(stored);
    expect(same(stored.subarray(header.headerBytes), message.subarray(oldHeader.headerBytes))).toBe(
      true,
    );
    expect(result.objectBytes).toBe(stored.length);
    const opened = await decryptBytes(stored, { keyring: await keyring(NEW_KEY, 'new') });
    expect(same(opened, plaintext)).toBe(true);
    const viaPeer = await peer.decrypt(peerKeyring(NEW_KEY, 'new', 'veil'), stored);
    expect(same(viaPeer.plaintext, plaintext)).toBe(true);
    const refused = await failure(decryptBytes(stored, { keyring: await keyring(OLD_KEY, 'old') }));
    expect(refused.code).toBe('NO_MATCHING_EDK');

    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head.Metadata).toEqual({
      'veil-format': 'esdk-v2-0478-framed',
      'veil-model': 'B',
      note: 'kept',
    });
    expect(head.ServerSideEncryption).toBe('AES256');
    expect(head.ContentType).toBe('application/octet-stream');

    // Small objects are put again whole; larger ones send 5 MiB and copy the rest inside S3.
    if (stored.length <= 5 * MIB) {
      expect(result.method).toBe('put');
      expect(result.copiedBytes).toBe(0);
    } else {
      expect(result.method).toBe('multipart');
      expect(result.sentBytes).toBe(5 * MIB);
      expect(result.copiedBytes).toBe(stored.length - 5 * MIB);
      expect(result.partCount).toBe(1 + Math.ceil((stored.length - 5 * MIB) / (5 * MIB)));
      expect(result.receivedBytes).toBeLessThan(5 * MIB + 8192);
    }
    expect(progress.at(-1)).toMatchObject({
      state: 'done',
      copiedBytes: result.copiedBytes,
      sentBytes: result.sentBytes,
    });
    expect(await openUploads()).toBe(0);
  });

  test('adds a key and keeps the old one; removing both is refused', async () => {
    const key = 'add/one.veil';
    const { plaintext } = await store(key, 6 * MIB);
    const setup = await setupFor(key);
    const result = await rewrapObject({ ...setup, remove: [] });
    expect(result.removed).toHaveLength(0);
    expect(result.added).toHaveLength(1);
    const stored = await read(key);
    for (const [bytes, name] of [
      [OLD_KEY, 'old'],
      [NEW_KEY, 'new'],
    ] as const) {
      expect(
        same(await decryptBytes(stored, { keyring: await keyring(bytes, name) }), plaintext),
      ).toBe(true);
    }
    const lastKey = await failure(
      rewrapObject({
        ...setup,
        addWith: undefined,
        remove: [{ keyName: 'old' }, { keyName: 'new' }],
      }),
    );
    expect(lastKey.code).toBe('REWRAP_LAST_KEY');
    expect(same(await read(key), stored)).toBe(true);
  });

  /**
   * A seam that overwrites the object: before the first UploadPartCopy, after the copy of part
   * `afterPart`, or before the PutObject.
   */
  function overwriting(
    key: string,
    when: 'before copies' | { afterPart: number } | 'before put',
  ): { s3: RewrapS3; newBody: Uint8Array } {
    const real = rewrapS3For(client, { blobBodies: false });
    const newBody = patternBytes(1000, 99);
    let done = false;
    const overwrite = async (): Promise<void> => {
      if (done) return;
      done = true;
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: newBody }));
    };
    const s3: RewrapS3 = {
      ...real,
      uploadPartCopy: async (input, signal) => {
        if (when === 'before copies') await overwrite();
        const reply = await real.uploadPartCopy(input, signal);
        if (typeof when === 'object' && input.PartNumber === when.afterPart) await overwrite();
        return reply;
      },
      putObject: async (input, signal) => {
        if (when === 'before put') await overwrite();
        return real.putObject(input, signal);
      },
    };
    return { s3, newBody };
  }

  // Part 1's ranged GET runs beside the copies with If-Match, which moto enforces, so either that
  // GET or the engine's last HEAD before Complete catches the change, whichever comes first.
  test('an overwrite before the copies fails with REWRAP_SOURCE_CHANGED and is kept', async () => {
    const key = 'changed/before-copies.veil';
    await store(key, 12 * MIB);
    const { s3, newBody } = overwriting(key, 'before copies');
    const error = await failure(rewrapObject(await setupFor(key, s3)));
    expect(error.code).toBe('REWRAP_SOURCE_CHANGED');
    expect(same(await read(key), newBody)).toBe(true);
    expect(await openUploads()).toBe(0);
  });

  // moto copies despite a wrong x-amz-copy-source-if-match and completes despite a wrong
  // If-Match, so a change after the last read is caught by the engine's last HEAD before Complete
  // ([Note: rewrap source check]); on S3 the copy itself would already answer 412.
  test('an overwrite after the copies is caught by the last HEAD and is kept', async () => {
    const key = 'changed/after-copies.veil';
    await store(key, 12 * MIB);
    const { s3, newBody } = overwriting(key, { afterPart: 3 });
    const error = await failure(rewrapObject({ ...(await setupFor(key, s3)), copiesInFlight: 1 }));
    expect(error.code).toBe('REWRAP_SOURCE_CHANGED');
    expect(error.detail).toContain('HeadObject');
    expect(same(await read(key), newBody)).toBe(true);
    expect(await openUploads()).toBe(0);
  });

  // moto enforces PutObject's If-Match: this 412 is moto's own answer.
  test('an overwrite before the put of a small object fails with a 412 from S3', async () => {
    const key = 'changed/put.veil';
    await store(key, 1000);
    const { s3, newBody } = overwriting(key, 'before put');
    const error = await failure(rewrapObject(await setupFor(key, s3)));
    expect(error.code).toBe('REWRAP_SOURCE_CHANGED');
    expect(error.detail).toContain('PutObject');
    expect(same(await read(key), newBody)).toBe(true);
  });

  // A 412 on UploadPartCopy is what S3 answers for x-amz-copy-source-if-match; moto does not, so
  // the seam answers as S3 would. The engine's handling (code, abort, original kept) is real.
  test('a 412 on a copy (as S3 answers) aborts the upload and keeps the original', async () => {
    const key = 'changed/copy-412.veil';
    const { message } = await store(key, 12 * MIB);
    const real = rewrapS3For(client, { blobBodies: false });
    const s3: RewrapS3 = {
      ...real,
      uploadPartCopy: () =>
        Promise.reject(
          Object.assign(
            new Error('At least one of the pre-conditions you specified did not hold'),
            {
              name: 'PreconditionFailed',
              $metadata: { httpStatusCode: 412 },
            },
          ),
        ),
    };
    const error = await failure(rewrapObject(await setupFor(key, s3)));
    expect(error.code).toBe('REWRAP_SOURCE_CHANGED');
    expect(same(await read(key), message)).toBe(true);
    expect(await openUploads()).toBe(0);
  });

  test.each<[string, ErrorCode]>([
    ['cancel', 'REWRAP_CANCELLED'],
    ['refused copy', 'S3_REJECTED'],
  ])('a %s mid-way aborts the upload and leaves the original', async (what, code) => {
    const key = `interrupted/${what.replace(' ', '-')}.veil`;
    const { message } = await store(key, 12 * MIB);
    const controller = new AbortController();
    const real = rewrapS3For(client, { blobBodies: false });
    let copies = 0;
    const s3: RewrapS3 = {
      ...real,
      uploadPartCopy: async (input, signal) => {
        copies++;
        if (copies < 2) return real.uploadPartCopy(input, signal);
        if (what === 'cancel') {
          controller.abort();
          return real.uploadPartCopy(input, signal);
        }
        throw Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
      },
    };
    const error = await failure(
      rewrapObject({ ...(await setupFor(key, s3)), signal: controller.signal, copiesInFlight: 1 }),
    );
    expect(error.code).toBe(code);
    if (code === 'S3_REJECTED') expect(error.detail).toContain('rewrap UploadPartCopy');
    expect(same(await read(key), message)).toBe(true);
    expect(await openUploads()).toBe(0);
  });

  test('refuses objects no ESDK wrote and signed messages, leaving them as they are', async () => {
    const plainKey = 'refused/plain.txt';
    const plain = patternBytes(100, 5);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: plainKey, Body: plain }));
    expect((await failure(rewrapObject(await setupFor(plainKey)))).code).toBe(
      'REWRAP_NOT_A_MESSAGE',
    );
    expect(same(await read(plainKey), plain)).toBe(true);

    const signedKey = 'refused/signed.veil';
    const { result } = await peer.encrypt(
      peerKeyring(OLD_KEY, 'old', 'veil'),
      Buffer.from(patternBytes(5000)),
      { suiteId: PEER_SUITE_0578 },
    );
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: signedKey, Body: result }));
    expect((await failure(rewrapObject(await setupFor(signedKey)))).code).toBe(
      'REWRAP_SIGNED_MESSAGE',
    );
    expect(same(await read(signedKey), result)).toBe(true);

    const wrongKey = 'refused/wrong-key.veil';
    const { message } = await store(wrongKey, 10);
    const notMine = await failure(
      rewrapObject({ ...(await setupFor(wrongKey)), openWith: await keyring(NEW_KEY, 'new') }),
    );
    expect(notMine.code).toBe('NO_MATCHING_EDK');
    expect(same(await read(wrongKey), message)).toBe(true);
  });
});
