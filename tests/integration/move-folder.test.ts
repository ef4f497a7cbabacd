/**
 * [Note: move plan] run by the batch runner against moto: a folder of a private-names location
 * (names key in the bucket) moves to another clear path; every object then lists under the new
 * folder's clear name, opens at its new key with bindings required, and nothing is left under
 * the old folder but what could not be named.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decryptBytes, encryptBytes, type Keyring } from '../../src/core';
import { privateNames, type LocationNames } from '../../src/transfer/location-names';
import { planMove } from '../../src/transfer/move-plan';
import { ensureNamesKey } from '../../src/transfer/names-key';
import { RewrapBatch } from '../../src/transfer/rewrap-batch';
import { rewrapS3For } from '../../src/transfer/rewrap-s3';
import { patternBytes, testKeyBytes } from '../unit/core/helpers';
import {
  FAST_RETRY,
  namesStorage,
  rawKeyring,
  readObject,
  sameBytes,
  startRewrapMoto,
  type RewrapMoto,
} from './rewrap-moto';

const ROOT = 'users/u1/';
let stack: RewrapMoto;
let keyring: Keyring;
let names: LocationNames;

beforeAll(async () => {
  stack = await startRewrapMoto('veil-move-folder');
  keyring = await rawKeyring(testKeyBytes(256, 31), 'folder-key');
  const location = { bucket: stack.bucket, root: ROOT };
  const { cipher } = await ensureNamesKey(namesStorage(stack), location, keyring, {
    'veil-app': 'veil',
  });
  names = privateNames(location, cipher);
});
afterAll(async () => stack?.stop());

async function store(path: string, plaintext: Uint8Array): Promise<void> {
  const key = names.objectKey(path);
  const message = await encryptBytes(plaintext, { keyring, location: names.locationOf(key) });
  await stack.client.send(new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: message }));
}

async function keysUnder(prefix: string): Promise<{ key: string; sizeBytes: number }[]> {
  const listed = await stack.client.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }),
  );
  return (listed.Contents ?? []).map((o) => ({ key: o.Key ?? '', sizeBytes: o.Size ?? 0 }));
}

test('a folder moves: clear names under the new folder, each object bound to its new key', async () => {
  const files = new Map([
    ['projects/q3/plan.txt', patternBytes(1200, 1)],
    ['projects/q3/notes/monday.md', patternBytes(300, 2)],
    ['projects/q3/notes/budget.xlsx', patternBytes(7000, 3)],
  ]);
  for (const [path, bytes] of files) await store(path, bytes);
  await store('projects/other.txt', patternBytes(10, 4));
  const plan = planMove(names, await keysUnder(ROOT), {
    from: 'projects/q3/',
    to: 'archive/2026 Q3/',
  });
  expect(plan.totals.ready).toBe(3);
  const batch = new RewrapBatch({
    plan,
    setup: {
      s3: rewrapS3For(stack.client, { blobBodies: false }),
      bucket: stack.bucket,
      openWith: keyring,
      bindingRule: 'required',
      retry: FAST_RETRY,
    },
    destinationFor: (object) => plan.destinations.get(object.key),
    concurrency: 2,
  });
  const ended = await batch.run();
  expect(ended.progress).toMatchObject({ doneObjects: 3, failedObjects: 0 });

  const after = await keysUnder(ROOT);
  const clear = after.map((o) => names.clearPath(o.key)).filter((p) => p && !p.startsWith('.veil'));
  expect(clear.sort()).toEqual(
    [
      'archive/2026 Q3/notes/budget.xlsx',
      'archive/2026 Q3/notes/monday.md',
      'archive/2026 Q3/plan.txt',
      'projects/other.txt',
    ].sort(),
  );
  for (const [path, bytes] of files) {
    const key = names.objectKey(path.replace('projects/q3/', 'archive/2026 Q3/'));
    const opened = await decryptBytes(await readObject(stack, key), {
      keyring,
      location: { expected: names.locationOf(key), rule: 'required' },
    });
    expect(sameBytes(opened, bytes)).toBe(true);
  }
  // No clear name reached the bucket.
  for (const o of after) expect(o.key).not.toMatch(/archive|2026|plan|notes|projects/);
});
