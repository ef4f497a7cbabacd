/**
 * The keys a header names, in words (src/core/key-words.ts): each kind of key says what it is,
 * and a hostile name from the unauthenticated header is quoted and escaped.
 */
import { describe, expect, test } from 'vitest';
import { keyInWords, keysInWords } from '../../../src/core/key-words';

describe('keys in words', () => {
  test('each kind of key', () => {
    expect(keyInWords({ providerId: 'veil', keyName: 'team' })).toBe(
      'a key file or passphrase backup named "team"',
    );
    expect(keyInWords({ providerId: 'veil-hsm', keyName: 'veil-demo' })).toBe(
      'the HSM key "veil-demo"',
    );
    expect(keyInWords({ providerId: 'aws-kms', keyName: 'arn:aws:kms:r:1:key/k' })).toBe(
      'the AWS KMS key "arn:aws:kms:r:1:key/k"',
    );
    expect(keyInWords({ providerId: 'veil-link', keyName: 'x' })).toBe('a share link’s key');
    // Another tool's raw AES namespace is named, as that tool needs it.
    expect(keyInWords({ providerId: 'acme', keyName: 'k' })).toBe(
      'a key file or passphrase backup named "k" (namespace "acme")',
    );
  });

  test('several, joined with "or", the same words once, long lists cut', () => {
    const a = { providerId: 'veil', keyName: 'a' };
    const b = { providerId: 'veil-hsm', keyName: 'b' };
    expect(keysInWords([a, b, a])).toBe(
      'a key file or passphrase backup named "a", or the HSM key "b"',
    );
    const many = Array.from({ length: 6 }, (_, i) => ({ providerId: 'veil', keyName: `k${i}` }));
    expect(keysInWords(many)).toMatch(/named "k3", or 2 more$/);
  });

  test('a hostile name is quoted and escaped', () => {
    const words = keyInWords({ providerId: 'veil', keyName: 'x"\n\u202eevil' });
    expect(words).not.toContain('\n');
    expect(words).not.toContain('\u202e');
  });
});
