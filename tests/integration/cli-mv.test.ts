/**
 * `veil mv` and `veil names rotate` (in process, Ctrl-C spawned: [Note: command line in process];
 * against S3 in moto). In a private location: a file and a nested folder move by their clear paths
 * (veil ls then shows the new clear names, sorted, the bucket holds no clear name, the moved files
 * download byte for byte and the old paths are gone); a move onto an existing file fails with
 * MOVE_DESTINATION_EXISTS and leaves both files as they were; `--dry-run` changes nothing. In a
 * plain location an unencrypted object moves by copy. A names key rotation renames every object,
 * and one stopped part-way (a destination taken, so one object fails) continues when run again:
 * afterwards every file downloads by its clear name, no stored key from before remains and the
 * names key object changed; one stopped inside its last step finishes. Ctrl-C during a move leaves
 * the object in flight as it was, with no multipart upload kept.
 *
 * Setup and checks call the functions the commands use (uploadFile, downloadFile, listObjects);
 * the commands under test run through their command line, in process but for Ctrl-C.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { downloadFile } from '../../src/cli/cp-download';
import { uploadFile } from '../../src/cli/cp-upload';
import { loadKeyring } from '../../src/cli/key-files';
import { listObjects } from '../../src/cli/ls';
import { initNames } from '../../src/cli/names-init';
import { s3NamesKeyStorage } from '../../src/cli/names-storage';
import { serializeKeyFile } from '../../src/core';
import { buildUploadContext } from '../../src/keyrings/upload-context';
import { privateNames } from '../../src/transfer/location-names';
import { ensureNextNamesKey } from '../../src/transfer/names-key';
import { planNamesRotation } from '../../src/transfer/names-rotate';
import { nodeRewrapS3 } from '../../src/transfer/node';
import { RewrapBatch } from '../../src/transfer/rewrap-batch';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { BIN, cliRunner } from './cli-runner';
import { useLocalStack } from './local-stack';

vi.setConfig({ testTimeout: 120_000 });

const local = useLocalStack(['http://127.0.0.1:5994']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-mv-'));
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { veilEnv, veil } = cliRunner(dir, join(dir, 'state'));

const ROOT = 'vault/';
/** Clear path below the root -> local file holding its bytes. */
const files = new Map<string, string>([
  ['a.txt', 'in-a'],
  ['docs/2026/plan Q3.txt', 'in-plan'],
  ['docs/2026/deep/z.bin', 'in-z'],
  ['docs/notes.md', 'in-notes'],
  ['keep.txt', 'in-keep'],
]);
/** Clear words that must never appear in a stored key. */
const CLEAR_WORDS = [
  'a.txt',
  'docs',
  '2026',
  'plan',
  'deep',
  'notes',
  'keep',
  'renamed',
  'archive',
];

let s3: S3Client;
let bucket = '';
let aws: string[] = [];
const url = (key: string) => `s3://${bucket}/${key}`;
const team = () => ['--key-file', path('team.jwk')];
const keyFlags = () => ({ keyFiles: [path('team.jwk')], hsmKeys: [], kmsKeys: [] });
const s3Flags = () => ({ region: local.stack.config.region, endpointUrl: local.stack.motoUrl });

async function storedKeys(prefix = ''): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((entry) => entry.Key ?? '').sort();
}

async function objectBytes(key: string): Promise<Buffer | undefined> {
  try {
    const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await reply.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

/** True when the clear key downloads to exactly the bytes of local file `input`. */
async function downloads(clearKey: string, input: string): Promise<boolean> {
  const out = path(`out-${randomBytes(4).toString('hex')}`);
  try {
    await downloadFile({
      keys: keyFlags(),
      s3: s3Flags(),
      source: { bucket, key: clearKey },
      outPath: out,
      force: false,
      env: veilEnv(),
    });
    return readFileSync(out).equals(readFileSync(path(input)));
  } catch {
    return false;
  } finally {
    rmSync(out, { force: true });
  }
}

/** The clear keys `veil ls` shows under the root, in its order. */
async function listed(): Promise<string[]> {
  const lines: string[] = [];
  await listObjects({
    s3: s3Flags(),
    keys: keyFlags(),
    location: { bucket, key: ROOT },
    print: (line) => lines.push(line),
    env: veilEnv(),
  });
  return lines.map((line) => line.replace(/^ *\d+ +\S+ +/, '').split('  ')[0]!);
}

beforeAll(async () => {
  bucket = local.stack.config.bucket;
  aws = ['--region', local.stack.config.region, '--endpoint-url', local.stack.motoUrl];
  s3 = new S3Client({
    region: local.stack.config.region,
    endpoint: local.stack.motoUrl,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });
  vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
  vi.stubEnv('AWS_PROFILE', '');
  const text = serializeKeyFile({
    keyBytes: new Uint8Array(randomBytes(32)),
    keyName: 'team-key',
    keyNamespace: 'veil',
  });
  writeFileSync(path('team.jwk'), text, { mode: 0o600 });
  await initNames({
    keys: keyFlags(),
    s3: s3Flags(),
    location: { bucket, key: ROOT },
    print: () => undefined,
    env: veilEnv(),
  });
  for (const [clear, input] of files) {
    writeFileSync(path(input), randomBytes(input === 'in-plan' ? 70_000 : 300));
    await uploadFile({
      keys: keyFlags(),
      s3: s3Flags(),
      inPath: path(input),
      target: { bucket, key: `${ROOT}${clear}` },
      extraContext: {},
      env: veilEnv(),
    });
  }
});

afterAll(() => {
  vi.unstubAllEnvs();
  s3?.destroy();
});

describe('veil mv in a private location', () => {
  test('a file moves by its clear path', async () => {
    const run = await veil('mv', ...team(), ...aws, url('vault/a.txt'), url('vault/renamed/b.txt'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`move  ${url('vault/a.txt')} -> ${url('vault/renamed/b.txt')}`);
    expect(run.stdout).toMatch(/\nmoved 1 of 1 object; /);
    expect(await downloads('vault/renamed/b.txt', 'in-a')).toBe(true);
    expect(await downloads('vault/a.txt', 'in-a')).toBe(false);
  });

  test('a nested folder: --dry-run changes nothing, then every object moves', async () => {
    const before = await storedKeys();
    const args = [...team(), ...aws, url('vault/docs/'), url('vault/archive/docs-2026/')];
    const dry = await veil('mv', '--dry-run', ...args);
    expect(dry).toMatchObject({ code: 0, stderr: '' });
    // Small objects are sent again whole (one PutObject each): nothing is copied inside S3.
    expect(dry.stdout).toMatch(
      /^plan: 3 of 3 objects to move; 0 B copied inside S3, about 1\d\d\.\d KiB through this machine\n/,
    );
    expect(dry.stdout).toContain(
      `${url('vault/docs/2026/plan Q3.txt')} -> ${url('vault/archive/docs-2026/2026/plan Q3.txt')}`,
    );
    expect(await storedKeys()).toEqual(before);

    const run = await veil('mv', ...args);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\nmoved 3 of 3 objects; /);
    const keys = await storedKeys();
    expect(keys).toHaveLength(before.length);
    for (const word of CLEAR_WORDS) expect(keys.join('\n').toLowerCase()).not.toContain(word);

    const moved = [
      ['vault/archive/docs-2026/2026/plan Q3.txt', 'in-plan'],
      ['vault/archive/docs-2026/2026/deep/z.bin', 'in-z'],
      ['vault/archive/docs-2026/notes.md', 'in-notes'],
    ] as const;
    for (const [key, input] of moved) expect(await downloads(key, input)).toBe(true);
    expect(await downloads('vault/docs/notes.md', 'in-notes')).toBe(false);
    // ls shows the clear names, sorted by them (S3 lists the encrypted keys' order).
    expect(await listed()).toEqual([
      'vault/archive/docs-2026/2026/deep/z.bin',
      'vault/archive/docs-2026/2026/plan Q3.txt',
      'vault/archive/docs-2026/notes.md',
      'vault/keep.txt',
      'vault/renamed/b.txt',
    ]);
  });

  test('onto an existing file: MOVE_DESTINATION_EXISTS, both files intact', async () => {
    const before = await storedKeys();
    const run = await veil(
      'mv',
      ...team(),
      ...aws,
      url('vault/keep.txt'),
      url('vault/renamed/b.txt'),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^MOVE_DESTINATION_EXISTS: .*vault\/keep\.txt -> /);
    expect(run.stdout).toMatch(/\nfailed {3}s3:\S+\/vault\/keep\.txt {2}MOVE_DESTINATION_EXISTS/);
    expect(await storedKeys()).toEqual(before);
    expect(await downloads('vault/keep.txt', 'in-keep')).toBe(true);
    expect(await downloads('vault/renamed/b.txt', 'in-a')).toBe(true);
  });
});

test('veil mv in a plain location: an unencrypted object moves by copy', async () => {
  const body = randomBytes(1000);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'plain/readme.txt', Body: body }));
  const run = await veil('mv', ...aws, url('plain/readme.txt'), url('plain/docs/readme.txt'));
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect((await objectBytes('plain/docs/readme.txt'))?.equals(body)).toBe(true);
  expect(await objectBytes('plain/readme.txt')).toBeUndefined();
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'plain/docs/readme.txt' }));
});

test('Ctrl-C during a move: the object in flight is left as it was, no upload kept', async () => {
  const key = 'plain/big.bin';
  writeFileSync(path('in-big'), randomBytes(24 * 1024 * 1024));
  await uploadFile({
    keys: keyFlags(),
    s3: s3Flags(),
    inPath: path('in-big'),
    target: { bucket, key },
    extraContext: {},
    env: veilEnv(),
  });
  const before = await storedKeys();
  const etag = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
  const uploads = async () =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
  const child = spawn(
    process.execPath,
    [BIN, 'mv', ...team(), ...aws, url(key), url('plain/moved/big.bin')],
    { cwd: dir, env: veilEnv() },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let ended = false;
  void exited.then(() => (ended = true));
  while (!ended && (await uploads()).length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  // The move must still be running (its multipart upload open) when Ctrl-C comes.
  expect(ended).toBe(false);
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  expect(stderr).toMatch(/^INTERRUPTED: /);
  expect(await uploads()).toEqual([]);
  expect(await storedKeys()).toEqual(before);
  expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag).toBe(etag);
  expect(await downloads(key, 'in-big')).toBe(true);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
});

describe('veil names rotate', () => {
  test('--dry-run prints the plan and writes nothing', async () => {
    const before = await storedKeys();
    const run = await veil('names', 'rotate', '--dry-run', ...team(), ...aws, url(ROOT));
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/\nplan: 5 of 5 objects to rename under the next names key; /);
    expect(run.stdout).toContain(`rename  ${url('vault/keep.txt')}`);
    expect(await storedKeys()).toEqual(before);
  });

  test('a rotation stopped part-way continues when run again', async () => {
    const namesKeyBefore = await objectBytes('vault/.veil/names-key');
    const before = (await storedKeys(ROOT)).filter((key) => !key.includes('.veil/'));
    // A destination taken: the next names key made ahead, an object put at keep.txt's new key.
    const location = { bucket, root: ROOT };
    const storage = s3NamesKeyStorage(s3, bucket, 'test');
    const keyring = await loadKeyring(path('team.jwk'));
    const { cipher } = await ensureNextNamesKey(
      storage,
      location,
      keyring,
      buildUploadContext({ bucket }),
    );
    const blocked = privateNames(location, cipher).objectKey('keep.txt');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: blocked, Body: 'in the way' }));

    const args = ['names', 'rotate', ...team(), ...aws, url(ROOT)];
    const first = await veil(...args);
    expect(first.code).toBe(1);
    expect(first.stdout).toContain('continuing the names key rotation');
    expect(first.stdout).toMatch(/\nplan: 5 of 5 objects to rename/);
    expect(first.stderr).toMatch(/^MOVE_DESTINATION_EXISTS: .*vault\/keep\.txt.*run the same/);
    // Not finished: the current names key is as it was, the next one is still there.
    expect((await objectBytes('vault/.veil/names-key'))?.equals(namesKeyBefore!)).toBe(true);
    expect(await objectBytes('vault/.veil/names-key.next')).toBeDefined();

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: blocked }));
    const second = await veil(...args);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/\nplan: 1 of 1 object to rename/);
    expect(second.stdout).toContain('names key rotated');

    const after = await storedKeys(ROOT);
    expect(after).toContain('vault/.veil/names-key');
    expect(after).not.toContain('vault/.veil/names-key.next');
    expect((await objectBytes('vault/.veil/names-key'))?.equals(namesKeyBefore!)).toBe(false);
    expect(after.filter((key) => before.includes(key))).toEqual([]);
    expect(after.filter((key) => !key.includes('.veil/'))).toHaveLength(5);
    for (const word of CLEAR_WORDS) expect(after.join('\n').toLowerCase()).not.toContain(word);
    for (const [key, input] of [
      ['vault/renamed/b.txt', 'in-a'],
      ['vault/archive/docs-2026/2026/plan Q3.txt', 'in-plan'],
      ['vault/archive/docs-2026/2026/deep/z.bin', 'in-z'],
      ['vault/archive/docs-2026/notes.md', 'in-notes'],
      ['vault/keep.txt', 'in-keep'],
    ] as const) {
      expect(await downloads(key, input)).toBe(true);
    }
  });

  test('a rotation stopped inside its last step finishes when run again', async () => {
    // Every object moved under a next key, and the current key deleted: the stop that step allows.
    const location = { bucket, root: ROOT };
    const storage = s3NamesKeyStorage(s3, bucket, 'test');
    const keyring = await loadKeyring(path('team.jwk'));
    const everything = (await storedKeys(ROOT)).map((key) => ({ key }));
    const { plan } = await planNamesRotation(
      storage,
      location,
      keyring,
      buildUploadContext({ bucket }),
      everything,
    );
    expect(plan.totals.ready).toBe(5);
    const snapshot = await new RewrapBatch({
      plan,
      setup: { s3: nodeRewrapS3(s3), bucket, openWith: keyring, bindingRule: 'required' },
      destinationFor: (object) => plan.destinations.get(object.key),
    }).run();
    expect(snapshot.progress.doneObjects).toBe(5);
    await storage.remove('vault/.veil/names-key');

    const run = await veil('names', 'rotate', ...team(), ...aws, url(ROOT));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^plan: the rotation's last step/);
    expect(run.stdout).toContain('names key rotated');
    const after = await storedKeys(ROOT);
    expect(after).toContain('vault/.veil/names-key');
    expect(after).not.toContain('vault/.veil/names-key.next');
    expect(await downloads('vault/archive/docs-2026/notes.md', 'in-notes')).toBe(true);
    expect(await downloads('vault/keep.txt', 'in-keep')).toBe(true);
  });
});
