/**
 * Sizes of padded files in Files ([Note: plaintext size from the header] and [Note: size
 * padding]): the probe of a padded message gives an upper bound (the padded length less the
 * 0x80 byte), never an exact figure, the cell shows it as "at most", sorting uses it, and an
 * unpadded message keeps its exact size.
 */
import { describe, expect, test } from 'vitest';
import {
  concatBytes,
  encryptBytes,
  paddedLength,
  paddingBytes,
  withPadding,
  type Keyring,
} from '../../../../src/core';
import { probeBadge } from '../../../../src/state/files/badges';
import { knownPlaintextBytes, sizeCellOf } from '../../../../src/state/files/sizes';

const FRAME = 256;

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

function serving(object: Uint8Array) {
  const facts = {
    metadata: {},
    serverSideEncryption: undefined,
    etag: undefined,
    contentType: undefined,
    sizeBytes: object.length,
  };
  return {
    head: () => Promise.resolve(facts),
    firstBytes: (_key: string, countBytes: number) =>
      Promise.resolve({ ...facts, bytes: object.slice(0, countBytes) }),
    range: (_key: string, startBytes: number, endBytes: number) =>
      Promise.resolve(object.slice(startBytes, endBytes)),
  };
}

async function probe(contentBytes: number, padded: boolean) {
  const content = new Uint8Array(contentBytes).fill(3);
  const plaintext = padded ? concatBytes(content, paddingBytes(contentBytes)) : content;
  const object = await encryptBytes(plaintext, {
    keyring,
    frameBytes: FRAME,
    encryptionContext: withPadding({ 'veil-app': 'veil' }, padded ? 'padme' : undefined),
  });
  return probeBadge(serving(object), 'k', object.length);
}

describe('the size of a padded file', () => {
  test.each([0, 1, 255, 256, 1000, 70_000])(
    '%i bytes: at most the padded length less one',
    async (contentBytes) => {
      const probed = await probe(contentBytes, true);
      const bound = paddedLength(contentBytes) - 1;
      expect(probed.size).toEqual({ kind: 'at-most', plaintextBytes: bound });
      expect(bound).toBeGreaterThanOrEqual(contentBytes);
      const known = { state: 'known' as const, ...probed };
      expect(sizeCellOf(known)).toEqual({ state: 'at-most', plaintextBytes: bound });
      expect(knownPlaintextBytes(known)).toBe(bound);
    },
  );

  test('an unpadded file keeps its exact size', async () => {
    const probed = await probe(1000, false);
    expect(probed.size).toEqual({ kind: 'exact', plaintextBytes: 1000 });
    expect(sizeCellOf({ state: 'known', ...probed })).toEqual({
      state: 'exact',
      plaintextBytes: 1000,
    });
  });
});
