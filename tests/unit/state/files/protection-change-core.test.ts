/**
 * "Change protection" on injected deps: open reads each header once and lists the keys the
 * selection carries (a folder through the listing); plans for add, remove, replace and change of
 * model, refused with the catalogue's reason when they apply to nothing (the last key, a key the
 * user could no longer open with); start runs with the session's keyrings, the badge of the new
 * model, a result per object; a keyring the session lacks is a shown error; cancel.
 */
import { describe, expect, it } from 'vitest';
import {
  VeilError,
  createMultiKeyring,
  encryptBytes,
  parseHeaderBytes,
} from '../../../../src/core';
import type { Keyring, NeededKey } from '../../../../src/core';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import type { HeaderReader } from '../../../../src/transfer/rewrap-batch';
import type { RewrapResult, RewrapSetup } from '../../../../src/transfer/rewrap-options';
import type { RewrapS3 } from '../../../../src/transfer/rewrap-s3';
import {
  ProtectionChangeCore,
  checkOperation,
  firstFailure,
  type ChosenKey,
  type ProtectionDeps,
  type ProtectionView,
} from '../../../../src/state/files/protection-change-core';
import { modelOfProvider } from '../../../../src/state/files/download-keys';
import { testKeyBytes } from '../../core/helpers';

const ring = (seed: number, keyName: string): Promise<RawAesKeyring> =>
  RawAesKeyring.fromBytes({ keyBytes: testKeyBytes(256, seed), keyNamespace: 'veil', keyName });

async function stored(...rings: Keyring[]): Promise<Uint8Array> {
  const [generator, ...children] = rings;
  const keyring = children.length === 0 ? generator! : createMultiKeyring({ generator, children });
  return encryptBytes(new Uint8Array(100), { keyring, encryptionContext: { a: 'b' } });
}

interface World {
  objects: Record<string, Uint8Array>;
  /** Keys the session holds, by name. */
  held: string[];
}

function fakeDeps(world: World) {
  const reads: string[] = [];
  const setups: RewrapSetup[] = [];
  const readHeader: HeaderReader = (key) => {
    reads.push(key);
    const bytes = world.objects[key];
    if (!bytes) return Promise.reject(new VeilError('S3_REJECTED', 'NoSuchKey'));
    return Promise.resolve({
      kind: 'esdk-framed',
      objectBytes: bytes.length,
      etag: `"${key}"`,
      header: parseHeaderBytes(bytes.subarray(0, 4096)),
    });
  };
  const openWith = { onDecrypt: () => Promise.resolve(undefined) } as unknown as Keyring;
  const deps: ProtectionDeps = {
    bucket: 'bucket',
    list: (prefix) =>
      Promise.resolve(
        Object.keys(world.objects)
          .filter((key) => key.startsWith(prefix))
          .map((key) => ({ key })),
      ),
    readHeader,
    rewrapS3: () => ({}) as RewrapS3,
    readKeyring: () => Promise.resolve(openWith),
    writeKeyring: (key: ChosenKey) => {
      if (key.model === 'A' && !world.held.includes(key.keyName))
        throw new VeilError('VAULT_KEY_MISSING', key.keyName);
      return { onEncrypt: () => Promise.resolve(undefined) } as unknown as Keyring;
    },
    addedKey: (key) => ({
      providerId: key.model === 'C' ? 'aws-kms' : 'veil',
      keyName: key.keyName,
    }),
    canOpen: (key: NeededKey) => key.providerId === 'aws-kms' || world.held.includes(key.keyName),
    modelOf: modelOfProvider,
    rewrap: (setup) => {
      setups.push(setup);
      return Promise.resolve({ receivedBytes: 1, sentBytes: 1, copiedBytes: 0 } as RewrapResult);
    },
  };
  return { deps, reads, setups };
}

async function world(): Promise<World> {
  const x = await ring(1, 'key-x');
  const y = await ring(2, 'key-y');
  return {
    objects: {
      'top/a.txt': await stored(x),
      'top/sub/b.txt': await stored(x, y),
      'c.txt': await stored(y),
    },
    held: ['key-x', 'key-y', 'key-z'],
  };
}

describe('ProtectionChangeCore', () => {
  it('reads each header once and lists the keys the selection carries', async () => {
    const w = await world();
    const { deps, reads, setups } = fakeDeps(w);
    const views: ProtectionView[] = [];
    const core = new ProtectionChangeCore(deps, (view) => views.push(view));
    await core.open({ keys: ['c.txt'], prefixes: ['top/'] });
    expect(core.view.phase).toBe('choosing');
    expect(core.view.objects).toBe(3);
    expect(core.view.carried).toEqual([
      { providerId: 'veil', keyName: 'key-x', model: 'A', objects: 2 },
      { providerId: 'veil', keyName: 'key-y', model: 'A', objects: 2 },
    ]);
    expect(views.some((view) => view.phase === 'scanning' && view.scan)).toBe(true);
    await core.plan({ kind: 'add', add: { model: 'A', keyName: 'key-z' } });
    expect(reads.sort()).toEqual(['c.txt', 'top/a.txt', 'top/sub/b.txt']);
    // Adding a key leaves each object's model badge as it was.
    await core.start();
    expect(setups.map((setup) => [setup.model, setup.addWith !== undefined])).toEqual([
      [undefined, true],
      [undefined, true],
      [undefined, true],
    ]);
  });

  it('plans a replace and runs it with the session keyrings and a result per object', async () => {
    const { deps, setups } = fakeDeps(await world());
    const reEncrypter = { reEncrypt: () => Promise.resolve(undefined) };
    const core = new ProtectionChangeCore({
      ...deps,
      reEncrypter: (key) => (key.model === 'C' ? reEncrypter : undefined),
    });
    await core.open({ keys: [], prefixes: ['top/'] });
    await core.plan({
      kind: 'replace',
      remove: { providerId: 'veil', keyName: 'key-x' },
      add: { model: 'C', keyName: 'alias/new' },
    });
    expect(core.view.phase).toBe('planned');
    expect(core.view.refused).toBeUndefined();
    expect(core.view.removesKeys).toBe(true);
    expect(core.view.plan?.totals).toMatchObject({ objects: 2, ready: 2 });
    await core.start();
    expect(core.view.phase).toBe('finished');
    expect(core.view.run?.items.map((item) => item.state)).toEqual(['done', 'done']);
    expect(setups.map((s) => [s.key, s.remove, s.model, s.addWith !== undefined])).toEqual([
      ['top/a.txt', [{ keyName: 'key-x', providerId: 'veil' }], 'C', true],
      ['top/sub/b.txt', [{ keyName: 'key-x', providerId: 'veil' }], 'C', true],
    ]);
    // A KMS key to add goes through ReEncrypt where KMS allows it.
    expect(setups.every((setup) => setup.reEncrypt === reEncrypter)).toBe(true);
  });

  it('checks each object’s binding by the location’s rule: strict where names are private', async () => {
    for (const rule of ['required', 'if-present'] as const) {
      const { deps, setups } = fakeDeps(await world());
      const core = new ProtectionChangeCore({ ...deps, bindingRule: () => Promise.resolve(rule) });
      await core.open({ keys: ['c.txt'], prefixes: [] });
      await core.plan({ kind: 'add', add: { model: 'A', keyName: 'key-z' } });
      await core.start();
      expect(setups.map((setup) => setup.bindingRule)).toEqual([rule]);
    }
    const { deps, setups } = fakeDeps(await world());
    const core = new ProtectionChangeCore(deps);
    await core.open({ keys: ['c.txt'], prefixes: [] });
    await core.plan({ kind: 'add', add: { model: 'A', keyName: 'key-z' } });
    await core.start();
    expect(setups.map((setup) => setup.bindingRule)).toEqual(['if-present']);
  });

  it('refuses to remove the last key, and a key that would lock the user out', async () => {
    const w = await world();
    const { deps, setups } = fakeDeps(w);
    const core = new ProtectionChangeCore(deps);
    await core.open({ keys: ['top/a.txt'], prefixes: [] });
    await core.plan({ kind: 'remove', remove: { providerId: 'veil', keyName: 'key-x' } });
    expect(core.view.refused?.code).toBe('REWRAP_LAST_KEY');
    await core.start();
    expect(setups).toEqual([]);
    expect(core.view.phase).toBe('planned');

    w.held = ['key-x'];
    await core.open({ keys: ['top/sub/b.txt'], prefixes: [] });
    await core.plan({ kind: 'remove', remove: { providerId: 'veil', keyName: 'key-x' } });
    expect(core.view.refused?.code).toBe('REWRAP_WOULD_LOCK_OUT');
  });

  it('changes model: every key of the old model goes, the new key comes', async () => {
    const { deps, setups } = fakeDeps(await world());
    const core = new ProtectionChangeCore(deps);
    await core.open({ keys: ['top/sub/b.txt'], prefixes: [] });
    await core.plan({ kind: 'model', from: 'A', add: { model: 'C', keyName: 'alias/k' } });
    expect(core.view.plan?.objects[0]?.remove).toEqual([
      { keyName: 'key-x', providerId: 'veil' },
      { keyName: 'key-y', providerId: 'veil' },
    ]);
    await core.start();
    expect(setups[0]?.model).toBe('C');
  });

  it('a key the session cannot wrap with is a shown error; the plan stays', async () => {
    const { deps } = fakeDeps(await world());
    const core = new ProtectionChangeCore(deps);
    await core.open({ keys: ['c.txt'], prefixes: [] });
    await core.plan({ kind: 'add', add: { model: 'A', keyName: 'not-held' } });
    expect(core.view.phase).toBe('planned');
    await core.start();
    expect(core.view.phase).toBe('planned');
    expect(core.view.error?.code).toBe('VAULT_KEY_MISSING');
  });

  it('cancel during the run leaves the rest untouched; a bad operation is refused', async () => {
    const { deps } = fakeDeps(await world());
    let started = 0;
    const core = new ProtectionChangeCore({
      ...deps,
      concurrency: 1,
      rewrap: (setup) => {
        started += 1;
        return new Promise((_, reject) =>
          setup.signal?.addEventListener('abort', () => reject(new VeilError('REWRAP_CANCELLED'))),
        );
      },
    });
    await core.open({ keys: [], prefixes: ['top/'] });
    await core.plan({ kind: 'add', add: { model: 'A', keyName: 'key-z' } });
    const run = core.start();
    for (let i = 0; i < 50 && core.view.run?.items[0]?.state !== 'running'; i += 1) {
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(core.busy).toBe(true);
    core.cancel();
    await run;
    expect(core.view.run?.state).toBe('cancelled');
    expect(core.view.run?.items.map((item) => item.state)).toEqual(['cancelled', 'not-started']);
    expect(started).toBe(1);

    await core.plan({
      kind: 'replace',
      remove: { providerId: 'veil', keyName: 'k' },
      add: { model: 'A', keyName: 'k' },
    });
    expect(core.view.error?.code).toBe('BAD_ARGUMENT');
    expect(() =>
      checkOperation({ kind: 'model', from: 'C', add: { model: 'C', keyName: 'k' } }),
    ).toThrow(VeilError);
  });

  it('after a run on a versioned bucket, deletes the previous versions the engine names', async () => {
    const { deps } = fakeDeps(await world());
    const deleted: string[] = [];
    const core = new ProtectionChangeCore({
      ...deps,
      rewrapS3: () =>
        ({
          headObject: () => Promise.resolve({ versionId: 'current' }),
          deleteObjectVersion: (input: { Key: string; VersionId: string }) => {
            if (input.Key === 'top/sub/b.txt') {
              return Promise.reject(new VeilError('S3_REJECTED', 'AccessDenied'));
            }
            deleted.push(`${input.Key}@${input.VersionId}`);
            return Promise.resolve({});
          },
        }) as unknown as RewrapS3,
      rewrap: (setup) =>
        Promise.resolve({
          receivedBytes: 1,
          sentBytes: 1,
          copiedBytes: 0,
          previousVersionId: `old-${setup.key}`,
        } as RewrapResult),
    });
    await core.open({ keys: [], prefixes: ['top/'] });
    await core.plan({ kind: 'add', add: { model: 'A', keyName: 'key-z' } });
    await core.start();
    expect(core.view.previousVersions).toEqual([
      { key: 'top/a.txt', versionId: 'old-top/a.txt' },
      { key: 'top/sub/b.txt', versionId: 'old-top/sub/b.txt' },
    ]);
    await core.deletePreviousVersions();
    expect(deleted).toEqual(['top/a.txt@old-top/a.txt']);
    expect(core.view.versions).toMatchObject({
      state: 'done',
      deletedVersions: 1,
      failedVersions: 1,
      totalVersions: 2,
    });
    expect(core.view.versions?.error?.code).toBe('S3_REJECTED');
  });

  it('names the first failure in the catalogue, and reads the headers again after a run', async () => {
    const { deps, reads } = fakeDeps(await world());
    const core = new ProtectionChangeCore({
      ...deps,
      rewrap: (setup) =>
        setup.key === 'c.txt'
          ? Promise.reject(new VeilError('REWRAP_SOURCE_CHANGED', 'etag'))
          : Promise.resolve({ receivedBytes: 1, sentBytes: 1, copiedBytes: 0 } as RewrapResult),
    });
    await core.open({ keys: ['c.txt', 'top/a.txt'], prefixes: [] });
    await core.plan({ kind: 'add', add: { model: 'A', keyName: 'key-z' } });
    await core.start();
    const failure = firstFailure(core.view.run!);
    expect(failure?.code).toBe('REWRAP_SOURCE_CHANGED');
    expect(failure?.message).toContain('changed in the bucket');
    expect(reads).toHaveLength(2);
    core.back();
    await new Promise((r) => setTimeout(r, 10));
    expect(core.view.phase).toBe('choosing');
    expect(core.view.run).toBeUndefined();
    expect(reads).toHaveLength(4);
  });

  it('a listing that fails is the view error', async () => {
    const { deps } = fakeDeps(await world());
    const core = new ProtectionChangeCore({
      ...deps,
      list: () => Promise.reject(new VeilError('S3_REJECTED', 'AccessDenied')),
    });
    await core.open({ keys: [], prefixes: ['top/'] });
    expect(core.view.phase).toBe('failed');
    expect(core.view.error?.code).toBe('S3_REJECTED');
  });
});
