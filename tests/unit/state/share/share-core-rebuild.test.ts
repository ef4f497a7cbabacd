/**
 * "Rebuild list" in the Share dialog's core, with fakes: offered only for a list whose content
 * cannot be used, it lists the links the rebuild returns and unblocks Create; a failed rebuild
 * is the dialog's error and the list stays as it was; it does nothing unless offered.
 */
import { describe, expect, it } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { FileLinks } from '../../../../src/aws/share-link';
import {
  EMPTY_SHARE_VIEW,
  ShareCore,
  type ShareDeps,
  type ShareView,
} from '../../../../src/state/share/share-core';

const NOW = 1_700_000_000_000;
const ID = 'a'.repeat(22);
const REBUILT = {
  id: ID,
  createdAtMs: NOW,
  expiresAtMs: NOW + 7 * 86_400_000,
  label: 'Unknown link',
  nameIncluded: false,
  detailsUnknown: true as const,
};

function fakes(listError: VeilError | undefined, rebuildError?: VeilError) {
  let listed: FileLinks = {
    links: [{ id: ID, inFile: true }],
    ...(listError ? { listError } : {}),
  };
  const calls: string[] = [];
  const deps = {
    credentialsExpireAtMs: () => Promise.resolve(undefined),
    list: () => Promise.resolve(listed),
    rebuild(key: string) {
      calls.push(`rebuild ${key}`);
      if (rebuildError) return Promise.reject(rebuildError);
      listed = { links: [{ id: ID, entry: REBUILT, inFile: true }] };
      return Promise.resolve(listed);
    },
    nowMs: () => NOW,
  } as unknown as ShareDeps;
  const view: ShareView = { ...EMPTY_SHARE_VIEW };
  return { core: new ShareCore(deps, view), view, calls };
}

describe('ShareCore.rebuild', () => {
  it('a garbage list: offered; rebuilding lists the link as unknown, not expired', async () => {
    const { core, view, calls } = fakes(new VeilError('MALFORMED', 'list'));
    await core.open('team/a');
    expect(view.listRebuildable).toBe(true);
    const rebuilding = core.rebuild();
    expect(view.phase).toBe('rebuilding');
    expect(core.busy).toBe(true);
    await rebuilding;
    expect(calls).toEqual(['rebuild team/a']);
    expect(view.phase).toBe('ready');
    expect(view.listError).toBeUndefined();
    expect(view.listRebuildable).toBe(false);
    expect(view.listRebuilt).toBe(true);
    expect(view.links).toEqual([{ id: ID, entry: REBUILT, inFile: true, expired: false }]);
  });

  it('another file’s list copied over is offered too', async () => {
    const { core, view } = fakes(new VeilError('OBJECT_MISMATCH', 'list'));
    await core.open('team/a');
    expect(view.listRebuildable).toBe(true);
  });

  it('a list S3 did not return is not offered, and rebuild does nothing', async () => {
    const { core, view, calls } = fakes(new VeilError('S3_UNREACHABLE', 'GetObject'));
    await core.open('team/a');
    expect(view.listRebuildable).toBe(false);
    await core.rebuild();
    expect(calls).toEqual([]);
  });

  it('a readable list: nothing offered, nothing done', async () => {
    const { core, view, calls } = fakes(undefined);
    await core.open('team/a');
    expect(view.listRebuildable).toBe(false);
    await core.rebuild();
    expect(calls).toEqual([]);
    expect(view.listRebuilt).toBe(false);
  });

  it('a failed PUT: the dialog’s error, the list still shown as unreadable', async () => {
    const failed = new VeilError('SHARE_LIST_REBUILD_FAILED', 'AccessDenied');
    const { core, view } = fakes(new VeilError('MALFORMED', 'list'), failed);
    await core.open('team/a');
    await core.rebuild();
    expect(view.error).toBe(failed);
    expect(view.phase).toBe('ready');
    expect(view.listRebuildable).toBe(true);
    expect(view.listRebuilt).toBe(false);
    expect(view.links).toEqual([{ id: ID, inFile: true, expired: false }]);
  });
});
