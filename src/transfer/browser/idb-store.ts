/**
 * The app's resume store: UploadRecords in IndexedDB (database `veil-uploads`, object store
 * `uploads`) through idb-keyval, which structured-clones them (Uint8Array headers included).
 * See [Note: no secret in the resume record] in upload-store.ts.
 */
import { createStore, del, entries, get, set } from 'idb-keyval';
import { KeyValueUploadStore } from '../kv-store';
import type { UploadStore } from '../upload-store';

/** The resume store on this browser's IndexedDB. */
export function indexedDbUploadStore(): UploadStore {
  const kv = createStore('veil-uploads', 'uploads');
  return new KeyValueUploadStore({
    get: (key) => get(key, kv),
    set: (key, value) => set(key, value, kv),
    del: (key) => del(key, kv),
    entries: () => entries(kv),
  });
}
