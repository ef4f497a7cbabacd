import { describe, expect, test } from 'vitest';
import {
  KeyValueUploadStore,
  RECORD_KEY_PREFIX,
  type KeyValueApi,
} from '../../../src/transfer/kv-store';
import type { UploadRecord } from '../../../src/transfer/upload-store';

/** A Map behind the idb-keyval calls, cloning like IndexedDB does. */
function mapKv(): KeyValueApi & { map: Map<string, unknown> } {
  const map = new Map<string, unknown>();
  return {
    map,
    get: (key) => Promise.resolve(structuredClone(map.get(key))),
    set: (key, value) => (map.set(key, structuredClone(value)), Promise.resolve()),
    del: (key) => (map.delete(key), Promise.resolve()),
    entries: () =>
      Promise.resolve([...map].map(([k, v]) => [k, structuredClone(v)] as [string, unknown])),
  };
}

function record(id: string, createdAtMs: number): UploadRecord {
  return {
    id,
    bucket: 'b',
    key: 'k',
    uploadId: id,
    protection: 'client-side',
    headerBytes: new Uint8Array([2, 4, 120]),
    frameBytes: 524_288,
    framesPerPart: 16,
    partCount: 3,
    file: { name: 'f', sizeBytes: 10, lastModifiedMs: 1, prefixSha256: '00' },
    parts: [{ partNumber: 1, etag: '"e"', checksumCrc32: 'AAAAAA==' }],
    createdAtMs,
  };
}

describe('KeyValueUploadStore', () => {
  test('stores, lists in creation order, reads back and deletes records', async () => {
    const kv = mapKv();
    const store = new KeyValueUploadStore(kv);
    await store.put(record('b', 2));
    await store.put(record('a', 1));
    kv.map.set('other', { not: 'a record' });
    kv.map.set(`${RECORD_KEY_PREFIX}broken`, { id: 'broken' });
    expect((await store.list()).map((r) => r.id)).toEqual(['a', 'b']);
    const back = await store.get('a');
    expect(back?.headerBytes).toEqual(new Uint8Array([2, 4, 120]));
    expect(back?.parts).toEqual([{ partNumber: 1, etag: '"e"', checksumCrc32: 'AAAAAA==' }]);
    expect(await store.get('broken')).toBeUndefined();
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    expect((await store.list()).map((r) => r.id)).toEqual(['b']);
  });
});
