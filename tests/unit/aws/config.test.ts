/**
 * config.json's `kms.keyId`: the four forms the KMS keyring accepts (alias name, alias ARN, key
 * id, key ARN), checked by the keyring's own parser, and malformed ARNs refused.
 */
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/aws/config';

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
