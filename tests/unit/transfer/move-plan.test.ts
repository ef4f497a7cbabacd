/**
 * [Note: move plan]: a file or folder move maps every object to the key of its new clear path,
 * with private names re-encrypting each segment under its new parent; objects whose names do
 * not open are skipped, not guessed; bad requests and too-long keys fail before anything moves.
 */
import { describe, expect, it } from 'vitest';
import { createNameCipher } from '../../../src/core';
import { plainNames, privateNames } from '../../../src/transfer/location-names';
import { planMove } from '../../../src/transfer/move-plan';
import { expectThrowsCode } from '../core/helpers';

const LOCATION = { bucket: 'b', root: 'r/' };
const cipher = createNameCipher(Uint8Array.from({ length: 64 }, (_, i) => i));
const secret = privateNames(LOCATION, cipher);
const plain = plainNames(LOCATION);

const listing = (names: typeof secret, paths: string[]) =>
  paths.map((path) => ({ key: names.objectKey(path), sizeBytes: 10_000 }));

describe('move plan', () => {
  it('renames a file in a private location to the key of its new name', () => {
    const plan = planMove(secret, listing(secret, ['a/x.txt', 'a/y.txt']), {
      from: 'a/x.txt',
      to: 'b/z.txt',
    });
    expect(plan.totals.ready).toBe(1);
    expect([...plan.destinations]).toEqual([
      [secret.objectKey('a/x.txt'), secret.objectKey('b/z.txt')],
    ]);
  });

  it('moves every object of a folder, each segment encrypted again under its new parent', () => {
    const paths = ['docs/a.txt', 'docs/sub/b.txt', 'docs/sub/deeper/c.txt', 'other/d.txt'];
    const plan = planMove(secret, listing(secret, paths), { from: 'docs/', to: 'archive/2026/' });
    const moved = [...plan.destinations.values()].map((key) => secret.clearPath(key));
    expect(moved).toEqual([
      'archive/2026/a.txt',
      'archive/2026/sub/b.txt',
      'archive/2026/sub/deeper/c.txt',
    ]);
    // The name "sub" under its new parent is stored differently: nothing is reused.
    const oldSub = secret.objectKey('docs/sub/').split('/')[2];
    for (const key of plan.destinations.values()) expect(key.split('/')).not.toContain(oldSub);
  });

  it('skips objects whose names do not open, and moves the rest', () => {
    const folder = secret.objectKey('docs/');
    const listed = [
      ...listing(secret, ['docs/a.txt']),
      { key: `${folder}not-a-private-name`, sizeBytes: 5 },
    ];
    const plan = planMove(secret, listed, { from: 'docs/', to: 'moved/' });
    expect(plan.totals).toMatchObject({ ready: 1, skipped: 1 });
    expect(plan.objects.find((o) => o.skip)?.skip?.code).toBe('NAME_UNREADABLE');
  });

  it('uses plain keys in a plain location', () => {
    const plan = planMove(plain, listing(plain, ['a/1', 'a/2/3']), { from: 'a/', to: 'b/' });
    expect([...plan.destinations.values()]).toEqual(['r/b/1', 'r/b/2/3']);
  });

  it('refuses bad requests before anything moves', () => {
    const listed = listing(secret, ['a/x.txt']);
    expectThrowsCode(
      () => planMove(secret, listed, { from: 'a/', to: 'a/inner/' }),
      'BAD_ARGUMENT',
    );
    expectThrowsCode(() => planMove(secret, listed, { from: 'a/x.txt', to: 'b/' }), 'BAD_ARGUMENT');
    expectThrowsCode(
      () => planMove(secret, listed, { from: 'a/x.txt', to: 'a/x.txt' }),
      'BAD_ARGUMENT',
    );
    expectThrowsCode(
      () => planMove(secret, listed, { from: 'a/x.txt', to: 'b/../c' }),
      'NAME_INVALID',
    );
    expectThrowsCode(
      () => planMove(secret, listed, { from: 'a/x.txt', to: `${'n'.repeat(800)}.txt` }),
      'NAME_TOO_LONG',
    );
    expectThrowsCode(
      () => planMove(secret, listed, { from: 'none.txt', to: 'b.txt' }),
      'BAD_ARGUMENT',
    );
  });

  it('counts bytes as the engine moves them: a small object sent whole, a large one copied', () => {
    const MiB = 1024 * 1024;
    const plan = planMove(
      secret,
      [
        { key: secret.objectKey('f/small'), sizeBytes: 4000 },
        { key: secret.objectKey('f/large'), sizeBytes: 64 * MiB },
        { key: secret.objectKey('f/empty'), sizeBytes: 0 },
      ],
      { from: 'f/', to: 'g/' },
    );
    const [small, large, empty] = plan.objects;
    expect(small).toMatchObject({ method: 'put', copiedBytes: 0, sentBytes: 4000 });
    expect(large?.method).toBe('multipart');
    expect(large!.copiedBytes).toBeGreaterThan(50 * MiB);
    expect(large!.sentBytes).toBeLessThan(6 * MiB);
    expect(empty).toMatchObject({ sentBytes: 0, receivedBytes: 0 });
    expect(plan.totals.copiedBytes).toBe(large!.copiedBytes);
  });
});
