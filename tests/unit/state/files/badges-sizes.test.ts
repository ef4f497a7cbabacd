/**
 * The plaintext size the badge probe learns ([Note: plaintext size from the header] in
 * src/state/files/sizes.ts): exact at the frame boundaries in both final-frame forms, unknown
 * (never a wrong number) for a cut, signed or unreadable message, and read past the first range
 * when the header is longer.
 */
import { describe, expect, test } from 'vitest';
import type { Keyring } from '../../../../src/core/keyring';
import { encryptBytes } from '../../../../src/core/one-shot';
import { ciphertextSize, tryParseHeader, type MessageHeader } from '../../../../src/core';
import type { FirstBytes, ObjectFacts } from '../../../../src/aws/bucket-s3';
import { probeBadge } from '../../../../src/state/files/badges';
import {
  knownPlaintextBytes,
  plaintextSizeFromHeader,
  sizeCellOf,
} from '../../../../src/state/files/sizes';
import { FIRST_HEADER_BYTES } from '../../../../src/transfer/download-setup';
import { PEER_SUITE_0578, peer, peerKeyring, testKeyBytes } from '../../core/helpers';

const FRAME = 64;

/** A keyring that writes `edks` EDKs of `edkBytes` each (nothing here decrypts). */
function keyring(edks = 1, edkBytes = 48): Keyring {
  return {
    onEncrypt: (request) =>
      Promise.resolve({
        dataKey: request.dataKey ?? new Uint8Array(32).fill(7),
        encryptedDataKeys: Array.from({ length: edks }, (_, index) => ({
          providerId: 'test',
          providerInfo: new TextEncoder().encode(`key-${index}`),
          ciphertext: new Uint8Array(edkBytes).fill(index),
        })),
      }),
    onDecrypt: () => Promise.resolve(undefined),
  };
}

async function message(plaintextBytes: number, ring: Keyring = keyring()): Promise<Uint8Array> {
  return encryptBytes(new Uint8Array(plaintextBytes).fill(1), { keyring: ring, frameBytes: FRAME });
}

function headerOf(bytes: Uint8Array): MessageHeader {
  const parsed = tryParseHeader(bytes, { maxEncryptedDataKeys: 16, maxFrameBytes: 1 << 26 });
  if (!('header' in parsed)) throw new Error('header expected');
  return parsed.header;
}

const facts = (over: Partial<ObjectFacts> = {}): ObjectFacts => ({
  metadata: {},
  serverSideEncryption: undefined,
  etag: undefined,
  contentType: undefined,
  sizeBytes: undefined,
  ...over,
});

/** A fake S3 serving `object` (HEAD hides the metadata, as moto does), recording each call. */
function serving(object: Uint8Array, head: ObjectFacts = facts()) {
  const calls: string[] = [];
  return {
    calls,
    s3: {
      head: (key: string) => {
        calls.push(`head ${key}`);
        return Promise.resolve(head);
      },
      firstBytes: (key: string, countBytes: number): Promise<FirstBytes> => {
        calls.push(`get ${key} 0-${countBytes}`);
        return Promise.resolve({
          ...facts({ sizeBytes: object.length }),
          bytes: object.slice(0, countBytes),
        });
      },
      range: (key: string, startBytes: number, endBytes: number) => {
        calls.push(`get ${key} ${startBytes}-${endBytes}`);
        return Promise.resolve(object.slice(startBytes, endBytes));
      },
    },
  };
}

describe('plaintext size of an ESDK object', () => {
  test.each([0, 1, FRAME - 1, FRAME, FRAME + 1, 2 * FRAME, 5 * FRAME, 5 * FRAME + 7])(
    '%d bytes (empty-final form, as Veil writes) read back exactly',
    async (plaintextBytes) => {
      const object = await message(plaintextBytes);
      const { s3 } = serving(object);
      const probed = await probeBadge(s3, 'k', object.length);
      expect(probed.badge).toEqual({ kind: 'esdk' });
      expect(probed.size).toEqual({ kind: 'exact', plaintextBytes });
    },
  );

  test('the full-final form of an exact multiple is exact too (32 bytes shorter)', async () => {
    const header = headerOf(await message(1));
    for (const frames of [1, 2, 7]) {
      const plaintextBytes = frames * FRAME;
      const full = ciphertextSize(plaintextBytes, FRAME, header.headerBytes, 'full-final');
      const empty = ciphertextSize(plaintextBytes, FRAME, header.headerBytes, 'empty-final');
      expect(empty - full).toBe(32);
      expect(plaintextSizeFromHeader(full, header)).toEqual({ kind: 'exact', plaintextBytes });
      expect(plaintextSizeFromHeader(empty, header)).toEqual({ kind: 'exact', plaintextBytes });
    }
  });

  test('a small object is read in one ranged GET; a large one adds 24 bytes at the final frame', async () => {
    const small = await message(100);
    const one = serving(small);
    await probeBadge(one.s3, 'k', small.length);
    expect(one.calls).toEqual(['head k', `get k 0-${small.length}`]);

    const large = await message(200 * FRAME + 3);
    const two = serving(large);
    const probed = await probeBadge(two.s3, 'k', large.length);
    expect(probed.size).toEqual({ kind: 'exact', plaintextBytes: 200 * FRAME + 3 });
    const finalAt = large.length - (3 + 40);
    expect(two.calls).toEqual([
      'head k',
      `get k 0-${FIRST_HEADER_BYTES}`,
      `get k ${finalAt}-${finalAt + 24}`,
    ]);
  });

  test('Veil metadata on HEAD still reads the header for the size', async () => {
    const object = await message(FRAME + 1);
    const { s3, calls } = serving(
      object,
      facts({ metadata: { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A' } }),
    );
    const probed = await probeBadge(s3, 'k', object.length);
    expect(probed).toMatchObject({
      badge: { kind: 'model', model: 'A' },
      source: 'head',
      size: { kind: 'exact', plaintextBytes: FRAME + 1 },
    });
    expect(calls[1]).toBe(`get k 0-${object.length}`);
  });

  test('a header longer than the first range is read with longer ranges', async () => {
    const object = await message(10, keyring(12, 1000));
    const header = headerOf(object);
    expect(header.headerBytes).toBeGreaterThan(FIRST_HEADER_BYTES);
    const { s3, calls } = serving(object);
    const probed = await probeBadge(s3, 'k', object.length);
    expect(probed.size).toEqual({ kind: 'exact', plaintextBytes: 10 });
    expect(calls.filter((call) => call.startsWith('get k 0-')).length).toBeGreaterThan(1);
  });

  test.each([1, 10, 31, 32, FRAME + 32, 200])(
    'an object cut by %d bytes is unknown, never a smaller file',
    async (cutBytes) => {
      const whole = await message(3 * FRAME + 20);
      const cut = whole.slice(0, whole.length - cutBytes);
      const { s3 } = serving(cut);
      const probed = await probeBadge(s3, 'k', cut.length);
      expect(probed.badge).toEqual({ kind: 'esdk' });
      expect(probed.size).toEqual({ kind: 'unknown', reason: 'cut' });
    },
  );

  test('a large object cut short is unknown through the final frame check', async () => {
    const whole = await message(200 * FRAME + 5);
    const cut = whole.slice(0, whole.length - 3);
    expect((await probeBadge(serving(cut).s3, 'k', cut.length)).size).toEqual({
      kind: 'unknown',
      reason: 'cut',
    });
  });

  test('bytes added after the message make it unknown', async () => {
    const whole = await message(FRAME + 20);
    const longer = new Uint8Array(whole.length + 5);
    longer.set(whole);
    expect((await probeBadge(serving(longer).s3, 'k', longer.length)).size).toMatchObject({
      kind: 'unknown',
    });
  });

  test('a header cut inside itself is unknown', async () => {
    const whole = await message(10);
    const cut = whole.slice(0, 60);
    expect((await probeBadge(serving(cut).s3, 'k', cut.length)).size).toEqual({
      kind: 'unknown',
      reason: 'cut',
    });
  });

  test('ESDK-looking bytes that do not parse are unreadable', async () => {
    // Version, suite, message id, an empty context, then no EDK: MALFORMED.
    const foreign = Uint8Array.of(
      2,
      4,
      0x78,
      ...new Uint8Array(32),
      0,
      0,
      0,
      0,
      ...new Uint8Array(100),
    );
    const probed = await probeBadge(serving(foreign).s3, 'k', foreign.length);
    expect(probed.size).toEqual({ kind: 'unknown', reason: 'unreadable' });
  });

  test.each([0, 1, FRAME - 1, FRAME, FRAME + 1, 5 * FRAME])(
    'a signed message (0x0578, client-node) of %d bytes: the footer is found, the size exact',
    async (plaintextBytes) => {
      const { result } = await peer.encrypt(
        peerKeyring(testKeyBytes(256)),
        Buffer.alloc(plaintextBytes, 3),
        { suiteId: PEER_SUITE_0578, frameLength: FRAME },
      );
      const object = new Uint8Array(result);
      expect(object[1]).toBe(0x05);
      const probed = await probeBadge(serving(object).s3, 'k', object.length);
      expect(probed.size).toEqual({ kind: 'exact', plaintextBytes });
      // Cut by a byte or by the whole footer: no footer fits, never a wrong number.
      for (const cutBytes of [1, 7]) {
        const cut = object.slice(0, object.length - cutBytes);
        expect((await probeBadge(serving(cut).s3, 'k', cut.length)).size).toMatchObject({
          kind: 'unknown',
        });
      }
    },
  );

  test('a large signed message reads its tail in one more ranged GET', async () => {
    const { result } = await peer.encrypt(
      peerKeyring(testKeyBytes(256)),
      Buffer.alloc(200 * FRAME + 9, 3),
      { suiteId: PEER_SUITE_0578, frameLength: FRAME },
    );
    const object = new Uint8Array(result);
    const { s3, calls } = serving(object);
    expect((await probeBadge(s3, 'k', object.length)).size).toEqual({
      kind: 'exact',
      plaintextBytes: 200 * FRAME + 9,
    });
    expect(calls).toContain(`get k ${object.length - 106}-${object.length}`);
  });

  test('a non-framed message: object size less header and 36 bytes', () => {
    const header = {
      contentType: 'non-framed',
      headerBytes: 100,
      suiteId: 0x0478,
    } as MessageHeader;
    expect(plaintextSizeFromHeader(136, header)).toEqual({ kind: 'exact', plaintextBytes: 0 });
    expect(plaintextSizeFromHeader(1136, header)).toEqual({ kind: 'exact', plaintextBytes: 1000 });
    expect(plaintextSizeFromHeader(135, header)).toEqual({ kind: 'unknown', reason: 'cut' });
    // The body's length field, when at hand, must agree.
    const first = new Uint8Array(200);
    new DataView(first.buffer).setBigUint64(112, 999n);
    expect(plaintextSizeFromHeader(1136, header, first)).toEqual({
      kind: 'unknown',
      reason: 'cut',
    });
    new DataView(first.buffer).setBigUint64(112, 1000n);
    expect(plaintextSizeFromHeader(1136, header, first)).toEqual({
      kind: 'exact',
      plaintextBytes: 1000,
    });
  });

  test('an object replaced since the listing is unknown (changed)', async () => {
    const object = await message(10);
    const { s3 } = serving(object);
    expect((await probeBadge(s3, 'k', object.length + 1)).size).toEqual({
      kind: 'unknown',
      reason: 'changed',
    });
  });
});

describe('plain objects', () => {
  test('their size is the object size, learned on HEAD or from the bytes', async () => {
    const bytes = new TextEncoder().encode('hello, plain world');
    const onHead = serving(bytes, facts({ metadata: { 'veil-format': 'plain' } }));
    expect((await probeBadge(onHead.s3, 'k', bytes.length)).size).toEqual({
      kind: 'exact',
      plaintextBytes: bytes.length,
    });
    expect(onHead.calls).toEqual(['head k']);
    const sniffed = serving(bytes);
    expect((await probeBadge(sniffed.s3, 'k', bytes.length)).size).toEqual({
      kind: 'exact',
      plaintextBytes: bytes.length,
    });
    expect((await probeBadge(serving(new Uint8Array(0)).s3, 'k', 0)).size).toEqual({
      kind: 'exact',
      plaintextBytes: 0,
    });
  });
});

describe('the size cell', () => {
  test('pending until probed, then exact or unknown with a reason; sorting takes exact only', () => {
    expect(sizeCellOf(undefined)).toEqual({ state: 'pending' });
    expect(sizeCellOf({ state: 'pending' })).toEqual({ state: 'pending' });
    expect(sizeCellOf({ state: 'failed', reason: 'NetworkError' })).toMatchObject({
      state: 'unknown',
    });
    const known = {
      state: 'known',
      badge: { kind: 'esdk' },
      source: 'sniff',
      serverSideEncryption: undefined,
    } as const;
    const exact = { ...known, size: { kind: 'exact', plaintextBytes: 5 } } as const;
    const cut = { ...known, size: { kind: 'unknown', reason: 'cut' } } as const;
    expect(sizeCellOf(exact)).toEqual({ state: 'exact', plaintextBytes: 5 });
    const cell = sizeCellOf(cut);
    expect(cell.state === 'unknown' && cell.why).toMatch(/cut short/);
    expect(knownPlaintextBytes(exact)).toBe(5);
    expect(knownPlaintextBytes(cut)).toBeUndefined();
    expect(knownPlaintextBytes({ state: 'pending' })).toBeUndefined();
  });
});
