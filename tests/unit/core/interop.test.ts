/**
 * Round trips against the live peer @aws-crypto/client-node 5.0.2 in both directions, over a
 * boundary table of sizes (0, 1, frame-1, frame, frame+1, many frames) x frame lengths, with and
 * without encryption context; the peer writes 0x0478 and 0x0578 for our reader.
 */
import { describe, expect, it } from 'vitest';
import { parseHeaderBytes } from '../../../src/core/message';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import { ciphertextSize, frameCount } from '../../../src/core/sizes';
import {
  PEER_SUITE_0478,
  PEER_SUITE_0578,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  testKeyBytes,
} from './helpers';

const KEY = testKeyBytes(256);
const CONTEXTS = {
  'no EC': {},
  EC: { purpose: 'interop', B: 'upper', a_b: 'x', 'a-b': 'y', é: 'accent', '😀': 'emoji' },
};
const FRAME_LENGTHS = [16, 4096, 65536];
const sizesFor = (frameBytes: number): number[] => [
  0,
  1,
  frameBytes - 1,
  frameBytes,
  frameBytes + 1,
  3 * frameBytes,
  5 * frameBytes + 7,
];

describe.each(FRAME_LENGTHS)('frame length %i', (frameBytes) => {
  describe.each(Object.entries(CONTEXTS))('%s', (_label, encryptionContext) => {
    it.each(sizesFor(frameBytes))('Veil -> client-node, %i bytes', async (plaintextBytes) => {
      const plaintext = patternBytes(plaintextBytes, frameBytes);
      const keyring = await ourKeyring(KEY);
      const ciphertext = await encryptBytes(plaintext, { keyring, encryptionContext, frameBytes });
      const header = parseHeaderBytes(ciphertext);
      expect(ciphertext.length).toBe(
        ciphertextSize(plaintextBytes, frameBytes, header.headerBytes),
      );
      const { plaintext: decrypted, messageHeader } = await peer.decrypt(
        peerKeyring(KEY),
        ciphertext,
      );
      expect(Buffer.from(decrypted).equals(Buffer.from(plaintext))).toBe(true);
      expect({ ...messageHeader.encryptionContext }).toEqual(encryptionContext);
      expect(frameCount(plaintextBytes, frameBytes)).toBe(
        Math.floor(plaintextBytes / frameBytes) + 1,
      );
    });

    it.each(sizesFor(frameBytes))(
      'client-node 0x0478 -> Veil, %i bytes',
      async (plaintextBytes) => {
        const plaintext = patternBytes(plaintextBytes, frameBytes + 1);
        const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
          suiteId: PEER_SUITE_0478,
          frameLength: frameBytes,
          encryptionContext,
        });
        const decrypted = await decryptBytes(new Uint8Array(result), {
          keyring: await ourKeyring(KEY),
        });
        expect(Buffer.from(decrypted).equals(Buffer.from(plaintext))).toBe(true);
      },
    );

    it.each(sizesFor(frameBytes))(
      'client-node 0x0578 -> Veil, %i bytes',
      async (plaintextBytes) => {
        const plaintext = patternBytes(plaintextBytes, frameBytes + 2);
        const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
          suiteId: PEER_SUITE_0578,
          frameLength: frameBytes,
          encryptionContext,
        });
        expect(result[1]).toBe(0x05);
        const decrypted = await decryptBytes(new Uint8Array(result), {
          keyring: await ourKeyring(KEY),
        });
        expect(Buffer.from(decrypted).equals(Buffer.from(plaintext))).toBe(true);
      },
    );
  });
});

describe('default frame length (512 KiB)', () => {
  it('round-trips 1.5 MiB + 3 both ways', async () => {
    const plaintext = patternBytes(3 * 512 * 1024 + 3, 9);
    const keyring = await ourKeyring(KEY);
    const ciphertext = await encryptBytes(plaintext, { keyring });
    expect(parseHeaderBytes(ciphertext).frameBytes).toBe(524288);
    const { plaintext: decrypted } = await peer.decrypt(peerKeyring(KEY), ciphertext);
    expect(Buffer.from(decrypted).equals(Buffer.from(plaintext))).toBe(true);
    const { result } = await peer.encrypt(peerKeyring(KEY), Buffer.from(plaintext), {
      suiteId: PEER_SUITE_0478,
      frameLength: 524288,
    });
    const back = await decryptBytes(new Uint8Array(result), { keyring });
    expect(Buffer.from(back).equals(Buffer.from(plaintext))).toBe(true);
  });
});
