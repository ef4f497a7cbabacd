/**
 * FilesBrowser when answers come back out of order ([Note: folder asked for, folder shown] in
 * files.svelte.ts): the names and ListObjectsV2 answers are held and released by hand, so each
 * test sets the order a loaded machine may produce. A listing or a navigation asked for earlier
 * never replaces a later one, a refresh asked for after an upload shows it, and "Upload here"
 * sends to the folder asked for, never to the folder being left while the new one opens.
 */
import { describe, expect, test } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import type { FilesS3, ListPage } from '../../../../src/aws/bucket-s3';
import type { DownloadS3 } from '../../../../src/transfer/download-s3';
import { plainNames, type LocationNames } from '../../../../src/transfer/location-names';
import { FilesBrowser, type FilesDeps } from '../../../../src/state/files/files.svelte';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: 'veil',
  endpoints: {},
  forcePathStyle: true,
};

/** A promise and the hand that settles it. */
interface Gate<T> {
  readonly promise: Promise<T>;
  readonly open: (value: T) => void;
}

function gate<T>(): Gate<T> {
  let open: (value: T) => void = () => undefined;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * A bucket of `keys` (one level under each prefix) whose list and names calls wait until the
 * test releases them, one by one, in any order. Each list answers with the keys stored when it is
 * released, as S3 does when it answers.
 */
function heldBucket(keys: string[]) {
  const objects = new Set(keys);
  const lists: { prefix: string; answer: Gate<void> }[] = [];
  const names: Gate<LocationNames>[] = [];
  const s3: FilesS3 = {
    async list(request) {
      const answer = gate<void>();
      lists.push({ prefix: request.prefix, answer });
      await answer.promise;
      const folders = new Set<string>();
      const files: string[] = [];
      for (const key of [...objects].sort()) {
        if (!key.startsWith(request.prefix)) continue;
        const slash = key.indexOf('/', request.prefix.length);
        if (slash >= 0) folders.add(key.slice(0, slash + 1));
        else files.push(key);
      }
      const page: ListPage = {
        objects: files.map((key) => ({ key, sizeBytes: 1, lastModifiedMs: 1, etag: `"${key}"` })),
        folders: [...folders],
        nextToken: undefined,
      };
      return page;
    },
    head: () => Promise.reject(new Error('not used')),
    firstBytes: () => Promise.reject(new Error('not used')),
    deleteKeys: () => Promise.reject(new Error('not used')),
  };
  const deps: FilesDeps = {
    session: { ready: true, identityId: '' },
    s3: () => s3,
    downloadS3: () => ({}) as DownloadS3,
    names: () => {
      const answer = gate<LocationNames>();
      names.push(answer);
      return answer.promise;
    },
  };
  const location = plainNames({ bucket: 'b', root: 'veil/' });
  return {
    deps,
    objects,
    /** The list calls asked so far, with their prefixes. */
    lists,
    /** Answers the `index`th list call. */
    answerList: async (index: number) => {
      lists[index]?.answer.open();
      await settle();
    },
    /** Answers the `index`th names call. */
    answerNames: async (index: number) => {
      names[index]?.open(location);
      await settle();
    },
    /** Answers every names call asked so far. */
    answerAllNames: async () => {
      for (const answer of names) answer.open(location);
      await settle();
    },
    /** Answers every names call, and then every list call, in the order asked. */
    answerAll: async () => {
      for (let round = 0; round < 5; round += 1) {
        for (const answer of names) answer.open(location);
        await settle();
        for (const list of lists) list.answer.open();
        await settle();
      }
    },
  };
}

const shown = (browser: FilesBrowser) => browser.rows.map((row) => `${row.kind}:${row.name}`);

describe('FilesBrowser with answers out of order', () => {
  test('a listing asked for before an upload finished never replaces the one asked after', async () => {
    const bucket = heldBucket(['veil/photos/a.txt']);
    const browser = new FilesBrowser(config, bucket.deps);
    const opened = browser.openPath('photos/');
    await bucket.answerAll();
    await opened;
    expect(bucket.lists).toHaveLength(1);
    // A refresh starts; the upload of b.txt finishes; a second refresh starts.
    const before = browser.refresh();
    await bucket.answerAllNames();
    bucket.objects.add('veil/photos/b.txt');
    const after = browser.refresh();
    await bucket.answerAllNames();
    expect(bucket.lists).toHaveLength(3);
    // The newer listing answers first, the older one (without b.txt) last.
    await bucket.answerList(2);
    await bucket.answerList(1);
    await Promise.all([before, after]);
    expect(shown(browser)).toEqual(['file:a.txt', 'file:b.txt']);
    expect(browser.loading).toBe(false);
  });

  test('a folder asked for later wins when the names of the earlier one answer last', async () => {
    const bucket = heldBucket(['veil/photos/a.txt', 'veil/docs/c.txt']);
    const browser = new FilesBrowser(config, bucket.deps);
    const first = browser.openPath('photos/');
    const second = browser.openPath('docs/');
    await bucket.answerNames(1);
    await bucket.answerNames(0);
    await bucket.answerAll();
    await Promise.all([first, second]);
    expect(browser.prefix).toBe('veil/docs/');
    expect(shown(browser)).toEqual(['file:c.txt']);
    expect(bucket.lists.map((list) => list.prefix)).not.toContain('veil/photos/');
  });

  test('Upload here sends to the folder asked for, not the one shown while it opens', async () => {
    const bucket = heldBucket(['veil/photos/sub/gamma.txt']);
    const browser = new FilesBrowser(config, bucket.deps);
    // The view opens at the root; the user picks files before the folder's names answer.
    const opened = browser.openPath('photos/sub/');
    expect(browser.prefix).toBe('veil/');
    const destination = browser.uploadDestination();
    await bucket.answerAll();
    await opened;
    expect(await destination).toBe('photos/sub');
    // Settled: the destination is the folder shown, at once.
    expect(await browser.uploadDestination()).toBe('photos/sub');
  });

  test('a refresh asked for while a folder opens lists that folder, after the upload', async () => {
    const bucket = heldBucket(['veil/photos/sub/gamma.txt']);
    const browser = new FilesBrowser(config, bucket.deps);
    const root = browser.openPath('');
    await bucket.answerAll();
    await root;
    const opened = browser.openPath('photos/');
    bucket.objects.add('veil/photos/alpha.txt');
    const refreshed = browser.refresh();
    await bucket.answerAll();
    await Promise.all([opened, refreshed]);
    expect(browser.prefix).toBe('veil/photos/');
    expect(shown(browser)).toEqual(['folder:sub', 'file:alpha.txt']);
    expect(bucket.lists.slice(1).map((list) => list.prefix)).not.toContain('veil/');
  });
});
