import { describe, expect, test } from 'vitest';
import type { UploadRecord } from '../../../../src/transfer/upload-store';
import { pausedNote } from '../../../../src/state/upload/format';
import { scopedRecords, uploadLockName } from '../../../../src/state/upload/records';

/** Only the fields scopedRecords reads. */
function record(bucket: string, key: string, uploadId: string): UploadRecord {
  return { bucket, key, uploadId } as unknown as UploadRecord;
}

describe('unfinished uploads offered', () => {
  const records = [
    record('b', 'users/alice/a.txt', 'u1'),
    record('b', 'users/bob/b.txt', 'u2'),
    record('other', 'users/alice/c.txt', 'u3'),
    record('b', 'users/alice/d.txt', 'u4'),
  ];

  test('only this bucket, under the current root, not held by the queue', () => {
    const offered = scopedRecords(records, { bucket: 'b', root: 'users/alice/' }, new Set(['u4']));
    expect(offered.map((r) => r.uploadId)).toEqual(['u1']);
  });

  test('an empty root (no prefix configured) offers the whole bucket', () => {
    const offered = scopedRecords(records, { bucket: 'b', root: '' }, new Set());
    expect(offered.map((r) => r.uploadId)).toEqual(['u1', 'u2', 'u4']);
  });

  test('no root (the prefix cannot be formed) offers none', () => {
    expect(scopedRecords(records, { bucket: 'b', root: undefined }, new Set())).toEqual([]);
  });

  test('the lock is named after the upload id', () => {
    expect(uploadLockName('abc')).toBe('veil-upload-abc');
  });
});

describe('paused uploads in the queue', () => {
  test('says that paused uploads keep their place when files wait behind them', () => {
    expect(
      pausedNote([
        { phase: 'active', engineState: 'paused' },
        { phase: 'active', engineState: 'uploading' },
        { phase: 'queued', engineState: undefined },
        { phase: 'queued', engineState: undefined },
      ]),
    ).toBe(
      'Paused uploads keep their place; 2 waiting. Resume or cancel one to let the next start.',
    );
  });

  test('says nothing when none is paused or none waits', () => {
    expect(pausedNote([{ phase: 'active', engineState: 'paused' }])).toBeUndefined();
    expect(
      pausedNote([
        { phase: 'active', engineState: 'uploading' },
        { phase: 'queued', engineState: undefined },
      ]),
    ).toBeUndefined();
  });
});
