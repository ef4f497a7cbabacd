/**
 * [Note: the command line's KMS discovery]: which accounts a `veil` discovery keyring may ask
 * KMS about. VEIL_KMS_ACCOUNTS is read at once (a typo fails before anything runs), the
 * caller's account comes from an STS caller ARN, and the partition follows the region.
 */
import { describe, expect, test } from 'vitest';
import {
  accountsFromEnv,
  cliDiscoveryFilter,
  filterOfCallerArn,
  partitionOfRegion,
} from '../../../src/cli/kms-discovery';
import { VeilError } from '../../../src/core/errors';

describe('the command line KMS discovery filter', () => {
  test('VEIL_KMS_ACCOUNTS: 12-digit ids, commas, spaces and repeats; anything else USAGE', () => {
    expect(accountsFromEnv(undefined)).toBeUndefined();
    expect(accountsFromEnv(' , ')).toBeUndefined();
    expect(accountsFromEnv('111122223333, 444455556666,111122223333')).toEqual([
      '111122223333',
      '444455556666',
    ]);
    for (const bad of ['12345', '1111222233334', 'alias/veil', '111122223333;rm']) {
      expect(() => accountsFromEnv(bad)).toThrow(VeilError);
    }
  });

  test('the caller ARN names partition and account; anything else is no filter', () => {
    expect(filterOfCallerArn('arn:aws:sts::123456789012:assumed-role/r/s')).toEqual({
      partition: 'aws',
      accountIds: ['123456789012'],
    });
    expect(filterOfCallerArn('arn:aws-cn:iam::123456789012:user/u')?.partition).toBe('aws-cn');
    for (const bad of [undefined, '', 'arn:aws:sts::12345:user/u', 'urn:aws:sts::123456789012:x']) {
      expect(filterOfCallerArn(bad)).toBeUndefined();
    }
  });

  test('the partition follows the region', () => {
    expect(partitionOfRegion('eu-west-1')).toBe('aws');
    expect(partitionOfRegion('cn-north-1')).toBe('aws-cn');
    expect(partitionOfRegion('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOfRegion(undefined)).toBe('aws');
  });

  test('accounts in the environment are the filter, with no STS call', async () => {
    const find = cliDiscoveryFilter(
      { VEIL_KMS_ACCOUNTS: '111122223333' },
      // An endpoint no one listens on: an STS call would fail.
      { region: 'cn-north-1', endpoint: 'http://127.0.0.1:9' },
    );
    expect(await find()).toEqual({ partition: 'aws-cn', accountIds: ['111122223333'] });
    expect(() =>
      cliDiscoveryFilter({ VEIL_KMS_ACCOUNTS: 'x' }, { region: undefined, endpoint: undefined }),
    ).toThrow(VeilError);
  });
});
