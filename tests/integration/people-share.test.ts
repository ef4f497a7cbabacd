/**
 * Sharing with a person against moto, by the engine the app uses (people-directory.ts,
 * people-share.ts, people-inbox.ts over the rewrap engine): Bea publishes her public key; Al finds
 * her by fingerprint and shares a file. Then the object opens byte-identically with client-node's
 * RawRsaKeyringNode (oaepHash sha256) given Bea's exported PKCS#8 PEM, with `veil decrypt
 * --private-key-file` on a downloaded copy and with `veil cp --private-key-file` from S3; Bea's
 * inbox note opens only with her key and holds the clear name, which no stored key or body shows;
 * Al's own key still opens the file; removing Bea's access makes her key fail. The attacks: an
 * unknown fingerprint (PERSON_UNKNOWN), a directory entry swapped for another key under Bea's
 * fingerprint (PERSON_ENTRY_INVALID), another person's private key (NO_MATCHING_EDK).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { RawRsaKeyringNode } from '@aws-crypto/client-node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { decryptBytes, parseHeaderBytes } from '../../src/core';
import { PERSON_PROVIDER_ID, formatFingerprint } from '../../src/core/provider-info';
import { RawRsaKeyring } from '../../src/keyrings/raw-rsa';
import { createKeyPairBackup } from '../../src/keyrings/rsa-backup';
import { generateKeyPair, pkcs8ToPem, type NewKeyPair } from '../../src/keyrings/rsa-keys';
import {
  entryKey,
  findPerson,
  listPeople,
  peopleRoot,
  publishEntry,
  serializeEntry,
  type PeopleStorage,
} from '../../src/transfer/people-directory';
import { readInbox } from '../../src/transfer/people-inbox';
import { removePersonAccess, shareWithPerson } from '../../src/transfer/people-share';
import { nodeRewrapS3 } from '../../src/transfer/node';
import { cliRunner } from './cli-runner';
import {
  namesStorage,
  rawKeyring,
  readObject,
  rejection,
  sameBytes,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';
import { peer, testKeyBytes } from '../unit/core/helpers';

vi.setConfig({ testTimeout: 120_000 });

const BUCKET = 'veil-people';
const ROOT = 'team/';
const PEOPLE = peopleRoot(ROOT);
const AL_KEY = testKeyBytes(256, 31);
const dir = mkdtempSync(join(tmpdir(), 'veil-people-'));
const path = (name: string) => join(dir, name);
const { veil, veilWith } = cliRunner(dir, join(dir, 'state'));

let stack: RewrapMoto;
let storage: PeopleStorage;
let bea: NewKeyPair;
let eve: NewKeyPair;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET);
  storage = {
    ...namesStorage(stack),
    async list(prefix) {
      const listed = await stack.client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }),
      );
      return (listed.Contents ?? []).map((o) => o.Key ?? '');
    },
  };
  [bea, eve] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  writeFileSync(path('bea.pem'), pkcs8ToPem(bea.pkcs8), { mode: 0o600 });
  writeFileSync(path('eve.pem'), pkcs8ToPem(eve.pkcs8), { mode: 0o600 });
  const entry = { name: 'Bea', created: new Date().toISOString() };
  expect(await publishEntry(storage, PEOPLE, { ...entry, ...pick(bea) })).toBe('published');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function pick(pair: NewKeyPair) {
  return { publicKeySpki: pair.publicKeySpki, fingerprint: pair.fingerprint };
}

const beaOpens = () =>
  new RawRsaKeyringNode({
    keyName: bea.fingerprint,
    keyNamespace: PERSON_PROVIDER_ID,
    rsaKey: { privateKey: pkcs8ToPem(bea.pkcs8) },
    oaepHash: 'sha256',
  });

async function share(key: string, clearName: string) {
  const al = await rawKeyring(AL_KEY, 'al');
  const recipient = await findPerson(storage, PEOPLE, bea.fingerprint);
  return shareWithPerson({
    rewrap: { s3: nodeRewrapS3(stack.client), bucket: BUCKET, key, openWith: al, canOpenWith: al },
    recipient,
    recipientKeyring: await RawRsaKeyring.forPublicKey(recipient.publicKeySpki),
    clearName,
    from: { name: 'Al', fingerprint: 'a'.repeat(64) },
    storage,
    peoplePrefix: PEOPLE,
  });
}

describe('a file shared with a person', () => {
  const key = `${ROOT}x7q/9f3k2`;
  let plaintext: Uint8Array;

  beforeAll(async () => {
    ({ plaintext } = await storeMessage(stack, key, 300_000, await rawKeyring(AL_KEY, 'al')));
    await share(key, 'budget 2027.xlsx');
  });

  test('holds an EDK for Bea’s key that client-node opens byte-identically from her PEM', async () => {
    const stored = await readObject(stack, key);
    const edks = parseHeaderBytes(stored).encryptedDataKeys;
    // The rewrap also binds the object to its key (veil-location, [Note: location binding]).
    expect(edks.map((e) => e.providerId)).toEqual(['veil', PERSON_PROVIDER_ID, 'veil-location']);
    const { plaintext: theirs } = await peer.decrypt(beaOpens(), stored);
    expect(sameBytes(new Uint8Array(theirs), plaintext)).toBe(true);
    // Al's own key still opens it (the lock-out check held).
    expect(
      sameBytes(await decryptBytes(stored, { keyring: await rawKeyring(AL_KEY, 'al') }), plaintext),
    ).toBe(true);
  });

  test('sharing again replaces Bea’s EDK instead of adding a second', async () => {
    await share(key, 'budget 2027.xlsx');
    const edks = parseHeaderBytes(await readObject(stack, key)).encryptedDataKeys;
    expect(edks.filter((e) => e.providerId === PERSON_PROVIDER_ID)).toHaveLength(1);
  });

  test('veil decrypt --private-key-file and veil cp --private-key-file open it', async () => {
    writeFileSync(path('shared.bin'), await readObject(stack, key));
    const local = await veil('decrypt', '--private-key-file', 'bea.pem', 'shared.bin', 'out.bin');
    expect(local.stderr).toBe('');
    expect(local.code).toBe(0);
    expect(sameBytes(readFileSync(path('out.bin')), plaintext)).toBe(true);
    const fromS3 = await veil(
      'cp',
      '--private-key-file',
      'bea.pem',
      '--endpoint-url',
      stack.url,
      `s3://${BUCKET}/${key}`,
      'cp.bin',
    );
    expect(fromS3.code, fromS3.stderr).toBe(0);
    expect(sameBytes(readFileSync(path('cp.bin')), plaintext)).toBe(true);
  });

  test('the key pair backup opens it too, with its passphrase', async () => {
    const backup = await createKeyPairBackup(
      bea.pkcs8,
      bea.fingerprint,
      'correct horse battery',
      1000,
    );
    writeFileSync(path('bea.jwe'), backup);
    const run = await veilWith(
      { VEIL_KEY_PASSPHRASE: 'correct horse battery' },
      'decrypt',
      '--private-key-file',
      'bea.jwe',
      'shared.bin',
      'out2.bin',
    );
    expect(run.code, run.stderr).toBe(0);
    expect(sameBytes(readFileSync(path('out2.bin')), plaintext)).toBe(true);
  });

  test('another person’s private key does not open it: NO_MATCHING_EDK, naming Bea’s key', async () => {
    const run = await veil('decrypt', '--private-key-file', 'eve.pem', 'shared.bin', 'eve.bin');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^NO_MATCHING_EDK/);
    const shown = await veil('inspect', 'shared.bin');
    expect(shown.stdout).toContain('a person’s key (fingerprint');
  });

  test('Bea’s inbox note opens with her key only, and no clear name is stored', async () => {
    const inbox = await readInbox(storage, PEOPLE, {
      fingerprint: bea.fingerprint,
      keyring: new RawRsaKeyring({ keyName: bea.fingerprint, privateKey: bea.privateKey }),
    });
    expect(inbox.unreadable).toEqual([]);
    expect(inbox.notes.map((n) => [n.key, n.name, n.from.name])).toContainEqual([
      key,
      'budget 2027.xlsx',
      'Al',
    ]);
    // Eve, reading Bea's inbox with her own key, gets nothing out of it.
    const spied = await readInbox(storage, PEOPLE, {
      fingerprint: bea.fingerprint,
      keyring: new RawRsaKeyring({ keyName: bea.fingerprint, privateKey: eve.privateKey }),
    });
    expect(spied.notes).toEqual([]);
    expect(spied.unreadable.map((u) => u.error.code)).toContain('INBOX_ENTRY_INVALID');
    const listed = await storage.list('');
    for (const objectKey of listed) {
      expect(objectKey).not.toContain('budget');
      const bytes = Buffer.from(await readObject(stack, objectKey));
      expect(bytes.includes(Buffer.from('budget 2027'))).toBe(false);
    }
  });

  test('removing Bea’s access drops her EDK: client-node and veil then fail with her key', async () => {
    await removePersonAccess(
      {
        s3: nodeRewrapS3(stack.client),
        bucket: BUCKET,
        key,
        openWith: await rawKeyring(AL_KEY, 'al'),
      },
      bea.fingerprint,
    );
    const stored = await readObject(stack, key);
    expect(parseHeaderBytes(stored).encryptedDataKeys.map((e) => e.providerId)).toEqual([
      'veil',
      'veil-location',
    ]);
    await expect(peer.decrypt(beaOpens(), stored)).rejects.toThrow();
    writeFileSync(path('removed.bin'), stored);
    const run = await veil('decrypt', '--private-key-file', 'bea.pem', 'removed.bin', 'r.bin');
    expect(run.stderr).toMatch(/^NO_MATCHING_EDK/);
  });
});

describe('the directory', () => {
  test('an unknown fingerprint is PERSON_UNKNOWN, and so is text that is no fingerprint', async () => {
    expect((await rejection(findPerson(storage, PEOPLE, eve.fingerprint))).code).toBe(
      'PERSON_UNKNOWN',
    );
    expect((await rejection(findPerson(storage, PEOPLE, 'Bea'))).code).toBe('PERSON_UNKNOWN');
  });

  test('veil people ls and show read the directory; an unknown fingerprint fails PERSON_UNKNOWN', async () => {
    const at = ['--endpoint-url', stack.url, `s3://${BUCKET}/${ROOT}`];
    const listed = await veil('people', 'ls', ...at);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${formatFingerprint(bea.fingerprint)}  Bea`);
    const shown = await veil('people', 'show', formatFingerprint(bea.fingerprint), ...at);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'Bea' });
    const unknown = await veil('people', 'show', eve.fingerprint, ...at);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^PERSON_UNKNOWN/);
  });

  test('an entry swapped for another key under Bea’s fingerprint is refused, not used', async () => {
    const other = 'team2/';
    const prefix = peopleRoot(other);
    // The attack: storage writes Eve's key (with its true fingerprint) under Bea's name and object.
    const forged = serializeEntry({ name: 'Bea', created: '', ...pick(eve) });
    await storage.createOnly(entryKey(prefix, bea.fingerprint), forged);
    expect((await rejection(findPerson(storage, prefix, bea.fingerprint))).code).toBe(
      'PERSON_ENTRY_INVALID',
    );
    const listing = await listPeople(storage, prefix);
    expect(listing.people).toEqual([]);
    expect(listing.refused.map((r) => [r.claimed, r.error.code])).toEqual([
      [bea.fingerprint, 'PERSON_ENTRY_INVALID'],
    ]);
    // The directory of the first root still lists Bea, checked.
    const first = await listPeople(storage, PEOPLE);
    expect(first.people.map((p) => [p.name, p.fingerprint])).toEqual([['Bea', bea.fingerprint]]);
  });
});
