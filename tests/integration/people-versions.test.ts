/**
 * [Note: removed people and older versions] against moto with a versioned bucket: Al shares a
 * file with Bea, shares it again (a new version, still with Bea's EDK), then removes her access.
 * The attack: Bea, who can read the bucket, opens an older version with her private key. The
 * search names exactly the two older versions that hold her EDK (not the original, which never
 * did, nor the current one); deleting them by versionId leaves none, Bea's key opens no version
 * left, and the current version still opens with Al's key and not with Bea's.
 */
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { decryptBytes } from '../../src/core';
import { peopleStorageOver } from '../../src/aws/bucket-s3';
import { versionsS3For } from '../../src/aws/object-versions';
import { RawRsaKeyring } from '../../src/keyrings/raw-rsa';
import { generateKeyPair, type NewKeyPair } from '../../src/keyrings/rsa-keys';
import { personVersionsS3For } from '../../src/state/people/person-versions';
import { peopleRoot, type PersonEntry } from '../../src/transfer/people-directory';
import { removePersonAccess, shareWithPerson } from '../../src/transfer/people-share';
import { deleteOlderVersions, versionsHoldingPerson } from '../../src/transfer/people-versions';
import { nodeRewrapS3 } from '../../src/transfer/node';
import {
  rawKeyring,
  readObject,
  sameBytes,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';
import { testKeyBytes } from '../unit/core/helpers';

vi.setConfig({ testTimeout: 120_000 });

const BUCKET = 'veil-people-versions';
const PEOPLE = peopleRoot('team/');
const KEY = 'team/q4/r8s';
const AL_KEY = testKeyBytes(256, 41);

let stack: RewrapMoto;
let bea: NewKeyPair;
let plaintext: Uint8Array;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET, true);
  bea = await generateKeyPair();
  ({ plaintext } = await storeMessage(stack, KEY, 200_000, await rawKeyring(AL_KEY, 'al')));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const beaKeyring = () =>
  new RawRsaKeyring({ keyName: bea.fingerprint, privateKey: bea.privateKey });

async function rewrapBase() {
  const al = await rawKeyring(AL_KEY, 'al');
  return {
    s3: nodeRewrapS3(stack.client),
    bucket: BUCKET,
    key: KEY,
    openWith: al,
    canOpenWith: al,
  };
}

async function shareWithBea(): Promise<void> {
  const recipient: PersonEntry = {
    name: 'Bea',
    publicKeySpki: bea.publicKeySpki,
    fingerprint: bea.fingerprint,
    created: '',
  };
  await shareWithPerson({
    rewrap: await rewrapBase(),
    recipient,
    recipientKeyring: await RawRsaKeyring.forPublicKey(bea.publicKeySpki),
    clearName: 'plan.txt',
    from: { name: 'Al', fingerprint: 'a'.repeat(64) },
    storage: peopleStorageOver(stack.client, BUCKET),
    peoplePrefix: PEOPLE,
  });
}

async function allVersionIds(): Promise<{ versionId: string; isLatest: boolean }[]> {
  const page = await versionsS3For(stack.client, BUCKET).listVersions({ prefix: KEY });
  return page.versions.filter((v) => v.key === KEY && !v.deleteMarker);
}

test('after Remove access, the older versions holding Bea’s key are named, and deleting them leaves none', async () => {
  await shareWithBea();
  await shareWithBea(); // a new version, still holding her EDK
  await removePersonAccess(await rewrapBase(), bea.fingerprint);
  const s3 = personVersionsS3For(stack.client, BUCKET);

  const stale = await versionsHoldingPerson(s3, KEY, bea.fingerprint);
  expect(stale).toHaveLength(2);
  expect(stale.every((v) => !v.isLatest && v.unread === undefined)).toBe(true);
  // The attack: Bea opens each of them with her private key.
  for (const version of stale) {
    const bytes = await readObject(stack, KEY, version.versionId);
    expect(sameBytes(await decryptBytes(bytes, { keyring: beaKeyring() }), plaintext)).toBe(true);
  }
  expect(await allVersionIds()).toHaveLength(4);

  const result = await deleteOlderVersions(
    s3,
    KEY,
    stale.map((v) => v.versionId),
  );
  expect(result.failed).toEqual([]);
  expect(result.deleted).toHaveLength(2);
  expect(await versionsHoldingPerson(s3, KEY, bea.fingerprint)).toEqual([]);

  // Left: the original (never shared) and the current one; Bea's key opens neither.
  const left = await allVersionIds();
  expect(left).toHaveLength(2);
  for (const version of left) {
    const bytes = await readObject(stack, KEY, version.versionId);
    await expect(decryptBytes(bytes, { keyring: beaKeyring() })).rejects.toMatchObject({
      code: 'NO_MATCHING_EDK',
    });
  }
  const current = await readObject(stack, KEY);
  const al = await rawKeyring(AL_KEY, 'al');
  expect(sameBytes(await decryptBytes(current, { keyring: al }), plaintext)).toBe(true);
});

test('the current version is never deleted, and a refused version does not stop the others', async () => {
  const s3 = personVersionsS3For(stack.client, BUCKET);
  const versions = await allVersionIds();
  const current = versions.find((v) => v.isLatest)!;
  const original = versions.find((v) => !v.isLatest)!;
  const result = await deleteOlderVersions(s3, KEY, [current.versionId, original.versionId]);
  expect(result.failed.map((f) => [f.versionId, f.error.code])).toEqual([
    [current.versionId, 'REWRAP_VERSION_CURRENT'],
  ]);
  expect(result.deleted).toEqual([original.versionId]);
  expect((await allVersionIds()).map((v) => v.versionId)).toEqual([current.versionId]);
});
