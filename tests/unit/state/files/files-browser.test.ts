/**
 * The Files view's state (FilesBrowser) on a fake bucket: it lists one folder level under the
 * root, pages, drops a late answer for a folder the user left, never lists above the root, shows
 * a listing failure as a catalogued error, and deletes a folder's every key, saying what failed;
 * with private names it opens clear hash paths and shows clear rows and crumbs.
 */
import { describe, expect, test } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import type { FilesS3, ListPage } from '../../../../src/aws/bucket-s3';
import type { DownloadS3 } from '../../../../src/transfer/download-s3';
import { FilesBrowser, type FilesDeps } from '../../../../src/state/files/files.svelte';
import { createNameCipher } from '../../../../src/core';
import { privateNames } from '../../../../src/transfer/location-names';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: 'veil',
  endpoints: {},
  forcePathStyle: true,
};

/** A bucket of `keys` answering ListObjectsV2 with a delimiter, `pageSize` entries a page. */
function fakeBucket(keys: string[], options: { pageSize?: number; failList?: boolean } = {}) {
  const objects = new Set(keys);
  const calls: string[] = [];
  const gates: (() => void)[] = [];
  let hold = false;
  const s3: FilesS3 = {
    async list(request) {
      calls.push(`list ${request.prefix} ${request.token ?? ''}`);
      if (hold) await new Promise<void>((resolve) => gates.push(resolve));
      if (options.failList) {
        throw Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: {} });
      }
      const under = [...objects].filter((key) => key.startsWith(request.prefix)).sort();
      const entries: ({ key: string } | { folder: string })[] = [];
      const seen = new Set<string>();
      for (const key of under) {
        const rest = key.slice(request.prefix.length);
        const slash = request.delimiter ? rest.indexOf('/') : -1;
        if (slash >= 0) {
          const folder = request.prefix + rest.slice(0, slash + 1);
          if (!seen.has(folder)) entries.push({ folder });
          seen.add(folder);
        } else entries.push({ key });
      }
      const start = Number(request.token ?? 0);
      const size = options.pageSize ?? 1000;
      const page = entries.slice(start, start + size);
      const result: ListPage = {
        objects: page.flatMap((e) =>
          'key' in e ? [{ key: e.key, sizeBytes: 3, lastModifiedMs: 1, etag: `"${e.key}"` }] : [],
        ),
        folders: page.flatMap((e) => ('folder' in e ? [e.folder] : [])),
        nextToken: start + size < entries.length ? String(start + size) : undefined,
      };
      return result;
    },
    head: () => Promise.reject(new Error('not used')),
    firstBytes: () => Promise.reject(new Error('not used')),
    deleteKeys(keys) {
      calls.push(`delete ${keys.join(',')}`);
      const failures = keys.filter((key) => key.includes('locked'));
      for (const key of keys) if (!key.includes('locked')) objects.delete(key);
      return Promise.resolve(failures.map((key) => ({ key, code: 'AccessDenied' })));
    },
  };
  const deps: FilesDeps = {
    session: { ready: true, identityId: '' },
    s3: () => s3,
    downloadS3: () => ({}) as DownloadS3,
  };
  return {
    deps,
    calls,
    objects,
    holdLists: () => (hold = true),
    releaseLists: () => {
      hold = false;
      for (const gate of gates.splice(0)) gate();
    },
  };
}

const names = (browser: FilesBrowser) => browser.rows.map((row) => `${row.kind}:${row.name}`);

describe('FilesBrowser', () => {
  test('lists one level under the root, folders first, and pages', async () => {
    const bucket = fakeBucket(['veil/a.txt', 'veil/b.txt', 'veil/docs/c.txt', 'other/x'], {
      pageSize: 2,
    });
    const browser = new FilesBrowser(config, bucket.deps);
    await browser.open(browser.root);
    expect(browser.root).toBe('veil/');
    expect(browser.hasMore).toBe(true);
    await browser.loadMore();
    expect(browser.hasMore).toBe(false);
    expect(names(browser)).toEqual(['folder:docs', 'file:a.txt', 'file:b.txt']);
    await browser.open('veil/docs/');
    expect(names(browser)).toEqual(['file:c.txt']);
  });

  test('never lists above the root', async () => {
    const bucket = fakeBucket(['veil/a.txt', 'other/x']);
    const browser = new FilesBrowser(config, bucket.deps);
    await browser.open('other/');
    expect(browser.prefix).toBe('veil/');
    expect(bucket.calls).toEqual(['list veil/ ']);
  });

  test('a late answer for a folder the user left is dropped', async () => {
    const bucket = fakeBucket(['veil/a.txt', 'veil/docs/c.txt']);
    const browser = new FilesBrowser(config, bucket.deps);
    bucket.holdLists();
    const first = browser.open('veil/');
    bucket.releaseLists();
    const second = browser.open('veil/docs/');
    await Promise.all([first, second]);
    expect(browser.prefix).toBe('veil/docs/');
    expect(names(browser)).toEqual(['file:c.txt']);
  });

  test('a refused listing is a catalogued error, and a signed-out session lists nothing', async () => {
    const failing = new FilesBrowser(config, fakeBucket(['veil/a'], { failList: true }).deps);
    await failing.open(failing.root);
    expect(failing.error?.code).toBe('S3_REJECTED');
    expect(failing.loaded).toBe(true);

    const bucket = fakeBucket(['veil/a']);
    const signedOut = new FilesBrowser(config, {
      ...bucket.deps,
      session: { ready: false, identityId: '' },
    });
    await signedOut.open(signedOut.root);
    expect(bucket.calls).toEqual([]);
    expect(signedOut.connected).toBe(false);
  });

  test('a per-identity prefix without an identity says why instead of listing', async () => {
    const bucket = fakeBucket([]);
    const browser = new FilesBrowser({ ...config, prefix: 'users/{identityId}/' }, bucket.deps);
    await browser.open(browser.root);
    expect(browser.error?.code).toBe('CREDENTIALS_MISSING');
    expect(bucket.calls).toEqual([]);
  });

  test('deleting a folder removes every key under it and reports the ones S3 kept', async () => {
    const bucket = fakeBucket(['veil/docs/a', 'veil/docs/sub/b', 'veil/docs/locked', 'veil/k']);
    const browser = new FilesBrowser(config, bucket.deps);
    await browser.open(browser.root);
    const folder = browser.rows.find((row) => row.kind === 'folder');
    expect(folder).toBeDefined();
    const plan = await browser.planDelete(folder!);
    expect(plan).toMatchObject({ kind: 'folder', name: 'docs' });
    expect(plan.kind === 'folder' ? [...plan.keys].sort() : []).toEqual([
      'veil/docs/a',
      'veil/docs/locked',
      'veil/docs/sub/b',
    ]);
    expect(await browser.runDelete(plan)).toBe(false);
    expect([...bucket.objects].sort()).toEqual(['veil/docs/locked', 'veil/k']);
    expect(browser.deleteError?.message).toContain('1 of 3 not deleted');
    expect(browser.notice).toBe('Deleted folder docs: 2 objects.');
  });
});

describe('with private names', () => {
  const location = privateNames(
    { bucket: 'b', root: 'veil/' },
    createNameCipher(new Uint8Array(64).fill(9)),
  );

  test('a clear hash opens the stored folder; rows, crumbs and paths are clear', async () => {
    const report = location.objectKey('plans 2026/report.txt');
    const bucket = fakeBucket([report, location.objectKey('top.txt'), 'veil/.veil/names-key']);
    const browser = new FilesBrowser(config, {
      ...bucket.deps,
      names: () => Promise.resolve(location),
    });
    await browser.openPath('');
    expect(browser.rows.map((row) => row.name)).toEqual(['plans 2026', 'top.txt']);
    await browser.openPath('plans%202026/');
    const folder = location.objectKey('plans 2026/');
    expect(browser.prefix).toBe(folder);
    expect(bucket.calls.at(-1)).toBe(`list ${folder} `);
    expect(browser.rows.map((row) => row.name)).toEqual(['report.txt']);
    expect(browser.crumbs.map((crumb) => crumb.label)).toEqual(['b', 'plans 2026']);
    expect(browser.hashPath(folder)).toBe('plans%202026/');
    expect(browser.shownPath(report)).toBe('plans 2026/report.txt');
    expect(browser.unreadable).toBe(0);
  });
});
