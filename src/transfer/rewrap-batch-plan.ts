/**
 * The plan of a rewrap batch (rewrap-batch.ts runs it): which objects, what the change means
 * for each, and the bytes it moves. Platform neutral: the listing and the header reader are
 * injected.
 *
 * [Note: rewrap batch plan] scanRewrapBatch lists the objects (given keys, or every key under
 * prefixes), reads each header with a ranged GET (inspectObject, nothing decrypted), keeps those
 * `match` accepts, and decides per object what the change means for it: which of its keys go
 * (`removes`), whether keys are added (not when it already names every key to add), and whether
 * the rewrap can run at all. Skipped with a catalogued reason: objects no ESDK wrote
 * (REWRAP_NOT_A_MESSAGE), signed ones (REWRAP_SIGNED_MESSAGE), ones naming no key to remove and
 * needing nothing added (REWRAP_KEY_NOT_FOUND), ones left without any key (REWRAP_LAST_KEY), ones
 * whose keys, after the change, include none the user can use (REWRAP_WOULD_LOCK_OUT, when
 * `canOpen` is given: a preview by name of the engine's own check, [Note: rewrap lock-out check],
 * which still runs on every object), and ones the user cannot open now (NO_KEY_FOR_OBJECT).
 * Sizes come from planRewrap with the new header's length estimated (the removed EDKs' exact
 * bytes, `addedEdkBytes` per key added): bytes copied inside S3, and bytes through the client
 * (read and sent).
 */
import { SUITE_COMMIT_KEY_ECDSA_P384, VeilError, anyFailure, keysNeeded, utf8 } from '../core';
import type { ErrorCode, KeyToRemove, MessageHeader, NeededKey } from '../core';
import { inspectObject } from './download';
import type { DownloadS3 } from './download-s3';
import type { ObjectKind } from './download-setup';
import { planRewrap } from './rewrap-plan';

/** Header reads in flight while scanning, by default. */
export const DEFAULT_SCAN_CONCURRENCY = 4;
/** Estimated bytes of one added EDK entry in the new header (a KMS ARN's is about 250). */
export const DEFAULT_ADDED_EDK_BYTES = 256;

/** An object a listing found. */
export interface ListedObject {
  readonly key: string;
  readonly sizeBytes?: number;
}

/** What reading an object's header learned (inspectObject's answer fits). */
export interface ObjectHeaderInfo {
  readonly kind: ObjectKind;
  readonly objectBytes: number;
  readonly etag: string;
  readonly header?: MessageHeader;
}

/** Reads one object's header (HEAD and ranged GETs; nothing decrypted). */
export type HeaderReader = (key: string, signal?: AbortSignal) => Promise<ObjectHeaderInfo>;

/** The header reader over the download seam: inspectObject without a keyring. */
export function headerReader(s3: DownloadS3, bucket: string): HeaderReader {
  return (key, signal) => inspectObject({ s3, bucket, key, ...(signal ? { signal } : {}) });
}

/** Which model a key belongs to, from its provider id: 'aws-kms' C, 'veil-hsm' B, else A. */
export function defaultModelOf(providerId: string): string {
  if (providerId === 'aws-kms') return 'C';
  if (providerId === 'veil-hsm') return 'B';
  return 'A';
}

/** A predicate removing exactly the keys `list` names (as `veil rewrap --remove-key` does). */
export function removingKeys(list: readonly KeyToRemove[]): (key: NeededKey) => boolean {
  return (key) =>
    list.some(
      (entry) =>
        entry.keyName === key.keyName &&
        (entry.providerId === undefined || entry.providerId === key.providerId),
    );
}

/** The change to make to every object, as the plan needs it. */
export interface BatchChange {
  /** Which of an object's keys go. */
  readonly removes?: (key: NeededKey) => boolean;
  /** The keys added (their names, to skip adding what an object already has). */
  readonly adds?: readonly NeededKey[];
  /** Whether the session can use a key (open the file with it); enables the lock-out check. */
  readonly canOpen?: (key: NeededKey) => boolean;
  /** Estimated bytes of each added EDK entry; default DEFAULT_ADDED_EDK_BYTES. */
  readonly addedEdkBytes?: number;
}

/** What to scan. */
export interface ScanOptions {
  /** Objects named one by one. */
  readonly keys?: readonly string[];
  /** Every object under each prefix (listed through `list`). */
  readonly prefixes?: readonly string[];
  /** Lists every object under a prefix (all pages). Needed with `prefixes`. */
  readonly list?: (prefix: string, signal?: AbortSignal) => Promise<readonly ListedObject[]>;
  readonly readHeader: HeaderReader;
  readonly change: BatchChange;
  /** Keeps only the objects it accepts (e.g. those naming key X); others are not in the plan. */
  readonly match?: (object: ScannedObject) => boolean;
  /** Maps a provider id to a model name; default defaultModelOf. */
  readonly modelOf?: (providerId: string) => string;
  /** Header reads in flight; default 4. */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScanProgress) => void;
}

/** How far a scan is. */
export interface ScanProgress {
  /** Objects to read (known once listing ended). */
  readonly totalObjects: number;
  readonly scannedObjects: number;
  /** Objects that matched so far. */
  readonly matchedObjects: number;
}

/** One object as the scan read it. */
export interface ScannedObject {
  readonly key: string;
  readonly objectBytes: number;
  readonly kind: ObjectKind | undefined;
  /** The keys the header names (unauthenticated text: escape to show). */
  readonly keys: readonly NeededKey[];
  /** The models of those keys, without repeats. */
  readonly models: readonly string[];
}

/** Why an object is left as it is. */
export interface SkipReason {
  readonly code: ErrorCode | undefined;
  readonly detail: string;
}

/** One object of a plan. */
export interface PlannedObject extends ScannedObject {
  readonly etag: string | undefined;
  /** Set when the object is left as it is. */
  readonly skip?: SkipReason;
  /** The keys this object loses (each matched by name and provider id). */
  readonly remove: readonly KeyToRemove[];
  /** Whether the added keys are wrapped for this object. */
  readonly add: boolean;
  readonly method: 'put' | 'multipart' | undefined;
  /** Bytes the client reads (header and the body bytes it sends again). */
  readonly receivedBytes: number;
  /** Bytes the client sends. */
  readonly sentBytes: number;
  /** Bytes copied inside S3. */
  readonly copiedBytes: number;
}

/** Totals of a plan (the ready objects' bytes). */
export interface BatchTotals {
  readonly objects: number;
  readonly ready: number;
  readonly skipped: number;
  readonly objectBytes: number;
  readonly copiedBytes: number;
  readonly receivedBytes: number;
  readonly sentBytes: number;
  /** Bytes through the client: received plus sent. */
  readonly clientBytes: number;
}

export interface BatchPlan {
  readonly objects: readonly PlannedObject[];
  readonly totals: BatchTotals;
}

/** Bytes of one EDK entry as the header serializes it. */
function edkEntryBytes(edk: MessageHeader['encryptedDataKeys'][number]): number {
  return 6 + utf8(edk.providerId).length + edk.providerInfo.length + edk.ciphertext.length;
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new VeilError('REWRAP_CANCELLED', 'the scan was cancelled');
}

/**
 * Lists and reads the headers, then plans ([Note: rewrap batch plan]).
 * @throws VeilError BAD_ARGUMENT for bad options; REWRAP_CANCELLED when `signal` aborts; the
 *   listing's errors. A header that cannot be read is a skipped object, not a throw.
 */
export async function scanRewrapBatch(options: ScanOptions): Promise<BatchPlan> {
  // Precondition: a header reader, a listing for prefixes, a sane concurrency.
  if (typeof options?.readHeader !== 'function') throw new VeilError('BAD_ARGUMENT', 'readHeader');
  const prefixes = options.prefixes ?? [];
  if (prefixes.length > 0 && typeof options.list !== 'function') {
    throw new VeilError('BAD_ARGUMENT', 'list is needed with prefixes');
  }
  const concurrency = options.concurrency ?? DEFAULT_SCAN_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
    throw new VeilError('OUT_OF_RANGE', 'concurrency must be 1..16');
  }
  const { signal } = options;
  const seen = new Set<string>();
  const listed: ListedObject[] = [];
  const addListed = (object: ListedObject): void => {
    if (seen.has(object.key) || object.key.endsWith('/')) return;
    seen.add(object.key);
    listed.push(object);
  };
  for (const key of options.keys ?? []) addListed({ key });
  for (const prefix of prefixes) {
    throwIfCancelled(signal);
    for (const object of await options.list!(prefix, signal)) addListed(object);
  }
  const planned: (PlannedObject | undefined)[] = new Array<PlannedObject | undefined>(
    listed.length,
  );
  let scanned = 0;
  let matched = 0;
  const report = (): void =>
    options.onProgress?.({
      totalObjects: listed.length,
      scannedObjects: scanned,
      matchedObjects: matched,
    });
  report();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < listed.length) {
      throwIfCancelled(signal);
      const index = next++;
      const object = listed[index]!;
      const result = await planOne(object, options);
      throwIfCancelled(signal);
      scanned += 1;
      if (result) {
        planned[index] = result;
        matched += 1;
      }
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, listed.length) }, lane));
  const objects = planned.filter((object): object is PlannedObject => object !== undefined);
  return { objects, totals: totalsOf(objects) };
}

/** The plan's totals. */
export function totalsOf(objects: readonly PlannedObject[]): BatchTotals {
  const ready = objects.filter((object) => !object.skip);
  const sum = (pick: (object: PlannedObject) => number): number =>
    ready.reduce((total, object) => total + pick(object), 0);
  const receivedBytes = sum((object) => object.receivedBytes);
  const sentBytes = sum((object) => object.sentBytes);
  return {
    objects: objects.length,
    ready: ready.length,
    skipped: objects.length - ready.length,
    objectBytes: sum((object) => object.objectBytes),
    copiedBytes: sum((object) => object.copiedBytes),
    receivedBytes,
    sentBytes,
    clientBytes: receivedBytes + sentBytes,
  };
}

/** Reads one header and plans it; undefined when `match` rejects it. */
async function planOne(
  listed: ListedObject,
  options: ScanOptions,
): Promise<PlannedObject | undefined> {
  const modelOf = options.modelOf ?? defaultModelOf;
  let info: ObjectHeaderInfo;
  try {
    info = await options.readHeader(listed.key, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw new VeilError('REWRAP_CANCELLED', 'the scan was cancelled');
    const failure = anyFailure(error);
    const scanned: ScannedObject = {
      key: listed.key,
      objectBytes: listed.sizeBytes ?? 0,
      kind: undefined,
      keys: [],
      models: [],
    };
    if (options.match && !options.match(scanned)) return undefined;
    return skipped(scanned, undefined, { code: failure.code, detail: failure.detail ?? '' });
  }
  const keys = info.header ? keysNeeded(info.header) : [];
  const scanned: ScannedObject = {
    key: listed.key,
    objectBytes: info.objectBytes,
    kind: info.kind,
    keys,
    models: [...new Set(keys.map((key) => modelOf(key.providerId)))],
  };
  if (options.match && !options.match(scanned)) return undefined;
  return decide(scanned, info, options.change);
}

function skipped(
  scanned: ScannedObject,
  etag: string | undefined,
  skip: SkipReason,
): PlannedObject {
  return {
    ...scanned,
    etag,
    skip,
    remove: [],
    add: false,
    method: undefined,
    receivedBytes: 0,
    sentBytes: 0,
    copiedBytes: 0,
  };
}

/** What the change means for one object ([Note: rewrap batch plan]). */
function decide(
  scanned: ScannedObject,
  info: ObjectHeaderInfo,
  change: BatchChange,
): PlannedObject {
  const header = info.header;
  if (info.kind === 'plain' || !header) {
    return skipped(scanned, info.etag, {
      code: 'REWRAP_NOT_A_MESSAGE',
      detail: 'not an encrypted message',
    });
  }
  if (header.suiteId === SUITE_COMMIT_KEY_ECDSA_P384) {
    return skipped(scanned, info.etag, { code: 'REWRAP_SIGNED_MESSAGE', detail: 'suite 0x0578' });
  }
  const { keys } = scanned;
  if (change.canOpen && !keys.some((key) => change.canOpen!(key))) {
    return skipped(scanned, info.etag, {
      code: 'NO_KEY_FOR_OBJECT',
      detail: keys.map((key) => key.keyName).join(', '),
    });
  }
  const removedIndexes = new Set<number>();
  keys.forEach((key, index) => {
    if (change.removes?.(key)) removedIndexes.add(index);
  });
  const remove: KeyToRemove[] = [];
  for (const index of removedIndexes) {
    const key = keys[index]!;
    if (!remove.some((r) => r.keyName === key.keyName && r.providerId === key.providerId)) {
      remove.push({ keyName: key.keyName, providerId: key.providerId });
    }
  }
  const kept = keys.filter((_, index) => !removedIndexes.has(index));
  const adds = change.adds ?? [];
  const named = (wanted: NeededKey): boolean =>
    kept.some((key) => key.keyName === wanted.keyName && key.providerId === wanted.providerId);
  const add = adds.length > 0 && !adds.every(named);
  if (remove.length === 0 && !add) {
    return skipped(scanned, info.etag, {
      code: change.removes && adds.length === 0 ? 'REWRAP_KEY_NOT_FOUND' : undefined,
      detail: 'nothing to change: it already has the keys asked for',
    });
  }
  if (kept.length === 0 && !add) {
    return skipped(scanned, info.etag, { code: 'REWRAP_LAST_KEY', detail: 'no key would be left' });
  }
  if (change.canOpen) {
    const after = add ? [...kept, ...adds] : kept;
    if (!after.some((key) => change.canOpen!(key))) {
      return skipped(scanned, info.etag, {
        code: 'REWRAP_WOULD_LOCK_OUT',
        detail: `left: ${after.map((key) => key.keyName).join(', ')}`,
      });
    }
  }
  const removedBytes = header.encryptedDataKeys.reduce(
    (total, edk, index) => total + (removedIndexes.has(index) ? edkEntryBytes(edk) : 0),
    0,
  );
  const addedBytes = add ? adds.length * (change.addedEdkBytes ?? DEFAULT_ADDED_EDK_BYTES) : 0;
  try {
    const plan = planRewrap({
      objectBytes: info.objectBytes,
      oldHeaderBytes: header.headerBytes,
      newHeaderBytes: Math.max(1, header.headerBytes - removedBytes + addedBytes),
    });
    return {
      ...scanned,
      etag: info.etag,
      remove,
      add,
      method: plan.method,
      receivedBytes: header.headerBytes + plan.readBodyBytes,
      sentBytes: plan.sentBytes,
      copiedBytes: plan.copiedBytes,
    };
  } catch (error) {
    const failure = anyFailure(error);
    return skipped(scanned, info.etag, { code: failure.code, detail: failure.detail ?? '' });
  }
}
