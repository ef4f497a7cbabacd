/**
 * The Versions dialog's core against an in-memory versioned bucket ([Note: a file's versions]):
 * listing (exact key, newest first, delete markers, paging), versioning off or unknown, restore
 * (a copy made current, the old current kept; a version bound to another file, an unencrypted one
 * where names are private, a missing key, a too-large or SSE-C version all refused with nothing
 * copied), restore and delete of the current version refused where they would give back a
 * revoked share link's or removed person's key, delete (previous, current, refused, raced) and
 * sizes read on demand.
 */
import { describe, expect, it } from 'vitest';
import {
  VeilError,
  createMultiKeyring,
  type BindingRule,
  type Keyring,
} from '../../../../src/core';
import { encryptBytes } from '../../../../src/core/one-shot';
import {
  MAX_COPY_BYTES,
  VersionsCore,
  emptyVersionsView,
  versionsFailure,
  type VersionsDeps,
} from '../../../../src/state/files/versions-core';
import type { FileVersion } from '../../../../src/state/files/versions-list';
import { ourKeyring, patternBytes, testKeyBytes } from '../../core/helpers';
import { s3Error } from '../../transfer/fake-s3';
import { FakeVersionedBucket } from './versions-fake-s3';

const BUCKET = 'b';
const KEY = 'docs/a.txt';

interface World {
  bucket: FakeVersionedBucket;
  core: VersionsCore;
  keyring: Keyring;
  downloads: { version: FileVersion; name: string }[];
  seal: (plain: Uint8Array, key?: string) => Promise<Uint8Array>;
  /** Seals under the session's key and share keys: link ids `link:…`, fingerprints `person:…`. */
  sealShared: (plain: Uint8Array, shares: readonly string[]) => Promise<Uint8Array>;
}

const FINGERPRINT = '3f2a91c0'.repeat(8);

async function world(
  options: { rule?: BindingRule; keyring?: boolean; pageKeys?: number } = {},
): Promise<World> {
  const keyring = await ourKeyring(testKeyBytes(256), 'team', 'veil');
  const bucket = new FakeVersionedBucket();
  const downloads: World['downloads'] = [];
  const deps: VersionsDeps = {
    bucket: BUCKET,
    s3: () => bucket.s3(),
    rewrapS3: () => bucket.rewrapS3(),
    readKeyring: () => Promise.resolve(options.keyring === false ? undefined : keyring),
    bindingRule: () => Promise.resolve(options.rule ?? 'required'),
    download: (version, name) => downloads.push({ version, name }),
    ...(options.pageKeys ? { pageKeys: options.pageKeys } : {}),
  };
  const core = new VersionsCore(deps, emptyVersionsView(), { key: KEY, name: 'a.txt' });
  const seal = (plain: Uint8Array, key = KEY) =>
    encryptBytes(plain, { keyring, frameBytes: 1024, location: { bucket: BUCKET, key } });
  const sealShared = async (plain: Uint8Array, shares: readonly string[]) => {
    const children = await Promise.all(
      shares.map((share, index) => {
        const [kind, name] = share.split(':') as [string, string];
        const namespace = kind === 'link' ? 'veil-link' : 'veil-person';
        return ourKeyring(testKeyBytes(256, index + 2), name, namespace);
      }),
    );
    return encryptBytes(plain, {
      keyring: createMultiKeyring({ generator: keyring, children }),
      frameBytes: 1024,
      location: { bucket: BUCKET, key: KEY },
    });
  };
  return { bucket, core, keyring, downloads, seal, sealShared };
}

const ids = (core: VersionsCore): string[] => core.view.versions.map((v) => v.versionId);

describe('listing', () => {
  it('lists exactly the file’s versions, newest first, current and delete markers marked', async () => {
    const { bucket, core, seal } = await world();
    const v1 = bucket.put(KEY, await seal(patternBytes(100)));
    const marker = bucket.markDeleted(KEY);
    const v2 = bucket.put(KEY, await seal(patternBytes(200)));
    bucket.put(`${KEY}.bak`, new Uint8Array(5));
    await core.load();
    expect(core.view.phase).toBe('ready');
    expect(core.view.versioning).toBe('enabled');
    expect(ids(core)).toEqual([v2, marker, v1]);
    expect(core.view.versions.map((v) => [v.isLatest, v.deleteMarker])).toEqual([
      [true, false],
      [false, true],
      [false, false],
    ]);
    expect(core.view.complete).toBe(true);
    expect(core.versioningOff).toBe(false);
  });

  it('pages through many versions without losing or repeating one', async () => {
    const { bucket, core } = await world({ pageKeys: 2 });
    const written = [1, 2, 3, 4, 5].map((n) => bucket.put(KEY, patternBytes(n)));
    bucket.put(`${KEY}.bak`, new Uint8Array(1));
    await core.load();
    expect(ids(core)).toEqual(written.slice(3).reverse());
    expect(core.view.complete).toBe(false);
    await core.loadMore();
    await core.loadMore();
    expect(ids(core)).toEqual([...written].reverse());
    expect(core.view.complete).toBe(true);
    const lists = bucket.calls.filter((call) => call === 'list').length;
    await core.loadMore();
    expect(bucket.calls.filter((call) => call === 'list').length).toBe(lists);
  });

  it('says versioning is off and lists nothing on a bucket without it', async () => {
    const { bucket, core } = await world();
    bucket.versioning = 'off';
    bucket.put(KEY, patternBytes(10));
    await core.load();
    expect(core.versioningOff).toBe(true);
    expect(core.view.versions).toEqual([]);
    expect(bucket.calls).not.toContain('list');
  });

  it('tells versioning from the ids when GetBucketVersioning is refused', async () => {
    const off = await world();
    off.bucket.versioning = 'off';
    off.bucket.put(KEY, patternBytes(10));
    off.bucket.failWith = (call) =>
      call === 'versioning' ? s3Error('AccessDenied', 403) : undefined;
    await off.core.load();
    expect(off.core.view.versioning).toBe('unknown');
    expect(off.core.versioningOff).toBe(true);

    const on = await world();
    on.bucket.put(KEY, patternBytes(10));
    on.bucket.failWith = off.bucket.failWith;
    await on.core.load();
    expect(on.core.view.versioning).toBe('unknown');
    expect(on.core.versioningOff).toBe(false);
    expect(ids(on.core)).toHaveLength(1);
  });

  it('names s3:ListBucketVersions when the listing is refused', async () => {
    const { bucket, core } = await world();
    bucket.put(KEY, patternBytes(10));
    bucket.failWith = (call) => (call === 'list' ? s3Error('AccessDenied', 403) : undefined);
    await core.load();
    expect(core.view.phase).toBe('failed');
    expect(core.view.error?.code).toBe('VERSIONS_DENIED');
    expect(core.view.error?.message).toContain('s3:ListBucketVersions');
  });
});

describe('restore', () => {
  it('copies the version over the file and keeps the one that was current', async () => {
    const { bucket, core, seal } = await world();
    const one = await seal(patternBytes(3000, 1));
    const v1 = bucket.put(KEY, one);
    const v2 = bucket.put(KEY, await seal(patternBytes(3000, 2)));
    await core.load();
    const old = core.view.versions.find((v) => v.versionId === v1)!;
    expect(await core.restore(old)).toBe(true);
    const [current, ...rest] = bucket.versionsOf(KEY);
    expect(current?.body).toEqual(one);
    expect(rest.map((v) => v.versionId)).toEqual([v2, v1]);
    expect(ids(core)).toHaveLength(3);
    expect(core.view.versions[0]?.isLatest).toBe(true);
    expect(core.view.changed).toBe(true);
    expect(core.view.notice).toContain('kept as a previous version');
    expect(core.view.actionError).toBeUndefined();
  });

  it('refuses a version bound to another file (swapped in by storage), copying nothing', async () => {
    for (const rule of ['required', 'if-present'] as const) {
      const { bucket, core, seal } = await world({ rule });
      bucket.put(KEY, await seal(patternBytes(3000, 1)));
      // The storage writes another file's message as a new version of this key.
      const swapped = bucket.put(KEY, await seal(patternBytes(3000, 9), 'docs/other.txt'));
      bucket.put(KEY, await seal(patternBytes(3000, 2)));
      await core.load();
      const before = bucket.versionsOf(KEY).length;
      const version = core.view.versions.find((v) => v.versionId === swapped)!;
      expect(await core.restore(version)).toBe(false);
      expect(core.view.actionError?.code).toBe('OBJECT_MISMATCH');
      expect(bucket.versionsOf(KEY)).toHaveLength(before);
      expect(bucket.calls).not.toContain('copy');
      expect(core.view.changed).toBe(false);
    }
  });

  it('refuses an unencrypted version where names are private, and lets it through elsewhere', async () => {
    const strict = await world({ rule: 'required' });
    const plainId = strict.bucket.put(KEY, patternBytes(50));
    strict.bucket.put(KEY, await strict.seal(patternBytes(50)));
    await strict.core.load();
    const plain = strict.core.view.versions.find((v) => v.versionId === plainId)!;
    expect(await strict.core.restore(plain)).toBe(false);
    expect(strict.core.view.actionError?.code).toBe('OBJECT_MISMATCH');
    expect(strict.bucket.calls).not.toContain('copy');

    const lenient = await world({ rule: 'if-present' });
    const oldId = lenient.bucket.put(KEY, patternBytes(50));
    lenient.bucket.put(KEY, patternBytes(60));
    await lenient.core.load();
    expect(
      await lenient.core.restore(lenient.core.view.versions.find((v) => v.versionId === oldId)!),
    ).toBe(true);
    expect(lenient.bucket.versionsOf(KEY)[0]?.body).toEqual(patternBytes(50));
  });

  it('needs a key that opens the version before restoring it', async () => {
    const { bucket, core, seal } = await world({ keyring: false });
    const v1 = bucket.put(KEY, await seal(patternBytes(300)));
    bucket.put(KEY, await seal(patternBytes(400)));
    await core.load();
    expect(await core.restore(core.view.versions.find((v) => v.versionId === v1)!)).toBe(false);
    expect(core.view.actionError?.code).toBe('NO_KEY_FOR_OBJECT');
    expect(bucket.calls).not.toContain('copy');
  });

  it('refuses a version over 5 GiB or under SSE-C before reading it', async () => {
    for (const facts of [{ sizeBytes: MAX_COPY_BYTES + 1 }, { sseCustomerAlgorithm: 'AES256' }]) {
      const { bucket, core, seal } = await world();
      const v1 = bucket.put(KEY, await seal(patternBytes(300)));
      bucket.put(KEY, await seal(patternBytes(400)));
      bucket.versionsOf(KEY)[1]!.facts = facts;
      await core.load();
      expect(await core.restore(core.view.versions.find((v) => v.versionId === v1)!)).toBe(false);
      expect(core.view.actionError?.code).toBe('VERSION_RESTORE_UNSUPPORTED');
      expect(bucket.calls).not.toContain('get');
      expect(bucket.calls).not.toContain('copy');
    }
  });

  it('does nothing on the current version or a delete marker', async () => {
    const { bucket, core, seal } = await world();
    bucket.put(KEY, await seal(patternBytes(300)));
    bucket.markDeleted(KEY);
    bucket.put(KEY, await seal(patternBytes(300)));
    await core.load();
    const [current, marker] = core.view.versions;
    expect(await core.restore(current!)).toBe(false);
    expect(await core.restore(marker!)).toBe(false);
    expect(bucket.calls).not.toContain('head');
  });

  it('refuses a version holding a share link or person’s key the current lacks, copying nothing', async () => {
    const cases = [
      { shares: ['link:L1'], words: 'a share link (id "L1")' },
      {
        shares: [`person:${FINGERPRINT}`],
        words: 'a person’s key (fingerprint "3f2a 91c0 3f2a 91c0"…)',
      },
    ];
    for (const { shares, words } of cases) {
      for (const deletedSince of [false, true]) {
        const { bucket, core, sealShared } = await world();
        const v1 = bucket.put(KEY, await sealShared(patternBytes(3000, 1), shares));
        // The revoke: a rewrap writes a version without the key.
        bucket.put(KEY, await sealShared(patternBytes(3000, 1), []));
        if (deletedSince) bucket.markDeleted(KEY);
        await core.load();
        const before = bucket.versionsOf(KEY).length;
        expect(await core.restore(core.view.versions.find((v) => v.versionId === v1)!)).toBe(false);
        expect(core.view.actionError?.code).toBe('VERSION_RESTORE_REGRANTS');
        expect(core.view.actionError?.message).toContain(words);
        expect(bucket.calls).not.toContain('copy');
        expect(bucket.versionsOf(KEY)).toHaveLength(before);
        expect(core.view.changed).toBe(false);
      }
    }
  });

  it('restores a version whose share keys the current one all holds', async () => {
    const { bucket, core, sealShared } = await world();
    const old = await sealShared(patternBytes(3000, 1), ['link:L1']);
    const v1 = bucket.put(KEY, old);
    bucket.put(
      KEY,
      await sealShared(patternBytes(3000, 2), ['link:L1', 'link:L2', `person:${FINGERPRINT}`]),
    );
    await core.load();
    expect(await core.restore(core.view.versions.find((v) => v.versionId === v1)!)).toBe(true);
    expect(bucket.versionsOf(KEY)[0]?.body).toEqual(old);
    expect(core.view.actionError).toBeUndefined();
  });

  it('names the permissions a refused copy needs', async () => {
    const { bucket, core, seal } = await world();
    const v1 = bucket.put(KEY, await seal(patternBytes(300)));
    bucket.put(KEY, await seal(patternBytes(400)));
    bucket.failWith = (call) => (call === 'copy' ? s3Error('AccessDenied', 403) : undefined);
    await core.load();
    expect(await core.restore(core.view.versions.find((v) => v.versionId === v1)!)).toBe(false);
    expect(core.view.actionError?.code).toBe('VERSIONS_DENIED');
    expect(core.view.actionError?.message).toContain('s3:GetObjectVersion and s3:PutObject');
  });
});

describe('delete', () => {
  it('deletes a previous version for good and leaves the file', async () => {
    const { bucket, core } = await world();
    const v1 = bucket.put(KEY, patternBytes(10));
    const v2 = bucket.put(KEY, patternBytes(20));
    await core.load();
    expect(await core.remove(core.view.versions[1]!)).toBe(true);
    expect(bucket.versionsOf(KEY).map((v) => v.versionId)).toEqual([v2]);
    expect(ids(core)).toEqual([v2]);
    expect(bucket.calls).toContain('rewrap-head');
    expect(core.view.notice).toContain('was deleted');
    expect(core.view.notice).not.toContain('gone');
    expect(v1).not.toBe(v2);
  });

  it('deletes the current version: the next becomes current, and the last one deletes the file', async () => {
    const { bucket, core } = await world();
    const v1 = bucket.put(KEY, patternBytes(10));
    bucket.put(KEY, patternBytes(20));
    await core.load();
    expect(await core.remove(core.view.versions[0]!)).toBe(true);
    expect(ids(core)).toEqual([v1]);
    expect(core.view.versions[0]?.isLatest).toBe(true);
    expect(await core.remove(core.view.versions[0]!)).toBe(true);
    expect(bucket.versionsOf(KEY)).toEqual([]);
    expect(core.view.notice).toContain('The file is gone.');
  });

  it('refuses to delete the current version when the next holds a revoked share key', async () => {
    const { bucket, core, sealShared } = await world();
    bucket.put(KEY, await sealShared(patternBytes(300, 1), ['link:L1', `person:${FINGERPRINT}`]));
    bucket.put(KEY, await sealShared(patternBytes(300, 1), [`person:${FINGERPRINT}`]));
    await core.load();
    expect(await core.remove(core.view.versions[0]!)).toBe(false);
    expect(core.view.actionError?.code).toBe('VERSION_RESTORE_REGRANTS');
    expect(core.view.actionError?.message).toContain('a share link (id "L1")');
    expect(core.view.actionError?.message).not.toContain('fingerprint');
    expect(bucket.calls).not.toContain('delete');
    expect(bucket.versionsOf(KEY)).toHaveLength(2);
  });

  it('deletes the current version when the next holds no share key the current lacks', async () => {
    const { bucket, core, sealShared } = await world();
    const v1 = bucket.put(KEY, await sealShared(patternBytes(300, 1), []));
    bucket.put(KEY, await sealShared(patternBytes(300, 1), ['link:L1']));
    await core.load();
    expect(await core.remove(core.view.versions[0]!)).toBe(true);
    expect(bucket.versionsOf(KEY).map((v) => v.versionId)).toEqual([v1]);
  });

  it('names s3:DeleteObjectVersion when S3 refuses, and deletes nothing', async () => {
    const { bucket, core } = await world();
    bucket.put(KEY, patternBytes(10));
    bucket.put(KEY, patternBytes(20));
    bucket.failWith = (call) =>
      call === 'rewrap-delete' || call === 'delete' ? s3Error('AccessDenied', 403) : undefined;
    await core.load();
    expect(await core.remove(core.view.versions[1]!)).toBe(false);
    expect(core.view.actionError?.code).toBe('VERSIONS_DENIED');
    expect(core.view.actionError?.message).toContain('s3:DeleteObjectVersion');
    expect(await core.remove(core.view.versions[0]!)).toBe(false);
    expect(core.view.actionError?.code).toBe('VERSIONS_DENIED');
    expect(bucket.versionsOf(KEY)).toHaveLength(2);
  });

  it('refuses a listed previous version that became current meanwhile (VERSIONS_CHANGED)', async () => {
    const { bucket, core } = await world();
    const v1 = bucket.put(KEY, patternBytes(10));
    const v2 = bucket.put(KEY, patternBytes(20));
    await core.load();
    // Someone else deletes the current version: v1 is current now.
    bucket.keys.set(
      KEY,
      bucket.versionsOf(KEY).filter((v) => v.versionId !== v2),
    );
    expect(await core.remove(core.view.versions.find((v) => v.versionId === v1)!)).toBe(false);
    expect(core.view.actionError?.code).toBe('VERSIONS_CHANGED');
    expect(bucket.versionsOf(KEY).map((v) => v.versionId)).toEqual([v1]);
  });
});

describe('sizes and downloads', () => {
  it('reads plaintext sizes only when asked, and none for a delete marker', async () => {
    const { bucket, core, seal } = await world();
    bucket.put(KEY, await seal(patternBytes(3000)));
    bucket.markDeleted(KEY);
    bucket.put(KEY, await seal(patternBytes(5000)));
    await core.load();
    expect(bucket.calls).not.toContain('get');
    await core.showSizes();
    const [v2, marker, v1] = core.view.versions;
    expect(core.view.sizes[v2!.versionId]).toEqual({ state: 'exact', plaintextBytes: 5000 });
    expect(core.view.sizes[v1!.versionId]).toEqual({ state: 'exact', plaintextBytes: 3000 });
    expect(core.view.sizes[marker!.versionId]).toBeUndefined();
    expect(core.view.sizing).toBe(false);
  });

  it('hands a version to the downloads under the file’s clear name, never a delete marker', async () => {
    const { bucket, core, downloads } = await world();
    bucket.put(KEY, patternBytes(10));
    bucket.markDeleted(KEY);
    await core.load();
    const [marker, version] = core.view.versions;
    core.download(marker!);
    core.download(version!);
    expect(downloads).toEqual([{ version, name: 'a.txt' }]);
  });
});

describe('versionsFailure', () => {
  it('keeps catalogued errors and turns other S3 failures into S3 codes', () => {
    const mismatch = new VeilError('OBJECT_MISMATCH');
    expect(versionsFailure(mismatch, 'CopyObject', 'p')).toBe(mismatch);
    expect(versionsFailure(s3Error('SlowDown', 503), 'ListObjectVersions', 'p').code).toMatch(
      /^S3_/,
    );
    expect(versionsFailure(s3Error('AccessDenied', 403), 'op', 's3:Perm').detail).toBe(
      'op needs s3:Perm',
    );
  });
});
