/**
 * config.json's `kms.keyId`: the four forms the KMS keyring accepts (alias name, alias ARN, key
 * id, key ARN), checked by the keyring's own parser, and malformed ARNs refused.
 * `privateNames` on the default target and on each listed target.
 */
import { describe, expect, test } from 'vitest';
import { parseConfig, targetsOf } from '../../../src/aws/config';

const base = { region: 'eu-central-1', bucket: 'team-files' };
const ACCOUNT = '111122223333';
const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

describe('kms.keyId', () => {
  test.each([
    'alias/veil',
    `arn:aws:kms:eu-central-1:${ACCOUNT}:alias/veil`,
    KEY_ID,
    `mrk-${'0'.repeat(32)}`,
    `arn:aws:kms:eu-central-1:${ACCOUNT}:key/${KEY_ID}`,
  ])('accepts %s', (keyId) => {
    expect(parseConfig({ ...base, kms: { keyId } }).kms).toEqual({ keyId });
  });

  test.each([
    '1234',
    'arn:aws:kms:x',
    `arn:aws:kms:eu-central-1:${ACCOUNT}:key/not-a-key-id`,
    `arn:aws:kms:eu-central-1:123:key/${KEY_ID}`,
    `arn:aws:s3:eu-central-1:${ACCOUNT}:key/${KEY_ID}`,
    'alias/with space',
  ])('refuses %s naming the field', (keyId) => {
    expect(() => parseConfig({ ...base, kms: { keyId } })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        detail: expect.stringContaining('kms.keyId') as string,
      }) as Error,
    );
  });
});

describe('privateNames', () => {
  test('is read on the default target and on each listed target', () => {
    const config = parseConfig({
      ...base,
      privateNames: true,
      targets: [
        { region: 'us-west-2', bucket: 'team-archive', privateNames: false },
        { region: 'us-west-2', bucket: 'team-other' },
      ],
    });
    expect(config.privateNames).toBe(true);
    expect(targetsOf(config).map((target) => target.privateNames)).toEqual([
      true,
      false,
      undefined,
    ]);
    expect(targetsOf(parseConfig({ ...base, privateNames: true }))[0]?.privateNames).toBe(true);
  });

  test('is absent (off) when not set', () => {
    expect(parseConfig(base).privateNames).toBeUndefined();
  });

  test.each([
    [{ privateNames: 'yes' }, 'privateNames'],
    [
      { targets: [{ region: 'us-west-2', bucket: 'b-b-b', privateNames: 1 }] },
      'targets[0].privateNames',
    ],
  ])('refuses a value that is not a boolean, naming the field', (extra, field) => {
    expect(() => parseConfig({ ...base, ...extra })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        detail: `${field}: expected true or false`,
      }) as Error,
    );
  });

  test('config.example.json turns it on (on by default for new deployments)', async () => {
    const { readFile } = await import('node:fs/promises');
    const example: unknown = JSON.parse(
      await readFile(new URL('../../../config.example.json', import.meta.url), 'utf8'),
    );
    expect(parseConfig(example).privateNames).toBe(true);
  });
});
