/**
 * Sharing with people from the command line (in process: [Note: command line in process]) against
 * S3 in moto, read back by the functions the app uses: `veil people publish` writes the entry the
 * app's directory reader accepts (findPerson), from a public key PEM or a private key file, and
 * never overwrites one; `veil share --person FINGERPRINT` adds Bea's EDK, so client-node's
 * RawRsaKeyringNode (oaepHash sha256) opens the file byte for byte with her PEM, and writes the
 * note the app's inbox reader (readInbox) opens with her private key, naming the file and the
 * sharer; `--unshare-person` takes it back. Several s3:// URLs share each file, one line each. The
 * attacks: an entry whose fingerprint is not its key's, and one stored under another fingerprint
 * (PERSON_ENTRY_INVALID), and a fingerprint nobody published (PERSON_UNKNOWN), each leaving the
 * object as it was and no note; a bulk share with a missing object names it and still shares the
 * others.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from '@aws-crypto/client-node';
import { readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { toBase64 } from '../../src/core/bytes';
import { parseHeaderBytes } from '../../src/core';
import { PERSON_PROVIDER_ID, formatFingerprint, keysNeeded } from '../../src/core/provider-info';
import { payloadOfLink } from '../../src/core/share-link';
import { RawRsaKeyring } from '../../src/keyrings/raw-rsa';
import { generateKeyPair, pkcs8ToPem, type NewKeyPair } from '../../src/keyrings/rsa-keys';
import { findPerson, peopleRoot, type PeopleStorage } from '../../src/transfer/people-directory';
import { inboxPrefix, readInbox } from '../../src/transfer/people-inbox';
import { cliPeopleStorage } from '../../src/cli/people-storage';
import { APP, publicKeyPem, useCliS3 } from './support/cli-s3';

vi.setConfig({ testTimeout: 180_000 });

const cli = useCliS3('people');
const { veil, path, upload, url, stored } = cli;

const PEOPLE = peopleRoot('');
let storage: PeopleStorage;
let aws: string[] = [];
let bea: NewKeyPair;
let al: NewKeyPair;
let eve: NewKeyPair;

beforeAll(async () => {
  aws = cli.aws();
  storage = cliPeopleStorage(cli.s3(), cli.bucket(), 'test');
  [bea, al, eve] = await Promise.all([generateKeyPair(), generateKeyPair(), generateKeyPair()]);
  writeFileSync(path('bea.pem'), pkcs8ToPem(bea.pkcs8), { mode: 0o600 });
  writeFileSync(path('bea.pub.pem'), publicKeyPem(bea.publicKeySpki));
  writeFileSync(path('al.pem'), pkcs8ToPem(al.pkcs8), { mode: 0o600 });
}, 180_000);

/** The fingerprints of the people whose EDK the object holds. */
async function peopleIn(key: string): Promise<string[]> {
  const header = parseHeaderBytes((await stored(key)).bytes);
  return keysNeeded(header)
    .filter((k) => k.providerId === PERSON_PROVIDER_ID)
    .map((k) => k.keyName);
}

/** Opens the object with client-node's raw RSA keyring and Bea's PEM. */
async function beaOpens(key: string): Promise<Buffer | string> {
  const keyring = new RawRsaKeyringNode({
    keyName: bea.fingerprint,
    keyNamespace: PERSON_PROVIDER_ID,
    rsaKey: { privateKey: pkcs8ToPem(bea.pkcs8) },
    oaepHash: 'sha256',
  });
  const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  return decrypt(keyring, (await stored(key)).bytes).then(
    (opened) => Buffer.from(opened.plaintext),
    (error: unknown) => String(error),
  );
}

/** Bea's inbox as the app reads it, with her private key. */
function beaInbox() {
  const keyring = new RawRsaKeyring({ keyName: bea.fingerprint, privateKey: bea.privateKey });
  return readInbox(storage, PEOPLE, { fingerprint: bea.fingerprint, keyring });
}

const shareArgs = (...args: string[]) => [
  'share',
  '--key-file',
  'team.jwk',
  '--private-key-file',
  'al.pem',
  ...aws,
  ...args,
];

describe('veil people publish', () => {
  test('writes the entry the app reads, from a public or a private key, never overwriting', async () => {
    const first = await veil(
      'people',
      'publish',
      ...aws,
      '--public-key-file',
      'bea.pub.pem',
      '--name',
      'Bea',
      url(''),
    );
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain(`published ${formatFingerprint(bea.fingerprint)}  Bea`);
    const entry = await findPerson(storage, PEOPLE, bea.fingerprint);
    expect(entry.name).toBe('Bea');
    expect(Buffer.from(entry.publicKeySpki).equals(Buffer.from(bea.publicKeySpki))).toBe(true);

    const again = await veil(
      'people',
      'publish',
      ...aws,
      '--public-key-file',
      'bea.pub.pem',
      '--name',
      'Mallory',
      url(''),
    );
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already published');
    expect((await findPerson(storage, PEOPLE, bea.fingerprint)).name).toBe('Bea');

    const fromPrivate = await veil(
      'people',
      'publish',
      ...aws,
      '--private-key-file',
      'al.pem',
      '--name',
      'Al',
      url(''),
    );
    expect(fromPrivate.code).toBe(0);
    expect((await findPerson(storage, PEOPLE, al.fingerprint)).name).toBe('Al');
    // Only the public half is published.
    const listed = await veil('people', 'show', al.fingerprint, ...aws, url(''));
    expect(listed.stdout).toContain('BEGIN PUBLIC KEY');
    expect(listed.stdout).not.toContain('PRIVATE');

    writeFileSync(
      path('not-a-key.pem'),
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
    );
    const bad = await veil(
      'people',
      'publish',
      ...aws,
      '--public-key-file',
      'not-a-key.pem',
      '--name',
      'X',
      url(''),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^PERSON_ENTRY_INVALID/);
  });
});

describe('veil share --person', () => {
  test('client-node opens the shared file; the app reads the note; unshare takes it back', async () => {
    const plaintext = await upload('docs/budget.xlsx', 700_000);
    const shared = await veil(
      ...shareArgs('--person', formatFingerprint(bea.fingerprint), url('docs/budget.xlsx')),
    );
    expect(shared).toMatchObject({ code: 0, stderr: '' });
    expect(shared.stdout).toContain(`shared ${url('docs/budget.xlsx')} with Bea`);
    expect(await peopleIn('docs/budget.xlsx')).toEqual([bea.fingerprint]);
    const opened = await beaOpens('docs/budget.xlsx');
    expect(Buffer.isBuffer(opened) && opened.equals(plaintext)).toBe(true);

    const inbox = await beaInbox();
    expect(inbox.unreadable).toEqual([]);
    expect(inbox.notes).toHaveLength(1);
    expect(inbox.notes[0]).toMatchObject({
      key: 'docs/budget.xlsx',
      name: 'budget.xlsx',
      from: { name: 'Al', fingerprint: al.fingerprint },
    });

    // Bea downloads it with her PEM, as the README says.
    const down = await veil(
      'cp',
      '--private-key-file',
      'bea.pem',
      ...aws,
      url('docs/budget.xlsx'),
      'budget.out',
    );
    expect(down.code).toBe(0);
    expect(readFileSync(path('budget.out')).equals(plaintext)).toBe(true);

    const removed = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...aws,
      '--unshare-person',
      bea.fingerprint,
      url('docs/budget.xlsx'),
    );
    expect(removed).toMatchObject({ code: 0, stderr: '' });
    expect(removed.stdout).toContain('access to');
    expect(await peopleIn('docs/budget.xlsx')).toEqual([]);
    expect(Buffer.isBuffer(await beaOpens('docs/budget.xlsx'))).toBe(false);
    const team = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...aws,
      url('docs/budget.xlsx'),
      'team.out',
    );
    expect(team.code).toBe(0);
  });

  test('entries whose fingerprint is not their key, and unknown people, are refused', async () => {
    await upload('docs/secret.txt', 5000);
    const before = (await stored('docs/secret.txt')).etag;
    // Storage puts Eve's key under Bea's fingerprint, in the two ways it can.
    const lying = { v: 1, name: 'Bea', publicKey: toBase64(eve.publicKeySpki), created: '' };
    const entries = {
      'claims Bea': { ...lying, fingerprint: bea.fingerprint },
      'under Bea': { ...lying, fingerprint: eve.fingerprint },
    };
    for (const [root, entry] of [
      ['claims/', entries['claims Bea']],
      ['under/', entries['under Bea']],
    ] as const) {
      await cli.s3().send(
        new PutObjectCommand({
          Bucket: cli.bucket(),
          Key: `${peopleRoot(root)}${bea.fingerprint}.json`,
          Body: JSON.stringify(entry),
        }),
      );
      const run = await veil(
        ...shareArgs('--people-root', root, '--person', bea.fingerprint, url('docs/secret.txt')),
      );
      expect(run.code, root).toBe(1);
      expect(run.stderr, root).toMatch(/^PERSON_ENTRY_INVALID/);
      const notes = await storage.list(inboxPrefix(peopleRoot(root), bea.fingerprint));
      expect(notes, root).toEqual([]);
    }
    const unknown = await veil(...shareArgs('--person', 'f'.repeat(64), url('docs/secret.txt')));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^PERSON_UNKNOWN/);
    expect((await stored('docs/secret.txt')).etag).toBe(before);
    expect(await peopleIn('docs/secret.txt')).toEqual([]);

    const noPair = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...aws,
      '--person',
      bea.fingerprint,
      url('docs/secret.txt'),
    );
    expect(noPair.code).toBe(2);
    expect(noPair.stderr).toMatch(/^USAGE.*--private-key-file/);
  });
});

describe('veil share with several files', () => {
  test('one link per line, in order, each opening its own file', async () => {
    const one = await upload('bulk/one.bin', 1000);
    const two = await upload('bulk/two.bin', 2000);
    const made = await veil(
      'share',
      '--key-file',
      'team.jwk',
      ...aws,
      '--expires',
      '1h',
      '--app-url',
      APP,
      url('bulk/one.bin'),
      url('bulk/two.bin'),
    );
    expect(made.code).toBe(0);
    const links = made.stdout.trim().split('\n');
    expect(links).toHaveLength(2);
    expect(links.map((link) => payloadOfLink(link).key)).toEqual(['bulk/one.bin', 'bulk/two.bin']);
    expect(made.stderr.trim().split('\n')).toHaveLength(2);
    for (const [index, plaintext] of [one, two].entries()) {
      const out = `bulk-${index}.out`;
      expect((await veil('cp', links[index] ?? '', out)).code).toBe(0);
      expect(readFileSync(path(out)).equals(plaintext)).toBe(true);
    }
  });

  test('a missing object is named and fails the command; the others are still shared', async () => {
    await upload('bulk/three.bin', 1000);
    const made = await veil(
      ...shareArgs('--person', bea.fingerprint, url('bulk/missing.bin'), url('bulk/three.bin')),
    );
    expect(made.code).toBe(1);
    expect(made.stdout.trim().split('\n')).toEqual([
      `shared ${url('bulk/three.bin')} with Bea (${formatFingerprint(bea.fingerprint)})`,
    ]);
    expect(made.stderr).toContain(`failed ${url('bulk/missing.bin')}: S3_`);
    expect(await peopleIn('bulk/three.bin')).toEqual([bea.fingerprint]);
    const notes = (await beaInbox()).notes.map((note) => note.key);
    expect(notes).toContain('bulk/three.bin');
    expect(notes).not.toContain('bulk/missing.bin');
  });
});
