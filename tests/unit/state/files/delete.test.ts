import { describe, expect, test } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import {
  batchesOf,
  deleteKeys,
  deletedNotice,
  keysOfPlan,
  keysUnder,
  planDelete,
} from '../../../../src/state/files/delete';
import type { Row } from '../../../../src/state/files/listing';
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

describe('planDelete', () => {
  const objects = [
    { key: 't/a.txt', sizeBytes: 10 },
    { key: 't/docs/', sizeBytes: 0 },
    { key: 't/docs/x', sizeBytes: 5 },
    { key: 't/docs/deep/y', sizeBytes: 7 },
    { key: 't/other', sizeBytes: 100 },
  ];
  /** Lists without a delimiter, one object a page, so every folder takes several pages. */
  const s3: Pick<FilesS3, 'list'> = {
    list({ prefix, token }) {
      const under = objects.filter((object) => object.key.startsWith(prefix));
      const at = token ? Number(token) : 0;
      const object = under[at];
      return Promise.resolve({
        objects: object ? [{ ...object, lastModifiedMs: 0, etag: undefined }] : [],
        folders: [],
        nextToken: at + 1 < under.length ? String(at + 1) : undefined,
      });
    },
  };
  const file: Row = {
    kind: 'file',
    key: 't/a.txt',
    name: 'a.txt',
    sizeBytes: 10,
    lastModifiedMs: 0,
    etag: undefined,
  };
  const folder: Row = { kind: 'folder', prefix: 't/docs/', name: 'docs' };

  test('one file, one folder (its marker and everything under it, all pages)', async () => {
    expect(await planDelete(s3, [file])).toEqual({ kind: 'file', key: 't/a.txt', name: 'a.txt' });
    const plan = await planDelete(s3, [folder]);
    expect(plan).toEqual({
      kind: 'folder',
      prefix: 't/docs/',
      name: 'docs',
      keys: ['t/docs/', 't/docs/x', 't/docs/deep/y'],
      totalBytes: 12,
    });
    expect(keysOfPlan(plan)).toEqual(['t/docs/', 't/docs/x', 't/docs/deep/y']);
  });

  test('a selection counts each key once, with the total stored size', async () => {
    const plan = await planDelete(s3, [file, folder, file]);
    expect(plan.kind).toBe('many');
    expect(keysOfPlan(plan).sort()).toEqual(['t/a.txt', 't/docs/', 't/docs/deep/y', 't/docs/x']);
    expect(plan.kind === 'many' ? plan.totalBytes : 0).toBe(22);
    expect(plan.kind === 'many' ? plan.label : '').toBe('2 files and 1 folder');
    expect(keysOfPlan(plan)).not.toContain('t/other');
    expect(deletedNotice(plan, { deleted: 3, failures: [] })).toBe(
      'Deleted 2 files and 1 folder: 3 objects.',
    );
  });

  test('nothing selected is refused', async () => {
    await expect(planDelete(s3, [])).rejects.toThrow(VeilError);
  });
});
