/**
 * [Note: untrusted text]: the one rule that escapes header text for a terminal or the page, and
 * the quoting of error details built on it.
 */
import { describe, expect, it } from 'vitest';
import { escapeUntrusted, quoteUntrusted } from '../../../src/core/untrusted-text';

/** Every code point in first..last. */
const span = (first: number, last: number): number[] =>
  Array.from({ length: last - first + 1 }, (_, index) => first + index);

describe('escapeUntrusted', () => {
  it('escapes every C0/C1 control, DEL, bidi control and line separator', () => {
    const unsafe = [
      ...span(0x00, 0x1f),
      ...span(0x7f, 0x9f),
      0x061c,
      0x200e,
      0x200f,
      ...span(0x2028, 0x202e),
      ...span(0x2066, 0x2069),
    ];
    for (const code of unsafe) {
      expect(escapeUntrusted(`a${String.fromCodePoint(code)}b`)).toBe(
        `a\\u${code.toString(16).padStart(4, '0')}b`,
      );
    }
  });

  it('escapes the invisible format characters, beyond U+FFFF as \\u{...}', () => {
    const bmp = [
      0x00ad,
      0x180e,
      ...span(0x200b, 0x200f),
      ...span(0x2060, 0x2064),
      ...span(0x206a, 0x206f),
      ...span(0xfe00, 0xfe0f),
      0xfeff,
    ];
    for (const code of bmp) {
      expect(escapeUntrusted(`a${String.fromCodePoint(code)}b`)).toBe(
        `a\\u${code.toString(16).padStart(4, '0')}b`,
      );
    }
    for (const code of [...span(0xe0000, 0xe007f), ...span(0xe0100, 0xe01ef)]) {
      expect(escapeUntrusted(`a${String.fromCodePoint(code)}b`)).toBe(
        `a\\u{${code.toString(16)}}b`,
      );
    }
  });

  it('keeps everything else as it is', () => {
    const safe = 'plain ASCII, "quotes", é, 日本, 🔑, NBSP:\u00a0, U+2010:\u2010, U+FE10:\ufe10';
    expect(escapeUntrusted(safe)).toBe(safe);
    for (const code of [0x20, 0x7e, 0xa0, 0xac, 0xae, 0x200a, 0x2010, 0xfdff, 0xfe10, 0xfefe]) {
      const char = String.fromCodePoint(code);
      expect(escapeUntrusted(char)).toBe(char);
    }
    for (const code of [0xdffff, 0xe0080, 0xe00ff, 0xe01f0]) {
      const char = String.fromCodePoint(code);
      expect(escapeUntrusted(char)).toBe(char);
    }
  });

  it('writes a backslash as \\\\, so spelled-out escapes never pass for escaped characters', () => {
    expect(escapeUntrusted('back\\slash')).toBe('back\\\\slash');
    const spelled = escapeUntrusted('key\\u202e');
    const real = escapeUntrusted('key\u202e');
    expect(real).toBe('key\\u202e');
    expect(spelled).toBe('key\\\\u202e');
    expect(spelled).not.toBe(real);
  });

  it('shows look-alike names differently', () => {
    const names = [
      'team-key',
      'team\u200b-key',
      'team\u2060-key',
      'team\u00ad-key',
      'team-key\ufeff',
      'team-key\u{e0001}',
      'team-key\ufe0f',
      'team-key\u{e0100}',
      'team-key\u180e',
      'team-key\u206a',
    ];
    const shown = names.map(escapeUntrusted);
    expect(new Set(shown).size).toBe(names.length);
    expect(shown[0]).toBe('team-key');
  });
});

describe('quoteUntrusted', () => {
  it('quotes error details with the same rule, quotes and backslashes escaped, cut at 80', () => {
    expect(quoteUntrusted('a"b\\c\u009bd\u202ee')).toBe('"a\\"b\\\\c\\u009bd\\u202ee"');
    expect(quoteUntrusted('y'.repeat(100))).toBe(`"${'y'.repeat(80)}…"`);
  });

  it('escapes each backslash once, and invisible characters too', () => {
    expect(quoteUntrusted('\\"')).toBe('"\\\\\\""');
    expect(quoteUntrusted('k\\u200b')).toBe('"k\\\\u200b"');
    expect(quoteUntrusted('k\u200b')).toBe('"k\\u200b"');
  });
});
