/**
 * [Note: capped reads] against moto: anyone who may write to the bucket can drop a "note" of
 * several MiB in anyone's inbox. Read through the app's people storage (aws/bucket-s3.ts), that
 * note is listed as unreadable (RECORD_TOO_LARGE) while the real notes open, and a directory
 * entry of several MiB is refused while the others are listed.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { peopleStorageOver } from '../../src/aws/bucket-s3';
import { RawRsaKeyring } from '../../src/keyrings/raw-rsa';
import { generateKeyPair, type NewKeyPair } from '../../src/keyrings/rsa-keys';
import {
  entryKey,
  listPeople,
  peopleRoot,
  publishEntry,
  type PeopleStorage,
} from '../../src/transfer/people-directory';
import { inboxPrefix, readInbox, writeInboxNote } from '../../src/transfer/people-inbox';
import { MIB, startRewrapMoto, type RewrapMoto } from './rewrap-moto';

vi.setConfig({ testTimeout: 120_000 });

const BUCKET = 'veil-capped';
const PEOPLE = peopleRoot('team/');

let stack: RewrapMoto;
let storage: PeopleStorage;
let bea: NewKeyPair;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET);
  storage = peopleStorageOver(stack.client, BUCKET);
  bea = await generateKeyPair();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const put = (key: string, bytes: Uint8Array) =>
  stack.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));

test('a note of several MiB is unreadable and the others open', async () => {
  const recipient = {
    fingerprint: bea.fingerprint,
    keyring: await RawRsaKeyring.forPublicKey(bea.publicKeySpki),
  };
  for (const name of ['a.txt', 'b.txt']) {
    await writeInboxNote(storage, PEOPLE, recipient, {
      key: `team/${name}`,
      name,
      from: { name: 'Al', fingerprint: 'a'.repeat(64) },
      shared: new Date().toISOString(),
    });
  }
  // The attack: any bucket writer puts 6 MiB where a note goes.
  const hugeKey = `${inboxPrefix(PEOPLE, bea.fingerprint)}${'e'.repeat(32)}`;
  await put(hugeKey, new Uint8Array(6 * MIB).fill(0x7b));
  const inbox = await readInbox(storage, PEOPLE, {
    fingerprint: bea.fingerprint,
    keyring: new RawRsaKeyring({ keyName: bea.fingerprint, privateKey: bea.privateKey }),
  });
  expect(inbox.notes.map((n) => n.name).sort()).toEqual(['a.txt', 'b.txt']);
  expect(inbox.unreadable.map((u) => [u.noteKey, u.error.code])).toEqual([
    [hugeKey, 'RECORD_TOO_LARGE'],
  ]);
  expect(inbox.notRead).toBe(0);
});

test('a directory entry of several MiB is refused and the others are listed', async () => {
  const entry = { name: 'Bea', created: new Date().toISOString() };
  await publishEntry(storage, PEOPLE, {
    ...entry,
    publicKeySpki: bea.publicKeySpki,
    fingerprint: bea.fingerprint,
  });
  await put(entryKey(PEOPLE, 'c'.repeat(64)), new Uint8Array(4 * MIB).fill(0x20));
  const listing = await listPeople(storage, PEOPLE);
  expect(listing.people.map((p) => p.name)).toEqual(['Bea']);
  expect(listing.refused.map((r) => [r.claimed, r.error.code])).toEqual([
    ['c'.repeat(64), 'RECORD_TOO_LARGE'],
  ]);
});
