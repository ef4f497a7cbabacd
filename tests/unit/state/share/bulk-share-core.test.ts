/**
 * "Share link…" of several files with fakes: one link per file with the same requested expiry,
 * names in the links only when asked, a failing file reported with its error while the others
 * are made, "Try the failed again" making only those, and "Copy all" carrying names only when
 * the links do.
 */
import { describe, expect, it } from 'vitest';
import type { CreatedLink } from '../../../../src/aws/share-link';
import { VeilError } from '../../../../src/core/errors';
import {
  BulkShareCore,
  copyAllText,
  emptyBulkShareView,
  type BulkShareDeps,
} from '../../../../src/state/share/bulk-share-core';

const NOW = 1_700_000_000_000;
const FILES = [
  { key: 'k/a', name: 'a.txt' },
  { key: 'k/b', name: 'b.txt' },
  { key: 'k/c', name: 'c.txt' },
];

function fakes(options: { failing?: Set<string>; credentialsEnd?: number } = {}) {
  const calls: string[] = [];
  const deps: BulkShareDeps = {
    credentialsExpireAtMs: () => Promise.resolve(options.credentialsEnd),
    nowMs: () => NOW,
    create(key, request) {
      calls.push(`${key} ${request.requestedSeconds} ${request.name ?? '-'} ${request.label}`);
      if (options.failing?.has(key)) {
        return Promise.reject(new VeilError('TOO_MANY_EDKS', key));
      }
      return Promise.resolve({
        link: `https://app/#/share/${key}`,
        expiry: { expiresAtMs: NOW + request.requestedSeconds * 1000, limitedBy: 'requested' },
      } as unknown as CreatedLink);
    },
  };
  const view = emptyBulkShareView();
  return { core: new BulkShareCore(deps, view), view, calls };
}

describe('BulkShareCore', () => {
  it('makes one link per file with the same expiry; no names unless asked', async () => {
    const { core, view, calls } = fakes();
    await core.open(FILES);
    expect(view.phase).toBe('ready');
    expect(view.expirySeconds).toBe(3600);
    view.expirySeconds = 86_400;
    await core.create({ appBase: 'https://app/', includeNames: false, label: 'Ada' });
    expect(calls).toEqual(['k/a 86400 - Ada', 'k/b 86400 - Ada', 'k/c 86400 - Ada']);
    expect(view.phase).toBe('done');
    expect(view.items.map((item) => [item.state, item.expiresAtMs])).toEqual([
      ['made', NOW + 86_400_000],
      ['made', NOW + 86_400_000],
      ['made', NOW + 86_400_000],
    ]);
    expect(core.counts).toEqual({ made: 3, failed: 0, total: 3 });
    expect(copyAllText(view.items, false)).toBe(
      'https://app/#/share/k/a\nhttps://app/#/share/k/b\nhttps://app/#/share/k/c',
    );
  });

  it('with names: each link carries its own file’s name, and Copy all names them', async () => {
    const { core, view, calls } = fakes();
    await core.open(FILES.slice(0, 2));
    await core.create({ appBase: 'https://app/', includeNames: true, label: '' });
    expect(calls).toEqual(['k/a 3600 a.txt ', 'k/b 3600 b.txt ']);
    expect(copyAllText(view.items, true)).toBe(
      'a.txt: https://app/#/share/k/a\nb.txt: https://app/#/share/k/b',
    );
  });

  it('a failing file is reported and the others are made; a retry makes only the failed', async () => {
    const failing = new Set(['k/b']);
    const { core, view, calls } = fakes({ failing });
    await core.open(FILES);
    await core.create({ appBase: 'https://app/', includeNames: false, label: '' });
    expect(view.items.map((item) => item.state)).toEqual(['made', 'failed', 'made']);
    expect(view.items[1]?.error?.code).toBe('TOO_MANY_EDKS');
    expect(core.counts).toEqual({ made: 2, failed: 1, total: 3 });
    expect(copyAllText(view.items, false).split('\n')).toHaveLength(2);
    failing.clear();
    await core.create({ appBase: 'https://app/', includeNames: false, label: '' });
    expect(calls.slice(3)).toEqual(['k/b 3600 - ']);
    expect(view.items.map((item) => item.state)).toEqual(['made', 'made', 'made']);
    expect(view.items[1]?.error).toBeUndefined();
  });

  it('credentials about to end: an error, and no link is made', async () => {
    const { core, view, calls } = fakes({ credentialsEnd: NOW + 10_000 });
    await core.open(FILES);
    expect(view.error?.code).toBe('CREDENTIALS_EXPIRED');
    await core.create({ appBase: 'https://app/', includeNames: false, label: '' });
    expect(calls).toEqual([]);
    expect(view.phase).toBe('ready');
  });
});
