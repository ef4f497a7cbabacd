/**
 * [Note: links from the header]: the header's link keys joined with the stored list. A key the
 * list lacks is kept (first, as unknown), an entry whose key the file lacks is kept and marked,
 * and listed links follow in the order they were made.
 */
import { describe, expect, it } from 'vitest';
import { joinLinks, type LinkEntry } from '../../../src/transfer/share-list';

const entry = (id: string, createdAtMs: number): LinkEntry => ({
  id,
  createdAtMs,
  expiresAtMs: createdAtMs + 1000,
  label: '',
  nameIncluded: false,
});

describe('joinLinks', () => {
  it('no list: every header key is an unknown link', () => {
    expect(joinLinks(['a', 'b'], [])).toEqual([
      { id: 'a', inFile: true },
      { id: 'b', inFile: true },
    ]);
  });

  it('unknown keys first, then listed links by when they were made, each marked', () => {
    const late = entry('late', 20);
    const early = entry('early', 10);
    const stale = entry('stale', 15);
    expect(joinLinks(['late', 'ghost', 'early', 'ghost'], [late, stale, early])).toEqual([
      { id: 'ghost', inFile: true },
      { id: 'early', entry: early, inFile: true },
      { id: 'stale', entry: stale, inFile: false },
      { id: 'late', entry: late, inFile: true },
    ]);
  });

  it('nothing anywhere: nothing', () => {
    expect(joinLinks([], [])).toEqual([]);
  });
});
