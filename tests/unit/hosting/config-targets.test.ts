/**
 * config.json's additions for team hosting: more than one target (bucket and region) and the
 * per-identity prefix (see [Note: per-identity prefix] in src/aws/config.ts).
 */
import { describe, expect, test } from 'vitest';
import { objectPrefix, parseConfig, targetsOf } from '../../../src/aws/config';

const base = { region: 'eu-central-1', bucket: 'acme-veil-files' };

describe('targets', () => {
  test('the default target alone when none are listed', () => {
    const config = parseConfig({ ...base, prefix: 'team' });
    expect(config.targets).toBeUndefined();
    expect(targetsOf(config)).toEqual([
      { region: 'eu-central-1', bucket: 'acme-veil-files', prefix: 'team/' },
    ]);
  });

  test('listed targets follow the default, which stays config.bucket/region', () => {
    const config = parseConfig({
      ...base,
      targets: [{ region: 'us-west-2', bucket: 'acme-veil-archive', prefix: 'x', label: 'US' }],
    });
    expect(config.bucket).toBe('acme-veil-files');
    expect(config.region).toBe('eu-central-1');
    expect(targetsOf(config)).toEqual([
      { region: 'eu-central-1', bucket: 'acme-veil-files', prefix: '' },
      { region: 'us-west-2', bucket: 'acme-veil-archive', prefix: 'x/', label: 'US' },
    ]);
  });

  test.each([
    [{ targets: 'acme' }, 'targets: expected a list'],
    [{ targets: [7] }, 'targets[0]: expected an object'],
    [{ targets: [{ bucket: 'b-b-b' }] }, 'targets[0].region'],
    [{ targets: [{ region: 'eu-west-1', bucket: 'A' }] }, 'targets[0].bucket'],
    [{ targets: [{ region: 'eu-west-1', bucket: 'acme-veil-files' }] }, 'not listed before'],
    [{ targets: [{ region: 'eu-west-1', bucket: 'b-b-b', prefix: '/x' }] }, 'targets[0].prefix'],
  ])('refuses %j', (extra, message) => {
    expect(() => parseConfig({ ...base, ...extra })).toThrow(message);
  });
});

describe('per-identity prefix', () => {
  const id = 'eu-central-1:0f3b8a2c-1111-2222-3333-444455556666';

  test('fills in the identity id', () => {
    const config = parseConfig({ ...base, prefix: 'users/{identityId}' });
    expect(config.prefix).toBe('users/{identityId}/');
    expect(objectPrefix(config.prefix, id)).toBe(`users/${id}/`);
  });

  test('a prefix without the placeholder is used as written', () => {
    expect(objectPrefix('team/', id)).toBe('team/');
    expect(objectPrefix('', undefined)).toBe('');
  });

  test('needs an identity when the prefix names one', () => {
    expect(() => objectPrefix('users/{identityId}/', undefined)).toThrow(
      expect.objectContaining({ code: 'CREDENTIALS_MISSING' }) as Error,
    );
  });

  test('refuses other placeholders', () => {
    expect(() => parseConfig({ ...base, prefix: 'users/{user}/' })).toThrow('prefix');
  });
});
