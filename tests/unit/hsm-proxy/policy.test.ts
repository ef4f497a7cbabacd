import { describe, expect, test } from 'vitest';
import type { Identity } from '../../../server/hsm-proxy/src/auth';
import { createPolicy, parsePolicy } from '../../../server/hsm-proxy/src/policy';

const who = (username: string, groups: string[] = []): Identity => ({
  sub: `sub-${username}`,
  username,
  groups,
});

describe('key policy', () => {
  const policy = createPolicy(
    parsePolicy({
      groups: { finance: ['fin-1', 'fin-2'], everyone: ['shared'], root: ['*'] },
      users: { alice: ['alice-key'] },
      admins: { groups: ['root'], users: ['bob'] },
    }),
  );

  test('grants labels through groups and users, and nothing by default', () => {
    expect(policy.mayUse(who('carol', ['finance']), 'fin-2')).toBe(true);
    expect(policy.mayUse(who('carol', ['finance']), 'alice-key')).toBe(false);
    expect(policy.mayUse(who('alice'), 'alice-key')).toBe(true);
    expect(policy.mayUse(who('alice', ['everyone']), 'shared')).toBe(true);
    expect(policy.mayUse(who('nobody'), 'shared')).toBe(false);
    expect(policy.mayUse(who('x', ['root']), 'anything-at-all')).toBe(true);
  });

  test('does not read inherited object properties as grants', () => {
    expect(policy.mayUse(who('constructor', ['toString']), 'fin-1')).toBe(false);
    expect(policy.isAdmin(who('__proto__'))).toBe(false);
  });

  test('knows administrators by group or user name', () => {
    expect(policy.isAdmin(who('bob'))).toBe(true);
    expect(policy.isAdmin(who('x', ['root']))).toBe(true);
    expect(policy.isAdmin(who('alice', ['finance']))).toBe(false);
  });

  test.each([
    [null, 'must be a JSON object'],
    [{ groups: [] }, 'groups must be an object'],
    [{ groups: { a: 'label' } }, 'groups.a must be a list of strings'],
    [{ users: { a: [1] } }, 'users.a must be a list of strings'],
    [{ admins: { groups: 'root' } }, 'admins.groups must be a list of strings'],
  ])('refuses a malformed policy %j', (raw, message) => {
    expect(() => parsePolicy(raw)).toThrow(message);
  });
});
