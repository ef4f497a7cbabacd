/**
 * The persistent resume store: UploadRecords in a key-value store, one entry per upload id (the
 * app builds it on IndexedDB in browser/idb-store.ts). In the app the key-value store is
 * IndexedDB through idb-keyval, which structured-clones the records (Uint8Array headers
 * included); the API is injected so this file needs no import of it:
 *
 *   import { createStore, del, entries, get, set } from 'idb-keyval';
 *   const kv = createStore('veil-uploads', 'uploads');
 *   const store = new KeyValueUploadStore({
 *     get: (key) => get(key, kv), set: (key, value) => set(key, value, kv),
 *     del: (key) => del(key, kv), entries: () => entries(kv),
 *   });
 *
 * See [Note: no secret in the resume record] in upload-store.ts.
 */
import type { UploadRecord, UploadStore } from './upload-store';

/** The four key-value calls the store needs (idb-keyval's, bound to one object store). */
export interface KeyValueApi {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  entries(): Promise<[IDBValidKey, unknown][]>;
}

/** Entry names start with this, so the object store may hold other things later. */
export const RECORD_KEY_PREFIX = 'upload:';

/** True for a value shaped like an UploadRecord (entries written by an older Veil are skipped). */
export function isUploadRecord(value: unknown): value is UploadRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<UploadRecord>;
  return (
    typeof record.id === 'string' &&
    typeof record.uploadId === 'string' &&
    typeof record.bucket === 'string' &&
    typeof record.key === 'string' &&
    record.headerBytes instanceof Uint8Array &&
    Number.isSafeInteger(record.frameBytes) &&
    Number.isSafeInteger(record.framesPerPart) &&
    Number.isSafeInteger(record.partCount) &&
    Array.isArray(record.parts) &&
    typeof record.file === 'object' &&
    record.file !== null
  );
}

/** UploadStore over a key-value API (IndexedDB through idb-keyval in the app). */
export class KeyValueUploadStore implements UploadStore {
  readonly #kv: KeyValueApi;

  constructor(kv: KeyValueApi) {
    this.#kv = kv;
  }

  async list(): Promise<UploadRecord[]> {
    const records: UploadRecord[] = [];
    for (const [key, value] of await this.#kv.entries()) {
      if (typeof key === 'string' && key.startsWith(RECORD_KEY_PREFIX) && isUploadRecord(value)) {
        records.push(value);
      }
    }
    return records.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  async get(id: string): Promise<UploadRecord | undefined> {
    const value = await this.#kv.get(RECORD_KEY_PREFIX + id);
    return isUploadRecord(value) ? value : undefined;
  }

  put(record: UploadRecord): Promise<void> {
    return this.#kv.set(RECORD_KEY_PREFIX + record.id, record);
  }

  delete(id: string): Promise<void> {
    return this.#kv.del(RECORD_KEY_PREFIX + id);
  }
}
