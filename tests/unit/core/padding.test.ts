/**
 * [Note: size padding]: Padmé against the paper's algorithm written with BigInt bit masks, its
 * properties (never smaller, monotone, idempotent, at most 12% more, O(log log L) bits kept),
 * worked values, the context marker and its guards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PADDING_CONTEXT_KEY,
  decryptBytes,
  encryptBytes,
  paddedLength,
  paddingBytes,
  paddingOf,
  padme,
  parseHeaderBytes,
  withPadding,
} from '../../../src/core';
import { expectCode, expectThrowsCode, ourKeyring, testKeyBytes } from './helpers';

/** The paper's Algorithm 1, on BigInt bit masks (no floating point anywhere). */
function padmeReference(length: bigint): bigint {
  if (length < 2n) return length;
  const e = BigInt(length.toString(2).length - 1);
  const s = BigInt(e.toString(2).length);
  const lastBits = e - s;
  const bitMask = (1n << lastBits) - 1n;
  return (length + bitMask) & ~bitMask;
}

describe('padme', () => {
  it('matches worked values of the formula', () => {
    // L=9: E=3, S=2, round to 2 -> 10. L=1000: E=9, S=4, to 32 -> 1024. L=1025: E=10, S=4, to 64.
    expect(padme(0)).toBe(0);
    expect(padme(1)).toBe(1);
    expect(padme(7)).toBe(7);
    expect(padme(9)).toBe(10);
    expect(padme(1000)).toBe(1024);
    expect(padme(1025)).toBe(1088);
    // 1 MiB + 1: E=20, S=5, to 2^15.
    expect(padme(1024 * 1024 + 1)).toBe(1024 * 1024 + 32768);
    // 1 GiB + 1: E=30, S=5, to 2^25 = 32 MiB, the largest padding of a file just over 1 GiB.
    expect(padme(2 ** 30 + 1) - (2 ** 30 + 1)).toBe(2 ** 25 - 1);
  });

  it('agrees with the bit-mask algorithm everywhere, up to 2^53', () => {
    for (let length = 0; length < 5000; length++) {
      expect(padme(length)).toBe(Number(padmeReference(BigInt(length))));
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - 2 ** 48 }), (length) => {
        expect(padme(length)).toBe(Number(padmeReference(BigInt(length))));
      }),
      { numRuns: 2000 },
    );
    for (let k = 1; k < 52; k++) {
      for (const length of [2 ** k - 1, 2 ** k, 2 ** k + 1]) {
        expect(padme(length)).toBe(Number(padmeReference(BigInt(length))));
      }
    }
  });

  it('is never smaller, monotone, idempotent, and adds at most 12%', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), fc.nat(1_000_000), (length, step) => {
        const padded = padme(length);
        expect(padded).toBeGreaterThanOrEqual(length);
        expect(padme(length + step)).toBeGreaterThanOrEqual(padded);
        expect(padme(padded)).toBe(padded);
        if (length > 0) expect(padded / length).toBeLessThanOrEqual(1.12);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps O(log log L) bits: at most 2^S sizes between 2^E and 2^(E+1)', () => {
    for (let e = 2; e <= 20; e++) {
      const sizes = new Set<number>();
      for (let length = 2 ** e; length < 2 ** (e + 1); length++) sizes.add(padme(length));
      const s = Math.floor(Math.log2(e)) + 1;
      // Multiples of 2^(E-S) from 2^E up to 2^(E+1) inclusive (the next range's first size).
      expect(sizes.size).toBeLessThanOrEqual(2 ** s + 1);
      // The bucket count grows like log2 E, not like the 2^E lengths it covers.
      expect(sizes.size).toBeLessThanOrEqual(2 * e + 1);
    }
  });

  it('refuses lengths that are not byte counts', () => {
    expectThrowsCode(() => padme(-1), 'OUT_OF_RANGE');
    expectThrowsCode(() => padme(1.5), 'OUT_OF_RANGE');
    expectThrowsCode(() => padme(2 ** 60), 'OUT_OF_RANGE');
    expectThrowsCode(() => paddedLength(-1), 'OUT_OF_RANGE');
  });
});

describe('paddedLength and paddingBytes', () => {
  it('leave room for the 0x80 marker and end on a Padmé length', () => {
    for (const length of [0, 1, 2, 8, 9, 1000, 4095, 65_536, 1_234_567]) {
      const padded = paddedLength(length);
      expect(padded).toBeGreaterThan(length);
      expect(padme(padded)).toBe(padded);
      const padding = paddingBytes(length);
      expect(padding.length).toBe(padded - length);
      expect(padding[0]).toBe(0x80);
      expect(padding.subarray(1).every((b) => b === 0)).toBe(true);
    }
  });
});

describe('the padding marker in the encryption context', () => {
  it('names the scheme and nothing else', () => {
    const context = withPadding({ 'veil-app': 'veil' }, 'padme');
    expect(context).toEqual({ 'veil-app': 'veil', [PADDING_CONTEXT_KEY]: 'padme' });
    expect(withPadding({ a: 'b' }, undefined)).toEqual({ a: 'b' });
    expect(paddingOf(context)).toBe('padme');
    expect(paddingOf({ 'veil-app': 'veil' })).toBeUndefined();
    expect(paddingOf(undefined)).toBeUndefined();
  });

  it('refuses a scheme Veil does not know', () => {
    expectThrowsCode(() => paddingOf({ [PADDING_CONTEXT_KEY]: 'padme2' }), 'PADDING_UNKNOWN');
    // The value comes from a header not yet authenticated: quoted, never raw terminal escapes.
    let detail = '';
    try {
      paddingOf({ [PADDING_CONTEXT_KEY]: '\u001b]0;owned\u0007\u202e' });
    } catch (error) {
      detail = (error as { detail: string }).detail;
    }
    expect(detail).toContain('\\u001b');
    expect([...detail].some((char) => char < ' ' || char === '\u202e')).toBe(false);
    expectThrowsCode(() => withPadding({}, 'other' as 'padme'), 'BAD_ARGUMENT');
  });

  it('is in the header of a padded message, authenticated: changing it breaks the header', async () => {
    const keyring = await ourKeyring(testKeyBytes(256, 3), 'k', 'veil');
    const message = await encryptBytes(new Uint8Array([1, 2, 3]), {
      keyring,
      encryptionContext: withPadding({ 'veil-app': 'veil' }, 'padme'),
      frameBytes: 1024,
    });
    const header = parseHeaderBytes(message);
    expect(header.encryptionContext[PADDING_CONTEXT_KEY]).toBe('padme');
    // The attacker turns "padme" into "padm3" (same length). The context is the raw AES wrap's
    // AAD, so the key no longer unwraps (WRONG_KEY); a keyring that does not bind it still meets
    // the header tag (HEADER_TAMPERED).
    const at = Buffer.from(message).indexOf(Buffer.from('padme'));
    const edited = message.slice();
    edited[at + 4] = 0x33;
    await expectCode(decryptBytes(edited, { keyring }), 'WRONG_KEY', 'HEADER_TAMPERED');
  });
});
