/**
 * "Shared with me" hands the download the file's real size, not 0: the plaintext size the
 * header and the object size give (one frame, many frames, an empty file), and the object size
 * when the header cannot tell it (a cut message), never a smaller figure.
 */
import { describe, expect, test } from 'vitest';
import type { FirstBytes, ObjectFacts } from '../../../../src/aws/bucket-s3';
import type { Keyring } from '../../../../src/core/keyring';
import { encryptBytes } from '../../../../src/core/one-shot';
import { sharedFileBytes } from '../../../../src/state/people/shared-size';

const FRAME = 64;

const keyring: Keyring = {
  onEncrypt: (request) =>
    Promise.resolve({
      dataKey: request.dataKey ?? new Uint8Array(32).fill(7),
      encryptedDataKeys: [
        { providerId: 'test', providerInfo: new Uint8Array([1]), ciphertext: new Uint8Array(48) },
      ],
    }),
  onDecrypt: () => Promise.resolve(undefined),
};

const facts = (sizeBytes: number | undefined): ObjectFacts => ({
  metadata: {},
  serverSideEncryption: undefined,
  etag: undefined,
  contentType: undefined,
  sizeBytes,
});

function serving(object: Uint8Array) {
  return {
    head: () => Promise.resolve(facts(object.length)),
    firstBytes: (_key: string, countBytes: number): Promise<FirstBytes> =>
      Promise.resolve({ ...facts(object.length), bytes: object.slice(0, countBytes) }),
    range: (_key: string, startBytes: number, endBytes: number) =>
      Promise.resolve(object.slice(startBytes, endBytes)),
  };
}

describe('sharedFileBytes', () => {
  test.each([0, 1, FRAME - 1, FRAME, FRAME + 1, 10 * FRAME + 3])(
    'a file of %i bytes is %i bytes, not its object size',
    async (plaintextBytes) => {
      const object = await encryptBytes(new Uint8Array(plaintextBytes).fill(1), {
        keyring,
        frameBytes: FRAME,
      });
      expect(object.length).toBeGreaterThan(plaintextBytes);
      expect(await sharedFileBytes(serving(object), 'users/x/f')).toBe(plaintextBytes);
    },
  );

  test('a cut message gives the object size (an upper bound), never a smaller figure', async () => {
    const whole = await encryptBytes(new Uint8Array(5 * FRAME).fill(1), {
      keyring,
      frameBytes: FRAME,
    });
    const cut = whole.slice(0, whole.length - 7);
    expect(await sharedFileBytes(serving(cut), 'k')).toBe(cut.length);
  });

  test('S3 errors reach the caller', async () => {
    const failing = {
      ...serving(new Uint8Array(1)),
      head: () => Promise.reject(new Error('NoSuchKey')),
    };
    await expect(sharedFileBytes(failing, 'k')).rejects.toThrow('NoSuchKey');
  });
});
