/**
 * [Note: size padding] with `veil cp --pad padme` against S3 in moto, in process: the
 * object is the Padmé size, `veil cp` down and `veil decrypt` give the file back byte for byte,
 * the official ESDK (client-node) outputs the file then exactly the ISO padding and the README's
 * one-line command strips it, `veil inspect` shows the marker, a rewrap keeps the padding, and
 * an attacker who edits the `veil-padding` context entry in the stored object is refused by Veil
 * and by client-node alike.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  buildClient,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from '@aws-crypto/client-node';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { tryParseHeader } from '../../src/core/header';
import { parseKeyFile } from '../../src/core/key-file';
import { paddedLength, paddingBytes } from '../../src/core/padding';
import { plaintextSize } from '../../src/core/sizes';
import { LOCAL_CREDENTIALS } from '../../scripts/stack/provision';
import { cliRunner } from './cli-runner';
import { useLocalStack } from './local-stack';

vi.setConfig({ testTimeout: 120_000 });

const local = useLocalStack(['http://127.0.0.1:5992']);
const dir = mkdtempSync(join(tmpdir(), 'veil-cli-padding-'));
const stateHome = join(dir, 'state');
const path = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const { veil } = cliRunner(dir, stateHome);

const MIB = 1024 * 1024;
/** README "Size padding": strips the padding from an official reader's output. */
const STRIP_COMMAND =
  'import sys;d=sys.stdin.buffer.read().rstrip(b"\\0");assert d[-1:]==b"\\x80";sys.stdout.buffer.write(d[:-1])';

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
  expect((await veil('keygen', 'team.jwk', '--kid', 'team-key')).code).toBe(0);
  expect((await veil('keygen', 'other.jwk', '--kid', 'other-key')).code).toBe(0);
});

afterAll(() => s3?.destroy());

async function objectBytes(key: string): Promise<Buffer> {
  const reply = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await reply.Body!.transformToByteArray());
}

function keyNode(file: string): RawAesKeyringNode {
  const material = parseKeyFile(readFileSync(path(file), 'utf8'));
  return new RawAesKeyringNode({
    keyName: material.keyName,
    keyNamespace: material.keyNamespace,
    unencryptedMasterKey: material.keyBytes,
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    utf8Sorting: true,
  });
}

/** A file whose content ends like padding (0x80 0x00 0x00), so only the real padding goes. */
function tricky(sizeBytes: number): Buffer {
  const bytes = randomBytes(sizeBytes);
  bytes.set([0x80, 0, 0], sizeBytes - 3);
  return bytes;
}

describe('veil cp --pad padme', () => {
  const cases = [
    ['one PutObject', 300_003],
    ['multipart', 6 * MIB + 3],
  ] as const;

  test.each(cases)(
    '%s: the object is the Padmé size and comes down byte-identical',
    async (_, size) => {
      const name = `p-${size}`;
      const plaintext = tricky(size);
      writeFileSync(path(`${name}.bin`), plaintext);
      const key = `pad/${name}.bin`;
      const up = await veil(
        'cp',
        '--key-file',
        'team.jwk',
        '--pad',
        'padme',
        ...aws,
        `${name}.bin`,
        url(key),
      );
      expect(up).toMatchObject({ code: 0, stderr: '' });

      const object = await objectBytes(key);
      const parsed = tryParseHeader(object, { maxEncryptedDataKeys: 16, maxFrameBytes: 64 * MIB });
      if (!('header' in parsed)) throw new Error('no header');
      const { header } = parsed;
      expect(header.encryptionContext['veil-padding']).toBe('padme');
      // The object holds exactly a Padmé length of plaintext: its size says no more than that.
      expect(plaintextSize(object.length, header.frameBytes, header.headerBytes)).toBe(
        paddedLength(size),
      );

      const down = await veil('cp', '--key-file', 'team.jwk', ...aws, url(key), `${name}.out`);
      expect(down).toMatchObject({ code: 0, stderr: '' });
      expect(readFileSync(path(`${name}.out`)).equals(plaintext)).toBe(true);

      // veil decrypt of the object saved as a file strips it too.
      writeFileSync(path(`${name}.msg`), object);
      const decrypted = await veil(
        'decrypt',
        '--key-file',
        'team.jwk',
        `${name}.msg`,
        `${name}.dec`,
      );
      expect(decrypted).toMatchObject({ code: 0, stderr: '' });
      expect(readFileSync(path(`${name}.dec`)).equals(plaintext)).toBe(true);
    },
  );

  test('client-node outputs the file then exactly the ISO padding; the README command strips it', async () => {
    const size = cases[1][1];
    const object = await objectBytes(`pad/p-${size}.bin`);
    const plaintext = readFileSync(path(`p-${size}.bin`));
    const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const opened = await decrypt(keyNode('team.jwk'), object);
    expect(opened.messageHeader.encryptionContext).toMatchObject({ 'veil-padding': 'padme' });
    const expected = Buffer.concat([plaintext, paddingBytes(size)]);
    expect(Buffer.from(opened.plaintext).equals(expected)).toBe(true);
    const stripped = execFileSync('python3', ['-c', STRIP_COMMAND], {
      input: opened.plaintext,
      maxBuffer: 64 * MIB,
    });
    expect(stripped.equals(plaintext)).toBe(true);
  });

  test('veil inspect shows the marker, and a rewrap keeps the padding', async () => {
    const key = `pad/p-300003.bin`;
    const inspected = await veil('inspect', 'p-300003.msg');
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain('"veil-padding": "padme"');

    const rewrap = await veil(
      'rewrap',
      '--key-file',
      'team.jwk',
      '--add-key-file',
      'other.jwk',
      ...aws,
      url(key),
    );
    expect(rewrap.code, rewrap.stderr).toBe(0);
    const down = await veil('cp', '--key-file', 'other.jwk', ...aws, url(key), 'rewrapped.out');
    expect(down).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(path('rewrapped.out')).equals(readFileSync(path('p-300003.bin')))).toBe(
      true,
    );
    writeFileSync(path('rewrapped.msg'), await objectBytes(key));
    const after = await veil('inspect', 'rewrapped.msg');
    expect(after.stdout).toContain('"veil-padding": "padme"');
    expect(after.stdout).toContain('other-key');
  });

  test('an attacker who edits the veil-padding entry breaks the header: refused everywhere', async () => {
    const key = `pad/p-300003.bin`;
    const object = await objectBytes(key);
    const at = object.indexOf(Buffer.from('padme'));
    expect(at).toBeGreaterThan(0);
    // "padme" -> "nonee": same length, so only the authentication can notice.
    const edited = Buffer.from(object);
    edited.write('nonee', at, 'latin1');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'pad/edited.bin', Body: edited }));
    const down = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      ...aws,
      url('pad/edited.bin'),
      'edited.out',
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/WRONG_KEY|HEADER_TAMPERED|OBJECT_MISMATCH/);
    const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    await expect(decrypt(keyNode('team.jwk'), edited)).rejects.toThrow();
  });

  test('--pad takes only padme, and only for uploads', async () => {
    writeFileSync(path('small.bin'), 'x');
    const bad = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      '--pad',
      'bigger',
      ...aws,
      'small.bin',
      url('pad/s'),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--pad takes padme');
    const down = await veil(
      'cp',
      '--key-file',
      'team.jwk',
      '--pad',
      'padme',
      ...aws,
      url('pad/p-300003.bin'),
      'x.out',
    );
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('--pad applies to uploads');
  });
});
