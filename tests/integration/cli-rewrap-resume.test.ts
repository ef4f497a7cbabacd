/**
 * `veil rewrap` that continues and cleans up (in process, interrupted ones spawned: [Note: command
 * line in process]; against S3 in moto): a rewrap killed (SIGKILL) once its record is written
 * leaves the object as it was, and the same command run again continues it ("resumed"): the object
 * opens with the new key, its bytes after the header unchanged, with no multipart upload and no
 * record left. On a versioned bucket, --delete-previous-version leaves only the new version (which
 * the removed key does not open); without it a note names the previous version, which the removed
 * key still opens.
 */
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { tryParseHeader } from '../../src/core/header';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { BIN, cliRunner } from './cli-runner';
import { useLocalStack } from './local-stack';

vi.setConfig({ testTimeout: 120_000 });

const local = useLocalStack(['http://127.0.0.1:5998']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-rewrap-resume-'));
const path = (name: string) => join(dir, name);
const records = join(dir, 'state', 'veil', 'rewraps');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { veilEnv, veil } = cliRunner(dir, join(dir, 'state'));

const MIB = 1024 * 1024;

let s3: S3Client;
let bucket = '';
let aws: string[] = [];

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
  ]) {
    expect((await veil('keygen', file!, '--kid', kid!)).code).toBe(0);
  }
});

afterAll(() => s3?.destroy());

async function stored(inBucket: string, key: string) {
  const reply = await s3.send(new GetObjectCommand({ Bucket: inBucket, Key: key }));
  return { bytes: Buffer.from(await reply.Body!.transformToByteArray()), etag: reply.ETag };
}

function bodyOf(message: Uint8Array): Buffer {
  const parsed = tryParseHeader(message, { maxEncryptedDataKeys: 16, maxFrameBytes: 64 * MIB });
  if (!('header' in parsed)) throw new Error('no header');
  return Buffer.from(message.subarray(parsed.header.headerBytes));
}

async function upload(inBucket: string, key: string, sizeBytes: number): Promise<Buffer> {
  const plaintext = randomBytes(sizeBytes);
  const name = `${inBucket}_${key.replaceAll('/', '_')}`;
  writeFileSync(path(`${name}.in`), plaintext);
  const up = await veil(
    'cp',
    '--key-file',
    'team.jwk',
    ...aws,
    `${name}.in`,
    `s3://${inBucket}/${key}`,
  );
  expect(up).toMatchObject({ code: 0, stderr: '' });
  return plaintext;
}

/** True when `key` opens with `keyFile` to `plaintext` through `veil cp`. */
async function opens(inBucket: string, key: string, keyFile: string, plaintext: Buffer) {
  const out = `${randomBytes(4).toString('hex')}.out`;
  const run = await veil('cp', '--key-file', keyFile, ...aws, `s3://${inBucket}/${key}`, out);
  return run.code === 0 && readFileSync(path(out)).equals(plaintext);
}

/** The record files (not the temporary files they are written through). */
const recordFiles = () =>
  (existsSync(records) ? readdirSync(records) : []).filter((name) => name.endsWith('.json'));

describe('a rewrap killed is resumed', () => {
  test('SIGKILL after the record; the next run continues it', async () => {
    const key = 'k/resume.bin';
    const plaintext = await upload(bucket, key, 40 * MIB);
    const before = await stored(bucket, key);
    const args = [
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      '--remove-key',
      'team-key',
      ...aws,
      `s3://${bucket}/${key}`,
    ];
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: veilEnv() });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    while (recordFiles().length === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    child.kill('SIGKILL');
    await exited;

    const uploads = async () =>
      (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
    expect((await uploads()).filter((u) => u.Key === key)).toHaveLength(1);
    const killed = await stored(bucket, key);
    expect(killed.etag).toBe(before.etag);
    expect(await opens(bucket, key, 'team.jwk', plaintext)).toBe(true);

    const run = await veil(...args);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^resumed {4}s3:\S+\/k\/resume\.bin {2}keys: A new-key /);
    const after = await stored(bucket, key);
    expect(bodyOf(after.bytes).equals(bodyOf(before.bytes))).toBe(true);
    expect(await opens(bucket, key, 'new.jwk', plaintext)).toBe(true);
    expect(await opens(bucket, key, 'team.jwk', plaintext)).toBe(false);
    expect((await uploads()).filter((u) => u.Key === key)).toHaveLength(0);
    expect(recordFiles()).toEqual([]);
  });
});

describe('a versioned bucket', () => {
  const versioned = `veil-versioned-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    const region = local.stack.config.region;
    await s3.send(
      new CreateBucketCommand({
        Bucket: versioned,
        ...(region === 'us-east-1'
          ? {}
          : { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }),
      }),
    );
    await s3.send(
      new PutBucketVersioningCommand({
        Bucket: versioned,
        VersioningConfiguration: { Status: 'Enabled' },
      }),
    );
  });

  const versions = async (key: string) =>
    (
      (await s3.send(new ListObjectVersionsCommand({ Bucket: versioned, Prefix: key }))).Versions ??
      []
    ).filter((v) => v.Key === key);

  const replace = (key: string, ...extra: string[]) =>
    veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'new.jwk',
      '--remove-key',
      'team-key',
      ...extra,
      ...aws,
      `s3://${versioned}/${key}`,
    );

  test('--delete-previous-version leaves one version, which the removed key does not open', async () => {
    const plaintext = await upload(versioned, 'v/deleted.bin', 6 * MIB);
    const run = await replace('v/deleted.bin', '--delete-previous-version');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^deleted the previous version \S+$/m);
    expect(await versions('v/deleted.bin')).toHaveLength(1);
    expect(await opens(versioned, 'v/deleted.bin', 'new.jwk', plaintext)).toBe(true);
    expect(await opens(versioned, 'v/deleted.bin', 'team.jwk', plaintext)).toBe(false);
  });

  test('without it: a note names the previous version, and two remain', async () => {
    await upload(versioned, 'v/kept.bin', 1024);
    const [first] = await versions('v/kept.bin');
    const run = await replace('v/kept.bin');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(
      `note: the removed key still opens the previous version ${first?.VersionId} until it is deleted`,
    );
    expect(await versions('v/kept.bin')).toHaveLength(2);
  });
});
