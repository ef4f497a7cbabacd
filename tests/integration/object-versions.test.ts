/**
 * The versions adapter (src/aws/object-versions.ts) and the Versions dialog's core against moto
 * with versioning on ([Note: a file's versions]): GetBucketVersioning on and off, the listing
 * paged two entries at a time through moto's key and version markers (exact key, newest first,
 * a delete marker in place), a version downloaded through the engine with the version pinned,
 * a restore by CopyObject from `key?versionId=…` (the old current kept), a swapped version
 * refused before any copy, and deletes of a previous and of the current version.
 *
 * Not claimed: moto enforces no IAM, so a refused s3:DeleteObjectVersion is the unit tests'.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { versionsS3For, type VersionsS3 } from '../../src/aws/object-versions';
import { encryptBytes, type Keyring } from '../../src/core';
import {
  VersionsCore,
  emptyVersionsView,
  type VersionsDeps,
} from '../../src/state/files/versions-core';
import { downloadObject } from '../../src/transfer/download';
import { rewrapS3For } from '../../src/transfer/rewrap-s3';
import { patternBytes, testKeyBytes } from '../unit/core/helpers';
import { MemorySink } from '../unit/transfer/download-fake-s3';
import { rawKeyring, readObject, sameBytes, startRewrapMoto, type RewrapMoto } from './rewrap-moto';

let stack: RewrapMoto;
let s3: VersionsS3;
let keyring: Keyring;

beforeAll(async () => {
  stack = await startRewrapMoto('veil-object-versions', true);
  s3 = versionsS3For(stack.client, stack.bucket);
  keyring = await rawKeyring(testKeyBytes(256, 7), 'team');
});

afterAll(async () => {
  await stack?.stop();
});

/** Stores a message bound to `boundTo` under `key`; returns its version id. */
async function put(key: string, plain: Uint8Array, boundTo = key): Promise<string> {
  const body = await encryptBytes(plain, {
    keyring,
    frameBytes: 1024,
    location: { bucket: stack.bucket, key: boundTo },
  });
  const reply = await stack.client.send(
    new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: body }),
  );
  return reply.VersionId ?? '';
}

function core(key: string, pageKeys = 100): VersionsCore {
  const deps: VersionsDeps = {
    bucket: stack.bucket,
    s3: () => s3,
    rewrapS3: () => rewrapS3For(stack.client, { blobBodies: false }),
    readKeyring: () => Promise.resolve(keyring),
    bindingRule: () => Promise.resolve('required'),
    download: () => undefined,
    pageKeys,
  };
  return new VersionsCore(deps, emptyVersionsView(), { key, name: 'a.txt' });
}

async function listedIds(key: string): Promise<string[]> {
  const reply = await stack.client.send(
    new ListObjectVersionsCommand({ Bucket: stack.bucket, Prefix: key }),
  );
  return [...(reply.Versions ?? []), ...(reply.DeleteMarkers ?? [])]
    .filter((version) => version.Key === key)
    .map((version) => version.VersionId ?? '');
}

describe('versions against moto', () => {
  test('GetBucketVersioning tells a versioned bucket from one without versioning', async () => {
    expect(await s3.versioning()).toBe('enabled');
    await stack.client.send(new CreateBucketCommand({ Bucket: 'veil-no-versions' }));
    expect(await versionsS3For(stack.client, 'veil-no-versions').versioning()).toBe('off');
  });

  test('lists exactly the key, newest first, two entries a page, with a delete marker', async () => {
    const key = 'paged/a.txt';
    const written: string[] = [];
    for (const seed of [1, 2, 3]) written.push(await put(key, patternBytes(100, seed)));
    const marker = await stack.client.send(
      new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }),
    );
    written.push(marker.VersionId ?? '');
    written.push(await put(key, patternBytes(100, 4)));
    await put(`${key}.bak`, patternBytes(10));
    const versions = core(key, 2);
    await versions.load();
    expect(versions.view.complete).toBe(false);
    while (!versions.view.complete) await versions.loadMore();
    const shown = versions.view.versions;
    expect(shown.map((version) => version.versionId)).toEqual([...written].reverse());
    expect(shown.map((version) => version.deleteMarker)).toEqual([
      false,
      true,
      false,
      false,
      false,
    ]);
    expect(shown[0]?.isLatest).toBe(true);
    expect(shown.filter((version) => version.isLatest)).toHaveLength(1);
  });

  test('a version downloads through the engine with the version pinned', async () => {
    const key = 'pinned/a.txt';
    const v1 = await put(key, patternBytes(5000, 1));
    await put(key, patternBytes(7000, 2));
    const sink = new MemorySink();
    await downloadObject({
      s3: s3.downloadS3(v1),
      bucket: stack.bucket,
      key,
      keyring,
      bindingRule: 'required',
      sink,
    });
    expect(sameBytes(sink.bytes(), patternBytes(5000, 1))).toBe(true);
  });

  test('restore copies the version over the key, keeps the old current, and reads its size', async () => {
    const key = 'restore/a.txt';
    const v1 = await put(key, patternBytes(3000, 1));
    const v2 = await put(key, patternBytes(4000, 2));
    const first = await readObject(stack, key, v1);
    const versions = core(key);
    await versions.load();
    await versions.showSizes();
    expect(versions.view.sizes[v1]).toEqual({ state: 'exact', plaintextBytes: 3000 });
    expect(versions.view.sizes[v2]).toEqual({ state: 'exact', plaintextBytes: 4000 });
    const old = versions.view.versions.find((version) => version.versionId === v1)!;
    expect(await versions.restore(old)).toBe(true);
    expect(versions.view.actionError).toBeUndefined();
    expect(sameBytes(await readObject(stack, key), first)).toBe(true);
    const ids = await listedIds(key);
    expect(ids).toHaveLength(3);
    expect(ids).toContain(v2);
    expect(versions.view.versions).toHaveLength(3);
  });

  test('a version swapped in from another key is refused before any copy', async () => {
    const key = 'swap/a.txt';
    const good = await put(key, patternBytes(3000, 1));
    const other = await put('swap/other.txt', patternBytes(3000, 9));
    const swap = await stack.client.send(
      new CopyObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        CopySource: `${stack.bucket}/swap/other.txt?versionId=${other}`,
      }),
    );
    await stack.client.send(
      new CopyObjectCommand({
        Bucket: stack.bucket,
        Key: key,
        CopySource: `${stack.bucket}/${key}?versionId=${good}`,
      }),
    );
    const before = await listedIds(key);
    const versions = core(key);
    await versions.load();
    const swapped = versions.view.versions.find((v) => v.versionId === swap.VersionId)!;
    expect(await versions.restore(swapped)).toBe(false);
    expect(versions.view.actionError?.code).toBe('OBJECT_MISMATCH');
    expect(await listedIds(key)).toEqual(before);
  });

  test('deletes a previous version, then the current one, for good', async () => {
    const key = 'delete/a.txt';
    const v1 = await put(key, patternBytes(100, 1));
    const v2 = await put(key, patternBytes(100, 2));
    const versions = core(key);
    await versions.load();
    expect(await versions.remove(versions.view.versions[1]!)).toBe(true);
    expect(await listedIds(key)).toEqual([v2]);
    expect(await versions.remove(versions.view.versions[0]!)).toBe(true);
    expect(await listedIds(key)).toEqual([]);
    expect(versions.view.notice).toContain('The file is gone.');
    expect(v1).not.toBe(v2);
  });
});
