/**
 * [Note: rewrap and versions] with a fake seam: which version a rewrap replaced (versionsOf),
 * and deletePreviousVersion: the current version refused, a key whose current version is a
 * delete marker (HEAD 404) still cleaned, other HEAD failures passed on, a retried delete.
 */
import { describe, expect, it } from 'vitest';
import type { RewrapHead, RewrapS3 } from '../../../src/transfer/rewrap-s3';
import { deletePreviousVersion, versionsOf } from '../../../src/transfer/rewrap-versions';
import { expectCode } from '../core/helpers';

const FAST = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

const answered = (name: string, status: number): Error =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

/** A seam with HEAD and DeleteObject only; HEAD answers `current` or throws it. */
function fake(current: string | Error) {
  const deleted: string[] = [];
  let failDeletes = 0;
  const s3 = {
    headObject: () =>
      current instanceof Error
        ? Promise.reject(current)
        : Promise.resolve({ versionId: current, contentLength: 1 } as RewrapHead),
    deleteObjectVersion: (input: { VersionId: string }) => {
      if (failDeletes-- > 0) return Promise.reject(answered('InternalError', 500));
      deleted.push(input.VersionId);
      return Promise.resolve({ $metadata: {} });
    },
  } as unknown as RewrapS3;
  return { s3, deleted, failNextDeletes: (count: number) => (failDeletes = count) };
}

describe('versionsOf', () => {
  it.each([
    [undefined, undefined, {}],
    [undefined, 'v2', { versionId: 'v2' }],
    ['null', 'null', { versionId: 'null' }],
    ['v1', 'v2', { versionId: 'v2', previousVersionId: 'v1' }],
    ['null', 'v2', { versionId: 'v2', previousVersionId: 'null' }],
  ])('old %s, new %s', (oldVersion, newVersion, expected) => {
    expect(versionsOf(oldVersion, newVersion)).toEqual(expected);
  });
});

describe('deletePreviousVersion', () => {
  it('deletes a version that is not the current one, retrying a server error', async () => {
    const { s3, deleted, failNextDeletes } = fake('v2');
    failNextDeletes(1);
    await deletePreviousVersion(s3, 'b', 'k', 'v1', { retry: FAST });
    expect(deleted).toEqual(['v1']);
  });

  it('refuses the current version and deletes nothing', async () => {
    const { s3, deleted } = fake('v2');
    await expectCode(deletePreviousVersion(s3, 'b', 'k', 'v2'), 'REWRAP_VERSION_CURRENT');
    expect(deleted).toEqual([]);
  });

  it('deletes under a delete marker (HEAD 404); other HEAD failures stop it', async () => {
    const marker = fake(answered('NotFound', 404));
    await deletePreviousVersion(marker.s3, 'b', 'k', 'v1', { retry: FAST });
    expect(marker.deleted).toEqual(['v1']);
    const denied = fake(answered('Forbidden', 403));
    await expectCode(deletePreviousVersion(denied.s3, 'b', 'k', 'v1'), 'S3_REJECTED');
    expect(denied.deleted).toEqual([]);
  });
});
