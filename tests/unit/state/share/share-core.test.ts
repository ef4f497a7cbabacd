/**
 * The share dialog's core with fakes: the expiry choices never pass the credentials' end (and
 * default to one hour or less), a made link is shown once with its real expiry and the list is
 * read again, expired links are marked, a revoke reloads the list and names the older versions
 * that still hold the link's key (or, when they cannot be listed, the one it replaced), their
 * deletion lists what failed, and failures become the dialog's error without losing its state.
 */
import { describe, expect, it } from 'vitest';
import { VeilError } from '../../../../src/core/errors';
import type { CreatedLink } from '../../../../src/aws/share-link';
import type { LinkEntry } from '../../../../src/transfer/share-list';
import {
  EMPTY_SHARE_VIEW,
  ShareCore,
  expiryChoices,
  type ShareDeps,
  type ShareView,
} from '../../../../src/state/share/share-core';

const NOW = 1_700_000_000_000;
const entry = (id: string, expiresAtMs: number): LinkEntry => ({
  id: id.padEnd(22, 'A'),
  createdAtMs: NOW - 1000,
  expiresAtMs,
  label: '',
  nameIncluded: false,
});

describe('expiryChoices', () => {
  it('long-term keys: every preset, one hour by default', () => {
    const { choices, defaultSeconds } = expiryChoices(NOW, undefined);
    expect(choices.map((c) => c.label)).toEqual([
      '15 minutes',
      '1 hour',
      '1 day',
      '3 days',
      '7 days',
    ]);
    expect(defaultSeconds).toBe(3600);
  });

  it('credentials for 2 days: presets up to 1 day', () => {
    const { choices, defaultSeconds } = expiryChoices(NOW, NOW + 2 * 86_400_000);
    expect(choices.map((c) => c.seconds)).toEqual([900, 3600, 86_400]);
    expect(defaultSeconds).toBe(3600);
  });

  it('credentials for 50 minutes: 15 minutes, or until they end, which is the default', () => {
    const { choices, defaultSeconds } = expiryChoices(NOW, NOW + 50 * 60_000 + 500);
    expect(choices.map((c) => c.seconds)).toEqual([900, 3000]);
    expect(choices[1]?.label).toBe('50 minutes (until your sign-in ends)');
    expect(defaultSeconds).toBe(3000);
  });

  it('credentials for 90 seconds: "1 minute", not "1 minutes"', () => {
    const { choices } = expiryChoices(NOW, NOW + 90_000);
    expect(choices.map((c) => c.label)).toEqual(['1 minute (until your sign-in ends)']);
  });

  it('credentials for 30 seconds: nothing to offer', () => {
    expect(expiryChoices(NOW, NOW + 30_000)).toEqual({ choices: [], defaultSeconds: 0 });
  });
});

/** The version a fake revoke reports as replaced (a versioned bucket), or none. */
let keptVersionId: string | undefined;
/** The older versions the fake search finds holding the link's key, or 'unlistable'. */
let olderHolding: string[] | 'unlistable' = [];

function fakes(credentialsEnd: number | undefined = undefined) {
  let links: LinkEntry[] = [entry('old', NOW - 1)];
  const calls: string[] = [];
  const deps: ShareDeps = {
    credentialsExpireAtMs: () => Promise.resolve(credentialsEnd),
    list: () =>
      Promise.resolve({ links: links.map((l) => ({ id: l.id, entry: l, inFile: true })) }),
    rebuild: () => Promise.reject(new VeilError('SHARE_LIST_CHANGED')),
    create(key, request, onProgress) {
      calls.push(`create ${key} ${request.requestedSeconds} ${request.name ?? '-'}`);
      onProgress({
        state: 'sending',
        receivedBytes: 0,
        sentBytes: 10,
        sentTotalBytes: 20,
        copiedBytes: 0,
        copyTotalBytes: 0,
      });
      const made = entry('new', NOW + request.requestedSeconds * 1000);
      links = [...links, made];
      return Promise.resolve({
        link: 'https://app/#/share/x',
        entry: made,
        expiry: {
          expiresAtMs: made.expiresAtMs,
          expiresInSeconds: request.requestedSeconds,
          limitedBy: 'requested',
        },
      } as unknown as CreatedLink);
    },
    revoke(key, linkId) {
      calls.push(`revoke ${key} ${linkId}`);
      if (linkId.startsWith('missing')) {
        return Promise.reject(new VeilError('SHARE_LINK_NOT_FOUND', linkId));
      }
      links = links.filter((l) => l.id !== linkId);
      return Promise.resolve(keptVersionId ? { previousVersionId: keptVersionId } : undefined);
    },
    deleteVersion(key, versionId) {
      calls.push(`delete ${key} ${versionId}`);
      return versionId === 'v-current'
        ? Promise.reject(new VeilError('REWRAP_VERSION_CURRENT', versionId))
        : Promise.resolve();
    },
    olderVersionsHolding(key, linkId) {
      calls.push(`search ${key} ${linkId}`);
      return olderHolding === 'unlistable'
        ? Promise.reject(new VeilError('S3_REJECTED', 'ListObjectVersions'))
        : Promise.resolve(olderHolding);
    },
    deleteVersions(key, versionIds) {
      calls.push(`delete ${key} ${versionIds.join(' ')}`);
      const refused = versionIds.filter((v) => v === 'v-current');
      return Promise.resolve({
        deleted: versionIds.filter((v) => v !== 'v-current'),
        failed: refused.map((versionId) => ({
          versionId,
          error: new VeilError('REWRAP_VERSION_CURRENT', versionId),
        })),
      });
    },
    nowMs: () => NOW,
  };
  const view: ShareView = { ...EMPTY_SHARE_VIEW };
  return { core: new ShareCore(deps, view), view, calls };
}

describe('ShareCore', () => {
  it('opens with the choices and the links, expired ones marked', async () => {
    const { core, view } = fakes();
    await core.open('team/a');
    expect(view.phase).toBe('ready');
    expect(view.expirySeconds).toBe(3600);
    expect(view.links.map((l) => l.expired)).toEqual([true]);
  });

  it('makes a link with the chosen expiry, shows it once, lists it', async () => {
    const { core, view, calls } = fakes();
    await core.open('team/a');
    view.expirySeconds = 86_400;
    await core.create({ appBase: 'https://app/', name: 'a.txt', label: 'Ada' });
    expect(calls).toEqual(['create team/a 86400 a.txt']);
    expect(view.phase).toBe('created');
    expect(view.created).toEqual({
      link: 'https://app/#/share/x',
      expiresAtMs: NOW + 86_400_000,
      limitedBy: 'requested',
    });
    expect(view.links).toHaveLength(2);
    expect(view.progress).toBeUndefined();
  });

  it('revokes and lists again; a failed revoke becomes the error and keeps the list', async () => {
    const { core, view, calls } = fakes();
    await core.open('team/a');
    const id = view.links[0]!.id;
    await core.revoke(id);
    expect(view.links).toEqual([]);
    await core.revoke('missing'.padEnd(22, 'A'));
    expect(view.error?.code).toBe('SHARE_LINK_NOT_FOUND');
    expect(view.phase).toBe('ready');
    expect(calls).toEqual([`revoke team/a ${id}`, `search team/a ${id}`, expect.any(String)]);
  });

  it('a revoke on a versioned bucket names every older version holding the key; they can be deleted', async () => {
    const { core, view, calls } = fakes();
    keptVersionId = 'v-3';
    olderHolding = ['v-3', 'v-2'];
    try {
      await core.open('team/a');
      expect(view.kept).toBeUndefined();
      await core.revoke(view.links[0]!.id);
      expect(view.kept).toMatchObject({ versionIds: ['v-3', 'v-2'], listed: true, state: 'kept' });
      await core.deleteKeptVersions();
      expect(view.kept).toMatchObject({ versionIds: [], state: 'deleted', deletedCount: 2 });
      await core.deleteKeptVersions();
      expect(calls.filter((c) => c.startsWith('delete'))).toEqual(['delete team/a v-3 v-2']);
      keptVersionId = undefined;
      await core.revoke('missing'.padEnd(22, 'A'));
      expect(view.kept).toBeUndefined();
    } finally {
      keptVersionId = undefined;
      olderHolding = [];
    }
  });

  it('a failed deletion stays listed with why and can be tried again', async () => {
    const { core, view } = fakes();
    olderHolding = ['v-current', 'v-1'];
    try {
      await core.open('team/a');
      await core.revoke(view.links[0]!.id);
      await core.deleteKeptVersions();
      expect(view.kept).toMatchObject({
        state: 'kept',
        versionIds: ['v-current'],
        deletedCount: 1,
        failed: [{ versionId: 'v-current', error: { code: 'REWRAP_VERSION_CURRENT' } }],
      });
    } finally {
      olderHolding = [];
    }
  });

  it('versions that cannot be listed: the replaced one is offered, deleted after a HEAD check', async () => {
    const { core, view, calls } = fakes();
    keptVersionId = 'v-old';
    olderHolding = 'unlistable';
    try {
      await core.open('team/a');
      await core.revoke(view.links[0]!.id);
      expect(view.kept).toMatchObject({ versionIds: ['v-old'], listed: false, state: 'kept' });
      await core.deleteKeptVersions();
      expect(view.kept).toMatchObject({ state: 'deleted', deletedCount: 1 });
      expect(calls.filter((c) => c.startsWith('delete'))).toEqual(['delete team/a v-old']);
    } finally {
      keptVersionId = undefined;
      olderHolding = [];
    }
  });

  it('an unversioned bucket: nothing kept, even when versions cannot be listed', async () => {
    const { core, view } = fakes();
    await core.open('team/a');
    await core.revoke(view.links[0]!.id);
    expect(view.kept).toBeUndefined();
    olderHolding = 'unlistable';
    try {
      await core.revoke(view.links[0]?.id ?? 'old'.padEnd(22, 'A'));
      expect(view.kept).toBeUndefined();
    } finally {
      olderHolding = [];
    }
  });

  it('a link key the list lacks is listed as unknown, not expired, with the list’s error', async () => {
    const { core, view } = fakes();
    const unreadable = new VeilError('MALFORMED', 'list');
    const known = entry('known', NOW + 1000);
    const deps = {
      credentialsExpireAtMs: () => Promise.resolve(undefined),
      list: () =>
        Promise.resolve({
          links: [
            { id: 'unknown'.padEnd(22, 'A'), inFile: true },
            { id: known.id, entry: known, inFile: false },
          ],
          listError: unreadable,
        }),
      nowMs: () => NOW,
    } as unknown as ShareDeps;
    const other = new ShareCore(deps, view);
    await other.open('team/a');
    expect(view.links).toEqual([
      { id: 'unknown'.padEnd(22, 'A'), inFile: true, expired: false },
      { id: known.id, entry: known, inFile: false, expired: false },
    ]);
    expect(view.listError).toBe(unreadable);
    await core.open('team/a');
    expect(view.listError).toBeUndefined();
  });

  it('credentials about to end: an error, no link can be made', async () => {
    const { core, view, calls } = fakes(NOW + 10_000);
    await core.open('team/a');
    expect(view.error?.code).toBe('CREDENTIALS_EXPIRED');
    expect(view.choices).toEqual([]);
    expect(calls).toEqual([]);
  });
});
