/**
 * Unfinished protection changes on fakes: a change run with the store that fails resumably
 * leaves a record Files lists; only records of this bucket under the root prefix are listed;
 * Resume completes and the entry goes; a resume that fails resumably keeps the entry with its
 * error, one the engine dropped (a changed source) goes with its error shown; Discard aborts the
 * upload through the seam and deletes the record.
 */
import { describe, expect, it } from 'vitest';
import { VeilError, encryptBytes, parseHeaderBytes } from '../../../../src/core';
import type { Keyring } from '../../../../src/core';
import { RawAesKeyring } from '../../../../src/keyrings/raw-aes';
import { modelOfProvider } from '../../../../src/state/files/download-keys';
import {
  ProtectionChangeCore,
  type ProtectionDeps,
} from '../../../../src/state/files/protection-change-core';
import {
  UnfinishedChangesCore,
  emptyUnfinishedChangesState,
  type UnfinishedChangesDeps,
} from '../../../../src/state/files/unfinished-changes-core';
import type { RewrapResult, RewrapSetup } from '../../../../src/transfer/rewrap-options';
import type { RewrapS3 } from '../../../../src/transfer/rewrap-s3';
import { MemoryRewrapStore, type RewrapRecord } from '../../../../src/transfer/rewrap-store';
import { testKeyBytes } from '../../core/helpers';

const RESULT = { receivedBytes: 1, sentBytes: 1, copiedBytes: 2 } as RewrapResult;

function record(id: string, key: string, bucket = 'bucket', createdAtMs = 1): RewrapRecord {
  return {
    id,
    bucket,
    key,
    uploadId: id,
    sourceEtag: '"e"',
    oldObjectBytes: 20_000_000,
    oldHeaderBytes: 300,
    newHeader: 'AAEC',
    putMaxBytes: 5 * 1024 * 1024,
    copyPartBytes: 128 * 1024 * 1024,
    parts: [{ partNumber: 1, etag: '"p1"' }],
    removed: [],
    added: [],
    createdAtMs,
  };
}

function listFor(store: MemoryRewrapStore, extra: Partial<UnfinishedChangesDeps> = {}) {
  const aborted: string[] = [];
  const said: string[] = [];
  const s3 = {
    abortMultipartUpload: (input: { Key: string; UploadId: string }) => {
      aborted.push(`${input.Key} ${input.UploadId}`);
      return Promise.resolve({});
    },
  } as unknown as RewrapS3;
  const state = emptyUnfinishedChangesState();
  const list = new UnfinishedChangesCore(
    {
      bucket: 'bucket',
      root: () => 'users/me/',
      store: () => store,
      rewrapS3: () => s3,
      announce: (text) => said.push(text),
      ...extra,
    },
    state,
  );
  return { list, state, aborted, said };
}

/** A change of protection of one object whose engine saves a record, then loses the network. */
async function interruptedChange(store: MemoryRewrapStore): Promise<RewrapSetup[]> {
  const keyring = await RawAesKeyring.fromBytes({
    keyBytes: testKeyBytes(256, 1),
    keyNamespace: 'veil',
    keyName: 'key-x',
  });
  const bytes = await encryptBytes(new Uint8Array(100), { keyring, encryptionContext: {} });
  const setups: RewrapSetup[] = [];
  const deps: ProtectionDeps = {
    bucket: 'bucket',
    list: () => Promise.resolve([{ key: 'users/me/big.bin' }]),
    readHeader: () =>
      Promise.resolve({
        kind: 'esdk-framed',
        objectBytes: bytes.length,
        etag: '"e"',
        header: parseHeaderBytes(bytes),
      }),
    rewrapS3: () => ({}) as RewrapS3,
    rewrapStore: () => store,
    readKeyring: () => Promise.resolve(keyring as Keyring),
    writeKeyring: () => keyring,
    addedKey: (key) => ({ providerId: 'veil', keyName: key.keyName }),
    canOpen: () => true,
    modelOf: modelOfProvider,
    rewrap: async (setup) => {
      setups.push(setup);
      // The engine keeps its record before the first part, and keeps it on a resumable failure.
      await setup.store?.put(record('upload-1', setup.key));
      throw new VeilError('S3_UNREACHABLE', 'the network went away');
    },
  };
  const core = new ProtectionChangeCore(deps);
  await core.open({ keys: ['users/me/big.bin'], prefixes: [] });
  await core.plan({ kind: 'add', add: { model: 'A', keyName: 'key-y' } });
  await core.start();
  expect(core.view.run?.items.map((item) => item.state)).toEqual(['failed']);
  return setups;
}

describe('UnfinishedChangesCore', () => {
  it('lists the record a change left when it failed resumably', async () => {
    const store = new MemoryRewrapStore();
    const setups = await interruptedChange(store);
    expect(setups[0]?.store).toBe(store);
    const { list } = listFor(store);
    await list.load();
    expect(list.entries).toEqual([
      {
        id: 'upload-1',
        key: 'users/me/big.bin',
        name: 'big.bin',
        partsDone: 1,
        createdAtMs: 1,
      },
    ]);
  });

  it('lists only records of this bucket under the root prefix, oldest first', async () => {
    const store = new MemoryRewrapStore();
    await store.put(record('b', 'users/me/b.bin', 'bucket', 2));
    await store.put(record('a', 'users/me/dir/a.bin', 'bucket', 1));
    await store.put(record('other-bucket', 'users/me/c.bin', 'elsewhere'));
    await store.put(record('other-user', 'users/you/d.bin'));
    const { list } = listFor(store);
    await list.load();
    expect(list.entries.map((entry) => entry.id)).toEqual(['a', 'b']);
    // No root yet (no identity), or no store: nothing is offered.
    const noRoot = listFor(store, { root: () => undefined }).list;
    await noRoot.load();
    expect(noRoot.entries).toEqual([]);
    const noStore = listFor(store, { store: () => undefined }).list;
    await noStore.load();
    expect(noStore.entries).toEqual([]);
  });

  it('resumes with no key: the run completes and the entry goes', async () => {
    const store = new MemoryRewrapStore();
    await store.put(record('upload-1', 'users/me/big.bin'));
    const resumed: string[] = [];
    const { list, said } = listFor(store, {
      resume: async (setup) => {
        resumed.push(setup.id);
        expect(setup.store).toBe(store);
        await setup.store.delete(setup.id);
        return RESULT;
      },
    });
    await list.load();
    expect(await list.resume('upload-1')).toBe(RESULT);
    expect(resumed).toEqual(['upload-1']);
    expect(list.entries).toEqual([]);
    expect(await store.list()).toEqual([]);
    expect(said).toEqual(['Finished changing the protection of big.bin.']);
    await list.load();
    expect(list.entries).toEqual([]);
  });

  it('a resumable failure keeps the entry with its error; a changed source drops it', async () => {
    const store = new MemoryRewrapStore();
    await store.put(record('upload-1', 'users/me/big.bin'));
    let failure = new VeilError('CREDENTIALS_EXPIRED', 'expired');
    const { list } = listFor(store, {
      resume: async (setup) => {
        if (failure.code === 'REWRAP_SOURCE_CHANGED') await setup.store.delete(setup.id);
        throw failure;
      },
    });
    await list.load();
    expect(await list.resume('upload-1')).toBeUndefined();
    expect(list.entries.map((entry) => entry.id)).toEqual(['upload-1']);
    expect(list.error('upload-1')?.code).toBe('CREDENTIALS_EXPIRED');
    expect(list.busy('upload-1')).toBe(false);

    failure = new VeilError('REWRAP_SOURCE_CHANGED', 'another ETag');
    await list.resume('upload-1');
    expect(list.entries).toEqual([]);
    expect(list.dropped?.name).toBe('big.bin');
    expect(list.dropped?.error.code).toBe('REWRAP_SOURCE_CHANGED');
    // In the catalogue's words.
    expect(list.dropped?.error.message).toMatch(/changed in the bucket/);
    list.dismissDropped();
    expect(list.dropped).toBeUndefined();
  });

  it('discards: the upload is aborted through the seam and the record deleted', async () => {
    const store = new MemoryRewrapStore();
    await store.put(record('upload-1', 'users/me/big.bin'));
    await store.put(record('upload-2', 'users/me/other.bin', 'bucket', 2));
    const { list, aborted, said } = listFor(store);
    await list.load();
    await list.discard('upload-1');
    expect(aborted).toEqual(['users/me/big.bin upload-1']);
    expect((await store.list()).map((r) => r.id)).toEqual(['upload-2']);
    expect(list.entries.map((entry) => entry.id)).toEqual(['upload-2']);
    expect(said).toEqual(['Discarded the unfinished change of big.bin.']);
    // An id not listed is left alone.
    await list.discard('nope');
    expect(aborted).toHaveLength(1);
  });
});
