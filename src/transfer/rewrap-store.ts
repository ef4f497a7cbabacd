/**
 * What an unfinished rewrap keeps so that it can resume ([Note: rewrap resume] in
 * rewrap-resume.ts): the RewrapRecord, the RewrapStore seam that holds records, an in-memory
 * store, one over a key-value API (IndexedDB through idb-keyval in the app, a folder of JSON
 * files in Node: see kv-store.ts), and the ledger a run writes through.
 *
 * [Note: no secret in the rewrap record] The record holds the bucket, key and upload id, the old
 * object's ETag, version and sizes, the new header (its EDKs hold the data key only wrapped), the
 * plan's part sizes, the removed and added EDKs (wrapped keys too) and the parts done with their
 * ETags and checksums: nothing that opens the file. It is plain JSON (bytes as base64), so any
 * key-value store keeps it as it is.
 */
import { VeilError, fromBase64, toBase64 } from '../core';
import type { EncryptedDataKey } from '../core';
import type { KeyValueApi } from './kv-store';
import type { StoredPart } from './upload-store';

/** An EDK in JSON form. */
export interface StoredEdk {
  readonly providerId: string;
  /** base64 */
  readonly providerInfo: string;
  /** base64 */
  readonly ciphertext: string;
}

/** One unfinished rewrap (a multipart upload that will replace the object). */
export interface RewrapRecord {
  /** Store key: the S3 upload id. */
  readonly id: string;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** The old object's ETag and, on a versioned bucket, the version the copies read. */
  readonly sourceEtag: string;
  readonly sourceVersionId?: string;
  /** The old object's size and its header's: what the plan is made from. */
  readonly oldObjectBytes: number;
  readonly oldHeaderBytes: number;
  /** The new header, base64 (body plus auth tag). */
  readonly newHeader: string;
  /** The plan's part sizes ([Note: rewrap plan]). */
  readonly putMaxBytes: number;
  readonly copyPartBytes: number;
  /** Parts S3 has acknowledged so far (ListParts is asked too on resume). */
  readonly parts: readonly StoredPart[];
  readonly removed: readonly StoredEdk[];
  readonly added: readonly StoredEdk[];
  readonly stillOpensWith?: 'kept' | 'openWith' | 'addWith' | 'canOpenWith';
  readonly addedBy?: 'reEncrypt' | 'addWith';
  readonly createdAtMs: number;
}

/** Where rewrap records live. */
export interface RewrapStore {
  list(): Promise<RewrapRecord[]>;
  get(id: string): Promise<RewrapRecord | undefined>;
  put(record: RewrapRecord): Promise<void>;
  delete(id: string): Promise<void>;
}

export const toStoredEdk = (edk: EncryptedDataKey): StoredEdk => ({
  providerId: edk.providerId,
  providerInfo: toBase64(edk.providerInfo),
  ciphertext: toBase64(edk.ciphertext),
});

export const fromStoredEdk = (edk: StoredEdk): EncryptedDataKey => ({
  providerId: edk.providerId,
  providerInfo: fromBase64(edk.providerInfo, 'providerInfo'),
  ciphertext: fromBase64(edk.ciphertext, 'ciphertext'),
});

/** True for a value shaped like a RewrapRecord (anything else in a store is skipped). */
export function isRewrapRecord(value: unknown): value is RewrapRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<RewrapRecord>;
  const sizes = [record.oldObjectBytes, record.oldHeaderBytes, record.putMaxBytes];
  return (
    typeof record.id === 'string' &&
    typeof record.uploadId === 'string' &&
    typeof record.bucket === 'string' &&
    typeof record.key === 'string' &&
    typeof record.sourceEtag === 'string' &&
    typeof record.newHeader === 'string' &&
    [...sizes, record.copyPartBytes].every((size) => Number.isSafeInteger(size)) &&
    Array.isArray(record.parts) &&
    Array.isArray(record.removed) &&
    Array.isArray(record.added)
  );
}

/** An in-memory store (copies on the way in and out, as IndexedDB does). */
export class MemoryRewrapStore implements RewrapStore {
  readonly #records = new Map<string, RewrapRecord>();

  list(): Promise<RewrapRecord[]> {
    return Promise.resolve([...this.#records.values()].map((record) => structuredClone(record)));
  }

  get(id: string): Promise<RewrapRecord | undefined> {
    const record = this.#records.get(id);
    return Promise.resolve(record ? structuredClone(record) : undefined);
  }

  put(record: RewrapRecord): Promise<void> {
    this.#records.set(record.id, structuredClone(record));
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.#records.delete(id);
    return Promise.resolve();
  }
}

/** Entry names of rewrap records in a shared key-value store. */
export const REWRAP_KEY_PREFIX = 'rewrap:';

/** RewrapStore over a key-value API (the upload store's, kv-store.ts), entries `rewrap:<id>`. */
export class KeyValueRewrapStore implements RewrapStore {
  readonly #kv: KeyValueApi;

  constructor(kv: KeyValueApi) {
    this.#kv = kv;
  }

  async list(): Promise<RewrapRecord[]> {
    const records: RewrapRecord[] = [];
    for (const [key, value] of await this.#kv.entries()) {
      if (typeof key === 'string' && key.startsWith(REWRAP_KEY_PREFIX) && isRewrapRecord(value)) {
        records.push(value);
      }
    }
    return records.sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  async get(id: string): Promise<RewrapRecord | undefined> {
    const value = await this.#kv.get(REWRAP_KEY_PREFIX + id);
    return isRewrapRecord(value) ? value : undefined;
  }

  put(record: RewrapRecord): Promise<void> {
    return this.#kv.set(REWRAP_KEY_PREFIX + record.id, record);
  }

  delete(id: string): Promise<void> {
    return this.#kv.del(REWRAP_KEY_PREFIX + id);
  }
}

/**
 * One run's writes to the store, one at a time in order: the first put must succeed before a
 * part is sent; later ones (a part done) are best effort, as resume asks S3 with ListParts.
 */
export class RewrapLedger {
  readonly #store: RewrapStore;
  #record: RewrapRecord;
  #writes: Promise<void> = Promise.resolve();

  private constructor(store: RewrapStore, record: RewrapRecord) {
    this.#store = store;
    this.#record = record;
  }

  /**
   * Saves `record` and returns its ledger.
   * @throws VeilError REWRAP_RECORD_UNWRITABLE when the store refuses it.
   */
  static async open(store: RewrapStore, record: RewrapRecord): Promise<RewrapLedger> {
    try {
      await store.put(record);
    } catch (cause) {
      throw new VeilError('REWRAP_RECORD_UNWRITABLE', undefined, { cause });
    }
    return new RewrapLedger(store, record);
  }

  /** The ledger of a resumed run: `record` as it is now (not written again until a part is). */
  static resume(store: RewrapStore, record: RewrapRecord): RewrapLedger {
    return new RewrapLedger(store, record);
  }

  get record(): RewrapRecord {
    return this.#record;
  }

  /** Records a part S3 acknowledged (replacing an earlier entry of the same number). */
  partDone(part: StoredPart): void {
    const parts = this.#record.parts.filter((done) => done.partNumber !== part.partNumber);
    this.#record = { ...this.#record, parts: [...parts, part] };
    const record = this.#record;
    this.#writes = this.#writes.then(() => this.#store.put(record)).catch(() => undefined);
  }

  /** Waits for the writes queued so far. */
  flush(): Promise<void> {
    return this.#writes;
  }

  /** Removes the record (the rewrap finished or was abandoned); best effort. */
  async discard(): Promise<void> {
    await this.#writes;
    await this.#store.delete(this.#record.id).catch(() => undefined);
  }
}
