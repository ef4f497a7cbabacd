/**
 * What `veil rewrap s3://BUCKET/KEY` does besides the batch: it continues an unfinished rewrap of
 * the same object, and on a versioned bucket it deletes or names the version it replaced.
 *
 * [Note: veil rewrap resume] A rewrap's multipart upload keeps a record in
 * $XDG_STATE_HOME/veil/rewraps (beside `veil cp`'s uploads; [Note: rewrap resume] in
 * src/transfer/rewrap-resume.ts). A run killed, or cut off by the network, keeps its upload and
 * its record, and the object stays as it was. The next `veil rewrap` of that object continues it
 * without opening the header again when the record makes the change asked for: the EDKs it
 * removes name exactly the keys this run's plan removes, and the EDKs it adds exactly the keys
 * added (a KMS key given by alias cannot be told from the ARN the EDK holds: such a record is
 * not reused). Any other record of the object is discarded (its upload aborted) and the change
 * run afresh. A source changed since the record fails with REWRAP_SOURCE_CHANGED (the engine
 * drops the record and the upload): running the command again makes the change afresh.
 */
import { dirname, join } from 'node:path';
import type { MessageHeader } from '../core';
import { keysNeeded, type NeededKey } from '../core/provider-info';
import type { PlannedObject } from '../transfer/rewrap-batch';
import { discardRewrap, findRewraps, resumeRewrap } from '../transfer/rewrap-resume';
import type { RewrapResult } from '../transfer/rewrap-options';
import type { RewrapS3 } from '../transfer/rewrap-s3';
import { fromStoredEdk, type RewrapRecord, type RewrapStore } from '../transfer/rewrap-store';
import { deletePreviousVersion } from '../transfer/rewrap-versions';
import { resumeFolder } from './cp-upload';
import type { RewrapKeys } from './rewrap-keys';

/** The folder of unfinished rewraps' records: $XDG_STATE_HOME/veil/rewraps. */
export function rewrapFolder(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(resumeFolder(env)), 'rewraps');
}

/** The key names of stored EDKs, sorted, as keysNeeded shows them. */
function namesOf(edks: RewrapRecord['removed']): string[] {
  const header = { encryptedDataKeys: edks.map(fromStoredEdk) } as unknown as MessageHeader;
  return keysNeeded(header)
    .map((key) => `${key.providerId}\u0000${key.keyName}`)
    .sort();
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

/** True when `record` makes the change planned for `object` ([Note: veil rewrap resume]). */
export function recordMakes(
  record: RewrapRecord,
  object: PlannedObject,
  keys: RewrapKeys,
): boolean {
  let removed: string[];
  let added: string[];
  try {
    removed = namesOf(record.removed);
    added = namesOf(record.added);
  } catch {
    return false;
  }
  const byName = (key: NeededKey) => `${key.providerId}\u0000${key.keyName}`;
  const plannedRemoved = object.keys
    .filter((key) =>
      object.remove.some(
        (r) =>
          r.keyName === key.keyName &&
          (r.providerId === undefined || r.providerId === key.providerId),
      ),
    )
    .map(byName)
    .sort();
  const plannedAdded = (object.add ? keys.adds : []).map(byName).sort();
  return sameNames(removed, plannedRemoved) && sameNames(added, plannedAdded);
}

/** The unfinished rewraps of one object: the one this change continues, the others discarded. */
export async function resumableRewrap(
  store: RewrapStore,
  s3: RewrapS3,
  bucket: string,
  object: PlannedObject,
  keys: RewrapKeys,
): Promise<RewrapRecord | undefined> {
  const records = await findRewraps(store, bucket, object.key);
  const match = object.skip ? undefined : records.find((r) => recordMakes(r, object, keys));
  for (const record of records) {
    if (record !== match) await discardRewrap({ s3, store, id: record.id });
  }
  return match;
}

/** Continues `record` ([Note: veil rewrap resume]); `signal` cancels it as Ctrl-C does a run. */
export function continueRewrap(
  store: RewrapStore,
  s3: RewrapS3,
  record: RewrapRecord,
  signal: AbortSignal,
): Promise<RewrapResult> {
  return resumeRewrap({ s3, store, id: record.id, signal });
}

/**
 * After a rewrap on a versioned bucket ([Note: rewrap and versions]): deletes the version it
 * replaced when `remove` is set, else returns a note that it still opens with the old keys.
 * @throws VeilError the codes of deletePreviousVersion (S3_REJECTED without
 *   s3:DeleteObjectVersion).
 */
export async function settleVersion(
  s3: RewrapS3,
  result: RewrapResult,
  remove: boolean,
): Promise<string | undefined> {
  const previous = result.previousVersionId;
  if (!previous) return undefined;
  if (remove) {
    await deletePreviousVersion(s3, result.bucket, result.key, previous);
    return `deleted the previous version ${previous}`;
  }
  const removed = result.removed.length > 0;
  return removed
    ? `note: the removed key still opens the previous version ${previous} until it is deleted ` +
        `(--delete-previous-version)`
    : `note: the previous version ${previous} keeps the old keys until it is deleted`;
}
