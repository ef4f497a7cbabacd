/**
 * [Note: rewrap lock-out check] against moto: removing the only key the user holds from an object
 * whose other EDK is a KMS key they cannot use is refused before any write (no request that
 * writes is sent, the object is byte-identical, no upload is open); the same change with a key
 * added that they hold goes through.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createMultiKeyring, decryptBytes, utf8 } from '../../src/core';
import type { Keyring } from '../../src/core';
import { rewrapObject } from '../../src/transfer/rewrap';
import { rewrapS3For, type RewrapS3 } from '../../src/transfer/rewrap-s3';
import { testKeyBytes } from '../unit/core/helpers';
import {
  FAST_RETRY,
  MIB,
  openUploads,
  rawKeyring,
  readObject,
  rejection,
  sameBytes,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';

const OLD_KEY = testKeyBytes(256, 31);
const NEW_KEY = testKeyBytes(256, 32);
const FOREIGN_ARN = 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-00000000f00d';

/** Wraps under a KMS key of another account: the EDK is real in form, the user cannot open it. */
const foreignKms: Keyring = {
  onEncrypt: (request) =>
    Promise.resolve({
      dataKey: request.dataKey!,
      encryptedDataKeys: [
        {
          providerId: 'aws-kms',
          providerInfo: utf8(FOREIGN_ARN),
          ciphertext: crypto.getRandomValues(new Uint8Array(184)),
        },
      ],
    }),
  onDecrypt: () => Promise.resolve(undefined),
};

let stack: RewrapMoto;

beforeAll(async () => {
  stack = await startRewrapMoto('veil-rewrap-lockout');
});

afterAll(async () => {
  await stack?.stop();
});

/** The real seam, counting the requests that would write. */
function countingWrites(): { s3: RewrapS3; writes: () => number } {
  const real = rewrapS3For(stack.client, { blobBodies: false });
  let writes = 0;
  const counted = <R>(run: () => Promise<R>): Promise<R> => {
    writes++;
    return run();
  };
  return {
    s3: {
      ...real,
      createMultipartUpload: (input, signal) =>
        counted(() => real.createMultipartUpload(input, signal)),
      uploadPart: (input, signal) => counted(() => real.uploadPart(input, signal)),
      uploadPartCopy: (input, signal) => counted(() => real.uploadPartCopy(input, signal)),
      completeMultipartUpload: (input, signal) =>
        counted(() => real.completeMultipartUpload(input, signal)),
      putObject: (input, signal) => counted(() => real.putObject(input, signal)),
    },
    writes: () => writes,
  };
}

describe('rewrapObject lock-out check in moto', () => {
  test.each([
    ['a small', 1000],
    ['a multipart', 6 * MIB],
  ])('removing the only held key of %s object is refused and writes nothing', async (_l, size) => {
    const key = `lockout/${size}.veil`;
    const both = createMultiKeyring({
      generator: await rawKeyring(OLD_KEY, 'old'),
      children: [foreignKms],
    });
    const { message, plaintext } = await storeMessage(stack, key, size, both);
    const { s3, writes } = countingWrites();
    const setup = {
      s3,
      bucket: stack.bucket,
      key,
      openWith: await rawKeyring(OLD_KEY, 'old'),
      remove: [{ keyName: 'old' }],
      retry: FAST_RETRY,
    };
    const error = await rejection(rewrapObject(setup));
    expect(error.code).toBe('REWRAP_WOULD_LOCK_OUT');
    expect(writes()).toBe(0);
    expect(sameBytes(await readObject(stack, key), message)).toBe(true);
    expect(await openUploads(stack)).toBe(0);

    // With a key added that the user holds, the same removal goes through.
    const result = await rewrapObject({ ...setup, addWith: await rawKeyring(NEW_KEY, 'new') });
    expect(result.stillOpensWith).toBe('addWith');
    const stored = await readObject(stack, key);
    const opened = await decryptBytes(stored, { keyring: await rawKeyring(NEW_KEY, 'new') });
    expect(sameBytes(opened, plaintext)).toBe(true);
  });
});
