import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import { objectKeyFor, rootPrefix } from '../../../../src/state/shared/object-paths';

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof VeilError) return error.code;
    throw error;
  }
  throw new Error('did not throw');
}

describe('object keys', () => {
  test('keys sit under the prefix with the relative path as folders', () => {
    expect(rootPrefix({ prefix: '' })).toBe('');
    expect(rootPrefix({ prefix: 'team' })).toBe('team/');
    expect(objectKeyFor({ prefix: 'team/' }, 'photos/2026/a.jpg')).toBe('team/photos/2026/a.jpg');
    expect(objectKeyFor({ prefix: '' }, 'a.txt', 'inbox/')).toBe('inbox/a.txt');
    expect(objectKeyFor({ prefix: '' }, '//a//b.txt')).toBe('a/b.txt');
  });

  test('a per-identity prefix needs the identity id', () => {
    const config = { prefix: 'users/{identityId}/' };
    expect(rootPrefix(config, 'eu-central-1:abc')).toBe('users/eu-central-1:abc/');
    expect(objectKeyFor(config, 'a.txt', '', 'eu-central-1:abc')).toBe(
      'users/eu-central-1:abc/a.txt',
    );
    expect(codeOf(() => rootPrefix(config))).toBe('CREDENTIALS_MISSING');
  });

  test('dot segments and empty paths are refused', () => {
    expect(codeOf(() => objectKeyFor({ prefix: '' }, '../etc/passwd'))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => objectKeyFor({ prefix: '' }, 'a/./b'))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => objectKeyFor({ prefix: '' }, '/'))).toBe('BAD_ARGUMENT');
  });
});
