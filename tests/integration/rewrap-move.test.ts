/**
 * [Note: move by rewrap] against moto with the real SDK client: a bound object moved to a new key
 * opens there (bound to it) and not at its old key; the old object is deleted; a destination
 * that exists is never overwritten (MOVE_DESTINATION_EXISTS, both kept); a swapped object (bound
 * elsewhere) is refused before anything is written, so a rename never launders it; a multipart
 * move copies the body inside S3 and leaves no open upload. An in-place rewrap of an object
 * written before bindings binds it. A move ends the file's share links: moving the file back
 * does not bring a link back ([Note: a move ends its links]). A plain (unencrypted) move onto a
 * taken name keeps both, though moto ignores If-None-Match on CopyObject.
 */
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { linkKeyring } from '../../src/aws/share-link';
import {
  LINK_PROVIDER_ID,
  decryptBytes,
  encryptBytes,
  parseHeaderBytes,
  type Keyring,
  type ObjectLocation,
} from '../../src/core';
import { objectParams } from '../../src/transfer/object-params';
import { rewrapObject } from '../../src/transfer/rewrap';
import { rewrapS3For, type RewrapS3 } from '../../src/transfer/rewrap-s3';
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
  type RewrapMoto,
} from './rewrap-moto';

const KEY = testKeyBytes(256, 21);
let stack: RewrapMoto;
let s3: RewrapS3;
let keyring: Keyring;

beforeAll(async () => {
  stack = await startRewrapMoto('veil-move');
  s3 = rewrapS3For(stack.client, { blobBodies: false });
  keyring = await rawKeyring(KEY, 'mover');
});
afterAll(async () => stack?.stop());

const at = (key: string): ObjectLocation => ({ bucket: stack.bucket, key });

/** Stores a message bound to `key`, as an upload does. */
async function storeBound(key: string, plaintextBytes: number): Promise<Uint8Array> {
  const plaintext = patternBytes(plaintextBytes, plaintextBytes % 97);
  const message = await encryptBytes(plaintext, { keyring, location: at(key) });
  await stack.client.send(
    new PutObjectCommand({
      Bucket: stack.bucket,
      Key: key,
      Body: message,
      ...objectParams(true, 'A', { type: 'SSE-S3' }),
    }),
  );
  return plaintext;
}

const opensAt = async (key: string): Promise<Uint8Array> =>
  decryptBytes(await readObject(stack, key), {
    keyring,
    location: { expected: at(key), rule: 'required' },
  });

async function exists(key: string): Promise<boolean> {
  return stack.client.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

const move = (key: string, destinationKey: string, extra: object = {}) =>
  rewrapObject({
    s3,
    bucket: stack.bucket,
    key,
    destinationKey,
    openWith: keyring,
    bindingRule: 'required',
    retry: FAST_RETRY,
    ...extra,
  });

describe('move by rewrap', () => {
  test('a small object moves: bound to its new key, gone from the old one', async () => {
    const plaintext = await storeBound('p/a.txt', 3000);
    const result = await move('p/a.txt', 'p/renamed.txt');
    expect(result.key).toBe('p/renamed.txt');
    expect(result.movedFrom).toEqual({ key: 'p/a.txt', deleted: true });
    expect(sameBytes(await opensAt('p/renamed.txt'), plaintext)).toBe(true);
    expect(await exists('p/a.txt')).toBe(false);
    // The new object copied back to the old key by storage is refused there.
    await stack.client.send(
      new CopyObjectCommand({
        Bucket: stack.bucket,
        Key: 'p/a.txt',
        CopySource: `${stack.bucket}/p/renamed.txt`,
      }),
    );
    expect((await rejection(opensAt('p/a.txt'))).code).toBe('OBJECT_MISMATCH');
  });

  test('a multipart move copies the body in S3 and leaves no open upload', async () => {
    const plaintext = await storeBound('big/source.bin', 11 * MIB);
    const result = await move('big/source.bin', 'big/dest.bin', { copyPartBytes: 5 * MIB });
    expect(result.method).toBe('multipart');
    expect(result.copiedBytes).toBeGreaterThan(0);
    expect(sameBytes(await opensAt('big/dest.bin'), plaintext)).toBe(true);
    expect(await exists('big/source.bin')).toBe(false);
    expect(await openUploads(stack)).toBe(0);
  });

  test('never overwrites: a taken destination keeps both objects', async () => {
    const mine = await storeBound('q/mine.txt', 100);
    const theirs = await storeBound('q/theirs.txt', 200);
    const error = await rejection(move('q/mine.txt', 'q/theirs.txt'));
    expect(error.code).toBe('MOVE_DESTINATION_EXISTS');
    expect(sameBytes(await opensAt('q/mine.txt'), mine)).toBe(true);
    expect(sameBytes(await opensAt('q/theirs.txt'), theirs)).toBe(true);
  });

  test('refuses to move a swapped object, writing nothing', async () => {
    await storeBound('s/real.txt', 100);
    await stack.client.send(
      new CopyObjectCommand({
        Bucket: stack.bucket,
        Key: 's/swapped.txt',
        CopySource: `${stack.bucket}/s/real.txt`,
      }),
    );
    const error = await rejection(move('s/swapped.txt', 's/laundered.txt'));
    expect(error.code).toBe('OBJECT_MISMATCH');
    expect(await exists('s/laundered.txt')).toBe(false);
    expect(await exists('s/swapped.txt')).toBe(true);
  });

  test('an in-place rewrap binds an object written before bindings', async () => {
    const plaintext = patternBytes(500, 3);
    const unbound = await encryptBytes(plaintext, { keyring });
    await stack.client.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: 'old/legacy.txt', Body: unbound }),
    );
    expect((await rejection(opensAt('old/legacy.txt'))).code).toBe('OBJECT_MISMATCH');
    await rewrapObject({ s3, bucket: stack.bucket, key: 'old/legacy.txt', openWith: keyring });
    expect(sameBytes(await opensAt('old/legacy.txt'), plaintext)).toBe(true);
  });

  test('an unencrypted object moves by copy outside private names, and not inside them', async () => {
    const body = patternBytes(700, 8);
    await stack.client.send(
      new PutObjectCommand({
        Bucket: stack.bucket,
        Key: 'plain/a.txt',
        Body: body,
        ...objectParams(false, undefined, { type: 'SSE-S3' }),
      }),
    );
    const refused = await rejection(move('plain/a.txt', 'plain/b.txt'));
    expect(refused.code).toBe('REWRAP_NOT_A_MESSAGE');
    expect(await exists('plain/b.txt')).toBe(false);
    const result = await move('plain/a.txt', 'plain/b.txt', { bindingRule: 'if-present' });
    expect(result.method).toBe('copy');
    expect(result.movedFrom).toEqual({ key: 'plain/a.txt', deleted: true });
    expect(sameBytes(await readObject(stack, 'plain/b.txt'), body)).toBe(true);
    expect(await exists('plain/a.txt')).toBe(false);
  });

  test('a plain move onto a taken name keeps both (moto would let the copy overwrite)', async () => {
    const mine = patternBytes(300, 4);
    const theirs = patternBytes(400, 5);
    for (const [key, body] of [
      ['plain/mine.txt', mine],
      ['plain/theirs.txt', theirs],
    ] as const) {
      await stack.client.send(
        new PutObjectCommand({
          Bucket: stack.bucket,
          Key: key,
          Body: body,
          ...objectParams(false, undefined, { type: 'SSE-S3' }),
        }),
      );
    }
    const error = await rejection(
      move('plain/mine.txt', 'plain/theirs.txt', { bindingRule: 'if-present' }),
    );
    expect(error.code).toBe('MOVE_DESTINATION_EXISTS');
    expect(sameBytes(await readObject(stack, 'plain/theirs.txt'), theirs)).toBe(true);
    expect(sameBytes(await readObject(stack, 'plain/mine.txt'), mine)).toBe(true);
  });

  test("a move ends the file's links: moving it back brings no link back", async () => {
    const plaintext = await storeBound('l/report.txt', 5000);
    const linkId = 'AAAAAAAAAAAAAAAAAAAAAA';
    const linkKey = patternBytes(32, 77);
    await rewrapObject({
      s3,
      bucket: stack.bucket,
      key: 'l/report.txt',
      openWith: keyring,
      addWith: await linkKeyring(linkId, linkKey),
      bindingRule: 'required',
      retry: FAST_RETRY,
    });
    const linkOpens = async (key: string) =>
      decryptBytes(await readObject(stack, key), {
        keyring: await linkKeyring(linkId, linkKey),
        location: { expected: at(key), rule: 'required' },
      });
    expect(sameBytes(await linkOpens('l/report.txt'), plaintext)).toBe(true);

    const moved = await move('l/report.txt', 'l/renamed.txt');
    expect(moved.removed.map((edk) => edk.providerId)).toEqual([LINK_PROVIDER_ID]);
    const providers = (key: string) =>
      readObject(stack, key).then((bytes) =>
        parseHeaderBytes(bytes).encryptedDataKeys.map((edk) => edk.providerId),
      );
    expect(await providers('l/renamed.txt')).not.toContain(LINK_PROVIDER_ID);
    expect(sameBytes(await opensAt('l/renamed.txt'), plaintext)).toBe(true);

    await move('l/renamed.txt', 'l/report.txt');
    expect(await providers('l/report.txt')).not.toContain(LINK_PROVIDER_ID);
    expect(sameBytes(await opensAt('l/report.txt'), plaintext)).toBe(true);
    expect((await rejection(linkOpens('l/report.txt'))).code).toBe('NO_MATCHING_EDK');
  });
});
