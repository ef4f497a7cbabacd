/** Encryption-context serialization: UTF-8 byte order, limits, reserved keys, strict parsing. */
import { describe, expect, it } from 'vitest';
import { concatBytes, u16 } from '../../../src/core/bytes';
import {
  assertWritableContext,
  contextFromPairs,
  parseEncryptionContext,
  serializeEncryptionContext,
} from '../../../src/core/encryption-context';
import { parseHeaderBytes } from '../../../src/core/message';
import { decryptBytes, encryptBytes } from '../../../src/core/one-shot';
import { expectThrowsCode, ourKeyring, testKeyBytes } from './helpers';

const keysInOrder = (bytes: Uint8Array): string[] => Object.keys(parseEncryptionContext(bytes));

describe('serializeEncryptionContext', () => {
  it('writes nothing for an empty context', () => {
    expect(serializeEncryptionContext({})).toHaveLength(0);
  });
  it('sorts by UTF-8 bytes, not by JS string order', () => {
    const context = { a: '1', B: '2', a_b: '3', 'a-b': '4', é: '5', '😀': '6', ａ: '7', aB: '8' };
    expect(keysInOrder(serializeEncryptionContext(context))).toEqual([
      'B',
      'a',
      'a-b',
      'aB',
      'a_b',
      'é',
      'ａ',
      '😀',
    ]);
  });
  it('puts a key before longer keys that start with it', () => {
    expect(keysInOrder(serializeEncryptionContext({ ab: '', a: '' }))).toEqual(['a', 'ab']);
  });
  it('refuses contexts over 65535 bytes (CONTEXT_TOO_LARGE)', () => {
    expectThrowsCode(
      () => serializeEncryptionContext({ a: 'x'.repeat(70_000) }),
      'CONTEXT_TOO_LARGE',
    );
    const many = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`key${i}`, 'v'.repeat(20)]),
    );
    expectThrowsCode(() => serializeEncryptionContext(many), 'CONTEXT_TOO_LARGE');
  });
});

describe('assertWritableContext', () => {
  it('refuses keys starting aws-crypto- (RESERVED_CONTEXT_KEY)', () => {
    expectThrowsCode(
      () => assertWritableContext({ 'aws-crypto-public-key': 'x' }),
      'RESERVED_CONTEXT_KEY',
    );
    expectThrowsCode(
      () => assertWritableContext({ 'aws-crypto-anything': 'x' }),
      'RESERVED_CONTEXT_KEY',
    );
    expect(() => assertWritableContext({ 'aws-cryptography': 'x' })).not.toThrow();
  });
});

describe('parseEncryptionContext', () => {
  const pair = (key: string, value: string): Uint8Array => {
    const k = new TextEncoder().encode(key);
    const v = new TextEncoder().encode(value);
    return concatBytes(u16(k.length), k, u16(v.length), v);
  };
  it('rejects duplicates, zero pairs, short fields, bad UTF-8 and extra bytes (MALFORMED)', () => {
    expectThrowsCode(
      () => parseEncryptionContext(concatBytes(u16(2), pair('a', '1'), pair('a', '2'))),
      'MALFORMED',
    );
    expectThrowsCode(() => parseEncryptionContext(u16(0)), 'MALFORMED');
    expectThrowsCode(() => parseEncryptionContext(Uint8Array.of(1)), 'MALFORMED');
    expectThrowsCode(
      () => parseEncryptionContext(concatBytes(u16(1), u16(5), Uint8Array.of(97))),
      'MALFORMED',
    );
    expectThrowsCode(
      () => parseEncryptionContext(concatBytes(u16(1), u16(1), Uint8Array.of(0xff), u16(0))),
      'MALFORMED',
    );
    expectThrowsCode(
      () => parseEncryptionContext(concatBytes(u16(1), pair('a', '1'), Uint8Array.of(0))),
      'MALFORMED',
    );
  });
  it('does not let keys reach the object prototype', () => {
    const context = parseEncryptionContext(concatBytes(u16(1), pair('__proto__', 'x')));
    expect(Object.getPrototypeOf(context)).toBeNull();
    expect(context.__proto__).toBe('x');
  });
});

describe('contextFromPairs', () => {
  it('splits at the first =', () => {
    expect(contextFromPairs(['a=b=c', 'd='])).toEqual({ a: 'b=c', d: '' });
  });
  it('keeps __proto__ and other Object.prototype names as ordinary keys', () => {
    const context = contextFromPairs(['__proto__=x', 'constructor=y', 'toString=z']);
    expect(Object.keys(context)).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(context, '__proto__')?.value).toBe('x');
    expect(keysInOrder(serializeEncryptionContext(context))).toEqual([
      '__proto__',
      'constructor',
      'toString',
    ]);
    expectThrowsCode(() => contextFromPairs(['__proto__=1', '__proto__=2']), 'BAD_ARGUMENT');
    expectThrowsCode(() => contextFromPairs(['toString=1', 'toString=2']), 'BAD_ARGUMENT');
  });
  it('carries a __proto__ pair into the header of a message', async () => {
    const keyring = await ourKeyring(testKeyBytes(256));
    const message = await encryptBytes(new Uint8Array(3), {
      keyring,
      encryptionContext: contextFromPairs(['__proto__=x', 'a=1']),
    });
    const stored = parseHeaderBytes(message).encryptionContext;
    expect(Object.keys(stored)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value).toBe('x');
    expect(await decryptBytes(message, { keyring })).toEqual(new Uint8Array(3));
  });
});
