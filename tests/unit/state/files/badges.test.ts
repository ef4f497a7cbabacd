import { describe, expect, test } from 'vitest';
import { ProbeQueue, probeBadge, type ProbedBadge } from '../../../../src/state/files/badges';
import type { FilesS3, FirstBytes, ObjectFacts } from '../../../../src/aws/bucket-s3';
import type { SizeS3 } from '../../../../src/state/files/sizes';

const facts = (over: Partial<ObjectFacts> = {}): ObjectFacts => ({
  metadata: {},
  serverSideEncryption: undefined,
  etag: undefined,
  contentType: undefined,
  sizeBytes: undefined,
  ...over,
});

/** A fake S3 that answers HEAD with `head` and ranged GETs with `first`, counting calls. */
function fakeS3(head: ObjectFacts, first?: FirstBytes) {
  const calls: string[] = [];
  const s3: Pick<FilesS3, 'head' | 'firstBytes'> & SizeS3 = {
    head(key) {
      calls.push(`head ${key}`);
      return Promise.resolve(head);
    },
    firstBytes(key, countBytes) {
      calls.push(`get ${key} ${countBytes}`);
      if (!first) return Promise.reject(new Error('no GET expected'));
      return Promise.resolve(first);
    },
    range(key, startBytes, endBytes) {
      calls.push(`range ${key} ${startBytes}-${endBytes}`);
      return Promise.reject(new Error('no range expected'));
    },
  };
  return { s3, calls };
}

describe('probeBadge', () => {
  test('Veil metadata readable on HEAD decides the badge; the size still needs the header', async () => {
    const { s3, calls } = fakeS3(
      facts({ metadata: { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'B' } }),
      { ...facts(), bytes: Uint8Array.of(2, 4, 0x78) },
    );
    const probed = await probeBadge(s3, 'k', 100);
    expect(probed).toMatchObject({
      badge: { kind: 'model', model: 'B' },
      source: 'head',
      // Three bytes where the header should be longer: a cut message.
      size: { kind: 'unknown', reason: 'cut' },
    });
    expect(calls.slice(0, 2)).toEqual(['head k', 'get k 100']);
  });

  test('a plain upload on HEAD needs no GET: its size is the object size', async () => {
    const { s3, calls } = fakeS3(facts({ metadata: { 'veil-format': 'plain' } }));
    expect((await probeBadge(s3, 'k', 5)).size).toEqual({ kind: 'exact', plaintextBytes: 5 });
    expect(calls).toEqual(['head k']);
  });

  test('a plain upload with SSE on HEAD is SSE-only', async () => {
    const { s3 } = fakeS3(
      facts({ metadata: { 'veil-format': 'plain' }, serverSideEncryption: 'AES256' }),
    );
    expect((await probeBadge(s3, 'k', 5)).badge).toEqual({ kind: 'sse-only', sse: 'AES256' });
  });

  test('HEAD hides the headers (moto): the ranged GET’s metadata decides', async () => {
    const { s3, calls } = fakeS3(facts(), {
      ...facts({
        metadata: { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'C' },
        serverSideEncryption: 'aws:kms',
      }),
      bytes: Uint8Array.of(2, 4, 0x78),
    });
    const probed = await probeBadge(s3, 'k', 1000);
    expect(probed).toMatchObject({
      badge: { kind: 'model', model: 'C' },
      source: 'range',
      serverSideEncryption: 'aws:kms',
    });
    // The first range is for the header, not just the three bytes that tell ESDK from plain.
    expect(calls.slice(0, 2)).toEqual(['head k', 'get k 1000']);
  });

  test('no metadata anywhere: the first bytes tell ESDK from plain', async () => {
    const esdk = fakeS3(facts(), { ...facts(), bytes: Uint8Array.of(2, 5, 0x78) });
    expect(await probeBadge(esdk.s3, 'k', 9)).toMatchObject({
      badge: { kind: 'esdk' },
      source: 'sniff',
    });
    const plain = fakeS3(facts(), {
      ...facts({ serverSideEncryption: 'AES256' }),
      bytes: Uint8Array.of(0x25, 0x50, 0x44),
    });
    expect((await probeBadge(plain.s3, 'k', 9)).badge).toEqual({ kind: 'sse-only', sse: 'AES256' });
    const bare = fakeS3(facts(), { ...facts(), bytes: Uint8Array.of(2, 4) });
    expect((await probeBadge(bare.s3, 'k', 2)).badge).toEqual({ kind: 'none' });
    expect(bare.calls).toEqual(['head k', 'get k 2']);
  });

  test('an empty object is never fetched', async () => {
    const { s3, calls } = fakeS3(facts());
    expect(await probeBadge(s3, 'k', 0)).toMatchObject({
      badge: { kind: 'none' },
      source: 'empty',
    });
    expect(calls).toEqual(['head k']);
  });
});

describe('ProbeQueue', () => {
  const known: ProbedBadge = {
    badge: { kind: 'none' },
    source: 'sniff',
    serverSideEncryption: undefined,
    size: { kind: 'exact', plaintextBytes: 10 },
  };

  test('runs at most `limit` probes at once, each object once, and caches the result', async () => {
    let running = 0;
    let most = 0;
    const started: string[] = [];
    const release: (() => void)[] = [];
    const changes: string[] = [];
    const queue = new ProbeQueue({
      limit: 2,
      probe: (key) => {
        started.push(key);
        running += 1;
        most = Math.max(most, running);
        return new Promise((resolve) =>
          release.push(() => {
            running -= 1;
            resolve(known);
          }),
        );
      },
      onChange: (cacheKey) => changes.push(cacheKey),
    });
    for (const key of ['a', 'b', 'c', 'd', 'a']) queue.request(key, '"e"', 10);
    expect(started).toEqual(['a', 'b']);
    while (release.length > 0) {
      release.shift()?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    expect(most).toBe(2);
    expect(changes).toHaveLength(4);
    expect(queue.state(ProbeQueue.cacheKey('c', '"e"'))).toEqual({ state: 'known', ...known });
    queue.request('c', '"e"', 10);
    expect(started).toHaveLength(4);
    // A new version (another ETag) is probed again.
    queue.request('c', '"f"', 10);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'c']);
  });

  test('a failing probe is recorded as failed with the error name', async () => {
    const queue = new ProbeQueue({
      limit: 1,
      probe: () => Promise.reject(Object.assign(new Error('x'), { name: 'AccessDenied' })),
      onChange: () => undefined,
    });
    queue.request('k', undefined, 1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queue.state(ProbeQueue.cacheKey('k', undefined))).toEqual({
      state: 'failed',
      reason: 'AccessDenied',
    });
  });

  test('clearFailed forgets failed badges only, so they are probed again', async () => {
    const started: string[] = [];
    const queue = new ProbeQueue({
      limit: 2,
      probe: (key) => {
        started.push(key);
        return key === 'bad'
          ? Promise.reject(Object.assign(new Error('x'), { name: 'NetworkError' }))
          : Promise.resolve({
              badge: { kind: 'none' },
              source: 'head',
              serverSideEncryption: undefined,
              size: { kind: 'exact', plaintextBytes: 1 },
            });
      },
      onChange: () => undefined,
    });
    queue.request('bad', undefined, 1);
    queue.request('good', undefined, 1);
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Cached: asking again probes nothing.
    queue.request('bad', undefined, 1);
    expect(started).toEqual(['bad', 'good']);
    expect(queue.clearFailed()).toEqual([ProbeQueue.cacheKey('bad', undefined)]);
    expect(queue.state(ProbeQueue.cacheKey('bad', undefined))).toBeUndefined();
    expect(queue.state(ProbeQueue.cacheKey('good', undefined))?.state).toBe('known');
    queue.request('bad', undefined, 1);
    queue.request('good', undefined, 1);
    expect(started).toEqual(['bad', 'good', 'bad']);
  });

  test('clearWaiting drops queued probes; reset aborts and forgets', () => {
    const signals: AbortSignal[] = [];
    const started: string[] = [];
    const queue = new ProbeQueue({
      limit: 1,
      probe: (key, _size, signal) => {
        started.push(key);
        signals.push(signal);
        return new Promise(() => undefined);
      },
      onChange: () => undefined,
    });
    queue.request('a', undefined, 1);
    queue.request('b', undefined, 1);
    queue.clearWaiting();
    expect(queue.state(ProbeQueue.cacheKey('b', undefined))).toBeUndefined();
    queue.reset();
    expect(signals[0]?.aborted).toBe(true);
    expect(queue.state(ProbeQueue.cacheKey('a', undefined))).toBeUndefined();
    expect(started).toEqual(['a']);
  });
});
