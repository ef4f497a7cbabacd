/**
 * [Note: rebuilding a list of links]: a list that cannot be used is replaced by one made from the
 * header's link ids, details unknown, by one conditional PUT; a list that opens, or that someone
 * changed meanwhile, is left alone; a PUT that fails leaves the old object and says so.
 */
import { describe, expect, it } from 'vitest';
import { MAX_PRESIGN_SECONDS, VeilError, type Keyring } from '../../../src/core';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import {
  changeLinks,
  linkListKey,
  readLinks,
  type LinkListStorage,
  type LinkListTarget,
} from '../../../src/transfer/share-list';
import {
  UNKNOWN_LINK_LABEL,
  canRebuildAfter,
  rebuildLinks,
  rebuiltEntries,
} from '../../../src/transfer/share-list-rebuild';

const LOCATION = { bucket: 'veil-files', root: 'team/' };
const OBJECT = 'team/cmVwb3J0';
const NOW = 1_700_000_000_000;
const ID_A = 'a'.repeat(22);
const ID_B = 'b'.repeat(22);

function keyring(seed: number): Promise<Keyring> {
  const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 5 + seed) & 0xff);
  return RawAesKeyring.fromBytes({ keyBytes, keyName: `k${seed}`, keyNamespace: 'veil' });
}

/** A bucket in memory with ETags and conditional writes; `failWrite` makes the PUT throw. */
function memoryStorage() {
  const objects = new Map<string, { body: Uint8Array; etag: string }>();
  let version = 0;
  const hooks: { failWrite?: boolean; beforeWrite?: () => void } = {};
  const writes: string[] = [];
  const storage: LinkListStorage = {
    read: (key) => Promise.resolve(objects.get(key)),
    write(key, body, condition) {
      hooks.beforeWrite?.();
      writes.push('ifMatch' in condition ? `If-Match ${condition.ifMatch}` : 'If-None-Match');
      if (hooks.failWrite) return Promise.reject(new VeilError('S3_REJECTED', 'AccessDenied'));
      const current = objects.get(key);
      const ok = 'ifMatch' in condition ? current?.etag === condition.ifMatch : !current;
      if (ok) objects.set(key, { body: body.slice(), etag: `"${++version}"` });
      return Promise.resolve(ok);
    },
    remove: () => Promise.resolve(false),
  };
  return { storage, objects, hooks, writes };
}

async function target(storage: LinkListStorage, seed = 1): Promise<LinkListTarget> {
  const key = await keyring(seed);
  return {
    storage,
    location: LOCATION,
    objectKey: OBJECT,
    openWith: key,
    wrapWith: key,
    context: { 'veil-app': 'veil' },
  };
}

async function garbageList() {
  const memory = memoryStorage();
  const listKey = await linkListKey(LOCATION, OBJECT);
  memory.objects.set(listKey, { body: new Uint8Array(300).fill(9), etag: '"garbage"' });
  return { ...memory, listKey };
}

describe('rebuiltEntries', () => {
  it('one entry per header link id, details unknown, at most 7 days of URL', () => {
    expect(rebuiltEntries([ID_A, ID_B, ID_A], NOW)).toEqual([
      {
        id: ID_A,
        createdAtMs: NOW,
        expiresAtMs: NOW + MAX_PRESIGN_SECONDS * 1000,
        label: UNKNOWN_LINK_LABEL,
        nameIncluded: false,
        detailsUnknown: true,
      },
      expect.objectContaining({ id: ID_B, detailsUnknown: true }),
    ]);
  });

  it('refuses what is not a link id', () => {
    expect(() => rebuiltEntries(['not/a link'], NOW)).toThrow(TypeError);
  });
});

describe('canRebuildAfter', () => {
  it('only a list whose content cannot be used', () => {
    expect(canRebuildAfter(new VeilError('MALFORMED'))).toBe(true);
    expect(canRebuildAfter(new VeilError('OBJECT_MISMATCH'))).toBe(true);
    expect(canRebuildAfter(new VeilError('S3_UNREACHABLE'))).toBe(false);
    expect(canRebuildAfter(undefined)).toBe(false);
  });
});

describe('rebuildLinks', () => {
  it('replaces a garbage list by one PUT If-Match on what was read; it then reads and changes', async () => {
    const { storage, writes } = await garbageList();
    const t = await target(storage);
    await expect(readLinks(t)).rejects.toMatchObject({ code: 'MALFORMED' });
    const written = await rebuildLinks(t, [ID_A], NOW);
    expect(writes).toEqual(['If-Match "garbage"']);
    expect(await readLinks(t)).toEqual(written);
    expect(written.map((e) => [e.id, e.label, e.detailsUnknown])).toEqual([
      [ID_A, UNKNOWN_LINK_LABEL, true],
    ]);
    // New links can be added again.
    const next = await changeLinks(t, (entries) => [
      ...entries,
      { id: ID_B, createdAtMs: NOW, expiresAtMs: NOW + 1, label: 'Ada', nameIncluded: false },
    ]);
    expect(next.map((e) => e.id)).toEqual([ID_A, ID_B]);
  });

  it('a list wrapped by keys this session lacks counts as unusable', async () => {
    const { storage } = memoryStorage();
    await changeLinks(await target(storage, 2), () => rebuiltEntries([ID_B], NOW));
    const t = await target(storage, 1);
    await expect(readLinks(t)).rejects.toMatchObject({ code: 'MALFORMED' });
    expect((await rebuildLinks(t, [ID_A], NOW)).map((e) => e.id)).toEqual([ID_A]);
  });

  it('a list that opens is left alone (SHARE_LIST_CHANGED), nothing written', async () => {
    const { storage, writes } = memoryStorage();
    const t = await target(storage);
    await changeLinks(t, () => rebuiltEntries([ID_B], NOW));
    writes.length = 0;
    await expect(rebuildLinks(t, [ID_A], NOW)).rejects.toMatchObject({
      code: 'SHARE_LIST_CHANGED',
    });
    expect(writes).toEqual([]);
    expect((await readLinks(t)).map((e) => e.id)).toEqual([ID_B]);
  });

  it('a list changed between the read and the PUT is kept (SHARE_LIST_CHANGED)', async () => {
    const { storage, objects, hooks, listKey } = await garbageList();
    const t = await target(storage);
    hooks.beforeWrite = () => objects.set(listKey, { body: new Uint8Array([1]), etag: '"other"' });
    await expect(rebuildLinks(t, [ID_A], NOW)).rejects.toMatchObject({
      code: 'SHARE_LIST_CHANGED',
    });
    expect(objects.get(listKey)?.etag).toBe('"other"');
  });

  it('a failed PUT leaves the old object and says so (SHARE_LIST_REBUILD_FAILED)', async () => {
    const { storage, objects, hooks, listKey } = await garbageList();
    hooks.failWrite = true;
    const before = objects.get(listKey);
    const error = await rebuildLinks(await target(storage), [ID_A], NOW).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VeilError);
    expect((error as VeilError).code).toBe('SHARE_LIST_REBUILD_FAILED');
    expect((error as VeilError).message).toContain('left as it was');
    expect((error as VeilError).message).toContain('AccessDenied');
    expect(objects.get(listKey)).toBe(before);
  });

  it('no list at all: written with If-None-Match', async () => {
    const { storage, writes } = memoryStorage();
    await rebuildLinks(await target(storage), [ID_A], NOW);
    expect(writes).toEqual(['If-None-Match']);
  });
});
