/**
 * [Note: names key rotation] against moto: every object of a private-names location gets its
 * name under a new names key; a run stopped part-way is planned again without losing a name (the
 * moved objects are left out, the next key is reused); the finish puts the new key in place,
 * after which every name opens, every object opens at its key, and no old stored name is left.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decryptBytes, encryptBytes, type Keyring } from '../../src/core';
import { privateNames } from '../../src/transfer/location-names';
import { ensureNamesKey, readNamesKey } from '../../src/transfer/names-key';
import { finishNamesRotation, planNamesRotation } from '../../src/transfer/names-rotate';
import { RewrapBatch } from '../../src/transfer/rewrap-batch';
import { rewrapS3For, type RewrapS3 } from '../../src/transfer/rewrap-s3';
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

const LOCATION = { bucket: 'veil-rotate', root: 'team/' };
const CONTEXT = { 'veil-app': 'veil' };
let stack: RewrapMoto;
let keyring: Keyring;
let s3: RewrapS3;

async function listed(): Promise<{ key: string; sizeBytes: number }[]> {
  const page = await stack.client.send(
    new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: LOCATION.root }),
  );
  return (page.Contents ?? []).map((o) => ({ key: o.Key ?? '', sizeBytes: o.Size ?? 0 }));
}

beforeAll(async () => {
  stack = await startRewrapMoto(LOCATION.bucket);
  keyring = await rawKeyring(testKeyBytes(256, 41), 'rotate-key');
  s3 = rewrapS3For(stack.client, { blobBodies: false });
});
afterAll(async () => stack?.stop());

test('a names key rotation renames every object, survives a stop, and ends with the new key', async () => {
  const { cipher } = await ensureNamesKey(namesStorage(stack), LOCATION, keyring, CONTEXT);
  const before = privateNames(LOCATION, cipher);
  const files = new Map([
    ['a.txt', patternBytes(100, 1)],
    ['reports/q1.pdf', patternBytes(2000, 2)],
    ['reports/2026/q2.pdf', patternBytes(3000, 3)],
  ]);
  for (const [path, bytes] of files) {
    const key = before.objectKey(path);
    const message = await encryptBytes(bytes, { keyring, location: before.locationOf(key) });
    await stack.client.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: key, Body: message }),
    );
  }
  const oldKeys = new Set((await listed()).map((o) => o.key));
  const setup = {
    s3,
    bucket: stack.bucket,
    openWith: keyring,
    bindingRule: 'required' as const,
    retry: FAST_RETRY,
  };

  // A first run moves one object, then stops (cancelled).
  const first = await planNamesRotation(
    namesStorage(stack),
    LOCATION,
    keyring,
    CONTEXT,
    await listed(),
  );
  expect(first.plan.totals.ready).toBe(3);
  let started = 0;
  const stopped = new RewrapBatch({
    plan: first.plan,
    setup,
    destinationFor: (o) => first.plan.destinations.get(o.key),
    onChange: (snapshot) => {
      if (snapshot.progress.doneObjects === 1 && started++ === 0) stopped.cancel();
    },
  });
  await stopped.run();

  // Planned again: the moved object is left out, the same next key is used.
  const second = await planNamesRotation(
    namesStorage(stack),
    LOCATION,
    keyring,
    CONTEXT,
    await listed(),
  );
  expect(second.plan.totals.ready).toBe(2);
  expect(second.next.objectKey('a.txt')).toBe(first.next.objectKey('a.txt'));
  await new RewrapBatch({
    plan: second.plan,
    setup,
    destinationFor: (o) => second.plan.destinations.get(o.key),
  }).run();
  expect(
    (await planNamesRotation(namesStorage(stack), LOCATION, keyring, CONTEXT, await listed())).plan
      .totals.ready,
  ).toBe(0);

  await finishNamesRotation(namesStorage(stack), LOCATION, {
    s3,
    openWith: keyring,
    retry: FAST_RETRY,
  });
  const after = privateNames(
    LOCATION,
    (await readNamesKey(namesStorage(stack), LOCATION, keyring))!,
  );
  const keysNow = (await listed()).map((o) => o.key);
  expect(keysNow).toContain('team/.veil/names-key');
  expect(keysNow).not.toContain('team/.veil/names-key.next');
  for (const [path, bytes] of files) {
    const key = after.objectKey(path);
    expect(oldKeys.has(key)).toBe(false);
    expect(keysNow).toContain(key);
    const opened = await decryptBytes(await readObject(stack, key), {
      keyring,
      location: { expected: after.locationOf(key), rule: 'required' },
    });
    expect(sameBytes(opened, bytes)).toBe(true);
  }
  expect(
    keysNow
      .filter((key) => !key.includes('.veil/'))
      .every((key) => after.clearPath(key) !== undefined),
  ).toBe(true);
});
