/**
 * [Note: no secret in the rewrap record]: the record is plain JSON that survives a JSON round
 * trip; the key-value store keeps only `rewrap:` entries shaped like records; the ledger saves
 * before anything is sent (REWRAP_RECORD_UNWRITABLE when it cannot), then records parts in order
 * and best effort.
 */
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core';
import {
  KeyValueRewrapStore,
  MemoryRewrapStore,
  RewrapLedger,
  fromStoredEdk,
  isRewrapRecord,
  toStoredEdk,
  type RewrapRecord,
  type RewrapStore,
} from '../../../src/transfer/rewrap-store';
import { expectCode } from '../core/helpers';

const RECORD: RewrapRecord = {
  id: 'upload-1',
  bucket: 'b',
  key: 'k.veil',
  uploadId: 'upload-1',
  sourceEtag: '"e"',
  sourceVersionId: 'v1',
  oldObjectBytes: 20_000_000,
  oldHeaderBytes: 300,
  newHeader: 'AAEC',
  putMaxBytes: 5 * 1024 * 1024,
  copyPartBytes: 128 * 1024 * 1024,
  parts: [],
  removed: [],
  added: [],
  createdAtMs: 1,
};

describe('rewrap records and stores', () => {
  it('round-trips an EDK and a whole record through JSON', () => {
    const edk = {
      providerId: 'veil',
      providerInfo: utf8('name'),
      ciphertext: new Uint8Array([1, 2, 3]),
    };
    const record: RewrapRecord = { ...RECORD, added: [toStoredEdk(edk)] };
    const copy = JSON.parse(JSON.stringify(record)) as unknown;
    expect(isRewrapRecord(copy)).toBe(true);
    expect(fromStoredEdk((copy as RewrapRecord).added[0]!)).toEqual(edk);
  });

  it('tells records from other values', () => {
    expect(isRewrapRecord(null)).toBe(false);
    expect(isRewrapRecord({ ...RECORD, newHeader: new Uint8Array(1) })).toBe(false);
    expect(isRewrapRecord({ ...RECORD, oldHeaderBytes: 1.5 })).toBe(false);
    expect(isRewrapRecord({ ...RECORD, parts: undefined })).toBe(false);
  });

  it('keeps only rewrap entries in a shared key-value store, oldest first', async () => {
    const entries = new Map<string, unknown>([
      ['upload:x', { ...RECORD, id: 'x' }],
      ['rewrap:junk', { id: 'junk' }],
    ]);
    const store = new KeyValueRewrapStore({
      get: (key) => Promise.resolve(entries.get(key)),
      set: (key, value) => Promise.resolve(void entries.set(key, value)),
      del: (key) => Promise.resolve(void entries.delete(key)),
      entries: () => Promise.resolve([...entries.entries()]),
    });
    await store.put({ ...RECORD, id: 'b', createdAtMs: 2 });
    await store.put({ ...RECORD, id: 'a', createdAtMs: 1 });
    expect((await store.list()).map((record) => record.id)).toEqual(['a', 'b']);
    expect(await store.get('junk')).toBeUndefined();
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    expect(entries.has('upload:x')).toBe(true);
  });

  it('the memory store hands out copies', async () => {
    const store = new MemoryRewrapStore();
    await store.put(RECORD);
    const got = await store.get(RECORD.id);
    expect(got).toEqual(RECORD);
    expect(got).not.toBe(RECORD);
  });

  it('the ledger saves first, then records parts in order; a refused first save is caught', async () => {
    const store = new MemoryRewrapStore();
    const ledger = await RewrapLedger.open(store, RECORD);
    ledger.partDone({ partNumber: 2, etag: '"2"' });
    ledger.partDone({ partNumber: 1, etag: '"1"', checksumCrc32: 'AAAAAA==' });
    ledger.partDone({ partNumber: 2, etag: '"2b"' });
    await ledger.flush();
    expect((await store.get(RECORD.id))?.parts).toEqual([
      { partNumber: 1, etag: '"1"', checksumCrc32: 'AAAAAA==' },
      { partNumber: 2, etag: '"2b"' },
    ]);
    await ledger.discard();
    expect(await store.list()).toEqual([]);

    const refusing: RewrapStore = {
      list: () => store.list(),
      get: (id) => store.get(id),
      delete: (id) => store.delete(id),
      put: () => Promise.reject(new Error('quota')),
    };
    await expectCode(RewrapLedger.open(refusing, RECORD), 'REWRAP_RECORD_UNWRITABLE');
    // After the first save, a refused write of a part is not fatal.
    let writes = 0;
    const flaky: RewrapStore = {
      list: () => store.list(),
      get: (id) => store.get(id),
      delete: (id) => store.delete(id),
      put: (record) => (writes++ === 0 ? store.put(record) : Promise.reject(new Error('quota'))),
    };
    const second = await RewrapLedger.open(flaky, RECORD);
    second.partDone({ partNumber: 1, etag: '"1"' });
    await expect(second.flush()).resolves.toBeUndefined();
    expect(second.record.parts).toHaveLength(1);
  });
});
