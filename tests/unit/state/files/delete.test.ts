import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import { batchesOf, deleteKeys, keysUnder } from '../../../../src/state/files/delete';
import type { FilesS3, ListPage } from '../../../../src/aws/bucket-s3';

describe('batchesOf', () => {
  test('at most 1000 keys per batch, in order', () => {
    const keys = Array.from({ length: 2501 }, (_, i) => `k${i}`);
    const batches = batchesOf(keys);
    expect(batches.map((batch) => batch.length)).toEqual([1000, 1000, 501]);
    expect(batches.flat()).toEqual(keys);
    expect(batchesOf([])).toEqual([]);
    expect(batchesOf(keys.slice(0, 1000))).toHaveLength(1);
  });

  test('a batch size below one is refused', () => {
    expect(() => batchesOf(['a'], 0)).toThrow(VeilError);
  });
});

describe('keysUnder', () => {
  test('follows continuation tokens without a delimiter', async () => {
    const requests: unknown[] = [];
    const pages: ListPage[] = [
      {
        objects: [{ key: 'f/a', sizeBytes: 3, lastModifiedMs: 0, etag: undefined }],
        folders: [],
        nextToken: 't1',
      },
      {
        objects: [{ key: 'f/b/c', sizeBytes: 4, lastModifiedMs: 0, etag: undefined }],
        folders: [],
        nextToken: undefined,
      },
    ];
    const s3: Pick<FilesS3, 'list'> = {
      list(request) {
        requests.push(request);
        const next = pages.shift();
        return next ? Promise.resolve(next) : Promise.reject(new Error('too many pages'));
      },
    };
    expect(await keysUnder(s3, 'f/')).toEqual({ keys: ['f/a', 'f/b/c'], totalBytes: 7 });
    expect(requests).toEqual([{ prefix: 'f/' }, { prefix: 'f/', token: 't1' }]);
  });
});

describe('deleteKeys', () => {
  test('deletes in batches, reports progress and returns refused keys', async () => {
    const sent: number[] = [];
    const s3: Pick<FilesS3, 'deleteKeys'> = {
      deleteKeys(keys) {
        sent.push(keys.length);
        return Promise.resolve(
          keys.includes('k1500') ? [{ key: 'k1500', code: 'AccessDenied' }] : [],
        );
      },
    };
    const progress: string[] = [];
    const keys = Array.from({ length: 2001 }, (_, i) => `k${i}`);
    const outcome = await deleteKeys(s3, keys, (done, total) => progress.push(`${done}/${total}`));
    expect(sent).toEqual([1000, 1000, 1]);
    expect(progress).toEqual(['1000/2001', '2000/2001', '2001/2001']);
    expect(outcome).toEqual({ deleted: 2000, failures: [{ key: 'k1500', code: 'AccessDenied' }] });
  });
});
