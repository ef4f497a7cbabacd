/**
 * Private names on the command line, against S3 in moto: `veil names init` (created, already on,
 * refused inside a private location), `veil cp` up with nested clear names, `veil ls` showing
 * them (and marking a name that does not open), the raw bucket listing holding none of them,
 * `veil cp` down byte for byte, and the official ESDK (client-node) opening an object with
 * nothing extra. The attacks: two objects swapped with CopyObject, an unencrypted object put
 * under an encrypted name, the names key opened with the wrong key file, and a name too long
 * for S3; each fails with its code and leaves no file and no object behind.
 *
 * moto does not enforce IAM; nothing here depends on it. The If-None-Match of the names key's
 * creation is enforced by moto's PutObject (the second init finds the key there).
 */
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { downloadFile } from '../../src/cli/cp-download';
import { loadKeyring } from '../../src/cli/key-files';
import { listObjects } from '../../src/cli/ls';
import { candidateRoots, findNamesKey, namesFor } from '../../src/cli/names';
import { s3NamesKeyStorage } from '../../src/cli/names-storage';
import { serializeKeyFile, VeilError } from '../../src/core';
import { ensureNextNamesKey, type NamesKeyStorage } from '../../src/transfer/names-key';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import type { LocationNames } from '../../src/transfer/location-names';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { cliRunner } from './cli-runner';
import { useLocalStack } from './local-stack';

vi.setConfig({ testTimeout: 120_000 });

const local = useLocalStack(['http://127.0.0.1:5997']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-names-'));
const stateHome = join(dir, 'state');
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { veilEnv, veil } = cliRunner(dir, stateHome);

const KEY_BYTES = { team: randomBytes(32), other: randomBytes(32) };
const PLAN = 'vault/reports/2026/plan Q3 (draft).txt';
const NOTES = 'vault/reports/notes.txt';
/** Every clear file and folder name written below the root. */
const CLEAR_WORDS = ['reports', '2026', 'plan', 'draft', 'notes'];

let s3: S3Client;
let bucket = '';
let aws: string[] = [];
let names: LocationNames;
const url = (key: string) => `s3://${bucket}/${key}`;
const team = () => ['--key-file', path('team.jwk')];

/** Every key in the bucket, as S3 lists it. */
async function storedKeys(): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (page.Contents ?? []).map((entry) => entry.Key ?? '');
}

/** The names in this directory other than the inputs: a download's output or temporary file. */
function outputsIn(): string[] {
  return readdirSync(dir).filter((name) => !/^(team\.jwk|other\.jwk|state|in-.*)$/.test(name));
}

beforeAll(() => {
  bucket = local.stack.config.bucket;
  aws = ['--region', local.stack.config.region, '--endpoint-url', local.stack.motoUrl];
  s3 = new S3Client({
    region: local.stack.config.region,
    endpoint: local.stack.motoUrl,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  for (const name of ['team', 'other'] as const) {
    const text = serializeKeyFile({
      keyBytes: new Uint8Array(KEY_BYTES[name]),
      keyName: `${name}-key`,
      keyNamespace: 'veil',
    });
    writeFileSync(path(`${name}.jwk`), text, { mode: 0o600 });
  }
  writeFileSync(path('in-plan.txt'), randomBytes(70_000));
  writeFileSync(path('in-notes.txt'), 'meeting notes\n');
  // In this process (names and downloads opened directly) the SDK reads the environment.
  vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_PROFILE', '');
});

afterAll(() => {
  vi.unstubAllEnvs();
  s3?.destroy();
});

describe('veil names init, cp and ls in a private location', () => {
  test('names init creates the names key, once; a location inside it is refused', async () => {
    const first = await veil('names', 'init', ...team(), ...aws, url('vault/'));
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`private names on for ${url('vault/')}: created`);
    expect(first.stdout).toContain('keys: A team-key');
    const message = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'vault/.veil/names-key' }),
    );
    const stored = await message.Body!.transformToByteArray();

    const again = await veil('names', 'init', ...team(), ...aws, url('vault'));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`private names already on for ${url('vault/')}`);
    // The names key was not replaced.
    const after = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'vault/.veil/names-key' }),
    );
    expect(Buffer.from(await after.Body!.transformToByteArray()).equals(stored)).toBe(true);

    const inner = await veil('names', 'init', ...team(), ...aws, url('vault/inner/'));
    expect(inner.code).toBe(2);
    expect(inner.stderr).toMatch(
      /^USAGE: .*is inside s3:\/\/\S+\/vault\/, whose names are private/,
    );
    expect(await storedKeys()).toEqual(['vault/.veil/names-key']);

    names = await namesFor(
      s3NamesKeyStorage(s3, bucket, 'test'),
      { bucket, key: 'vault/x' },
      'object',
      () => loadKeyring(path('team.jwk')),
    );
    expect(names.isPrivate).toBe(true);
    expect(names.root).toBe('vault/');
  });

  test('cp up takes clear names; the bucket holds none of them', async () => {
    for (const [file, key] of [
      ['in-plan.txt', PLAN],
      ['in-notes.txt', NOTES],
    ] as const) {
      const run = await veil('cp', ...team(), ...aws, path(file), url(key));
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
    const keys = await storedKeys();
    expect(keys.sort()).toEqual(
      [
        'vault/.veil/names-key',
        names.objectKey(PLAN.slice(6)),
        names.objectKey(NOTES.slice(6)),
      ].sort(),
    );
    for (const word of CLEAR_WORDS) {
      expect(keys.join('\n').toLowerCase()).not.toContain(word.toLowerCase());
    }
  });

  test('ls shows clear names, marks a name that does not open, and leaves .veil/ out', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'vault/stray.txt', Body: 'x' }));
    try {
      const run = await veil('ls', ...team(), ...aws, url('vault/'));
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        / A +vault\/reports\/2026\/plan Q3 \(draft\)\.txt {2}keys: A team-key\n/,
      );
      expect(run.stdout).toMatch(/ A +vault\/reports\/notes\.txt {2}keys: A team-key\n/);
      expect(run.stdout).toMatch(/ - +vault\/stray\.txt {2}\[name not readable\] {2}not an ESDK/);
      expect(run.stdout).not.toContain('.veil');
      expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/^1 object listed by stored key/);

      // A folder below the root, and one name without a trailing slash.
      for (const [prefix, shown] of [
        ['vault/reports/2026/', [PLAN]],
        ['vault/reports/notes.txt', [NOTES]],
        ['vault/reports', [PLAN, NOTES]],
      ] as const) {
        const lines: string[] = [];
        await listObjects({
          s3: { region: local.stack.config.region, endpointUrl: local.stack.motoUrl },
          keys: { keyFiles: [path('team.jwk')], hsmKeys: [], kmsKeys: [] },
          location: { bucket, key: prefix },
          print: (line) => lines.push(line),
          env: veilEnv(),
        });
        // In S3's order, which is the stored (encrypted) keys' order.
        const keys = lines.map((line) => line.split('  keys:')[0]!.replace(/^ *\d+ +A +/, ''));
        expect(keys.sort()).toEqual([...shown].sort());
      }
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'vault/stray.txt' }));
    }
  });

  test('cp down by the clear name is byte-identical', async () => {
    const run = await veil('cp', ...team(), ...aws, url(PLAN), path('plan.txt'));
    expect(run.code).toBe(0);
    expect(readFileSync(path('plan.txt')).equals(readFileSync(path('in-plan.txt')))).toBe(true);
    rmSync(path('plan.txt'));
  });

  test('client-node opens an object cp wrote there, with nothing extra supplied', async () => {
    const reply = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: names.objectKey(NOTES.slice(6)) }),
    );
    const keyring = new RawAesKeyringNode({
      keyName: 'team-key',
      keyNamespace: 'veil',
      unencryptedMasterKey: new Uint8Array(KEY_BYTES.team),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
      utf8Sorting: true,
    });
    const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const opened = await decrypt(keyring, await reply.Body!.transformToByteArray());
    expect(Buffer.from(opened.plaintext).toString()).toBe('meeting notes\n');
  });
});

describe('attacks on a private location', () => {
  test('two objects swapped with CopyObject: OBJECT_MISMATCH, no file', async () => {
    const [planKey, notesKey] = [names.objectKey(PLAN.slice(6)), names.objectKey(NOTES.slice(6))];
    const copy = (from: string, to: string) =>
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: `${bucket}/${from}` }));
    await copy(planKey, 'swap-tmp');
    await copy(notesKey, planKey);
    await copy('swap-tmp', notesKey);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'swap-tmp' }));

    const run = await veil('cp', ...team(), ...aws, url(PLAN), path('plan.txt'));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^OBJECT_MISMATCH: /);
    // The other one, in this process: refused the same way.
    await expect(
      downloadFile({
        keys: { keyFiles: [path('team.jwk')], hsmKeys: [], kmsKeys: [] },
        s3: { region: local.stack.config.region, endpointUrl: local.stack.motoUrl },
        source: { bucket, key: NOTES },
        outPath: path('notes.txt'),
        force: false,
        env: veilEnv(),
      }),
    ).rejects.toMatchObject({ code: 'OBJECT_MISMATCH' });
    expect(outputsIn()).toEqual([]);
  });

  test('an unencrypted object under an encrypted name: OBJECT_MISMATCH, no file', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: names.objectKey('readme.txt'),
        Body: 'attacker text',
        Metadata: { 'veil-format': 'plain' },
      }),
    );
    const run = await veil('cp', ...team(), ...aws, url('vault/readme.txt'), path('readme.txt'));
    expect(run.code).toBe(1);
    // A plain location would say MALFORMED (not an ESDK message) after reading it.
    expect(run.stderr).toMatch(/^OBJECT_MISMATCH: .*only encrypted files are kept/);
    expect(outputsIn()).toEqual([]);
  });

  test('the wrong key file: NAMES_KEY_UNREADABLE, nothing written', async () => {
    const before = (await storedKeys()).sort();
    const other = ['--key-file', path('other.jwk')];
    const down = await veil('cp', ...other, ...aws, url(NOTES), path('notes.txt'));
    const up = await veil('cp', ...other, ...aws, path('in-notes.txt'), url('vault/new.txt'));
    const ls = await veil('ls', ...other, ...aws, url('vault/'));
    for (const run of [down, up, ls]) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^NAMES_KEY_UNREADABLE: The names key .* could not be opened with the keys given.*--key-file.* \(vault\/\.veil\/names-key: NO_MATCHING_EDK\)\n$/,
      );
    }
    expect(ls.stdout).toBe('');
    expect(outputsIn()).toEqual([]);
    expect((await storedKeys()).sort()).toEqual(before);
  });

  test('a name too long for S3 once encrypted: NAME_TOO_LONG before anything is sent', async () => {
    const before = (await storedKeys()).sort();
    const long = `vault/${['a', 'b', 'c'].map((letter) => letter.repeat(250)).join('/')}`;
    const run = await veil('cp', ...team(), ...aws, path('in-notes.txt'), url(long));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^NAME_TOO_LONG: /);
    expect((await storedKeys()).sort()).toEqual(before);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });
});

describe('finding the names key', () => {
  /** A storage with a names key at `vault/`, a 403 at the top, that records what was asked. */
  function recording(): NamesKeyStorage & { asked: string[] } {
    const asked: string[] = [];
    return {
      asked,
      read(key) {
        asked.push(key);
        if (key === '.veil/names-key') {
          const denied = Object.assign(new Error('AccessDenied'), {
            $metadata: { httpStatusCode: 403 },
          });
          return Promise.reject(new VeilError('S3_REJECTED', 'GetObject', { cause: denied }));
        }
        return Promise.resolve(key === 'vault/.veil/names-key' ? new Uint8Array(1) : undefined);
      },
      createOnly: () => Promise.resolve(false),
    };
  }

  test('from the top down: no clear name below the root is asked for; a 403 is passed over', async () => {
    const storage = recording();
    const roots = candidateRoots('vault/secret plans/2026/file.txt', 'object');
    expect(roots).toEqual(['', 'vault/', 'vault/secret plans/', 'vault/secret plans/2026/']);
    const found = await findNamesKey(storage, 'b', roots);
    expect(found?.root).toBe('vault/');
    expect(storage.asked).toEqual(['.veil/names-key', 'vault/.veil/names-key']);
    // Another refusal stops the search.
    const failing: NamesKeyStorage = {
      read: () => Promise.reject(new VeilError('S3_REJECTED', 'GetObject: NoSuchBucket')),
      createOnly: () => Promise.resolve(false),
    };
    await expect(findNamesKey(failing, 'b', roots)).rejects.toMatchObject({
      code: 'S3_REJECTED',
    });
  });

  test('a location left with only its next names key (a rotation stopped in its last step) stays private', async () => {
    const objects = new Map<string, Uint8Array>();
    const storage: NamesKeyStorage = {
      read: (key) => Promise.resolve(objects.get(key)),
      createOnly(key, body) {
        if (objects.has(key)) return Promise.resolve(false);
        objects.set(key, body);
        return Promise.resolve(true);
      },
    };
    const keyring = await RawAesKeyring.fromBytes({
      keyBytes: new Uint8Array(32).fill(9),
      keyName: 'k',
      keyNamespace: 'veil',
    });
    const location = { bucket: 'b', root: 'vault/' };
    const { cipher } = await ensureNextNamesKey(storage, location, keyring, { 'veil-app': 'veil' });
    expect([...objects.keys()]).toEqual(['vault/.veil/names-key.next']);
    const url = { bucket: 'b', key: 'vault/plans/q3.txt' };
    const names = await namesFor(storage, url, 'object', () => Promise.resolve(keyring));
    expect(names.isPrivate).toBe(true);
    expect(names.objectKey('plans/q3.txt')).toBe(`vault/${cipher.encryptPath('plans/q3.txt')}`);
  });
});
