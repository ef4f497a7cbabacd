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

describe('label rules', () => {
  test('labels are owner-bound unless shared; legacy wraps follow the label, or migration mode', () => {
    const ruled = createPolicy(
      parsePolicy({
        groups: { g: ['*'] },
        labels: { team: { sharedWithGroup: 'team-a' }, old: { legacyWraps: 'accept' } },
      }),
    );
    expect(ruled.migrationMode).toBe(false);
    expect(ruled.sharedGroup('team')).toBe('team-a');
    expect(ruled.sharedGroup('old')).toBeUndefined();
    expect(ruled.sharedGroup('toString')).toBeUndefined();
    expect(ruled.acceptsLegacyWraps('old')).toBe(true);
    expect(ruled.acceptsLegacyWraps('team')).toBe(false);
    expect(ruled.acceptsLegacyWraps('other')).toBe(false);

    const earlier = createPolicy(parsePolicy({ groups: { g: ['k'] } }));
    expect(earlier.migrationMode).toBe(true);
    expect(earlier.acceptsLegacyWraps('k')).toBe(true);
    expect(earlier.sharedGroup('k')).toBeUndefined();
  });

  test.each([
    [{ labels: [] }, 'labels must be an object'],
    [{ labels: { k: 'shared' } }, 'labels.k must be an object'],
    [{ labels: { k: { sharedWithGroup: '' } } }, 'labels.k.sharedWithGroup must be a group name'],
    [{ labels: { k: { legacyWraps: true } } }, 'labels.k.legacyWraps must be "accept" or "refuse"'],
    [{ labels: { k: { sharedWith: 'g' } } }, 'labels.k has unknown field "sharedWith"'],
  ])('refuses malformed label rules %j', (raw, message) => {
    expect(() => parsePolicy(raw)).toThrow(message);
  });
});
