/**
 * [Note: untrusted text]: the one rule that escapes header text for a terminal or the page, and
 * the quoting of error details built on it.
 */
import { describe, expect, it } from 'vitest';
import { escapeUntrusted, quoteUntrusted } from '../../../src/core/untrusted-text';

describe('escapeUntrusted', () => {
  it('escapes every C0/C1 control, DEL, bidi control and line separator, and nothing else', () => {
    const unsafe = [
      ...Array.from({ length: 0x20 }, (_, code) => code),
      ...Array.from({ length: 0x21 }, (_, index) => 0x7f + index),
      0x061c,
      0x200e,
      0x200f,
      0x2028,
      0x2029,
      0x202a,
      0x202b,
      0x202c,
      0x202d,
      0x202e,
      0x2066,
      0x2067,
      0x2068,
      0x2069,
    ];
    for (const code of unsafe) {
      expect(escapeUntrusted(`a${String.fromCodePoint(code)}b`)).toBe(
        `a\\u${code.toString(16).padStart(4, '0')}b`,
      );
    }
    const safe = 'plain ASCII, "quotes", back\\slash, é, 日本, 🔑, U+200D:\u200d, NBSP:\u00a0';
    expect(escapeUntrusted(safe)).toBe(safe);
  });

  it('quotes error details with the same rule, quotes and backslashes escaped, cut at 80', () => {
    expect(quoteUntrusted('a"b\\c\u009bd\u202ee')).toBe('"a\\"b\\\\c\\u009bd\\u202ee"');
    expect(quoteUntrusted('y'.repeat(100))).toBe(`"${'y'.repeat(80)}…"`);
  });
});
