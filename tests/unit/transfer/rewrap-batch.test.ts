/**
 * The rewrap batch ([Note: rewrap batch plan], [Note: rewrap batch run]) with fakes: the plan
 * lists prefixes and named keys, reads headers, filters, skips what cannot or need not change
 * with a catalogued reason, and sums the bytes copied in S3 and through the client; the run
 * keeps a result per object, pauses between objects, cancels the one in flight and never starts
 * the rest, keeps going after one failure; and a whole batch through the real engine over an
 * in-memory S3 leaves objects that the new key opens and the old one does not.
 */
import { describe, expect, it } from 'vitest';
import {
  VeilError,
  createMultiKeyring,
  decryptBytes,
  encryptBytes,
  parseHeaderBytes,
} from '../../../src/core';
import type { Keyring, MessageHeader } from '../../../src/core';
import { RawAesKeyring } from '../../../src/keyrings/raw-aes';
import type { RangeRequest } from '../../../src/transfer/download-s3';
import {
  RewrapBatch,
  headerReader,
  removingKeys,
  scanRewrapBatch,
  totalsOf,
  type BatchPlan,
  type BatchSnapshot,
  type HeaderReader,
  type PlannedObject,
} from '../../../src/transfer/rewrap-batch';
import type { RewrapResult, RewrapSetup } from '../../../src/transfer/rewrap-options';
import type { RewrapS3 } from '../../../src/transfer/rewrap-s3';
import { expectCode, testKeyBytes } from '../core/helpers';

const MIB = 1024 * 1024;
const CONTEXT = { 'veil-app': 'veil' };

const keyring = (seed: number, keyName: string): Promise<RawAesKeyring> =>
  RawAesKeyring.fromBytes({ keyBytes: testKeyBytes(256, seed), keyNamespace: 'veil', keyName });

async function message(bytes: Uint8Array, ...rings: Keyring[]): Promise<Uint8Array> {
  const [generator, ...children] = rings;
  const ring = children.length === 0 ? generator! : createMultiKeyring({ generator, children });
  return encryptBytes(bytes, { keyring: ring, encryptionContext: CONTEXT });
}

function headerOf(stored: Uint8Array): MessageHeader {
  return parseHeaderBytes(stored.subarray(0, 4096));
}

/** A fake header reader over stored messages; `plain` and `sizes` override what it says. */
function reader(
  objects: Record<string, Uint8Array | 'plain' | { signed: Uint8Array }>,
  sizes: Record<string, number> = {},
): HeaderReader & { calls: string[] } {
  const calls: string[] = [];
  const read = (key: string): Promise<never> | ReturnType<HeaderReader> => {
    calls.push(key);
    const stored = objects[key];
    if (stored === undefined) return Promise.reject(new VeilError('S3_REJECTED', 'NoSuchKey'));
    if (stored === 'plain') {
      return Promise.resolve({ kind: 'plain', objectBytes: 10, etag: '"p"' });
    }
    const bytes = stored instanceof Uint8Array ? stored : stored.signed;
    const header = headerOf(bytes);
    return Promise.resolve({
      kind: 'esdk-framed',
      objectBytes: sizes[key] ?? bytes.length,
      etag: `"${key}"`,
      header: stored instanceof Uint8Array ? header : { ...header, suiteId: 0x0578 },
    });
  };
  return Object.assign(read, { calls });
}

describe('scanRewrapBatch', () => {
  it('lists prefixes and named keys once, keeps matches, and plans each object', async () => {
    const x = await keyring(1, 'key-x');
    const y = await keyring(2, 'key-y');
    const small = await message(new Uint8Array(1000), x);
    const other = await message(new Uint8Array(10), y);
    const read = reader({ 'f/a': small, 'f/b': other, 'f/big': small, 'g/c': small });
    const progress: number[] = [];
    const plan = await scanRewrapBatch({
      keys: ['g/c', 'f/a'],
      prefixes: ['f/'],
      list: (prefix) =>
        Promise.resolve(
          prefix === 'f/'
            ? [{ key: 'f/a' }, { key: 'f/b' }, { key: 'f/big' }, { key: 'f/folder/' }]
            : [],
        ),
      readHeader: read,
      change: {
        removes: removingKeys([{ keyName: 'key-x' }]),
        adds: [{ providerId: 'veil', keyName: 'key-y' }],
      },
      match: (object) => object.keys.some((key) => key.keyName === 'key-x'),
      onProgress: (p) => progress.push(p.scannedObjects),
    });
    expect(read.calls.sort()).toEqual(['f/a', 'f/b', 'f/big', 'g/c']);
    expect(plan.objects.map((o) => o.key)).toEqual(['g/c', 'f/a', 'f/big']);
    const first = plan.objects[0]!;
    expect(first.skip).toBeUndefined();
    expect(first.models).toEqual(['A']);
    expect(first.remove).toEqual([{ keyName: 'key-x', providerId: 'veil' }]);
    expect(first.add).toBe(true);
    expect(first.method).toBe('put');
    expect(first.copiedBytes).toBe(0);
    expect(plan.totals.ready).toBe(3);
    expect(progress.at(-1)).toBe(4);
  });

  it('sums bytes copied inside S3 and through the client for a large object', async () => {
    const x = await keyring(1, 'key-x');
    const stored = await message(new Uint8Array(100), x);
    const header = headerOf(stored);
    const plan = await scanRewrapBatch({
      keys: ['big'],
      readHeader: reader({ big: stored }, { big: 40 * MIB }),
      change: {
        removes: removingKeys([{ keyName: 'key-x' }]),
        adds: [{ providerId: 'veil', keyName: 'key-y' }],
      },
    });
    const big = plan.objects[0]!;
    expect(big.method).toBe('multipart');
    // Part 1 is 5 MiB: the new header and the body bytes read; the rest is copied.
    expect(big.sentBytes).toBe(5 * MIB);
    expect(big.copiedBytes + big.receivedBytes - header.headerBytes).toBe(
      40 * MIB - header.headerBytes,
    );
    expect(plan.totals.clientBytes).toBe(big.sentBytes + big.receivedBytes);
    expect(plan.totals.copiedBytes).toBe(big.copiedBytes);
    expect(plan.totals.clientBytes).toBeLessThan(11 * MIB);
  });

  it('skips what cannot or need not change, with catalogued reasons', async () => {
    const x = await keyring(1, 'key-x');
    const y = await keyring(2, 'key-y');
    const onlyX = await message(new Uint8Array(5), x);
    const both = await message(new Uint8Array(5), x, y);
    const onlyY = await message(new Uint8Array(5), y);
    const read = reader({ plain: 'plain', signed: { signed: both }, onlyX, both, onlyY });
    const keys = ['plain', 'signed', 'onlyX', 'both', 'onlyY', 'missing'];
    const removeX = removingKeys([{ keyName: 'key-x' }]);
    const codes = (plan: BatchPlan) =>
      Object.fromEntries(plan.objects.map((o) => [o.key, o.skip?.code ?? (o.skip ? '-' : 'ok')]));

    const remove = await scanRewrapBatch({ keys, readHeader: read, change: { removes: removeX } });
    expect(codes(remove)).toEqual({
      plain: 'REWRAP_NOT_A_MESSAGE',
      signed: 'REWRAP_SIGNED_MESSAGE',
      onlyX: 'REWRAP_LAST_KEY',
      both: 'ok',
      onlyY: 'REWRAP_KEY_NOT_FOUND',
      missing: 'S3_REJECTED',
    });
    expect(remove.totals).toMatchObject({ objects: 6, ready: 1, skipped: 5 });

    // The session holds only key-x: removing it from `both` would lock the user out.
    const holdsX = (key: { keyName: string }) => key.keyName === 'key-x';
    const locked = await scanRewrapBatch({
      keys: ['both', 'onlyY'],
      readHeader: read,
      change: { removes: removeX, canOpen: holdsX },
    });
    expect(codes(locked)).toEqual({ both: 'REWRAP_WOULD_LOCK_OUT', onlyY: 'NO_KEY_FOR_OBJECT' });

    // Adding key-y where it already is (and nothing to remove) is nothing to do, without a code.
    const add = await scanRewrapBatch({
      keys: ['both', 'onlyX'],
      readHeader: read,
      change: { adds: [{ providerId: 'veil', keyName: 'key-y' }] },
    });
    expect(codes(add)).toEqual({ both: '-', onlyX: 'ok' });
  });

  it('guards its options and stops when cancelled', async () => {
    await expectCode(
      scanRewrapBatch({ readHeader: undefined as unknown as HeaderReader, change: {} }),
      'BAD_ARGUMENT',
    );
    await expectCode(
      scanRewrapBatch({ prefixes: ['p/'], readHeader: reader({}), change: {} }),
      'BAD_ARGUMENT',
    );
    await expectCode(
      scanRewrapBatch({ keys: [], readHeader: reader({}), change: {}, concurrency: 0 }),
      'OUT_OF_RANGE',
    );
    const controller = new AbortController();
    controller.abort();
    await expectCode(
      scanRewrapBatch({
        prefixes: ['p/'],
        list: () => Promise.resolve([{ key: 'p/a' }]),
        readHeader: reader({}),
        change: {},
        signal: controller.signal,
      }),
      'REWRAP_CANCELLED',
    );
  });
});

/** A plan of `count` ready small objects (no S3 behind them). */
function readyPlan(count: number): BatchPlan {
  const objects: PlannedObject[] = Array.from({ length: count }, (_, i) => ({
    key: `o${i}`,
    objectBytes: 100,
    kind: 'esdk-framed',
    keys: [{ providerId: 'veil', keyName: 'key-x' }],
    models: ['A'],
    etag: `"${i}"`,
    remove: [{ keyName: 'key-x' }],
    add: true,
    method: 'put',
    receivedBytes: 100,
    sentBytes: 100,
    copiedBytes: 0,
  }));
  objects.push({ ...objects[0]!, key: 'skipped', skip: { code: 'REWRAP_LAST_KEY', detail: '' } });
  return { objects, totals: totalsOf(objects) };
}

/** A fake engine whose rewraps end when the test says so. */
function gatedEngine() {
  const started: string[] = [];
  const gates = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
  const rewrap = (setup: RewrapSetup): Promise<RewrapResult> => {
    started.push(setup.key);
    return new Promise((resolve, reject) => {
      const done = (): void =>
        resolve({ key: setup.key, receivedBytes: 100, sentBytes: 100, copiedBytes: 0 } as never);
      gates.set(setup.key, { resolve: done, reject });
      setup.signal?.addEventListener('abort', () =>
        reject(new VeilError('REWRAP_CANCELLED', 'aborted')),
      );
    });
  };
  const finish = async (key: string, error?: unknown): Promise<void> => {
    await until(() => gates.has(key));
    const gate = gates.get(key)!;
    if (error) gate.reject(error);
    else gate.resolve();
  };
  return { rewrap, started, finish };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((r) => setTimeout(r, 1));
  expect(condition()).toBe(true);
}

const openWith = { onDecrypt: () => Promise.resolve(undefined) } as unknown as Keyring;
const base = { s3: {} as RewrapS3, bucket: 'b', openWith };

describe('RewrapBatch', () => {
  it('runs one at a time, keeps a result per object, and goes on after a failure', async () => {
    const engine = gatedEngine();
    const seen: BatchSnapshot[] = [];
    const batch = new RewrapBatch({
      plan: readyPlan(3),
      setup: base,
      rewrap: engine.rewrap,
      onChange: (s) => seen.push(s),
    });
    const done = batch.run();
    await engine.finish('o0');
    await engine.finish('o1', new VeilError('REWRAP_SOURCE_CHANGED', 'etag'));
    await engine.finish('o2');
    const end = await done;
    expect(end.state).toBe('done');
    expect(end.items.map((i) => [i.key, i.state, i.code])).toEqual([
      ['o0', 'done', undefined],
      ['o1', 'failed', 'REWRAP_SOURCE_CHANGED'],
      ['o2', 'done', undefined],
      ['skipped', 'skipped', 'REWRAP_LAST_KEY'],
    ]);
    expect(end.progress).toMatchObject({ totalObjects: 3, doneObjects: 2, failedObjects: 1 });
    expect(Math.max(...seen.map((s) => s.items.filter((i) => i.state === 'running').length))).toBe(
      1,
    );
  });

  it('passes each object its own removals, addWith only where needed, and a signal', async () => {
    const calls: RewrapSetup[] = [];
    const plan = readyPlan(2);
    const objects = [plan.objects[0]!, { ...plan.objects[1]!, add: false }];
    const addWith = { onEncrypt: () => Promise.resolve(undefined) } as unknown as Keyring;
    await new RewrapBatch({
      plan: { objects, totals: totalsOf(objects) },
      setup: { ...base, addWith, model: 'A' },
      rewrap: (setup) => {
        calls.push(setup);
        return Promise.resolve({ receivedBytes: 1, sentBytes: 1, copiedBytes: 0 } as never);
      },
    }).run();
    expect(calls.map((c) => [c.key, c.addWith === addWith, c.remove, c.model])).toEqual([
      ['o0', true, [{ keyName: 'key-x' }], 'A'],
      ['o1', false, [{ keyName: 'key-x' }], 'A'],
    ]);
    expect(calls.every((c) => c.signal instanceof AbortSignal)).toBe(true);
  });

  it('pauses after the object in flight and resumes', async () => {
    const engine = gatedEngine();
    const batch = new RewrapBatch({ plan: readyPlan(3), setup: base, rewrap: engine.rewrap });
    const done = batch.run();
    await until(() => engine.started.length === 1);
    batch.pause();
    expect(batch.snapshot.state).toBe('pausing');
    await engine.finish('o0');
    await until(() => batch.snapshot.state === 'paused');
    await new Promise((r) => setTimeout(r, 10));
    expect(engine.started).toEqual(['o0']);
    batch.resume();
    await engine.finish('o1');
    await engine.finish('o2');
    expect((await done).items.filter((i) => i.state === 'done')).toHaveLength(3);
  });

  it('cancel aborts the object in flight and never starts the rest', async () => {
    const engine = gatedEngine();
    const batch = new RewrapBatch({
      plan: readyPlan(4),
      setup: base,
      rewrap: engine.rewrap,
      concurrency: 2,
    });
    const done = batch.run();
    await engine.finish('o0');
    await until(() => engine.started.length === 3);
    batch.cancel();
    const end = await done;
    expect(end.state).toBe('cancelled');
    expect(end.items.map((i) => [i.key, i.state])).toEqual([
      ['o0', 'done'],
      ['o1', 'cancelled'],
      ['o2', 'cancelled'],
      ['o3', 'not-started'],
      ['skipped', 'skipped'],
    ]);
    expect(end.items[1]!.code).toBe('REWRAP_CANCELLED');
    expect(engine.started).toEqual(['o0', 'o1', 'o2']);
  });

  it('a cancel while paused ends the run; guards its options', async () => {
    const engine = gatedEngine();
    const batch = new RewrapBatch({ plan: readyPlan(2), setup: base, rewrap: engine.rewrap });
    const done = batch.run();
    batch.pause();
    await engine.finish('o0');
    await until(() => batch.snapshot.state === 'paused');
    batch.cancel();
    expect((await done).items.map((i) => i.state)).toEqual(['done', 'not-started', 'skipped']);
    expect(() => new RewrapBatch({ plan: readyPlan(1), setup: base, concurrency: 5 })).toThrow(
      VeilError,
    );
    expect(() => new RewrapBatch({ plan: undefined as unknown as BatchPlan, setup: base })).toThrow(
      VeilError,
    );
  });
});

/** An in-memory S3 for small objects: HEAD, ranged GET and a conditional PutObject. */
function memoryS3(store: Map<string, Uint8Array>): RewrapS3 {
  const etag = (key: string): string => `"${store.get(key)!.length}-${key}"`;
  const refuse = (): never => {
    throw new Error('not used for small objects');
  };
  return {
    headObject: (_bucket, key) =>
      Promise.resolve({
        contentLength: store.get(key)!.length,
        etag: etag(key),
        metadata: { 'veil-format': 'esdk-v2-0478-framed', 'veil-model': 'A' },
      } as never),
    getRange: (request: RangeRequest) => {
      const bytes = store.get(request.key)!;
      return Promise.resolve({
        bytes: bytes.slice(request.startBytes, request.endBytes),
        etag: etag(request.key),
        totalBytes: bytes.length,
      });
    },
    putObject: (input) => {
      if (input.IfMatch !== etag(input.Key!)) throw new VeilError('REWRAP_SOURCE_CHANGED');
      store.set(input.Key!, input.Body as Uint8Array);
      return Promise.resolve({ ETag: '"new"', $metadata: {} });
    },
    createMultipartUpload: refuse,
    uploadPart: refuse,
    uploadPartCopy: refuse,
    completeMultipartUpload: refuse,
    abortMultipartUpload: refuse,
  };
}

describe('a batch through the real engine', () => {
  it('replaces key-x with key-y on every object under a prefix', async () => {
    const x = await keyring(1, 'key-x');
    const y = await keyring(2, 'key-y');
    const store = new Map<string, Uint8Array>();
    const texts = { 'p/one': 'first file', 'p/two': 'second file', 'p/three': 'by another key' };
    for (const [key, text] of Object.entries(texts)) {
      const ring = key === 'p/three' ? y : x;
      store.set(key, await message(new TextEncoder().encode(text), ring));
    }
    const s3 = memoryS3(store);
    const plan = await scanRewrapBatch({
      prefixes: ['p/'],
      list: () => Promise.resolve([...store.keys()].map((key) => ({ key }))),
      readHeader: headerReader(s3, 'bucket'),
      change: {
        removes: removingKeys([{ keyName: 'key-x' }]),
        adds: [{ providerId: 'veil', keyName: 'key-y' }],
      },
      match: (object) => object.keys.some((key) => key.keyName === 'key-x'),
    });
    expect(plan.objects.map((o) => o.key)).toEqual(['p/one', 'p/two']);
    const end = await new RewrapBatch({
      plan,
      setup: { s3, bucket: 'bucket', openWith: x, addWith: y, model: 'A' },
      concurrency: 2,
    }).run();
    expect(end.items.map((i) => i.state)).toEqual(['done', 'done']);
    for (const key of ['p/one', 'p/two'] as const) {
      const stored = store.get(key)!;
      expect(new TextDecoder().decode(await decryptBytes(stored, { keyring: y }))).toBe(texts[key]);
      await expectCode(decryptBytes(stored, { keyring: x }), 'NO_MATCHING_EDK');
    }
  });
});
