/**
 * The unfinished-uploads list on fakes: which records it offers, and what Resume and Discard do
 * with the file, the store, the upload's lock and the queue, including a second tab holding the
 * lock, a record removed meanwhile, a different file and a failed abort.
 */
import { describe, expect, test } from 'vitest';
import type { VeilConfig } from '../../../../src/aws/config';
import { VeilError } from '../../../../src/core/errors';
import type { Keyring } from '../../../../src/core/keyring';
import {
  UnfinishedCore,
  emptyUnfinishedState,
  type UnfinishedDeps,
  type UnfinishedHost,
} from '../../../../src/state/upload/unfinished-core';
import {
  MemoryUploadStore,
  fileIdentity,
  type UploadRecord,
} from '../../../../src/transfer/upload-store';

const config: VeilConfig = {
  region: 'us-east-1',
  bucket: 'b',
  prefix: 'veil',
  endpoints: {},
  forcePathStyle: true,
};
const keyring = { name: 'read' } as unknown as Keyring;

const fileOf = (text: string, name = 'a.txt') =>
  new File([text], name, { type: 'text/plain', lastModified: 1_700_000_000_000 });

async function recordFor(file: File, uploadId: string, key = `veil/${file.name}`) {
  return {
    id: uploadId,
    bucket: 'b',
    key,
    uploadId,
    protection: 'none',
    headerBytes: new Uint8Array(0),
    frameBytes: 0,
    framesPerPart: 0,
    partCount: 3,
    file: await fileIdentity(file),
    parts: [{ partNumber: 1, etag: '"e1"' }],
    createdAtMs: 1,
  } as unknown as UploadRecord;
}

/** The test's world: a store, the queue (host) and the locks, recording what happened. */
function world(options: { busyLocks?: string[]; abortFails?: boolean } = {}) {
  const store = new MemoryUploadStore();
  const held = new Set<string>();
  const events: string[] = [];
  const resumed: { record: UploadRecord; keyring: Keyring | undefined; release: () => void }[] = [];
  const host: UnfinishedHost = {
    config,
    liveUploadIds: () => new Set(['live']),
    addResumed: (record, _file, ring, release) => {
      resumed.push({ record, keyring: ring, release });
      return Promise.resolve();
    },
    readKeyring: () => Promise.resolve(keyring),
    abort: (key, uploadId) => {
      events.push(`abort ${key} ${uploadId} locked=${held.has(uploadId)}`);
      if (options.abortFails) {
        return Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
      }
      return store.delete(uploadId);
    },
    announce: (text) => events.push(`say ${text}`),
  };
  const busy = new Set(options.busyLocks ?? []);
  const deps: UnfinishedDeps = {
    store: () => store,
    session: { ready: true, signedIn: false, identityId: '' },
    vaultKeyNames: () => [],
    holdLock: (uploadId) => {
      if (busy.has(uploadId) || held.has(uploadId)) {
        return Promise.reject(new VeilError('RESUME_UPLOAD_BUSY'));
      }
      held.add(uploadId);
      return Promise.resolve(() => held.delete(uploadId));
    },
    withLock: async (uploadId, task) => {
      if (busy.has(uploadId) || held.has(uploadId)) throw new VeilError('RESUME_UPLOAD_BUSY');
      held.add(uploadId);
      try {
        await task();
      } finally {
        held.delete(uploadId);
      }
    },
  };
  const state = emptyUnfinishedState();
  const core = new UnfinishedCore(host, deps, state);
  return { store, held, events, resumed, core, state };
}

describe('the list', () => {
  test('offers this bucket under the root prefix, not uploads the queue holds', async () => {
    const w = world();
    const file = fileOf('x');
    await w.store.put(await recordFor(file, 'u1'));
    await w.store.put(await recordFor(file, 'live'));
    await w.store.put(await recordFor(file, 'elsewhere', 'other/a.txt'));
    await w.store.put({ ...(await recordFor(file, 'u2')), bucket: 'another' });
    await w.core.load();
    expect(w.core.entries.map((entry) => entry.id)).toEqual(['u1']);
    expect(w.state.entries[0]).toMatchObject({ fileName: 'a.txt', partsDone: 1, partCount: 3 });
  });

  test('a store that cannot be read offers nothing instead of failing', async () => {
    const w = world();
    const failing = new UnfinishedCore(
      { ...({} as UnfinishedHost), config, liveUploadIds: () => new Set() },
      {
        store: () => ({
          list: () => Promise.reject(new Error('no IndexedDB')),
          get: () => Promise.resolve(undefined),
        }),
        session: { ready: true, signedIn: false, identityId: '' },
        vaultKeyNames: () => [],
        holdLock: () => Promise.resolve(() => undefined),
        withLock: (_id, task) => task(),
      },
      w.state,
    );
    await failing.load();
    expect(failing.entries).toEqual([]);
  });
});

describe('resume', () => {
  test('the same file: the queue gets the record as stored now, with the lock held', async () => {
    const w = world();
    const file = fileOf('same bytes');
    const listed = await recordFor(file, 'u1');
    await w.store.put(listed);
    await w.core.load();
    // Another tab sent a part since the list was read.
    await w.store.put({ ...listed, parts: [...listed.parts, { partNumber: 2, etag: '"e2"' }] });
    await w.core.resume('u1', file);
    expect(w.core.error('u1')).toBeUndefined();
    expect(w.resumed).toHaveLength(1);
    expect(w.resumed[0]?.record.parts).toHaveLength(2);
    expect(w.held.has('u1')).toBe(true);
    expect(w.core.entries).toEqual([]);
    // The row lets go: the lock goes with it.
    w.resumed[0]?.release();
    expect(w.held.has('u1')).toBe(false);
  });

  test('a different file (same name, other bytes) is refused and nothing is queued', async () => {
    const w = world();
    await w.store.put(await recordFor(fileOf('original'), 'u1'));
    await w.core.load();
    await w.core.resume('u1', fileOf('changed!'));
    expect(w.core.error('u1')?.code).toBe('RESUME_FILE_MISMATCH');
    expect(w.resumed).toEqual([]);
    expect(w.held.size).toBe(0);
    expect(w.core.entries.map((entry) => entry.id)).toEqual(['u1']);
    expect(w.core.busy('u1')).toBe(false);
  });

  test('an upload another tab holds is not resumed (RESUME_UPLOAD_BUSY)', async () => {
    const w = world({ busyLocks: ['u1'] });
    const file = fileOf('x');
    await w.store.put(await recordFor(file, 'u1'));
    await w.core.load();
    await w.core.resume('u1', file);
    expect(w.core.error('u1')?.code).toBe('RESUME_UPLOAD_BUSY');
    expect(w.resumed).toEqual([]);
  });

  test('a record removed meanwhile: RESUME_UPLOAD_GONE, the entry leaves, the lock is freed', async () => {
    const w = world();
    const file = fileOf('x');
    await w.store.put(await recordFor(file, 'u1'));
    await w.core.load();
    await w.store.delete('u1');
    await w.core.resume('u1', file);
    expect(w.core.error('u1')?.code).toBe('RESUME_UPLOAD_GONE');
    expect(w.core.entries).toEqual([]);
    expect(w.held.size).toBe(0);
    expect(w.resumed).toEqual([]);
  });

  test('an encrypted upload asks the session for its keyring', async () => {
    const w = world();
    const file = fileOf('x');
    await w.store.put({ ...(await recordFor(file, 'u1')), protection: 'client-side' });
    await w.core.load();
    await w.core.resume('u1', file);
    expect(w.resumed[0]?.keyring).toBe(keyring);
  });
});

describe('discard', () => {
  test('aborts under the lock, forgets the entry and says so', async () => {
    const w = world();
    await w.store.put(await recordFor(fileOf('x'), 'u1'));
    await w.core.load();
    await w.core.discard('u1');
    expect(w.events).toEqual([
      'abort veil/a.txt u1 locked=true',
      'say Discarded the unfinished upload of a.txt.',
    ]);
    expect(w.core.entries).toEqual([]);
    expect(await w.store.get('u1')).toBeUndefined();
  });

  test('a failed abort keeps the entry and shows a catalogued S3 error', async () => {
    const w = world({ abortFails: true });
    await w.store.put(await recordFor(fileOf('x'), 'u1'));
    await w.core.load();
    await w.core.discard('u1');
    expect(w.core.error('u1')?.code).toBe('S3_REJECTED');
    expect(w.core.entries.map((entry) => entry.id)).toEqual(['u1']);
    expect(await w.store.get('u1')).toBeDefined();
  });

  test('an upload running in another tab is not discarded', async () => {
    const w = world({ busyLocks: ['u1'] });
    await w.store.put(await recordFor(fileOf('x'), 'u1'));
    await w.core.load();
    await w.core.discard('u1');
    expect(w.core.error('u1')?.code).toBe('RESUME_UPLOAD_BUSY');
    expect(w.events).toEqual([]);
  });
});
