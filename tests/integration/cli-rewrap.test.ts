/**
 * `veil rewrap` (in process, a signalled one spawned: [Note: command line in process]), against S3
 * and KMS in moto and the HSM proxy on SoftHSM2. After each change (add, remove, replace, A→C with
 * KMS, A→B with the HSM proxy) the object opens byte for byte with the new keys through `veil cp`
 * and through the official ESDK (client-node; not for the HSM key, which only Veil's proxy keyring
 * speaks), no longer opens with a removed key, and its bytes after the header are the same as
 * before. A prefix of several objects with one plain object among them; the refusals (an object no
 * ESDK wrote, a key that does not open it, removing the last key) leave the object as it was (ETag
 * and bytes); a dry run changes nothing; a local file round trip.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { KMS } from '@aws-sdk/client-kms';
import {
  buildClient,
  CommitmentPolicy,
  KmsKeyringNode,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  type KeyringNode,
} from '@aws-crypto/client-node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { tryParseHeader } from '../../src/core/header';
import { parseKeyFile } from '../../src/core/key-file';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { DEMO } from '../../scripts/stack/stack';
import { BIN, cliRunner, type Run } from './cli-runner';
import { useLocalStack } from './local-stack';

vi.setConfig({ testTimeout: 120_000 });

const local = useLocalStack(['http://127.0.0.1:5998']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-rewrap-'));
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { veilEnv, veilWith, veil } = cliRunner(dir, join(dir, 'state'));

const MIB = 1024 * 1024;

let s3: S3Client;
let bucket = '';
let aws: string[] = [];
const url = (key: string) => `s3://${bucket}/${key}`;

beforeAll(async () => {
  bucket = local.stack.config.bucket;
  aws = ['--region', local.stack.config.region, '--endpoint-url', local.stack.motoUrl];
  s3 = new S3Client({
    region: local.stack.config.region,
    endpoint: local.stack.motoUrl,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  for (const [file, kid] of [
    ['team.jwk', 'team-key'],
    ['new.jwk', 'new-key'],
    ['other.jwk', 'other-key'],
  ]) {
    expect((await veil('keygen', file!, '--kid', kid!)).code).toBe(0);
  }
});

afterAll(() => s3?.destroy());

/** The object's bytes and ETag. */
async function stored(key: string): Promise<{ bytes: Buffer; etag: string | undefined }> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { bytes: Buffer.from(await reply.Body!.transformToByteArray()), etag: reply.ETag };
}

/** The bytes after the header. */
function bodyOf(message: Uint8Array): Buffer {
  const parsed = tryParseHeader(message, { maxEncryptedDataKeys: 16, maxFrameBytes: 64 * MIB });
  if (!('header' in parsed)) throw new Error('no header');
  return Buffer.from(message.subarray(parsed.header.headerBytes));
}

function rawKeyringNode(file: string): RawAesKeyringNode {
  const material = parseKeyFile(readFileSync(path(file), 'utf8'));
  return new RawAesKeyringNode({
    keyName: material.keyName,
    keyNamespace: material.keyNamespace,
    unencryptedMasterKey: material.keyBytes,
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  });
}

function kmsKeyringNode(): KmsKeyringNode {
  return new KmsKeyringNode({
    discovery: true,
    clientProvider: () =>
      new KMS({
        region: local.stack.config.region,
        endpoint: local.stack.motoUrl,
        credentials: LOCAL_CREDENTIALS,
      }),
  });
}

/** Opens `message` with client-node: the plaintext, or the error's message. */
async function peerOpens(keyring: KeyringNode, message: Uint8Array): Promise<Buffer | string> {
  const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  return decrypt(keyring, message).then(
    (opened) => Buffer.from(opened.plaintext),
    (error: unknown) => String(error),
  );
}

/** Uploads `sizeBytes` of random plaintext with `veil cp` and the key options given. */
async function upload(key: string, sizeBytes: number, ...keys: string[]): Promise<Buffer> {
  const plaintext = randomBytes(sizeBytes);
  const name = key.replaceAll('/', '_');
  writeFileSync(path(`${name}.in`), plaintext);
  const up = await veil('cp', ...keys, ...aws, `${name}.in`, url(key));
  expect(up).toMatchObject({ code: 0, stderr: '' });
  return plaintext;
}

/** True when `result` is a buffer of the same bytes (toEqual on MiBs of bytes is far too slow). */
function same(result: Buffer | string | Run, expected: Buffer): boolean {
  return Buffer.isBuffer(result) && result.equals(expected);
}

/** Downloads with `veil cp` and the key options given; the plaintext, or the failed run. */
async function download(key: string, env: NodeJS.ProcessEnv, ...keys: string[]) {
  const out = `${key.replaceAll('/', '_')}.${randomBytes(3).toString('hex')}.out`;
  const run = await veilWith(env, 'cp', ...keys, ...aws, url(key), out);
  return run.code === 0 ? readFileSync(path(out)) : run;
}

describe('each change, checked by veil cp and client-node', () => {
  test('add a key (6 MiB: new header, part 1 sent, the rest copied in S3)', async () => {
    const plaintext = await upload('c/add.bin', 6 * MIB, '--key-file', 'team.jwk');
    const before = await stored('c/add.bin');
    const run = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      ...aws,
      url('c/add.bin'),
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^rewrapped {2}s3:\S+\/c\/add\.bin {2}keys: A team-key, A new-key /);
    const after = await stored('c/add.bin');
    expect(bodyOf(after.bytes).equals(bodyOf(before.bytes))).toBe(true);
    expect(after.etag).not.toBe(before.etag);
    expect(same(await download('c/add.bin', {}, '--key-file', 'new.jwk'), plaintext)).toBe(true);
    expect(same(await download('c/add.bin', {}, '--key-file', 'team.jwk'), plaintext)).toBe(true);
    expect(same(await peerOpens(rawKeyringNode('new.jwk'), after.bytes), plaintext)).toBe(true);
  });

  test('remove a key: the removed one opens it no more', async () => {
    const plaintext = readFileSync(path('c_add.bin.in'));
    const before = await stored('c/add.bin');
    const run = await veil(
      'rewrap',
      '--key-file',
      'new.jwk',
      '--remove-key',
      'team-key',
      ...aws,
      url('c/add.bin'),
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const after = await stored('c/add.bin');
    expect(bodyOf(after.bytes).equals(bodyOf(before.bytes))).toBe(true);
    expect(same(await download('c/add.bin', {}, '--key-file', 'new.jwk'), plaintext)).toBe(true);
    const refused = await download('c/add.bin', {}, '--key-file', 'team.jwk');
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as Run).stderr).toMatch(/^NO_MATCHING_EDK: /);
    expect(same(await peerOpens(rawKeyringNode('new.jwk'), after.bytes), plaintext)).toBe(true);
    expect(await peerOpens(rawKeyringNode('team.jwk'), after.bytes)).toMatch(/error/i);
  });

  test('replace a key in one change (1 KiB: put again whole)', async () => {
    const plaintext = await upload('c/replace.bin', 1024, '--key-file', 'team.jwk');
    const before = await stored('c/replace.bin');
    const run = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      '--remove-key',
      'team-key',
      ...aws,
      url('c/replace.bin'),
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const after = await stored('c/replace.bin');
    expect(bodyOf(after.bytes).equals(bodyOf(before.bytes))).toBe(true);
    expect(same(await download('c/replace.bin', {}, '--key-file', 'new.jwk'), plaintext)).toBe(
      true,
    );
    expect(await download('c/replace.bin', {}, '--key-file', 'team.jwk')).toMatchObject({
      code: 1,
    });
    expect(same(await peerOpens(rawKeyringNode('new.jwk'), after.bytes), plaintext)).toBe(true);
    expect(await peerOpens(rawKeyringNode('team.jwk'), after.bytes)).toMatch(/error/i);
  });

  test('change model A → C: a KMS key in moto replaces the key file', async () => {
    const plaintext = await upload('c/to-c.bin', 7 * MIB + 3, '--key-file', 'team.jwk');
    const before = await stored('c/to-c.bin');
    const run = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-kms-key',
      DEMO.kmsAlias,
      '--remove-key',
      'team-key',
      ...aws,
      url('c/to-c.bin'),
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c/to-c.bin' }));
    expect(head.Metadata?.['veil-model']).toBe('C');
    const after = await stored('c/to-c.bin');
    expect(bodyOf(after.bytes).equals(bodyOf(before.bytes))).toBe(true);
    expect(same(await download('c/to-c.bin', {}), plaintext)).toBe(true); // KMS discovery
    expect(await download('c/to-c.bin', {}, '--key-file', 'team.jwk')).toMatchObject({ code: 1 });
    expect(same(await peerOpens(kmsKeyringNode(), after.bytes), plaintext)).toBe(true);
    expect(await peerOpens(rawKeyringNode('team.jwk'), after.bytes)).toMatch(/error/i);
  });

  test('change model A → B: an HSM key behind the proxy replaces the key file', async () => {
    const token = { VEIL_HSM_TOKEN: local.stack.demoIdToken };
    const proxy = ['--hsm-proxy', local.stack.hsmUrl];
    const plaintext = await upload('c/to-b.bin', 5 * MIB + 1, '--key-file', 'team.jwk');
    const before = await stored('c/to-b.bin');
    const run = await veilWith(
      token,
      'rewrap',
      '--key-file',
      'team.jwk',
      ...proxy,
      '--add-hsm-key',
      DEMO.hsmKeyLabel,
      '--remove-key',
      'team-key',
      ...aws,
      url('c/to-b.bin'),
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c/to-b.bin' }));
    expect(head.Metadata?.['veil-model']).toBe('B');
    const after = await stored('c/to-b.bin');
    expect(bodyOf(after.bytes).equals(bodyOf(before.bytes))).toBe(true);
    expect(same(await download('c/to-b.bin', token, ...proxy), plaintext)).toBe(true);
    expect(await download('c/to-b.bin', {}, '--key-file', 'team.jwk')).toMatchObject({ code: 1 });
    expect(await peerOpens(rawKeyringNode('team.jwk'), after.bytes)).toMatch(/error/i);
  });
});

describe('a prefix', () => {
  test('every object under it; a plain object is skipped with its reason', async () => {
    const sizes = [0, 1000, 5 * MIB + 9];
    const plaintexts = [];
    for (const [index, size] of sizes.entries()) {
      plaintexts.push(await upload(`p/${index}.bin`, size, '--key-file', 'team.jwk'));
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'p/plain.txt', Body: 'plain' }));
    const bodies = await Promise.all(
      sizes.map(async (_, i) => bodyOf((await stored(`p/${i}.bin`)).bytes)),
    );

    const dry = await veil(
      'rewrap',
      '--dry-run',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      ...aws,
      url('p/'),
    );
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/^plan: 3 of 4 objects to rewrap, 1 skipped; /);
    expect(dry.stdout).toMatch(/ {2}skip {4}s3:\S+\/p\/plain\.txt {2}REWRAP_NOT_A_MESSAGE/);
    expect(await download('p/0.bin', {}, '--key-file', 'new.jwk')).toMatchObject({ code: 1 });

    const run = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      ...aws,
      url('p/'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^REWRAP_NOT_A_MESSAGE: .*p\/plain\.txt/);
    expect(run.stdout.match(/^rewrapped /gm)).toHaveLength(3);
    expect(run.stdout).toMatch(/^skipped {4}s3:\S+\/p\/plain\.txt {2}REWRAP_NOT_A_MESSAGE/m);
    for (const [index, plaintext] of plaintexts.entries()) {
      const after = await stored(`p/${index}.bin`);
      expect(bodyOf(after.bytes).equals(bodies[index]!)).toBe(true);
      expect(same(await download(`p/${index}.bin`, {}, '--key-file', 'new.jwk'), plaintext)).toBe(
        true,
      );
      expect(same(await peerOpens(rawKeyringNode('new.jwk'), after.bytes), plaintext)).toBe(true);
    }
    expect((await stored('p/plain.txt')).bytes.toString()).toBe('plain');
  });
});

describe('refusals leave the object as it was', () => {
  async function refused(key: string, args: string[], code: RegExp): Promise<void> {
    const before = await stored(key);
    const run = await veil('rewrap', ...args, ...aws, url(key));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(code);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    const after = await stored(key);
    expect(after.etag).toBe(before.etag);
    expect(after.bytes.equals(before.bytes)).toBe(true);
  }

  test('an object no ESDK wrote', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'r/plain.bin', Body: 'x'.repeat(99) }),
    );
    await refused(
      'r/plain.bin',
      ['--key-file', 'team.jwk', '--add-key-file', 'new.jwk'],
      /^REWRAP_NOT_A_MESSAGE: /,
    );
  });

  test('a header the key given cannot open', async () => {
    await upload('r/wrong.bin', 6 * MIB, '--key-file', 'team.jwk');
    await refused(
      'r/wrong.bin',
      ['--key-file', 'other.jwk', '--add-key-file', 'new.jwk'],
      /^NO_MATCHING_EDK: /,
    );
  });

  test('removing the last key', async () => {
    await refused(
      'r/wrong.bin',
      ['--key-file', 'team.jwk', '--remove-key', 'team-key'],
      /^REWRAP_LAST_KEY: /,
    );
  });

  test('Ctrl-C during the copies: INTERRUPTED, the upload aborted, the object as it was', async () => {
    await upload('r/interrupted.bin', 64 * MIB, '--key-file', 'team.jwk');
    const before = await stored('r/interrupted.bin');
    const child = spawn(
      process.execPath,
      [
        BIN,
        'rewrap',
        '--key-file',
        'team.jwk',
        '--add-key-file',
        'new.jwk',
        ...aws,
        url('r/interrupted.bin'),
      ],
      { cwd: dir, env: veilEnv() },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const openUploads = async () =>
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads?.length ?? 0;
    while ((await openUploads()) === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/^INTERRUPTED: /);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(await openUploads()).toBe(0);
    const after = await stored('r/interrupted.bin');
    expect(after.etag).toBe(before.etag);
    expect(after.bytes.equals(before.bytes)).toBe(true);
  });

  test('no change named is a usage error', async () => {
    const run = await veil('rewrap', '--key-file', 'team.jwk', ...aws, url('r/wrong.bin'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^USAGE: /);
  });
});

describe('a local file', () => {
  test('rewritten in place: new key opens it, old one not, body unchanged', async () => {
    const plaintext = randomBytes(3 * MIB + 17);
    writeFileSync(path('local.bin'), plaintext);
    expect((await veil('encrypt', '--key-file', 'team.jwk', 'local.bin', 'local.veil')).code).toBe(
      0,
    );
    const before = readFileSync(path('local.veil'));
    const run = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      '--remove-key',
      'team-key',
      'local.veil',
    );
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const after = readFileSync(path('local.veil'));
    expect(bodyOf(after).equals(bodyOf(before))).toBe(true);
    expect((await veil('decrypt', '--key-file', 'new.jwk', 'local.veil', 'l.out')).code).toBe(0);
    expect(readFileSync(path('l.out')).equals(plaintext)).toBe(true);
    const old = await veil('decrypt', '--key-file', 'team.jwk', 'local.veil', 'l2.out');
    expect(old.code).toBe(1);
    expect(same(await peerOpens(rawKeyringNode('new.jwk'), after), plaintext)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  test('a plain file is refused and left as it was', async () => {
    writeFileSync(path('plain.local'), 'just text');
    const run = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      'plain.local',
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^REWRAP_NOT_A_MESSAGE: /);
    expect(readFileSync(path('plain.local'), 'utf8')).toBe('just text');
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });
});
