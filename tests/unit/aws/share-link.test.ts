/**
 * The rewrap behind making and revoking a share link checks the file's binding by the
 * location's rule ([Note: location binding]): 'required' under private names is passed on, not
 * left to the rewrap's 'if-present' default.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { shareRewrapBase, type ShareContext } from '../../../src/aws/share-link';
import type { Keyring } from '../../../src/core/keyring';
import type { RewrapS3 } from '../../../src/transfer/rewrap-s3';

const context = (bindingRule: ShareContext['bindingRule']): ShareContext => ({
  client: {} as S3Client,
  rewrapS3: {} as RewrapS3,
  bucket: 'b',
  root: '',
  key: 'k',
  openWith: {} as Keyring,
  wrapWith: {} as Keyring,
  context: {},
  bindingRule,
});

describe('shareRewrapBase', () => {
  it('carries the location’s binding rule to the rewrap', () => {
    expect(shareRewrapBase(context('required'))).toMatchObject({
      bucket: 'b',
      key: 'k',
      bindingRule: 'required',
    });
    expect(shareRewrapBase(context('if-present')).bindingRule).toBe('if-present');
  });
});
