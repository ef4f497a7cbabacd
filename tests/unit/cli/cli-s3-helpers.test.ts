/**
 * The pure parts of `veil cp` and `veil ls`: s3:// locations, which stored upload a command
 * continues ([Note: veil cp resume]), the listing line, the progress text, and the Node network
 * errors renamed for the failure mapping ([Note: network errors on the command line]).
 */
import { describe, expect, test } from 'vitest';
import {
  progressText,
  formatBytes,
  formatSeconds,
  progressLine,
} from '../../../src/cli/progress-line';
import { listingLine } from '../../../src/cli/ls';
import { recordMatches, type UploadCommand } from '../../../src/cli/resume-match';
import { markNetworkError, resolveS3Target } from '../../../src/cli/s3-client';
import { formatS3Url, isS3Url, parseS3Url } from '../../../src/cli/s3-url';
import { s3Failure } from '../../../src/core/aws-failure';
import { VeilError } from '../../../src/core/errors';
import type { EncryptedDataKey, Keyring } from '../../../src/core/keyring';
import { createMessageHeader, parseHeaderBytes } from '../../../src/core/message';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import type { UploadRecord } from '../../../src/transfer/upload-store';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('s3:// locations', () => {
  test('bucket and key, taken literally', () => {
    expect(parseS3Url('s3://my-bucket/a/b c%20?.bin', 'object')).toEqual({
      bucket: 'my-bucket',
      key: 'a/b c%20?.bin',
    });
    expect(parseS3Url('S3://my-bucket', 'prefix')).toEqual({ bucket: 'my-bucket', key: '' });
    expect(parseS3Url('s3://my-bucket/docs/', 'prefix')).toEqual({
      bucket: 'my-bucket',
      key: 'docs/',
    });
    expect(isS3Url('./s3://x')).toBe(false);
    expect(formatS3Url({ bucket: 'b1b', key: 'k' })).toBe('s3://b1b/k');
  });

  test.each([
    ['report.pdf', 'object'],
    ['s3://', 'prefix'],
    ['s3://a/k', 'object'],
    ['s3://-bucket/k', 'object'],
    ['s3://bucket', 'object'],
    ['s3://bucket/', 'object'],
    ['s3://bucket/folder/', 'object'],
    [`s3://bucket/${'k'.repeat(1025)}`, 'object'],
  ] as const)('%s as %s: USAGE', (text, what) => {
    expect(() => parseS3Url(text, what)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

/** A keyring that writes fixed EDKs (what the header shows of the keys). */
function fixedKeyring(edks: readonly EncryptedDataKey[]): Keyring {
  return {
    onEncrypt: (request) =>
      Promise.resolve({
        dataKey: request.dataKey ?? new Uint8Array(32).fill(1),
        encryptedDataKeys: edks,
      }),
    onDecrypt: () => Promise.resolve(undefined),
  };
}

const edk = (providerId: string, info: string): EncryptedDataKey => ({
  providerId,
  providerInfo: new TextEncoder().encode(info),
  ciphertext: new Uint8Array(8),
});

const FILE = { name: 'big.bin', sizeBytes: 10, lastModifiedMs: 5, prefixSha256: 'ab' };
const CONTEXT = { 'veil-app': 'veil', 'veil-bucket': 'b1b' };

async function record(edks: readonly EncryptedDataKey[]): Promise<UploadRecord> {
  const raw = await RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(32).fill(3),
    keyNamespace: 'veil',
    keyName: 'team-key',
  });
  const rawEdks = (
    await raw.onEncrypt({
      suiteId: 0x0478,
      encryptionContext: CONTEXT,
      dataKey: new Uint8Array(32).fill(1),
    })
  ).encryptedDataKeys;
  const written = await createMessageHeader({
    keyring: fixedKeyring([...edks, ...rawEdks]),
    encryptionContext: CONTEXT,
  });
  return {
    id: 'upload-1',
    bucket: 'b1b',
    key: 'big.bin',
    uploadId: 'upload-1',
    protection: 'client-side',
    headerBytes: written.headerBytes,
    frameBytes: 512 * 1024,
    framesPerPart: 16,
    partCount: 3,
    file: FILE,
    parts: [],
    createdAtMs: 0,
  };
}

describe('which stored upload a veil cp continues', () => {
  const command: UploadCommand = {
    bucket: 'b1b',
    key: 'big.bin',
    file: FILE,
    encryptionContext: CONTEXT,
    keys: { keyFileNames: ['team-key'], hsmLabels: ['veil-wrap-1'], kmsKeys: ['alias/veil'] },
  };

  test('the same destination, file, context and keys', async () => {
    const stored = await record([edk('aws-kms', KEY_ARN), edk('veil-hsm', 'veil-wrap-1')]);
    expect(recordMatches(stored, command)).toBe(true);
    expect(
      recordMatches(stored, { ...command, keys: { ...command.keys, kmsKeys: [KEY_ARN] } }),
    ).toBe(true);
  });

  test.each([
    ['another key', { key: 'other.bin' }],
    ['another file', { file: { ...FILE, lastModifiedMs: 6 } }],
    ['another context', { encryptionContext: { ...CONTEXT, project: 'x' } }],
    ['a key file more', { keys: { ...command.keys, keyFileNames: ['team-key', 'recovery'] } }],
    ['another key file', { keys: { ...command.keys, keyFileNames: ['recovery'] } }],
    ['another HSM label', { keys: { ...command.keys, hsmLabels: ['veil-wrap-2'] } }],
    ['no KMS key', { keys: { ...command.keys, kmsKeys: [] } }],
    [
      'another KMS key ARN',
      { keys: { ...command.keys, kmsKeys: [KEY_ARN.replace('1234abcd', '9999abcd')] } },
    ],
  ])('not with %s', async (_label, change) => {
    const stored = await record([edk('aws-kms', KEY_ARN), edk('veil-hsm', 'veil-wrap-1')]);
    expect(recordMatches(stored, { ...command, ...change })).toBe(false);
  });

  test('not a damaged record', async () => {
    const stored = await record([edk('aws-kms', KEY_ARN), edk('veil-hsm', 'veil-wrap-1')]);
    const damaged = { ...stored, headerBytes: stored.headerBytes.subarray(0, 20) };
    expect(recordMatches(damaged, command)).toBe(false);
  });
});

describe('veil ls lines', () => {
  test('models and escaped key names; plain and unreadable objects', async () => {
    const stored = await record([edk('aws-kms', KEY_ARN), edk('veil-hsm', 'label\u202e')]);
    const header = parseHeaderBytes(stored.headerBytes);
    const opened = {
      kind: 'esdk-framed' as const,
      objectBytes: 100,
      etag: '"e"',
      metadata: undefined,
      header,
      plaintextBytes: undefined,
    };
    expect(listingLine({ key: 'docs/a\u001b.bin', sizeBytes: 100 }, opened)).toBe(
      `           100  C+B+A  docs/a\\u001b.bin  keys: C ${KEY_ARN}, B label\\u202e, A team-key`,
    );
    const plain = { ...opened, kind: 'plain' as const, header: undefined };
    expect(listingLine({ key: 'x.txt', sizeBytes: 3 }, plain)).toBe(
      '             3  -      x.txt  not an ESDK message',
    );
    expect(listingLine({ key: 'y', sizeBytes: 9 }, new VeilError('TRUNCATED'))).toMatch(
      / {2}\? {6}y {2}not a readable ESDK message: TRUNCATED$/,
    );
  });
});

describe('progress and network errors', () => {
  test('figures in binary units, seconds in minutes and hours', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(40 * 1024 * 1024)).toBe('40.0 MiB');
    expect(formatSeconds(42.4)).toBe('42s');
    expect(formatSeconds(185)).toBe('3m05s');
    expect(formatSeconds(3720)).toBe('1h02m');
    expect(
      progressText({
        verb: 'upload',
        doneBytes: 10 * 1024 * 1024,
        totalBytes: 40 * 1024 * 1024,
        rateBytesPerSecond: 2 * 1024 * 1024,
        etaSeconds: 15,
      }),
    ).toBe('upload 10.0 MiB / 40.0 MiB  (25%)  2.0 MiB/s  ETA 15s');
  });

  test('nothing is drawn when stderr is not a terminal', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (text: string) => written.push(text) };
    const line = progressLine(stream as unknown as NodeJS.WriteStream);
    line.show({
      verb: 'upload',
      doneBytes: 1,
      totalBytes: 2,
      rateBytesPerSecond: 0,
      etaSeconds: 1,
    });
    line.end('done');
    expect(written).toEqual([]);
  });

  test('a refused connection maps to S3_UNREACHABLE, an answered error is left alone', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(s3Failure(refused).code).toBe('S3_REJECTED');
    expect(s3Failure(markNetworkError(refused)).code).toBe('S3_UNREACHABLE');
    const answered = Object.assign(new Error('x'), {
      code: 'ECONNRESET',
      name: 'NoSuchBucket',
      $metadata: { httpStatusCode: 404 },
    });
    expect((markNetworkError(answered) as Error).name).toBe('NoSuchBucket');
  });

  test('region and endpoint from flags, then the environment', async () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566/' };
    expect(await resolveS3Target({}, env)).toEqual({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:4566',
    });
    expect(
      await resolveS3Target({ region: 'us-east-2', endpointUrl: 'https://s3.example' }, env),
    ).toEqual({ region: 'us-east-2', endpoint: 'https://s3.example' });
    await expect(resolveS3Target({ endpointUrl: 'ftp://x' }, env)).rejects.toMatchObject({
      code: 'USAGE',
    });
    await expect(resolveS3Target({ region: 'Mars' }, env)).rejects.toMatchObject({
      code: 'USAGE',
    });
  });
});
