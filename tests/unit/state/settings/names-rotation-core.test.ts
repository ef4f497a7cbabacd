/**
 * Settings' "Rotate names key…" ([Note: names key rotation]) on injected deps and a bucket in
 * memory: open checks the names key and finds a started rotation; plan lists the root and shows
 * what is renamed and skipped without writing anything; start creates the next key, renames
 * every object, plans again for an object uploaded meanwhile, finishes (next key in place) and
 * reopens the names; a run cancelled part-way stops with both keys kept and continues when
 * started again with the same next key; a names key that does not open is a clear error and
 * nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { VeilError, type Keyring } from '../../../../src/core';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import { privateNames, type LocationNames } from '../../../../src/transfer/location-names';
import {
  NAMES_KEY_PATH,
  NEXT_NAMES_KEY_PATH,
  ensureNamesKey,
  readAt,
} from '../../../../src/transfer/names-key';
import type { RewrapResult, RewrapSetup } from '../../../../src/transfer/rewrap-options';
import type { RewrapS3 } from '../../../../src/transfer/rewrap-s3';
import {
  NamesRotationCore,
  type NamesRotationDeps,
  type RotationStorage,
} from '../../../../src/state/settings/names-rotation-core';

const LOCATION = { bucket: 'veil-files', root: 'team/' };
const CONTEXT = { 'veil-app': 'veil', 'veil-bucket': 'veil-files' };
const CURRENT = `${LOCATION.root}${NAMES_KEY_PATH}`;
const NEXT = `${LOCATION.root}${NEXT_NAMES_KEY_PATH}`;

function keyring(seed: number): Promise<Keyring> {
  const keyBytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 5 + seed) & 0xff);
  return RawAesKeyring.fromBytes({ keyBytes, keyName: `k${seed}`, keyNamespace: 'veil' });
}

/** A bucket in memory: names keys hold bytes, other objects only a size. */
class MemoryBucket {
  readonly objects = new Map<string, Uint8Array>();
  writes = 0;
  readonly storage: RotationStorage = {
    read: (key) => Promise.resolve(this.objects.get(key)?.slice()),
    createOnly: (key, body) => {
      if (this.objects.has(key)) return Promise.resolve(false);
      this.writes++;
      this.objects.set(key, body.slice());
      return Promise.resolve(true);
    },
    remove: (key) => {
      this.writes++;
      this.objects.delete(key);
      return Promise.resolve();
    },
  };
  put(key: string, sizeBytes: number): void {
    this.objects.set(key, new Uint8Array(sizeBytes));
  }
  keys(): string[] {
    return [...this.objects.keys()].sort();
  }
}

interface World {
  bucket: MemoryBucket;
  keyring: Keyring | undefined;
  /** What wraps the new names key (default: `keyring`). */
  write?: Keyring;
  /** Called before each move; a promise returned holds the move until cancelled. */
  beforeMove?: (setup: RewrapSetup, index: number) => 'hold' | void;
}

function fakeDeps(world: World) {
  const moves: RewrapSetup[] = [];
  const counts = { reopen: 0, finish: 0, lists: 0 };
  const deps: NamesRotationDeps = {
    location: () => LOCATION,
    storage: () => world.bucket.storage,
    list: (prefix) => {
      counts.lists++;
      return Promise.resolve(
        world.bucket
          .keys()
          .filter((key) => key.startsWith(prefix))
          .map((key) => ({ key, sizeBytes: world.bucket.objects.get(key)?.length ?? 0 })),
      );
    },
    rewrapS3: () => ({}) as RewrapS3,
    readKeyring: () => Promise.resolve(world.keyring),
    writeKeys: () => {
      const keyring = world.write ?? world.keyring;
      if (!keyring) throw new VeilError('VAULT_KEY_MISSING');
      return { keyring, encryptionContext: CONTEXT, keyName: 'upload key' };
    },
    reopen: () => counts.reopen++,
    concurrency: 1,
    rewrap: (setup) => {
      moves.push(setup);
      if (world.beforeMove?.(setup, moves.length - 1) === 'hold') {
        return new Promise<RewrapResult>((_, reject) =>
          setup.signal?.addEventListener('abort', () => reject(new VeilError('REWRAP_CANCELLED'))),
        );
      }
      const destination = setup.destinationKey ?? setup.key;
      const body = world.bucket.objects.get(setup.key);
      if (!body) return Promise.reject(new VeilError('S3_REJECTED', 'no such key'));
      if (world.bucket.objects.has(destination)) {
        return Promise.reject(new VeilError('MOVE_DESTINATION_EXISTS'));
      }
      world.bucket.objects.delete(setup.key);
      world.bucket.objects.set(destination, body);
      world.bucket.writes++;
      return Promise.resolve({
        bucket: setup.bucket,
        key: destination,
        method: 'put',
        movedFrom: { key: setup.key, deleted: true },
      } as unknown as RewrapResult);
    },
    // The last step as the engine does it, without re-binding the key (no S3 here).
    finish: async (storage, _location, move) => {
      counts.finish++;
      expect(move.openWith).toBeDefined();
      const next = await storage.read(NEXT);
      if (!next) throw new VeilError('BAD_ARGUMENT', 'no names key rotation was started here');
      await storage.remove(CURRENT);
      world.bucket.objects.set(CURRENT, next);
      world.bucket.objects.delete(NEXT);
      return { bucket: LOCATION.bucket, key: CURRENT, method: 'put' } as unknown as RewrapResult;
    },
  };
  return { deps, moves, counts };
}

/** A private location with `paths` stored under its names key, and one foreign name. */
async function privateLocation(paths: Record<string, number>) {
  const bucket = new MemoryBucket();
  const key = await keyring(1);
  const { cipher } = await ensureNamesKey(bucket.storage, LOCATION, key, CONTEXT);
  const names = privateNames(LOCATION, cipher);
  for (const [path, sizeBytes] of Object.entries(paths))
    bucket.put(names.objectKey(path), sizeBytes);
  bucket.put(`${LOCATION.root}not-a-private-name`, 7);
  bucket.writes = 0;
  return { bucket, key, names };
}

async function nextNames(bucket: MemoryBucket, key: Keyring): Promise<LocationNames> {
  const cipher = await readAt(bucket.storage, LOCATION, NEXT_NAMES_KEY_PATH, key);
  if (!cipher) throw new Error('no next key');
  return privateNames(LOCATION, cipher);
}

const FILES = { 'a.txt': 100, 'reports/q1.pdf': 2000, 'reports/2026/q2.pdf': 3000 };

describe('NamesRotationCore', () => {
  it('opens, then plans every object under the root without writing anything', async () => {
    const { bucket, key, names } = await privateLocation(FILES);
    const { deps } = fakeDeps({ bucket, keyring: key });
    const core = new NamesRotationCore(deps);
    await core.open();
    expect(core.view).toMatchObject({
      phase: 'ready',
      started: false,
      lastStep: false,
      keyName: 'upload key',
    });
    await core.plan();
    const view = core.view;
    expect(view.phase).toBe('planned');
    expect(view.plan?.totals.ready).toBe(3);
    expect(view.plan?.totals.skipped).toBe(1);
    expect(view.plan?.totals.objectBytes).toBe(5100);
    // Small objects are read and sent again whole: nothing is copied inside S3.
    expect(view.plan?.totals.copiedBytes).toBe(0);
    expect(view.plan?.totals.clientBytes).toBeGreaterThanOrEqual(5100);
    expect(view.skipped).toEqual([
      { key: 'team/not-a-private-name', code: 'NAME_UNREADABLE', detail: 'name does not open' },
    ]);
    expect(core.shown(names.objectKey('reports/q1.pdf'))).toBe('reports/q1.pdf');
    expect(bucket.writes).toBe(0);
    expect(bucket.objects.has(NEXT)).toBe(false);
  });

  it('renames every object, plans again for one uploaded meanwhile, finishes and reopens', async () => {
    const { bucket, key, names } = await privateLocation(FILES);
    const world: World = { bucket, keyring: key };
    world.beforeMove = (_setup, index) => {
      // An upload under the current key while the first object moves.
      if (index === 0) bucket.put(names.objectKey('late.txt'), 10);
    };
    const { deps, moves, counts } = fakeDeps(world);
    const core = new NamesRotationCore(deps);
    await core.open();
    await core.plan();
    const next = core.start();
    expect(core.running).toBe(true);
    await next;
    expect(core.view.error).toBeUndefined();
    expect(core.view).toMatchObject({ phase: 'finished', movedObjects: 4, round: 2 });
    expect(moves.every((setup) => setup.bindingRule === 'required')).toBe(true);
    expect(counts).toMatchObject({ finish: 1, reopen: 1 });
    // The next key took the current one's place; no old stored name is left.
    expect(bucket.objects.has(NEXT)).toBe(false);
    expect(bucket.objects.has(CURRENT)).toBe(true);
    const renamed = moves.map((setup) => setup.destinationKey ?? '');
    for (const path of [...Object.keys(FILES), 'late.txt']) {
      expect(bucket.objects.has(names.objectKey(path))).toBe(false);
    }
    expect(renamed).toHaveLength(4);
    for (const destination of renamed) expect(bucket.objects.has(destination)).toBe(true);
    expect(bucket.objects.has('team/not-a-private-name')).toBe(true);
  });

  it('a run cancelled part-way keeps both keys and continues with the same next key', async () => {
    const { bucket, key, names } = await privateLocation(FILES);
    // The new names key is wrapped by the upload key, which the session reads as well.
    const upload = await keyring(3);
    const world: World = { bucket, keyring: key, write: upload };
    let core = new NamesRotationCore(fakeDeps(world).deps);
    world.beforeMove = (_setup, index) => {
      if (index !== 1) return;
      queueMicrotask(() => core.cancel());
      return 'hold';
    };
    await core.open();
    await core.plan();
    await core.start();
    expect(core.view.phase).toBe('stopped');
    expect(core.view.started).toBe(true);
    expect(core.view.error?.code).toBe('REWRAP_CANCELLED');
    expect(core.view.movedObjects).toBe(1);
    expect(bucket.objects.has(CURRENT)).toBe(true);
    const nextKey = bucket.objects.get(NEXT);
    expect(nextKey).toBeDefined();
    const next = await nextNames(bucket, upload);
    await expect(readAt(bucket.storage, LOCATION, NEXT_NAMES_KEY_PATH, key)).rejects.toThrow();

    // Started again (a reload): the dialog says so, and the plan leaves out what moved.
    world.beforeMove = undefined;
    const second = fakeDeps(world);
    core = new NamesRotationCore(second.deps);
    await core.open();
    expect(core.view).toMatchObject({ phase: 'ready', started: true, lastStep: false });
    await core.plan();
    expect(core.view.plan?.totals.ready).toBe(2);
    await core.start();
    expect(core.view.phase).toBe('finished');
    expect(bucket.objects.get(CURRENT)).toEqual(nextKey);
    for (const path of Object.keys(FILES)) {
      expect(bucket.objects.has(names.objectKey(path))).toBe(false);
      expect(bucket.objects.has(next.objectKey(path))).toBe(true);
    }
    expect(second.counts.reopen).toBe(1);
  });

  it('a rotation stopped inside its last step only puts the next key in place', async () => {
    const { bucket, key } = await privateLocation({ 'a.txt': 1 });
    const { deps, counts } = fakeDeps({ bucket, keyring: key });
    const core = new NamesRotationCore(deps);
    await core.open();
    await core.plan();
    await core.start();
    expect(core.view.phase).toBe('finished');
    const moved = bucket.objects.get(CURRENT);
    // The current key removed, the next one not yet in place.
    bucket.objects.set(NEXT, moved ?? new Uint8Array());
    bucket.objects.delete(CURRENT);
    await core.open();
    expect(core.view).toMatchObject({ phase: 'ready', started: true, lastStep: true });
    await core.plan();
    expect(core.view.phase).toBe('planned');
    await core.start();
    expect(core.view.phase).toBe('finished');
    expect(counts.finish).toBe(2);
    expect(bucket.objects.has(CURRENT)).toBe(true);
  });

  it('a names key that does not open is a clear error, and nothing is written', async () => {
    const { bucket } = await privateLocation(FILES);
    const { deps, counts } = fakeDeps({ bucket, keyring: await keyring(2) });
    const core = new NamesRotationCore(deps);
    await core.open();
    expect(core.view.phase).toBe('failed');
    expect(core.view.error?.code).toBe('NAMES_KEY_UNREADABLE');
    await core.plan();
    await core.start();
    expect(core.view.phase).toBe('failed');
    expect(bucket.writes).toBe(0);
    expect(bucket.objects.has(NEXT)).toBe(false);
    expect(counts).toMatchObject({ lists: 0, finish: 0, reopen: 0 });
  });

  it('a session without keys, and a location without a names key, are refused', async () => {
    const { bucket } = await privateLocation(FILES);
    const core = new NamesRotationCore(fakeDeps({ bucket, keyring: undefined }).deps);
    await core.open();
    expect(core.view.error?.code).toBe('NO_KEY_FOR_OBJECT');
    const plain = new MemoryBucket();
    const other = new NamesRotationCore(
      fakeDeps({ bucket: plain, keyring: await keyring(1) }).deps,
    );
    await other.open();
    expect(other.view).toMatchObject({ phase: 'failed', error: { code: 'BAD_ARGUMENT' } });
    expect(plain.writes).toBe(0);
  });

  it('close forgets everything', async () => {
    const { bucket, key } = await privateLocation(FILES);
    const core = new NamesRotationCore(fakeDeps({ bucket, keyring: key }).deps);
    await core.open();
    await core.plan();
    core.close();
    expect(core.view.phase).toBe('idle');
    expect(core.busy).toBe(false);
  });
});
