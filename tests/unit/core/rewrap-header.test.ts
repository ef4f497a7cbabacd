/**
 * [Note: rewrap keeps the body]: a message our core wrote, its header rewritten under other keys,
 * keeps its body bytes; it opens with the kept and added keys (in Veil and in client-node), not
 * with a removed one; a tampered header, a wrong data key, a signed suite and an empty key list
 * are refused with their catalogued codes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  createMultiKeyring,
  decryptBytes,
  encryptBytes,
  keysNeeded,
  openDataKey,
  parseHeaderBytes,
  rewrapHeader,
  rewriteHeader,
  splitEncryptedDataKeys,
} from '../../../src/core';
import type { Keyring } from '../../../src/core';
import {
  PEER_SUITE_0578,
  VECTORS_DIR,
  expectCode,
  flipByte,
  ourKeyring,
  patternBytes,
  peer,
  peerKeyring,
  staticKeyring,
  testKeyBytes,
} from './helpers';

const OLD_KEY = testKeyBytes(256, 1);
const NEW_KEY = testKeyBytes(256, 2);
const THIRD_KEY = testKeyBytes(128, 3);
const NAMESPACE = 'veil';
const CONTEXT = { purpose: 'rewrap', B: 'upper', é: 'accent' };

const keyring = (bytes: Uint8Array, name: string): Promise<Keyring> =>
  ourKeyring(bytes, name, NAMESPACE);

/** A message of `plaintextBytes` under OLD_KEY (named "old"), frames of 4096 bytes. */
async function oldMessage(plaintextBytes: number): Promise<{
  plaintext: Uint8Array;
  message: Uint8Array;
}> {
  const plaintext = patternBytes(plaintextBytes, plaintextBytes + 5);
  const message = await encryptBytes(plaintext, {
    keyring: await keyring(OLD_KEY, 'old'),
    encryptionContext: CONTEXT,
    frameBytes: 4096,
  });
  return { plaintext, message };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

describe('rewrapHeader', () => {
  it.each([0, 1, 4095, 4096, 4097, 20_000])(
    'replaces a key and keeps the body of %i bytes',
    async (plaintextBytes) => {
      const { plaintext, message } = await oldMessage(plaintextBytes);
      const old = parseHeaderBytes(message);
      const rewrapped = await rewrapHeader(old, {
        openWith: await keyring(OLD_KEY, 'old'),
        addWith: await keyring(NEW_KEY, 'new'),
        remove: [{ keyName: 'old' }],
      });
      const body = message.subarray(old.headerBytes);
      const next = concatBytes(rewrapped.headerBytes, body);
      // The bytes after the header are the old ones.
      expect(sameBytes(next.subarray(rewrapped.header.headerBytes), body)).toBe(true);
      expect(rewrapped.removed).toHaveLength(1);
      expect(rewrapped.added).toHaveLength(1);
      expect(keysNeeded(rewrapped.header).map((key) => key.keyName)).toEqual(['new']);
      // Same message id, context, frame length and commit key.
      expect(sameBytes(rewrapped.header.messageId, old.messageId)).toBe(true);
      expect(sameBytes(rewrapped.header.commitKey, old.commitKey)).toBe(true);
      expect(rewrapped.header.encryptionContext).toEqual(old.encryptionContext);
      expect(rewrapped.header.frameBytes).toBe(old.frameBytes);

      const opened = await decryptBytes(next, { keyring: await keyring(NEW_KEY, 'new') });
      expect(sameBytes(opened, plaintext)).toBe(true);
      await expectCode(
        decryptBytes(next, { keyring: await keyring(OLD_KEY, 'old') }),
        'NO_MATCHING_EDK',
      );
      const { plaintext: peerOpened } = await peer.decrypt(
        peerKeyring(NEW_KEY, 'new', NAMESPACE),
        next,
      );
      expect(sameBytes(peerOpened, plaintext)).toBe(true);
      await expect(peer.decrypt(peerKeyring(OLD_KEY, 'old', NAMESPACE), next)).rejects.toThrow();
    },
  );

  it('adds a key and keeps the old EDK verbatim', async () => {
    const { plaintext, message } = await oldMessage(5000);
    const old = parseHeaderBytes(message);
    const rewrapped = await rewrapHeader(old, {
      openWith: await keyring(OLD_KEY, 'old'),
      addWith: await keyring(THIRD_KEY, 'recovery'),
    });
    const [kept, added] = rewrapped.header.encryptedDataKeys;
    expect(kept?.providerId).toBe(old.encryptedDataKeys[0]?.providerId);
    expect(sameBytes(kept!.providerInfo, old.encryptedDataKeys[0]!.providerInfo)).toBe(true);
    expect(sameBytes(kept!.ciphertext, old.encryptedDataKeys[0]!.ciphertext)).toBe(true);
    expect(added).toBeDefined();
    const next = concatBytes(rewrapped.headerBytes, message.subarray(old.headerBytes));
    for (const [bytes, name] of [
      [OLD_KEY, 'old'],
      [THIRD_KEY, 'recovery'],
    ] as const) {
      expect(
        sameBytes(await decryptBytes(next, { keyring: await keyring(bytes, name) }), plaintext),
      ).toBe(true);
      const { plaintext: peerOpened } = await peer.decrypt(
        peerKeyring(bytes, name, NAMESPACE),
        next,
      );
      expect(sameBytes(peerOpened, plaintext)).toBe(true);
    }
  });

  it('removes one of two keys, opening with the one that stays', async () => {
    const plaintext = patternBytes(9000, 4);
    const both = createMultiKeyring({
      generator: await keyring(OLD_KEY, 'old'),
      children: [await keyring(NEW_KEY, 'new')],
    });
    const message = await encryptBytes(plaintext, { keyring: both, frameBytes: 4096 });
    const old = parseHeaderBytes(message);
    const rewrapped = await rewrapHeader(old, {
      openWith: await keyring(NEW_KEY, 'new'),
      remove: [{ keyName: 'old', providerId: NAMESPACE }],
    });
    expect(rewrapped.added).toEqual([]);
    const next = concatBytes(rewrapped.headerBytes, message.subarray(old.headerBytes));
    expect(rewrapped.header.headerBytes).toBeLessThan(old.headerBytes);
    expect(
      sameBytes(await decryptBytes(next, { keyring: await keyring(NEW_KEY, 'new') }), plaintext),
    ).toBe(true);
    await expectCode(
      decryptBytes(next, { keyring: await keyring(OLD_KEY, 'old') }),
      'NO_MATCHING_EDK',
    );
  });

  it('refuses to remove the last key (REWRAP_LAST_KEY) and an unknown one', async () => {
    const { message } = await oldMessage(10);
    const old = parseHeaderBytes(message);
    const openWith = await keyring(OLD_KEY, 'old');
    await expectCode(
      rewrapHeader(old, { openWith, remove: [{ keyName: 'old' }] }),
      'REWRAP_LAST_KEY',
    );
    await expectCode(
      rewrapHeader(old, { openWith, remove: [{ keyName: 'missing' }] }),
      'REWRAP_KEY_NOT_FOUND',
    );
    await expectCode(
      rewrapHeader(old, { openWith, remove: [{ keyName: 'old', providerId: 'other' }] }),
      'REWRAP_KEY_NOT_FOUND',
    );
  });

  it('refuses a tampered header (HEADER_TAMPERED) and a key that does not open it', async () => {
    const { message } = await oldMessage(10);
    const tampered = message.slice();
    const old = parseHeaderBytes(message);
    flipByte(tampered, old.headerBytes - 1); // the header auth tag
    await expectCode(
      rewrapHeader(parseHeaderBytes(tampered), {
        openWith: await keyring(OLD_KEY, 'old'),
        addWith: await keyring(NEW_KEY, 'new'),
      }),
      'HEADER_TAMPERED',
    );
    await expectCode(
      rewrapHeader(old, {
        openWith: await keyring(NEW_KEY, 'new'),
        addWith: await keyring(NEW_KEY, 'new'),
      }),
      'NO_MATCHING_EDK',
    );
    await expectCode(rewrapHeader(old, { openWith: await keyring(NEW_KEY, 'old') }), 'WRONG_KEY');
  });

  it('refuses a signed (0x0578) message with REWRAP_SIGNED_MESSAGE before asking for a key', async () => {
    const { result } = await peer.encrypt(
      peerKeyring(OLD_KEY, 'old', NAMESPACE),
      Buffer.from(patternBytes(100)),
      { suiteId: PEER_SUITE_0578, frameLength: 4096 },
    );
    const signed = parseHeaderBytes(new Uint8Array(result));
    let asked = 0;
    const counting: Keyring = {
      onEncrypt: () => Promise.reject(new Error('not used')),
      onDecrypt: () => {
        asked++;
        return Promise.resolve(undefined);
      },
    };
    const error = await expectCode(
      rewrapHeader(signed, { openWith: counting, addWith: await keyring(NEW_KEY, 'new') }),
      'REWRAP_SIGNED_MESSAGE',
    );
    expect(error.message).toContain('0x0578');
    expect(asked).toBe(0);
    await expectCode(
      rewriteHeader({
        header: signed,
        dataKey: new Uint8Array(32),
        encryptedDataKeys: signed.encryptedDataKeys,
      }),
      'REWRAP_SIGNED_MESSAGE',
    );
  });

  it('rewraps a legacy non-framed 0x0478 message (content type 0x01)', async () => {
    const compat = JSON.parse(
      readFileSync(new URL('js-v2-compat/compat-vectors.json', VECTORS_DIR), 'utf8'),
    ) as { tests: { comment: string; ciphertext: string; 'decrypted-dek': string }[] };
    const vector = compat.tests.find((test) => {
      const bytes = Buffer.from(test.ciphertext, 'base64');
      return test.comment.includes('unframed') && bytes[1] === 0x04;
    });
    if (!vector) throw new Error('no non-framed 0x0478 vector');
    const message = new Uint8Array(Buffer.from(vector.ciphertext, 'base64'));
    const old = parseHeaderBytes(message);
    expect(old.contentType).toBe('non-framed');
    const dataKey = staticKeyring(new Uint8Array(Buffer.from(vector['decrypted-dek'], 'base64')));
    const expected = await decryptBytes(message, { keyring: dataKey });
    const rewrapped = await rewrapHeader(old, {
      openWith: dataKey,
      addWith: await keyring(NEW_KEY, 'new'),
      remove: keysNeeded(old).map((key) => ({ keyName: key.keyName })),
    });
    expect(rewrapped.header.contentType).toBe('non-framed');
    expect(rewrapped.header.frameBytes).toBe(0);
    const next = concatBytes(rewrapped.headerBytes, message.subarray(old.headerBytes));
    const opened = await decryptBytes(next, { keyring: await keyring(NEW_KEY, 'new') });
    expect(sameBytes(opened, expected)).toBe(true);
    const { plaintext: peerOpened } = await peer.decrypt(
      peerKeyring(NEW_KEY, 'new', NAMESPACE),
      next,
    );
    expect(sameBytes(peerOpened, expected)).toBe(true);
  });
});

describe('rewriteHeader and openDataKey', () => {
  it('writes the new EDK list with the opened data key; the commit key stays', async () => {
    const { plaintext, message } = await oldMessage(3000);
    const old = parseHeaderBytes(message);
    const dataKey = await openDataKey(old, { keyring: await keyring(OLD_KEY, 'old') });
    try {
      const wrapped = await (
        await keyring(NEW_KEY, 'new')
      ).onEncrypt({
        suiteId: old.suiteId,
        encryptionContext: old.encryptionContext,
        dataKey,
      });
      const rewritten = await rewriteHeader({
        header: old,
        dataKey,
        encryptedDataKeys: wrapped.encryptedDataKeys,
      });
      expect(sameBytes(rewritten.header.commitKey, old.commitKey)).toBe(true);
      const next = concatBytes(rewritten.headerBytes, message.subarray(old.headerBytes));
      expect(
        sameBytes(await decryptBytes(next, { keyring: await keyring(NEW_KEY, 'new') }), plaintext),
      ).toBe(true);
    } finally {
      dataKey.fill(0);
    }
  });

  it('refuses an empty EDK list, a wrong data key and bad arguments', async () => {
    const { message } = await oldMessage(3);
    const old = parseHeaderBytes(message);
    const dataKey = await openDataKey(old, { keyring: await keyring(OLD_KEY, 'old') });
    await expectCode(
      rewriteHeader({ header: old, dataKey, encryptedDataKeys: [] }),
      'REWRAP_LAST_KEY',
    );
    await expectCode(
      rewriteHeader({
        header: old,
        dataKey: new Uint8Array(32).fill(9),
        encryptedDataKeys: old.encryptedDataKeys,
      }),
      'COMMITMENT_MISMATCH',
    );
    await expectCode(
      rewriteHeader({
        header: old,
        dataKey: new Uint8Array(16),
        encryptedDataKeys: old.encryptedDataKeys,
      }),
      'OUT_OF_RANGE',
    );
    await expectCode(
      rewriteHeader({ header: old, dataKey, encryptedDataKeys: [{ providerId: 'x' }] as never }),
      'BAD_ARGUMENT',
    );
    await expectCode(
      rewriteHeader({
        header: old,
        dataKey,
        encryptedDataKeys: Array.from({ length: 17 }, () => old.encryptedDataKeys[0]!),
      }),
      'TOO_MANY_EDKS',
    );
    await expectCode(openDataKey(old, { keyring: undefined as never }), 'BAD_ARGUMENT');
    await expectCode(rewrapHeader(old, { openWith: undefined as never }), 'BAD_ARGUMENT');
    dataKey.fill(0);
  });

  it('splitEncryptedDataKeys refuses malformed entries', async () => {
    const { message } = await oldMessage(3);
    const old = parseHeaderBytes(message);
    expect(() => splitEncryptedDataKeys(old, [{ keyName: '' }])).toThrow(/argument/);
    expect(() => splitEncryptedDataKeys(old, 'old' as never)).toThrow(/argument/);
    expect(splitEncryptedDataKeys(old, []).kept).toHaveLength(1);
  });
});
