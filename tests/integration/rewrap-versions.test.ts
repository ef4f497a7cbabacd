/**
 * [Note: rewrap and versions] against moto with versioning enabled: a rewrap that removes a key
 * leaves the previous version, which still opens with the removed key (what the app must say);
 * the result names it, deletePreviousVersion deletes it and refuses the current version. On a
 * bucket without versioning the result names no previous version.
 */
import { CreateBucketCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decryptBytes } from '../../src/core';
import { rewrapObject } from '../../src/transfer/rewrap';
import { rewrapS3For, type RewrapS3 } from '../../src/transfer/rewrap-s3';
import { deletePreviousVersion } from '../../src/transfer/rewrap-versions';
import { testKeyBytes } from '../unit/core/helpers';
import {
  FAST_RETRY,
  MIB,
  rawKeyring,
  readObject,
  rejection,
  sameBytes,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';

const OLD_KEY = testKeyBytes(256, 41);
const NEW_KEY = testKeyBytes(256, 42);

let stack: RewrapMoto;
let s3: RewrapS3;

beforeAll(async () => {
  stack = await startRewrapMoto('veil-rewrap-versions', true);
  s3 = rewrapS3For(stack.client, { blobBodies: false });
});

afterAll(async () => {
  await stack?.stop();
});

async function replaceKey(target: RewrapMoto, key: string) {
  return rewrapObject({
    s3: rewrapS3For(target.client, { blobBodies: false }),
    bucket: target.bucket,
    key,
    openWith: await rawKeyring(OLD_KEY, 'old'),
    addWith: await rawKeyring(NEW_KEY, 'new'),
    remove: [{ keyName: 'old' }],
    copyPartBytes: 5 * MIB,
    retry: FAST_RETRY,
  });
}

async function versionsOf(key: string): Promise<string[]> {
  const listed = await stack.client.send(
    new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }),
  );
  return (listed.Versions ?? []).map((version) => version.VersionId ?? '');
}

describe('rewrap on a versioned bucket', () => {
  test.each([
    ['small', 1000],
    ['multipart', 6 * MIB],
  ])('a %s object: the old version opens with the removed key until deleted', async (_l, size) => {
    const key = `versions/${size}.veil`;
    const stored = await storeMessage(stack, key, size, await rawKeyring(OLD_KEY, 'old'));
    expect(stored.versionId).toBeDefined();
    const result = await replaceKey(stack, key);
    expect(result.previousVersionId).toBe(stored.versionId);
    expect(result.versionId).toBeDefined();
    expect(result.versionId).not.toBe(stored.versionId);

    // The point to say: the removed key still opens the previous version.
    const previous = await readObject(stack, key, stored.versionId);
    expect(sameBytes(previous, stored.message)).toBe(true);
    const reopened = await decryptBytes(previous, { keyring: await rawKeyring(OLD_KEY, 'old') });
    expect(sameBytes(reopened, stored.plaintext)).toBe(true);

    const current = await rejection(
      deletePreviousVersion(s3, stack.bucket, key, result.versionId!),
    );
    expect(current.code).toBe('REWRAP_VERSION_CURRENT');
    expect(await versionsOf(key)).toHaveLength(2);

    await deletePreviousVersion(s3, stack.bucket, key, result.previousVersionId!);
    expect(await versionsOf(key)).toEqual([result.versionId]);
    await expect(readObject(stack, key, stored.versionId)).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const now = await decryptBytes(await readObject(stack, key), {
      keyring: await rawKeyring(NEW_KEY, 'new'),
    });
    expect(sameBytes(now, stored.plaintext)).toBe(true);
  });

  test('a bucket without versioning names no previous version', async () => {
    const plain: RewrapMoto = { ...stack, bucket: 'veil-rewrap-unversioned' };
    await stack.client.send(new CreateBucketCommand({ Bucket: plain.bucket }));
    await storeMessage(plain, 'one.veil', 100, await rawKeyring(OLD_KEY, 'old'));
    const result = await replaceKey(plain, 'one.veil');
    expect(result.previousVersionId).toBeUndefined();
  });

  test('deletePreviousVersion guards its arguments and needs the seam call', async () => {
    const withoutDelete: RewrapS3 = { ...s3, deleteObjectVersion: undefined };
    for (const [seam, bucket, key, version] of [
      [withoutDelete, stack.bucket, 'k', 'v'],
      [s3, '', 'k', 'v'],
      [s3, stack.bucket, '', 'v'],
      [s3, stack.bucket, 'k', ''],
    ] as const) {
      expect((await rejection(deletePreviousVersion(seam, bucket, key, version))).code).toBe(
        'BAD_ARGUMENT',
      );
    }
  });
});
