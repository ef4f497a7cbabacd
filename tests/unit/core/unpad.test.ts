/**
 * [Note: streaming unpad]: the stripper gives back exactly the content for every way of cutting
 * the padded stream into chunks, holds runs of zeros across chunks without keeping them, emits
 * held bytes that turn out to be content, refuses malformed padding, and retains no bytes for
 * padding of any size.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PaddingStripper,
  concatBytes,
  createDecryptStream,
  createUnpadStream,
  encryptBytes,
  paddedLength,
  paddingBytes,
  unpadChunks,
  unpadWhenMarked,
  withPadding,
} from '../../../src/core';
import { expectCode, expectThrowsCode, ourKeyring, testKeyBytes } from './helpers';

/** content ‖ 0x80 ‖ zeros to the Padmé length. */
function padded(content: Uint8Array): Uint8Array {
  return concatBytes(content, paddingBytes(content.length));
}

/** Strips `chunks` with one stripper; the content it emits. */
function strip(chunks: Uint8Array[]): Uint8Array {
  const stripper = new PaddingStripper();
  const out: Uint8Array[] = [];
  for (const chunk of chunks) out.push(...stripper.push(chunk));
  stripper.finish();
  return concatBytes(...out);
}

/** `bytes` cut at `cuts` (sorted offsets). */
function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.slice(from, cut));
    from = cut;
  }
  return out;
}

// Content that ends in what looks like padding: 0x80, zeros, and 0x80 0x00 runs inside.
const TRICKY = Uint8Array.from([0x41, 0x80, 0, 0, 0x80, 0x80, 0, 0x07, 0, 0, 0x80, 0, 0, 0]);

describe('PaddingStripper', () => {
  it('gives back the content for a cut at every position, and at every pair of positions', () => {
    const stream = padded(TRICKY);
    expect(stream.length).toBe(paddedLength(TRICKY.length));
    for (let a = 0; a <= stream.length; a++) {
      expect(strip(cutAt(stream, [a]))).toEqual(TRICKY);
      for (let b = a; b <= stream.length; b++) {
        expect(strip(cutAt(stream, [a, b]))).toEqual(TRICKY);
      }
    }
  });

  it('gives back any content under any chunking (property)', () => {
    const byte = fc.constantFrom(0, 0, 0, 0x80, 0x80, 1, 0xff);
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 300 })
          .chain((noise) =>
            fc.tuple(
              fc.constant(noise),
              fc.array(byte, { maxLength: 60 }),
              fc.array(fc.nat(400), { maxLength: 8 }),
            ),
          ),
        ([noise, tail, rawCuts]) => {
          const content = concatBytes(noise, Uint8Array.from(tail));
          const stream = padded(content);
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort(
            (x, y) => x - y,
          );
          expect(strip(cutAt(stream, cuts))).toEqual(content);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('holds a zero run that spans chunks, then emits it when content follows', () => {
    const stripper = new PaddingStripper();
    expect(concatBytes(...stripper.push(Uint8Array.from([1, 0x80])))).toEqual(Uint8Array.of(1));
    expect(stripper.push(new Uint8Array(5))).toEqual([]);
    expect(stripper.push(new Uint8Array(7))).toEqual([]);
    expect(stripper.withheldBytes).toBe(13);
    // A nonzero byte: the 0x80 and the 12 zeros were content.
    const out = concatBytes(...stripper.push(Uint8Array.of(9)));
    expect(out).toEqual(concatBytes(Uint8Array.of(0x80), new Uint8Array(12), Uint8Array.of(9)));
    expect(stripper.withheldBytes).toBe(0);
  });

  it('refuses a stream without a 0x80 before the trailing zeros, and one that is empty', () => {
    expectThrowsCode(() => strip([Uint8Array.from([1, 2, 0, 0])]), 'PADDING_INVALID');
    expectThrowsCode(() => strip([Uint8Array.from([1, 2, 3])]), 'PADDING_INVALID');
    expectThrowsCode(() => strip([]), 'PADDING_INVALID');
  });

  it('refuses padding that is not the Padmé length of the content', () => {
    // 0x80 then one zero too many, or one too few.
    const content = new Uint8Array(1000).fill(7);
    const good = padded(content);
    expectThrowsCode(() => strip([concatBytes(good, new Uint8Array(1))]), 'PADDING_INVALID');
    expectThrowsCode(() => strip([good.subarray(0, good.length - 1)]), 'PADDING_INVALID');
    expect(strip([good])).toEqual(content);
  });

  it('releases nothing more after a failure', () => {
    const stripper = new PaddingStripper();
    stripper.push(Uint8Array.of(1));
    expectThrowsCode(() => stripper.finish(), 'PADDING_INVALID');
    expectThrowsCode(() => stripper.push(Uint8Array.of(2)), 'PADDING_INVALID');
  });

  it('counts the bytes a resume skipped as content for the length check', () => {
    const content = new Uint8Array(3000).fill(5);
    const stream = padded(content);
    const stripper = new PaddingStripper({ skippedBytes: 1000 });
    const out = concatBytes(...stripper.push(stream.subarray(1000)));
    stripper.finish();
    expect(out).toEqual(content.subarray(1000));
    expectThrowsCode(() => new PaddingStripper({ skippedBytes: -1 }), 'OUT_OF_RANGE');
  });

  it('never keeps the padding: 64 MiB of zeros leave no retained bytes and no output', () => {
    // Padmé pads a 1 GiB file by up to 32 MiB; the same 1 MiB zero chunk is pushed 64 times.
    const content = Uint8Array.from([3, 1, 4, 1, 5]);
    const zeros = new Uint8Array(1024 * 1024);
    const stripper = new PaddingStripper({ skippedBytes: 2 ** 31 });
    const out: Uint8Array[] = [...stripper.push(concatBytes(content, Uint8Array.of(0x80)))];
    for (let i = 0; i < 64; i++) {
      out.push(...stripper.push(zeros));
      expect(stripper.retainedBytes).toBe(0);
    }
    expect(stripper.withheldBytes).toBe(1 + 64 * zeros.length);
    // Every chunk handed out is a view of the input or a fresh array no larger than 1 MiB.
    expect(concatBytes(...out)).toEqual(content);
    // The pushed zero chunk was not kept: changing it now changes nothing withheld.
    zeros[0] = 1;
    expect(stripper.withheldBytes).toBe(1 + 64 * zeros.length);
  });

  it('emits withheld zeros in chunks of at most 1 MiB when they were content', () => {
    const stripper = new PaddingStripper();
    stripper.push(Uint8Array.of(0x80));
    for (let i = 0; i < 5; i++) stripper.push(new Uint8Array(1024 * 1024));
    const out = stripper.push(Uint8Array.of(1));
    expect(out.length).toBeGreaterThan(5);
    expect(Math.max(...out.map((c) => c.length))).toBeLessThanOrEqual(1024 * 1024);
    expect(out.reduce((sum, c) => sum + c.length, 0)).toBe(1 + 5 * 1024 * 1024 + 1);
  });
});

describe('unpadChunks and createUnpadStream', () => {
  it('strip an async source and a stream, and fail at the end for malformed padding', async () => {
    const content = Uint8Array.from({ length: 5000 }, (_, i) => i % 7);
    const stream = padded(content);
    function* source(bytes: Uint8Array) {
      for (let at = 0; at < bytes.length; at += 333) yield bytes.slice(at, at + 333);
    }
    const out: Uint8Array[] = [];
    for await (const chunk of unpadChunks(source(stream))) out.push(chunk);
    expect(concatBytes(...out)).toEqual(content);

    const piped = new Response(
      new Response(new Uint8Array(stream)).body!.pipeThrough(createUnpadStream()),
    ).arrayBuffer();
    expect(new Uint8Array(await piped)).toEqual(content);

    const bad = new Response(
      new Response(content).body!.pipeThrough(createUnpadStream()),
    ).arrayBuffer();
    await expectCode(bad, 'PADDING_INVALID');
    const drain = async () => {
      for await (const chunk of unpadChunks(source(content))) void chunk;
    };
    await expectCode(drain(), 'PADDING_INVALID');
  });
});

describe('unpadWhenMarked', () => {
  /** Runs `plaintext` through a decrypt stream of `message` and the header-driven unpad. */
  async function decryptThrough(message: Uint8Array): Promise<Uint8Array> {
    const keyring = await ourKeyring(testKeyBytes(256, 9), 'k', 'veil');
    const unpad = unpadWhenMarked();
    const out = new Response(
      new Response(new Uint8Array(message))
        .body!.pipeThrough(createDecryptStream({ keyring, onHeader: unpad.onHeader }))
        .pipeThrough(unpad.stream),
    ).arrayBuffer();
    return new Uint8Array(await out);
  }

  async function message(plaintext: Uint8Array, padded: boolean): Promise<Uint8Array> {
    return encryptBytes(plaintext, {
      keyring: await ourKeyring(testKeyBytes(256, 9), 'k', 'veil'),
      encryptionContext: withPadding({ 'veil-app': 'veil' }, padded ? 'padme' : undefined),
      frameBytes: 4096,
    });
  }

  it('strips a marked message, passes an unmarked one through, refuses a false marker', async () => {
    const content = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 3) & 0xff);
    expect(await decryptThrough(await message(padded(content), true))).toEqual(content);
    // Unmarked: the bytes come out as they are, even when they end like padding.
    const looksPadded = padded(content);
    expect(await decryptThrough(await message(looksPadded, false))).toEqual(looksPadded);
    await expectCode(decryptThrough(await message(content, true)), 'PADDING_INVALID');
  });

  it('refuses plaintext before the header', async () => {
    const unpad = unpadWhenMarked();
    const out = new Response(
      new Response(new Uint8Array([1])).body!.pipeThrough(unpad.stream),
    ).arrayBuffer();
    await expectCode(out, 'INTERNAL_ERROR');
  });
});
