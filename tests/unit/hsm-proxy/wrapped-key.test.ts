/**
 * The version-2 wrapped-key layout and its AAD ([Note: owner-bound wrapped keys]): lengths tell
 * legacy from bound wraps, malformed headers are refused, and no two bindings or AADs encode
 * alike.
 */
import { describe, expect, test } from 'vitest';
import {
  BOUND_WRAPPED_BYTES,
  bindingDigest,
  boundAad,
  boundWrap,
  parseWrap,
  type Binding,
} from '../../../server/hsm-proxy/src/wrapped-key';

const sealed = Buffer.alloc(60, 7);
const alice: Binding = { kind: 'owner', name: 'sub-alice' };

describe('wrapped keys', () => {
  test('a bound wrap is 80 bytes and parses back to its binding kind, digest and sealed key', () => {
    const wrapped = boundWrap(alice, sealed);
    expect(wrapped).toHaveLength(BOUND_WRAPPED_BYTES);
    expect(parseWrap(wrapped)).toEqual({
      version: 2,
      kind: 'owner',
      digest: bindingDigest(alice),
      sealed,
    });
    expect(parseWrap(boundWrap({ kind: 'group', name: 'team' }, sealed))).toMatchObject({
      kind: 'group',
    });
  });

  test('60 bytes are a legacy wrap', () => {
    expect(parseWrap(sealed)).toEqual({ version: 1, sealed });
  });

  test.each([
    ['empty', Buffer.alloc(0)],
    ['59 bytes', Buffer.alloc(59)],
    ['61 bytes', Buffer.alloc(61)],
    ['81 bytes', Buffer.concat([boundWrap(alice, sealed), Buffer.alloc(1)])],
    ['80 bytes without the magic', Buffer.alloc(80)],
    ['version 3', Buffer.from(boundWrap(alice, sealed)).fill(3, 2, 3)],
    ['binding kind 0', Buffer.from(boundWrap(alice, sealed)).fill(0, 3, 4)],
  ])('%s is no wrap', (_, bytes) => {
    expect(parseWrap(bytes)).toBeUndefined();
  });

  test('owner and group bindings of the same name differ in digest and AAD', () => {
    const group: Binding = { kind: 'group', name: 'sub-alice' };
    expect(bindingDigest(alice).equals(bindingDigest(group))).toBe(false);
    expect(boundAad(alice, Buffer.alloc(0)).equals(boundAad(group, Buffer.alloc(0)))).toBe(false);
  });

  test('the name and the AAD are length-prefixed: moving a byte between them changes the AAD', () => {
    const a = boundAad({ kind: 'owner', name: 'ab' }, Buffer.from('c'));
    const b = boundAad({ kind: 'owner', name: 'a' }, Buffer.from('bc'));
    expect(a.equals(b)).toBe(false);
  });

  test('a name over 65,535 bytes is refused', () => {
    expect(() => boundAad({ kind: 'owner', name: 'x'.repeat(65_536) }, Buffer.alloc(0))).toThrow(
      RangeError,
    );
  });
});
