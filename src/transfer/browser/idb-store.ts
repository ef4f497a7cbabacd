/**
 * The app's resume store: UploadRecords in IndexedDB (database `veil-uploads`, object store
 * `uploads`) through idb-keyval, which structured-clones them (Uint8Array headers included).
 * See [Note: no secret in the resume record] in upload-store.ts. Rewrap records (rewrap-store.ts)
 * share the object store under their own key prefix.
 */
import { createStore, del, entries, get, set } from 'idb-keyval';
import { KeyValueUploadStore, type KeyValueApi } from '../kv-store';
import { KeyValueRewrapStore, type RewrapStore } from '../rewrap-store';
import type { UploadStore } from '../upload-store';

/** The object store both resume stores share; their entries have distinct key prefixes. */
function resumeKeyValues(): KeyValueApi {
  const kv = createStore('veil-uploads', 'uploads');
  return {
    get: (key) => get(key, kv),
    set: (key, value) => set(key, value, kv),
    del: (key) => del(key, kv),
    entries: () => entries(kv),
  };
}

/** The resume store on this browser's IndexedDB. */
export function indexedDbUploadStore(): UploadStore {
  return new KeyValueUploadStore(resumeKeyValues());
}

/** The rewrap resume store on this browser's IndexedDB ([Note: rewrap resume] in rewrap-resume.ts). */
export function indexedDbRewrapStore(): RewrapStore {
  return new KeyValueRewrapStore(resumeKeyValues());
}
