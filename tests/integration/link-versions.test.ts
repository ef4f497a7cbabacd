/**
 * After a revoke on a versioned bucket, the Share dialog's core (state/share/share-core.ts and
 * link-versions.ts) over the app's calls against moto: the search of transfer/people-versions.ts
 * (versionsHoldingLink over aws/older-versions.ts) and the deletion by versionId. A file gets
 * link 1, then link 2 (a new version, still holding link 1's key), then link 1 is revoked. The
 * attack: whoever holds link 1 and can read a version by its id opens an older version with the
 * link's key. The dialog names exactly the two older versions that hold it (not the original,
 * which never did, nor the current one), and link 1's key really opens each; after "Delete 2
 * older versions…" none is left that it opens, and the current version is the same object as
 * before (its version id and bytes), still opened by the owner and by link 2.
 */
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { olderVersionsS3For } from '../../src/aws/older-versions';
import {
  createShareLink,
  fileShareLinks,
  linkKeyring,
  revokeShareLink,
  type ShareContext,
} from '../../src/aws/share-link';
import { decryptBytes, VeilError } from '../../src/core';
import type { Keyring } from '../../src/core';
import { payloadOfLink } from '../../src/core/share-link';
import {
  EMPTY_SHARE_VIEW,
  ShareCore,
  type ShareDeps,
  type ShareView,
} from '../../src/state/share/share-core';
import { nodeRewrapS3 } from '../../src/transfer/node';
import { deleteOlderVersions, versionsHoldingLink } from '../../src/transfer/people-versions';
import { deletePreviousVersion } from '../../src/transfer/rewrap-versions';
import {
  rawKeyring,
  readObject,
  sameBytes,
  startRewrapMoto,
  storeMessage,
  type RewrapMoto,
} from './rewrap-moto';
import { testKeyBytes } from '../unit/core/helpers';

vi.setConfig({ testTimeout: 120_000 });

const BUCKET = 'veil-link-versions';
const KEY = 'team/plan.bin';
let stack: RewrapMoto;
let owner: Keyring;

beforeAll(async () => {
  stack = await startRewrapMoto(BUCKET, true);
  owner = await rawKeyring(testKeyBytes(256, 43), 'owner');
}, 120_000);
afterAll(() => stack?.stop());

function context(key: string): ShareContext {
  return {
    client: stack.client,
    rewrapS3: nodeRewrapS3(stack.client),
    bucket: BUCKET,
    root: 'team/',
    key,
    openWith: owner,
    wrapWith: owner,
    context: { 'veil-app': 'veil' },
    bindingRule: 'if-present',
  };
}

/** The dialog's calls, composed as share.svelte.ts composes them over the session's client. */
function deps(): ShareDeps {
  const versions = olderVersionsS3For(stack.client, BUCKET);
  return {
    credentialsExpireAtMs: () => Promise.resolve(undefined),
    list: (key) => fileShareLinks(context(key)),
    rebuild: () => Promise.reject(new VeilError('SHARE_LIST_CHANGED')),
    create: (key, request) => createShareLink(context(key), request),
    revoke: (key, linkId) => revokeShareLink(context(key), linkId),
    deleteVersion: (key, versionId) =>
      deletePreviousVersion(nodeRewrapS3(stack.client), BUCKET, key, versionId),
    olderVersionsHolding: async (key, linkId) =>
      (await versionsHoldingLink(versions, key, linkId)).map((v) => v.versionId),
    deleteVersions: (key, versionIds) => deleteOlderVersions(versions, key, versionIds),
    nowMs: () => Date.now(),
  };
}

async function makeLink(): Promise<{ id: string; linkKey: Uint8Array }> {
  const made = await createShareLink(context(KEY), {
    requestedSeconds: 3600,
    appBase: 'http://app.example/',
    label: '',
  });
  return { id: made.entry.id, linkKey: payloadOfLink(made.link).linkKey };
}

/** Every version of KEY (no delete markers), newest first as S3 lists them. */
async function allVersions(): Promise<{ versionId: string; isLatest: boolean }[]> {
  const listed = await stack.client.send(
    new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: KEY }),
  );
  return (listed.Versions ?? [])
    .filter((v) => v.Key === KEY)
    .map((v) => ({ versionId: v.VersionId ?? '', isLatest: v.IsLatest === true }));
}

/** Whether `keyring` opens `bytes` to `plaintext`. */
async function opens(bytes: Uint8Array, keyring: Keyring, plaintext: Uint8Array) {
  return decryptBytes(bytes, { keyring }).then(
    (opened) => sameBytes(opened, plaintext),
    () => false,
  );
}

test('the dialog names every older version the revoked link opens; deleting them leaves none, and the current version untouched', async () => {
  const { plaintext, versionId: original } = await storeMessage(stack, KEY, 90_000, owner);
  const link1 = await makeLink();
  const link2 = await makeLink(); // a new version, still holding link 1's key
  expect(await allVersions()).toHaveLength(3);

  const view: ShareView = { ...EMPTY_SHARE_VIEW };
  const core = new ShareCore(deps(), view);
  await core.open(KEY);
  expect(view.links.map((l) => l.id).sort()).toEqual([link1.id, link2.id].sort());
  await core.revoke(link1.id);
  expect(view.error).toBeUndefined();
  expect(view.links.map((l) => l.id)).toEqual([link2.id]);

  const versions = await allVersions();
  const current = versions.find((v) => v.isLatest)!;
  const kept = view.kept!;
  expect(kept).toMatchObject({ linkId: link1.id, listed: true, state: 'kept' });
  // The two versions written while link 1 existed; not the original, not the current one.
  expect(kept.versionIds).toHaveLength(2);
  expect(kept.versionIds).not.toContain(original);
  expect(kept.versionIds).not.toContain(current.versionId);
  // The attack: link 1's key opens each version named.
  const key1 = await linkKeyring(link1.id, link1.linkKey);
  for (const versionId of kept.versionIds) {
    expect(await opens(await readObject(stack, KEY, versionId), key1, plaintext)).toBe(true);
  }
  const currentBefore = await readObject(stack, KEY);
  expect(await opens(currentBefore, key1, plaintext)).toBe(false);

  await core.deleteKeptVersions();
  expect(view.kept).toMatchObject({ state: 'deleted', deletedCount: 2, failed: [] });

  // Left: the original and the current version; link 1's key opens neither.
  const left = await allVersions();
  expect(left.map((v) => v.versionId).sort()).toEqual([original, current.versionId].sort());
  for (const version of left) {
    expect(await opens(await readObject(stack, KEY, version.versionId), key1, plaintext)).toBe(
      false,
    );
  }
  expect(
    await versionsHoldingLink(olderVersionsS3For(stack.client, BUCKET), KEY, link1.id),
  ).toEqual([]);
  // The current version is the one it was: same id, same bytes, opened by the owner and link 2.
  expect(left.find((v) => v.isLatest)?.versionId).toBe(current.versionId);
  const currentAfter = await readObject(stack, KEY);
  expect(sameBytes(currentAfter, currentBefore)).toBe(true);
  expect(await opens(currentAfter, owner, plaintext)).toBe(true);
  const key2 = await linkKeyring(link2.id, link2.linkKey);
  expect(await opens(currentAfter, key2, plaintext)).toBe(true);
});
