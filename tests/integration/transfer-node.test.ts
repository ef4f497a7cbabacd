/**
 * The transfer engines in Node with the Node adapters (src/transfer/node), against moto: a file
 * on disk is uploaded in parts with a raw AES keyring, the upload dies midway with its record kept
 * in the file store, a fresh store over the same folder resumes it (only the missing parts are
 * sent), and the object downloads through the file sink to a file with the same bytes. A download
 * that fails or is cancelled leaves neither the target nor a temporary file.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VeilError } from '../../src/core';
import { RawAesKeyring } from '../../src/keyrings/raw-aes';
import { downloadObject } from '../../src/transfer/download';
import { downloadS3For } from '../../src/transfer/download-s3';
import {
  TEMP_SUFFIX,
  fileSink,
  fileUploadStore,
  nodeBuilder,
  nodeDecryptor,
  nodeUploadS3,
  openFileSource,
} from '../../src/transfer/node';
import type { UploadS3 } from '../../src/transfer/s3-api';
import { FileUpload } from '../../src/transfer/upload';
import { useLocalStack } from './local-stack';

const local = useLocalStack(['http://127.0.0.1:5995']);

const FILE_BYTES = 20 * 1024 * 1024 + 12_345;
const PART_BYTES = 5 * 1024 * 1024;
const FAST_RETRY = { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 };

let dir = '';
let client: S3Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'veil-node-'));
  client = new S3Client({
    region: local.stack.config.region,
    endpoint: local.stack.motoUrl,
    credentials: { accessKeyId: 'veil-local', secretAccessKey: 'veil-local-secret' },
    forcePathStyle: true,
  });
});

afterAll(async () => {
  client?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function keyring(): Promise<RawAesKeyring> {
  return RawAesKeyring.fromBytes({
    keyBytes: new Uint8Array(32).fill(7),
    keyNamespace: 'veil',
    keyName: 'node-test',
  });
}

/** S3 for uploads that counts UploadPart calls and fails part `failPart` with a 403. */
function countingS3(failPart?: number): { s3: UploadS3; sentParts: number[] } {
  const real = nodeUploadS3(client);
  const sentParts: number[] = [];
  const s3: UploadS3 = {
    ...real,
    uploadPart: (input, signal) => {
      sentParts.push(input.PartNumber ?? 0);
      if (input.PartNumber === failPart) {
        const denied = Object.assign(new Error('Access Denied'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 },
        });
        return Promise.reject(denied);
      }
      return real.uploadPart(input, signal);
    },
  };
  return { s3, sentParts };
}

/** Files in `folder` that are download temporaries. */
async function temporaries(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.endsWith(TEMP_SUFFIX));
}

describe('FileUpload and downloadObject in Node', () => {
  test('an upload killed midway resumes from the file store and downloads to a file', async () => {
    const sourcePath = join(dir, 'source.bin');
    const plaintext = randomBytes(FILE_BYTES);
    await writeFile(sourcePath, plaintext);
    const storeFolder = join(dir, 'resume');
    const bucket = local.stack.config.bucket;
    const key = 'node/source.bin.veil';

    // The first run dies at part 3; keepOnFailure keeps the multipart upload and its record.
    const first = countingS3(3);
    const upload = FileUpload.start({
      s3: first.s3,
      builder: nodeBuilder,
      store: fileUploadStore(storeFolder),
      keyring: await keyring(),
      file: await openFileSource(sourcePath),
      bucket,
      key,
      partBytes: PART_BYTES,
      partsInFlight: 1,
      keepOnFailure: true,
      retry: FAST_RETRY,
    });
    const failure = await upload.done.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(VeilError);
    expect((failure as VeilError).code).toBe('S3_REJECTED');
    expect(first.sentParts).toEqual([1, 2, 3]);

    // As a new process would: a new store over the same folder, the file opened again.
    const store = fileUploadStore(storeFolder);
    const records = await store.list();
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record?.headerBytes).toBeInstanceOf(Uint8Array);
    expect(record?.parts.map((part) => part.partNumber)).toEqual([1, 2]);
    for (const name of await readdir(storeFolder)) {
      expect((await stat(join(storeFolder, name))).mode & 0o777).toBe(0o600);
    }

    const second = countingS3();
    const resumed = FileUpload.resume(record!, await openFileSource(sourcePath), {
      s3: second.s3,
      builder: nodeBuilder,
      store,
      keyring: await keyring(),
      partsInFlight: 2,
      retry: FAST_RETRY,
    });
    const result = await resumed.done;
    expect(result.method).toBe('multipart');
    expect(result.partCount).toBe(5);
    expect(second.sentParts.sort()).toEqual([3, 4, 5]);
    expect(await store.list()).toEqual([]);

    // Download to a file through the fs sink.
    const targetPath = join(dir, 'copy.bin');
    const sink = await fileSink(targetPath);
    const downloaded = await downloadObject({
      s3: downloadS3For(client),
      decryptor: nodeDecryptor,
      keyring: await keyring(),
      bucket,
      key,
      sink,
    });
    expect(downloaded.writtenBytes).toBe(FILE_BYTES);
    expect(downloaded.label).toBe('decrypted');
    const copy = await readFile(targetPath);
    expect(copy.equals(plaintext)).toBe(true);
    expect((await stat(targetPath)).mode & 0o777).toBe(0o600);
    expect(await temporaries(dir)).toEqual([]);
  }, 120_000);

  test('a cancelled or failed download leaves no file and no temporary', async () => {
    const bucket = local.stack.config.bucket;
    const key = 'node/cancel.bin.veil';
    const sourcePath = join(dir, 'cancel.bin');
    await writeFile(sourcePath, randomBytes(12 * 1024 * 1024));
    await FileUpload.start({
      s3: nodeUploadS3(client),
      builder: nodeBuilder,
      keyring: await keyring(),
      file: await openFileSource(sourcePath),
      bucket,
      key,
      partBytes: PART_BYTES,
    }).done;

    const folder = await mkdtemp(join(dir, 'out-'));
    // Cancelled after the first verified bytes were written to the temporary file.
    const controller = new AbortController();
    const sink = await fileSink(join(folder, 'cancel.bin'));
    const cancelled = downloadObject({
      s3: downloadS3For(client),
      decryptor: nodeDecryptor,
      keyring: await keyring(),
      bucket,
      key,
      rangeBytes: 1024 * 1024,
      rangesInFlight: 1,
      signal: controller.signal,
      sink: {
        write: async (chunk) => {
          await sink.write(chunk);
          controller.abort();
        },
        close: () => sink.close(),
        abort: (reason) => sink.abort(reason),
      },
    });
    await expect(cancelled).rejects.toMatchObject({ code: 'DOWNLOAD_CANCELLED' });
    expect(sink.writtenBytes).toBeGreaterThan(0);
    expect(await readdir(folder)).toEqual([]);

    // Failed before any byte: the wrong key.
    const wrong = await RawAesKeyring.fromBytes({
      keyBytes: new Uint8Array(32).fill(9),
      keyNamespace: 'veil',
      keyName: 'node-test',
    });
    const failing = downloadObject({
      s3: downloadS3For(client),
      decryptor: nodeDecryptor,
      keyring: wrong,
      bucket,
      key,
      sink: await fileSink(join(folder, 'wrong.bin')),
    });
    await expect(failing).rejects.toBeInstanceOf(VeilError);
    expect(await readdir(folder)).toEqual([]);
  }, 120_000);
});
