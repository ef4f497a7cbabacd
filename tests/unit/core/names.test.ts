/**
 * [Note: private names]: stored names reveal nothing and open only under their own folder with
 * their own names key; the same name always maps to the same key; storage that moves, edits or
 * re-encodes a stored segment gets NAME_UNREADABLE, never another name; long paths are refused
 * before they reach S3.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_OBJECT_KEY_BYTES,
  createNameCipher,
  privateObjectKey,
  type NameCipher,
} from '../../../src/core';
import { expectThrowsCode } from './helpers';

const namesKey = (seed: number): Uint8Array =>
  Uint8Array.from({ length: 64 }, (_, i) => (i * 31 + seed) & 0xff);

const cipher: NameCipher = createNameCipher(namesKey(1));

describe('private names', () => {
  it('round-trips files and folders, and the stored form shows no clear segment', () => {
    for (const path of ['a.txt', 'reports/2026/plan Q3 (draft).txt', 'photos/', 'é/ü/日本語.pdf']) {
      const stored = cipher.encryptPath(path);
      expect(cipher.decryptPath(stored)).toBe(path.normalize('NFC'));
      expect(stored.split('/').length).toBe(path.split('/').length);
      expect(stored.endsWith('/')).toBe(path.endsWith('/'));
      expect(stored).toMatch(/^[A-Za-z0-9_/-]+$/);
      for (const segment of path.split('/').filter(Boolean)) expect(stored).not.toContain(segment);
    }
  });

  it('is deterministic per folder, and folders stay prefixes', () => {
    expect(cipher.encryptPath('a/b/c.txt')).toBe(cipher.encryptPath('a/b/c.txt'));
    expect(cipher.encryptPath('a/b/c.txt').startsWith(cipher.encryptPath('a/b/'))).toBe(true);
    expect(cipher.encryptPath('a/b/')).toBe(
      `${cipher.encryptPath('a/')}${cipher.encryptPath('a/b/').split('/')[1]}/`,
    );
  });

  it('maps NFD and NFC spellings of a name to one key', () => {
    expect(cipher.encryptPath('cafe\u0301.txt')).toBe(cipher.encryptPath('caf\u00e9.txt'));
  });

  it('gives the same name in two folders unrelated stored forms (unlike per-segment EME)', () => {
    const inA = cipher.encryptPath('a/x.txt').split('/')[1];
    const inB = cipher.encryptPath('b/x.txt').split('/')[1];
    expect(inA).not.toBe(inB);
  });

  it('hides name lengths within 16 bytes', () => {
    const lengths = ['a', 'abcdefghijklmno'].map((name) => cipher.encryptPath(name).length);
    expect(new Set(lengths).size).toBe(1);
    expect(cipher.encryptPath('abcdefghijklmnop').length).toBeGreaterThan(lengths[0] ?? 0);
  });

  it('refuses a segment moved under another folder by storage', () => {
    const segment = cipher.encryptPath('a/x.txt').split('/')[1] ?? '';
    const moved = `${cipher.encryptPath('b/')}${segment}`;
    expectThrowsCode(() => cipher.decryptPath(moved), 'NAME_UNREADABLE');
    expectThrowsCode(() => cipher.decryptSegment(segment, 'b'), 'NAME_UNREADABLE');
    expect(cipher.decryptSegment(segment, 'a')).toBe('x.txt');
  });

  it('refuses another names key, an edited byte, a re-encoding and clear names', () => {
    const stored = cipher.encryptPath('secret.txt');
    expectThrowsCode(() => createNameCipher(namesKey(2)).decryptPath(stored), 'NAME_UNREADABLE');
    const last = stored.at(-2) === 'A' ? 'B' : 'A';
    const edited = `${stored.slice(0, -2)}${last}${stored.slice(-1)}`;
    expectThrowsCode(() => cipher.decryptPath(edited), 'NAME_UNREADABLE');
    expectThrowsCode(() => cipher.decryptPath(`${stored}==`), 'NAME_UNREADABLE');
    expectThrowsCode(() => cipher.decryptPath(stored.replace(/-/g, '+')), 'NAME_UNREADABLE');
    for (const plain of ['secret.txt', 'notes', 'AAAA', '']) {
      expectThrowsCode(() => cipher.decryptPath(plain), 'NAME_UNREADABLE');
    }
  });

  it('refuses names a folder cannot hold', () => {
    for (const bad of ['', '.', '..', 'a//b', 'a/../b', 'tab\there', 'nul\u0000']) {
      expectThrowsCode(() => cipher.encryptPath(bad), 'NAME_INVALID');
    }
  });

  it('refuses a path whose key would pass 1,024 bytes, before anything is sent', () => {
    const root = 'private/us-east-1:00000000-0000-0000-0000-000000000000/';
    const deep = Array.from({ length: 8 }, (_, i) => `folder-${i}-${'x'.repeat(60)}`).join('/');
    expectThrowsCode(() => privateObjectKey(root, cipher, `${deep}/file.txt`), 'NAME_TOO_LONG');
    const key = privateObjectKey(root, cipher, `${'n'.repeat(255)}.txt`);
    expect(key.startsWith(root)).toBe(true);
    expect(new TextEncoder().encode(key).length).toBeLessThanOrEqual(MAX_OBJECT_KEY_BYTES);
  });

  it('refuses a names key of the wrong size', () => {
    expectThrowsCode(() => createNameCipher(new Uint8Array(32)), 'BAD_ARGUMENT');
  });
});
