/**
 * `veil cp` and `veil ls` (in process; killed uploads spawned: [Note: command line in process]),
 * against S3 and KMS in moto and the HSM proxy on SoftHSM2: round trips at the part and frame
 * boundaries under Model A, one size each under Models B and C, the object's metadata as the app
 * writes it, the official ESDK (client-node) opening what `veil cp` uploaded, `veil cp` downloading
 * what the upload engine wrote, and the failures: a tampered object, a wrong key, an existing FILE,
 * a missing bucket, an unreachable endpoint, and an upload killed midway that the same command
 * resumes.
 */
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { listObjects } from '../../src/cli/ls';
import { parseKeyFile } from '../../src/core/key-file';
import { tryParseHeader } from '../../src/core/header';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { FileUpload } from '../../src/transfer/upload';
import { nodeBuilder, nodeUploadS3, openFileSource } from '../../src/transfer/node';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { DEMO } from '../../scripts/stack/stack';
import { BIN, cliRunner } from './cli-runner';
import { useLocalStack } from './local-stack';

vi.setConfig({ testTimeout: 120_000 });

const local = useLocalStack(['http://127.0.0.1:5997']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-s3-'));
const stateHome = join(dir, 'state');
const recordFolder = join(stateHome, 'veil', 'uploads');
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { veilEnv, veilWith, veil } = cliRunner(dir, stateHome);

const MIB = 1024 * 1024;

let s3: S3Client;
let bucket = '';
/** --region and --endpoint-url of the local stack. */
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
  expect((await veil('keygen', 'team.jwk', '--kid', 'team-key')).code).toBe(0);
  expect((await veil('keygen', 'other.jwk', '--kid', 'other-key')).code).toBe(0);
});

afterAll(() => s3?.destroy());

async function objectBytes(key: string): Promise<Buffer> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await reply.Body!.transformToByteArray());
}

async function metadata(key: string): Promise<Record<string, string> | undefined> {
  return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Metadata;
}

/** Download temporaries (`.NAME.RANDOM.veil-partial`) left in the test folder. */
function temporaries(): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.veil-partial'));
}

function teamKeyNode(): RawAesKeyringNode {
  const material = parseKeyFile(readFileSync(path('team.jwk'), 'utf8'));
  return new RawAesKeyringNode({
    keyName: material.keyName,
    keyNamespace: material.keyNamespace,
    unencryptedMasterKey: material.keyBytes,
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  });
}

describe('Model A (key file)', () => {
  test.each([
    ['0 B', 0],
    ['1 B', 1],
    ['5 MiB - 1', 5 * MIB - 1],
    ['5 MiB + 1', 5 * MIB + 1],
    ['40 MiB', 40 * MIB],
  ])('%s: up and down, byte for byte, with the app metadata', async (label, sizeBytes) => {
    const name = `a-${sizeBytes}`;
    const plaintext = randomBytes(sizeBytes);
    writeFileSync(path(`${name}.bin`), plaintext);
    const key = `a/${name}.bin`;
    const up = await veil('cp', '--key-file', 'team.jwk', ...aws, `${name}.bin`, url(key));
    expect(up, label).toMatchObject({ code: 0, stderr: '' });
    expect(await metadata(key)).toEqual({
      'veil-format': 'esdk-v2-0478-framed',
      'veil-model': 'A',
    });
    const down = await veil('cp', '--key-file', 'team.jwk', ...aws, url(key), `${name}.out`);
    expect(down).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(path(`${name}.out`)).equals(plaintext)).toBe(true);
  });

  test('client-node decrypts what veil cp uploaded', async () => {
    const object = await objectBytes('a/a-5242881.bin');
    const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const opened = await decrypt(teamKeyNode(), object);
    expect(Buffer.from(opened.plaintext).equals(readFileSync(path('a-5242881.bin')))).toBe(true);
    expect(opened.messageHeader.encryptionContext).toMatchObject({
      'veil-app': 'veil',
      'veil-bucket': bucket,
    });
  });

  test('veil cp downloads an object the upload engine wrote', async () => {
    const plaintext = randomBytes(9 * MIB + 7);
    writeFileSync(path('engine.bin'), plaintext);
    const material = parseKeyFile(readFileSync(path('team.jwk'), 'utf8'));
    await FileUpload.start({
      s3: nodeUploadS3(s3),
      builder: nodeBuilder,
      keyring: await RawAesKeyring.fromBytes(material),
      file: await openFileSource(path('engine.bin')),
      bucket,
      key: 'a/engine.bin',
      model: 'A',
      partBytes: 5 * MIB,
    }).done;
    const down = await veil('cp', '--key-file', 'team.jwk', ...aws, url('a/engine.bin'), 'e.out');
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('e.out')).equals(plaintext)).toBe(true);
  });
});

describe('Models B and C', () => {
  test('Model C: a KMS key in moto, downloaded by discovery', async () => {
    const plaintext = randomBytes(5 * MIB + 1);
    writeFileSync(path('c.bin'), plaintext);
    const up = await veil('cp', '--kms-key', DEMO.kmsAlias, ...aws, 'c.bin', url('c/c.bin'));
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect((await metadata('c/c.bin'))?.['veil-model']).toBe('C');
    const down = await veil('cp', ...aws, url('c/c.bin'), 'c.out');
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('c.out')).equals(plaintext)).toBe(true);
  });

  test('Model B: an HSM key behind the proxy, plus a Model A recovery key', async () => {
    const plaintext = randomBytes(5 * MIB - 1);
    writeFileSync(path('b.bin'), plaintext);
    const token = { VEIL_HSM_TOKEN: local.stack.demoIdToken };
    const proxy = ['--hsm-proxy', local.stack.hsmUrl];
    const up = await veilWith(
      token,
      'cp',
      ...proxy,
      '--hsm-key',
      DEMO.hsmKeyLabel,
      '--key-file',
      'team.jwk',
      ...aws,
      'b.bin',
      url('b/b.bin'),
    );
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect((await metadata('b/b.bin'))?.['veil-model']).toBe('B');
    const viaHsm = await veilWith(token, 'cp', ...proxy, ...aws, url('b/b.bin'), 'b-hsm.out');
    expect(viaHsm).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('b-hsm.out')).equals(plaintext)).toBe(true);
    const viaFile = await veil('cp', '--key-file', 'team.jwk', ...aws, url('b/b.bin'), 'b-a.out');
    expect(viaFile).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('b-a.out')).equals(plaintext)).toBe(true);
  });
});

describe('veil ls', () => {
  test('models and key names from the headers, and plain objects marked', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'b/plain.txt', Body: 'not encrypted' }),
    );
    const listed = await veil('ls', ...aws, url('b/'));
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^ +\\d+ +B\\+A +b/b\\.bin {2}keys: B ${DEMO.hsmKeyLabel}, A team-key$`),
    );
    expect(lines[1]).toMatch(/^ +13 +- +b\/plain\.txt {2}not an ESDK message$/);

    const models = await veil('ls', ...aws, `s3://${bucket}`);
    expect(models.code).toBe(0);
    expect(models.stdout).toMatch(/ C +c\/c\.bin {2}keys: C arn:aws:kms:[^ ]+:key\/\S+\n/);
    expect(models.stdout).toMatch(/ A +a\/a-0\.bin {2}keys: A team-key\n/);
  });

  test('pages through ListObjectsV2', async () => {
    // In this process: the SDK's default chain reads the credentials from the environment.
    vi.stubEnv('AWS_ACCESS_KEY_ID', LOCAL_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', LOCAL_CREDENTIALS.secretAccessKey);
    vi.stubEnv('AWS_PROFILE', '');
    const lines: string[] = [];
    let count: number;
    try {
      // Pages of 2 keys: the 6 objects under a/ only all show if the continuation is followed.
      count = await listObjects({
        s3: { region: local.stack.config.region, endpointUrl: local.stack.motoUrl },
        location: { bucket, key: 'a/' },
        print: (line) => lines.push(line),
        env: veilEnv(),
        maxKeysPerPage: 2,
      });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(count).toBe(6);
    expect(lines.map((line) => line.split(/ +/)[3])).toEqual([
      'a/a-0.bin',
      'a/a-1.bin',
      'a/a-41943040.bin',
      'a/a-5242879.bin',
      'a/a-5242881.bin',
      'a/engine.bin',
    ]);
  });
});

describe('failures', () => {
  test('an object copied under another key by storage: OBJECT_MISMATCH, no FILE', async () => {
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'bad/copied.bin',
        CopySource: `${bucket}/a/a-1.bin`,
      }),
    );
    const down = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...aws,
      url('bad/copied.bin'),
      'copied-by-storage.out',
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/OBJECT_MISMATCH/);
    expect(existsSync(path('copied-by-storage.out'))).toBe(false);
    expect(temporaries()).toEqual([]);
  });

  test('a tampered object: FRAME_TAMPERED, no FILE, an existing FILE kept', async () => {
    // Uploaded under its own key, so its binding holds ([Note: location binding]) and the
    // frame check is what fails.
    const up = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...aws,
      'a-5242881.bin',
      url('bad/tampered.bin'),
    );
    expect(up.code).toBe(0);
    const object = await objectBytes('bad/tampered.bin');
    const parsed = tryParseHeader(object, { maxEncryptedDataKeys: 16, maxFrameBytes: 64 * MIB });
    if (!('header' in parsed)) throw new Error('no header');
    // A byte of the third frame's ciphertext (after seq 4 and IV 12 bytes of each frame).
    const frameBytes = 4 + 12 + parsed.header.frameBytes + 16;
    const at = parsed.header.headerBytes + 2 * frameBytes + 16 + 1000;
    object[at] = (object[at] ?? 0) ^ 0x01;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'bad/tampered.bin',
        Body: object,
        Metadata: await metadata('bad/tampered.bin'),
      }),
    );
    const down = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...aws,
      url('bad/tampered.bin'),
      't.out',
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^FRAME_TAMPERED: /);
    expect(down.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(path('t.out'))).toBe(false);
    expect(temporaries()).toEqual([]);

    writeFileSync(path('kept.out'), 'keep me');
    const forced = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      '--force',
      ...aws,
      url('bad/tampered.bin'),
      'kept.out',
    );
    expect(forced.stderr).toMatch(/^FRAME_TAMPERED: /);
    expect(readFileSync(path('kept.out'), 'utf8')).toBe('keep me');
    expect(temporaries()).toEqual([]);
  });

  test('a wrong key: NO_MATCHING_EDK and no FILE', async () => {
    const down = await veil('cp', '--key-file', 'other.jwk', ...aws, url('a/a-1.bin'), 'w.out');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^NO_MATCHING_EDK: /);
    expect(existsSync(path('w.out'))).toBe(false);
    expect(temporaries()).toEqual([]);
  });

  test('an existing FILE: refused without --force and left as it was; replaced with it', async () => {
    writeFileSync(path('exists.out'), 'old');
    const refused = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...aws,
      url('a/a-1.bin'),
      'exists.out',
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^OUTPUT_EXISTS: /);
    expect(readFileSync(path('exists.out'), 'utf8')).toBe('old');
    const forced = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      '--force',
      ...aws,
      url('a/a-1.bin'),
      'exists.out',
    );
    expect(forced).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('exists.out')).equals(readFileSync(path('a-1.bin')))).toBe(true);
  });

  test('a plain object is refused, not saved unverified', async () => {
    const down = await veil('cp', '--key-file', 'team.jwk', ...aws, url('b/plain.txt'), 'p.out');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^MALFORMED: .*not an ESDK message/);
    expect(existsSync(path('p.out'))).toBe(false);
    expect(temporaries()).toEqual([]);
  });

  test('a missing bucket, an unreachable endpoint and usage errors', async () => {
    const noBucket = `s3://veil-no-such-bucket-${randomBytes(4).toString('hex')}`;
    const up = await veil('cp', '--key-file', 'team.jwk', ...aws, 'a-1.bin', `${noBucket}/k`);
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(/^S3_REJECTED: .*NoSuchBucket/);
    const listed = await veil('ls', ...aws, noBucket);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/^S3_REJECTED: .*list ListObjectsV2: NoSuchBucket/);
    const down = await veil('cp', '--key-file', 'team.jwk', ...aws, `${noBucket}/k`, 'nb.out');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^S3_REJECTED: /);
    expect(existsSync(path('nb.out'))).toBe(false);

    const dead = ['--region', 'us-east-1', '--endpoint-url', 'http://127.0.0.1:9'];
    const unreachable = await veil('ls', ...dead, url(''));
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^S3_UNREACHABLE: /);
    const deadDown = await veil('cp', '--key-file', 'team.jwk', ...dead, url('a/a-1.bin'), 'd.out');
    expect(deadDown.code).toBe(1);
    expect(deadDown.stderr).toMatch(/^S3_UNREACHABLE: /);
    expect(existsSync(path('d.out'))).toBe(false);

    expect((await veil('cp', '--key-file', 'team.jwk', 'a-1.bin', 'x.out')).code).toBe(2);
    expect((await veil('cp', '--key-file', 'team.jwk', url('a/a-1.bin'), url('x'))).code).toBe(2);
  });
});

describe('folders', () => {
  test('a key ending in / takes the file name; a local folder the key name', async () => {
    const up = await veil('cp', '--key-file', 'team.jwk', ...aws, 'a-1.bin', url('dir/'));
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect((await metadata('dir/a-1.bin'))?.['veil-model']).toBe('A');
    mkdirSync(path('into'));
    const down = await veil('cp', '--key-file', 'team.jwk', ...aws, url('dir/a-1.bin'), 'into');
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('into/a-1.bin')).equals(readFileSync(path('a-1.bin')))).toBe(true);
  });
});

/** A stored resume record as the file store writes it. */
interface RecordFile {
  value: { headerBytes: string; parts: unknown[]; partCount: number; uploadId: string };
}

const recordFiles = () =>
  existsSync(recordFolder)
    ? readdirSync(recordFolder).filter((name) => name.endsWith('.json'))
    : [];

/**
 * Runs `veil ...args` and kills it with SIGTERM once its resume record holds a finished part;
 * returns the record it left.
 */
async function killAfterFirstPart(args: string[]): Promise<RecordFile> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: veilEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let killed = false;
  const poll = setInterval(() => {
    if (killed) return;
    for (const name of recordFiles()) {
      try {
        const file = JSON.parse(readFileSync(join(recordFolder, name), 'utf8')) as RecordFile;
        if (file.value.parts.length >= 1) {
          killed = true;
          child.kill('SIGTERM');
        }
      } catch {
        // Being renamed into place; read it again on the next tick.
      }
    }
  }, 5);
  const code = await exited;
  clearInterval(poll);
  expect(killed).toBe(true);
  expect(code).toBe(143);
  expect(stderr).toMatch(/^INTERRUPTED: /);
  const [recordName] = recordFiles();
  expect(recordName).toBeDefined();
  const record = JSON.parse(readFileSync(join(recordFolder, recordName!), 'utf8')) as RecordFile;
  expect(record.value.parts.length).toBeGreaterThan(0);
  expect(record.value.parts.length).toBeLessThan(record.value.partCount);
  return record;
}

describe('resume', () => {
  test('an upload killed midway continues with the same command, as the same message', async () => {
    const plaintext = randomBytes(48 * MIB);
    writeFileSync(path('big.bin'), plaintext);
    const args = ['cp', '--key-file', 'team.jwk', ...aws, 'big.bin', url('r/big.bin')];
    expect(recordFiles()).toEqual([]);
    const record = await killAfterFirstPart(args);

    const resumed = await veil(...args);
    expect(resumed).toMatchObject({ code: 0, stderr: '' });
    expect(recordFiles()).toEqual([]);
    // The object is the message the first run started (same header, hence same message id).
    const header = Buffer.from(record.value.headerBytes, 'base64');
    const object = await objectBytes('r/big.bin');
    expect(object.subarray(0, header.length).equals(header)).toBe(true);
    const down = await veil('cp', '--key-file', 'team.jwk', ...aws, url('r/big.bin'), 'big.out');
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('big.out')).equals(plaintext)).toBe(true);
  });

  test('an unfinished upload S3 no longer holds, or one with other keys, is not continued', async () => {
    const plaintext = randomBytes(24 * MIB);
    writeFileSync(path('gone.bin'), plaintext);
    const args = ['cp', '--key-file', 'team.jwk', ...aws, 'gone.bin', url('r/gone.bin')];
    const first = await killAfterFirstPart(args);
    await s3.send(
      new AbortMultipartUploadCommand({
        Bucket: bucket,
        Key: 'r/gone.bin',
        UploadId: first.value.uploadId,
      }),
    );
    const again = await veil(...args);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(recordFiles()).toEqual([]);
    const header = Buffer.from(first.value.headerBytes, 'base64');
    expect((await objectBytes('r/gone.bin')).subarray(0, header.length).equals(header)).toBe(false);

    // Killed again, then run with one more key: a new message with both keys, the old upload aborted.
    const second = await killAfterFirstPart(args);
    const withMore = [...args.slice(0, -2), '--key-file', 'other.jwk', ...args.slice(-2)];
    expect(await veil(...withMore)).toMatchObject({ code: 0, stderr: '' });
    expect(recordFiles()).toEqual([]);
    const uploads = await s3.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'r/' }),
    );
    expect((uploads.Uploads ?? []).map((upload) => upload.UploadId)).not.toContain(
      second.value.uploadId,
    );
    const byOther = await veil('cp', '--key-file', 'other.jwk', ...aws, url('r/gone.bin'), 'g.out');
    expect(byOther).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('g.out')).equals(plaintext)).toBe(true);
  });
});
