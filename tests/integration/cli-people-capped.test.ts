/**
 * [Note: capped reads] on the command line, against moto through a relay that counts the bytes
 * S3 sends back: anyone who may write to the bucket can put several MiB where a directory entry
 * or an inbox note goes. The CLI's people storage (cli/people-storage.ts) reads such a record
 * with a Range of the cap and stops there: `veil people show` of it fails RECORD_TOO_LARGE,
 * `veil people ls` lists it as refused beside the real entry, `veil share --person` to it fails
 * RECORD_TOO_LARGE and leaves the file as it was, and an inbox read through the same storage
 * lists the huge note as unreadable while the real one opens; each time S3 sent no more than the
 * cap and one byte of the record, not the MiB (a whole-object read fails these counts).
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { cliPeopleStorage } from '../../src/cli/people-storage';
import { formatFingerprint } from '../../src/core/provider-info';
import { RawRsaKeyring } from '../../src/keyrings/raw-rsa';
import { generateKeyPair, pkcs8ToPem, type NewKeyPair } from '../../src/keyrings/rsa-keys';
import { entryKey, peopleRoot } from '../../src/transfer/people-directory';
import {
  inboxPrefix,
  MAX_NOTE_BYTES,
  readInbox,
  writeInboxNote,
} from '../../src/transfer/people-inbox';
import { publicKeyPem, useCliS3 } from './support/cli-s3';
import { startS3Relay, type S3Relay } from './support/s3-relay';

vi.setConfig({ testTimeout: 180_000 });

const cli = useCliS3('people-capped');
const ROOT = 'capped/';
const PEOPLE = peopleRoot(ROOT);
/** The directory's cap (MAX_ENTRY_BYTES in transfer/people-directory.ts), plus the byte past it. */
const ENTRY_READ_BYTES = 16 * 1024 + 1;
const HUGE_BYTES = 6 * 1024 * 1024;
let relay: S3Relay;
let viaRelay: string[] = [];
let bea: NewKeyPair;
let al: NewKeyPair;
let mallory: string;

beforeAll(async () => {
  relay = await startS3Relay(cli.aws()[3] ?? '');
  viaRelay = ['--region', cli.aws()[1] ?? '', '--endpoint-url', relay.url];
  [bea, al] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  writeFileSync(cli.path('bea.pub.pem'), publicKeyPem(bea.publicKeySpki));
  writeFileSync(cli.path('al.pem'), pkcs8ToPem(al.pkcs8), { mode: 0o600 });
  const published = await cli.veil(
    'people',
    'publish',
    ...cli.aws(),
    '--public-key-file',
    'bea.pub.pem',
    '--name',
    'Bea',
    cli.url(ROOT),
  );
  expect(published.code).toBe(0);
  // The attack: 6 MiB where the entry of a fingerprint goes.
  mallory = 'd'.repeat(64);
  await put(entryKey(PEOPLE, mallory), new Uint8Array(HUGE_BYTES).fill(0x7b));
}, 180_000);

afterAll(() => relay?.close());

const put = (key: string, bytes: Uint8Array) =>
  cli.s3().send(new PutObjectCommand({ Bucket: cli.bucket(), Key: key, Body: bytes }));

/** The bytes the relay passed back for `key` of the bucket so far. */
const served = (key: string) => relay.bytesServed(`/${cli.bucket()}/${key}`);

describe('the CLI reads people records with a cap', () => {
  test('veil people show of a huge entry: RECORD_TOO_LARGE after at most the cap', async () => {
    const before = served(entryKey(PEOPLE, mallory));
    const run = await cli.veil('people', 'show', mallory, ...viaRelay, cli.url(ROOT));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^RECORD_TOO_LARGE/);
    expect(served(entryKey(PEOPLE, mallory)) - before).toBeLessThanOrEqual(ENTRY_READ_BYTES);
  });

  test('veil people ls lists it as refused beside the real entry', async () => {
    const before = served(entryKey(PEOPLE, mallory));
    const run = await cli.veil('people', 'ls', ...viaRelay, cli.url(ROOT));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`${formatFingerprint(bea.fingerprint)}  Bea`);
    expect(run.stdout).toContain(`refused  ${mallory}  RECORD_TOO_LARGE`);
    expect(served(entryKey(PEOPLE, mallory)) - before).toBeLessThanOrEqual(ENTRY_READ_BYTES);
  });

  test('veil share --person to it: RECORD_TOO_LARGE, the file unchanged', async () => {
    await cli.upload('capped/doc.txt', 4000);
    const { etag } = await cli.stored('capped/doc.txt');
    const before = served(entryKey(PEOPLE, mallory));
    const run = await cli.veil(
      'share',
      '--key-file',
      'team.jwk',
      '--private-key-file',
      'al.pem',
      '--label',
      'Al',
      ...viaRelay,
      '--people-root',
      ROOT,
      '--person',
      mallory,
      cli.url('capped/doc.txt'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^RECORD_TOO_LARGE/);
    expect((await cli.stored('capped/doc.txt')).etag).toBe(etag);
    expect(served(entryKey(PEOPLE, mallory)) - before).toBeLessThanOrEqual(ENTRY_READ_BYTES);
  });

  test('an inbox read through the CLI storage: the huge note unreadable, the real one opens', async () => {
    const client = new S3Client({
      region: cli.aws()[1] ?? '',
      endpoint: relay.url,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    });
    try {
      const storage = cliPeopleStorage(client, cli.bucket(), 'test');
      const recipient = {
        fingerprint: bea.fingerprint,
        keyring: await RawRsaKeyring.forPublicKey(bea.publicKeySpki),
      };
      await writeInboxNote(storage, PEOPLE, recipient, {
        key: 'capped/doc.txt',
        name: 'doc.txt',
        from: { name: 'Al', fingerprint: al.fingerprint },
        shared: new Date().toISOString(),
      });
      const hugeKey = `${inboxPrefix(PEOPLE, bea.fingerprint)}${'e'.repeat(32)}`;
      await put(hugeKey, new Uint8Array(HUGE_BYTES).fill(0x7b));
      const inbox = await readInbox(storage, PEOPLE, {
        fingerprint: bea.fingerprint,
        keyring: new RawRsaKeyring({ keyName: bea.fingerprint, privateKey: bea.privateKey }),
      });
      expect(inbox.notes.map((n) => n.name)).toEqual(['doc.txt']);
      expect(inbox.unreadable.map((u) => [u.noteKey, u.error.code])).toEqual([
        [hugeKey, 'RECORD_TOO_LARGE'],
      ]);
      expect(served(hugeKey)).toBeLessThanOrEqual(MAX_NOTE_BYTES + 1);
    } finally {
      client.destroy();
    }
  });
});
