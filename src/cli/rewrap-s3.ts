/**
 * `veil rewrap s3://BUCKET/KEY` and `veil rewrap s3://BUCKET/PREFIX/`: the rewrap batch
 * (src/transfer/rewrap-batch.ts) with the Node S3 adapters. The objects are listed (one key, or
 * every object under the prefix, all pages of ListObjectsV2), their headers read with ranged
 * GETs and planned ([Note: rewrap batch plan]): what each object loses and gains, or why it is
 * left as it is, and the bytes copied inside S3 and through this machine. `--dry-run` prints the
 * plan and stops; otherwise the ready objects are rewrapped a few at once ([Note: rewrap batch
 * run]), each replaced atomically or left as it was, and one line per object is printed. A
 * multipart rewrap keeps a record, and an unfinished rewrap of the one object named is continued
 * first ([Note: veil rewrap resume] in rewrap-resume.ts); on a versioned bucket the version
 * replaced is deleted (`--delete-previous-version`) or named in a note.
 *
 * Exit status: 0 when every object was rewrapped or already had the keys asked for; otherwise
 * the last stderr line starts with the code of the first object skipped for a reason or failed
 * (REWRAP_NOT_A_MESSAGE, REWRAP_LAST_KEY, NO_MATCHING_EDK, ...), and the status is 1.
 */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { s3Failure } from '../core/aws-failure';
import { VeilError, isErrorCode } from '../core/errors';
import { escapeUntrusted } from '../core/untrusted-text';
import { downloadS3For } from '../transfer/download-s3';
import { fileRewrapStore, nodeRewrapS3 } from '../transfer/node';
import {
  MAX_BATCH_CONCURRENCY,
  RewrapBatch,
  headerReader,
  removingKeys,
  scanRewrapBatch,
  type BatchPlan,
  type BatchSnapshot,
  type ListedObject,
  type PlannedObject,
} from '../transfer/rewrap-batch';
import type { RewrapResult } from '../transfer/rewrap-options';
import { formatBytes, progressLine } from './progress-line';
import { badgeOf, modelOfProvider, type RewrapKeys } from './rewrap-keys';
import { continueRewrap, resumableRewrap, rewrapFolder, settleVersion } from './rewrap-resume';
import { cliS3, type S3Flags } from './s3-client';
import { formatS3Url, type S3Location } from './s3-url';

/** Header reads in flight while planning. */
const SCAN_CONCURRENCY = 8;

/** A run Ctrl-C can cancel: a batch, or a resume wrapped to look like one. */
interface CancellableRun {
  cancel(): void;
  run(): Promise<unknown>;
}

/** The runs in flight (batches and resumes), for cancelRunningRewraps. */
const running = new Set<CancellableRun>();

/**
 * Runs `run` (a batch of rewraps or moves) so that cancelRunningRewraps cancels it on SIGINT or
 * SIGTERM.
 */
export async function runCancellable<T>(run: { cancel(): void; run(): Promise<T> }): Promise<T> {
  running.add(run);
  try {
    return await run.run();
  } finally {
    running.delete(run);
  }
}

/**
 * Cancels every rewrap running (on SIGINT or SIGTERM): each object in flight is left as it was
 * and its multipart upload aborted, no other is started. Resolves once they have all stopped.
 */
export async function cancelRunningRewraps(): Promise<void> {
  await Promise.all(
    [...running].map((batch) => {
      batch.cancel();
      return batch.run().then(
        () => undefined,
        () => undefined,
      );
    }),
  );
}

/** What the S3 side of `veil rewrap` is given. */
export interface RewrapS3Options {
  readonly keys: RewrapKeys;
  readonly s3: S3Flags;
  /** The object, or with `prefix` the prefix (may be empty: the whole bucket). */
  readonly location: S3Location;
  readonly prefix: boolean;
  readonly dryRun: boolean;
  /** Deletes the version each rewrap replaced on a versioned bucket ([Note: rewrap and versions]). */
  readonly deletePreviousVersion?: boolean;
  readonly print: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Rewraps in flight; default MAX_BATCH_CONCURRENCY. */
  readonly concurrency?: number;
  /** Called with the run's state after every change (the bench times the phases with it). */
  readonly onChange?: (snapshot: BatchSnapshot) => void;
}

/** What a run did, by object. */
export interface RewrapS3Outcome {
  readonly plan: BatchPlan;
  readonly snapshot?: BatchSnapshot;
}

/** Every object under `prefix`, all pages. */
export async function listPrefix(
  send: (command: ListObjectsV2Command) => Promise<ListObjectsV2CommandOutput>,
  bucket: string,
  prefix: string,
): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(prefix ? { Prefix: prefix } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
    } catch (error) {
      throw s3Failure(error, { task: 'list', operation: 'ListObjectsV2' });
    }
    for (const entry of page.Contents ?? []) {
      objects.push({ key: entry.Key ?? '', sizeBytes: entry.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** The keys an object names after its planned change, as "A name, C arn…" (escaped). */
function keysAfter(object: PlannedObject, keys: RewrapKeys): string {
  const kept = object.keys.filter(
    (key) =>
      !object.remove.some((r) => r.keyName === key.keyName && r.providerId === key.providerId),
  );
  const after = object.add ? [...kept, ...keys.adds] : kept;
  return after
    .map((key) => `${modelOfProvider(key.providerId)} ${escapeUntrusted(key.keyName)}`)
    .join(', ');
}

/** The model badge of an object once changed. */
function modelAfter(object: PlannedObject, keys: RewrapKeys): 'A' | 'B' | 'C' | undefined {
  const kept = object.keys.filter(
    (key) =>
      !object.remove.some((r) => r.keyName === key.keyName && r.providerId === key.providerId),
  );
  const after = object.add ? [...kept, ...keys.adds] : kept;
  return badgeOf(after.map((key) => key.providerId));
}

/** The plan as lines: a summary, then one line per object. Pure. */
export function planLines(plan: BatchPlan, bucket: string, keys: RewrapKeys): string[] {
  const t = plan.totals;
  const lines = [
    `plan: ${t.ready} of ${t.objects} object${t.objects === 1 ? '' : 's'} to rewrap` +
      (t.skipped > 0 ? `, ${t.skipped} skipped` : '') +
      `; ${formatBytes(t.copiedBytes)} copied inside S3, ${formatBytes(t.clientBytes)} ` +
      `through this machine (${formatBytes(t.receivedBytes)} read, ${formatBytes(t.sentBytes)} sent)`,
  ];
  for (const object of plan.objects) {
    const url = escapeUntrusted(formatS3Url({ bucket, key: object.key }));
    if (object.skip) {
      lines.push(`  skip    ${url}  ${skipText(object.skip.code, object.skip.detail)}`);
      continue;
    }
    lines.push(
      `  rewrap  ${url}  ${object.method ?? ''}  keys after: ${keysAfter(object, keys)}  ` +
        `copied ${formatBytes(object.copiedBytes)} in S3, ` +
        `${formatBytes(object.receivedBytes + object.sentBytes)} through this machine`,
    );
  }
  return lines;
}

function skipText(code: string | undefined, detail: string | undefined): string {
  const text = escapeUntrusted(detail ?? '');
  return code ? `${code}: ${text}` : text;
}

/** The result lines of a finished run, one per object. Pure. */
export function resultLines(
  snapshot: BatchSnapshot,
  plan: BatchPlan,
  bucket: string,
  keys: RewrapKeys,
): string[] {
  return snapshot.items.map((item, index) => {
    const url = escapeUntrusted(formatS3Url({ bucket, key: item.key }));
    const object = plan.objects[index];
    switch (item.state) {
      case 'done': {
        const result = item.result;
        return (
          `rewrapped  ${url}  keys: ${object ? keysAfter(object, keys) : ''}  ` +
          `(${formatBytes(result?.sentBytes ?? 0)} sent, ` +
          `${formatBytes(result?.copiedBytes ?? 0)} copied inside S3)`
        );
      }
      case 'skipped':
        return `skipped    ${url}  ${skipText(item.code, item.detail)}`;
      case 'failed':
        return `failed     ${url}  ${skipText(item.code, item.detail)} (left as it was)`;
      default:
        return `${item.state.padEnd(10)} ${url}  left as it was`;
    }
  });
}

/**
 * The error the command ends with, or undefined when every object was rewrapped or needed no
 * change: the first object skipped for a catalogued reason or failed.
 */
export function outcomeError(
  items: readonly { key: string; code?: string | undefined; detail?: string | undefined }[],
  bucket: string,
): VeilError | undefined {
  const bad = items.filter((item) => item.code !== undefined);
  const [first] = bad;
  if (!first) return undefined;
  const code = isErrorCode(first.code) ? first.code : 'INTERNAL_ERROR';
  const where = escapeUntrusted(formatS3Url({ bucket, key: first.key }));
  const detail = first.detail ? `: ${escapeUntrusted(first.detail)}` : '';
  const count = items.length > 1 || bad.length > 1 ? `${bad.length} not rewrapped; first ` : '';
  return new VeilError(code, `${count}${where}${detail}`);
}

/** Draws the run's progress on a terminal; `verb` names the work ('rewrap', 'move'). */
export function progressOf(plan: BatchPlan, verb = 'rewrap'): (snapshot: BatchSnapshot) => void {
  const line = progressLine();
  const startMs = performance.now();
  const totalBytes = plan.totals.copiedBytes + plan.totals.sentBytes;
  return (snapshot) => {
    const p = snapshot.progress;
    const doneBytes = p.copiedBytes + p.sentBytes;
    // The plan's bytes are an estimate where headers were not read (a move): never past 100%.
    const shownTotalBytes = Math.max(totalBytes, doneBytes);
    const seconds = (performance.now() - startMs) / 1000;
    const rate = seconds > 0 ? doneBytes / seconds : 0;
    const ended = snapshot.state === 'done' || snapshot.state === 'cancelled';
    if (ended) {
      line.end();
      return;
    }
    line.show({
      verb: `${verb} ${p.doneObjects + p.failedObjects}/${p.totalObjects} objects`,
      doneBytes,
      totalBytes: shownTotalBytes,
      rateBytesPerSecond: rate,
      etaSeconds: rate > 0 ? Math.max(0, shownTotalBytes - doneBytes) / rate : undefined,
    });
  };
}

/**
 * Plans and (unless `dryRun`) runs the rewrap of one object or a prefix (see the header).
 * @throws VeilError the code of the first object left unchanged for a reason; S3_REJECTED,
 *   S3_UNREACHABLE and CREDENTIALS_* when listing fails; USAGE for malformed flags.
 */
export async function rewrapInS3(options: RewrapS3Options): Promise<RewrapS3Outcome> {
  const { bucket, key } = options.location;
  const { keys } = options;
  const s3 = await cliS3(options.s3, options.env ?? process.env);
  try {
    const plan = await scanRewrapBatch({
      ...(options.prefix
        ? {
            prefixes: [key],
            list: (prefix: string) =>
              listPrefix((command) => s3.client.send(command), bucket, prefix),
          }
        : { keys: [key] }),
      readHeader: headerReader(downloadS3For(s3.client), bucket),
      change: {
        ...(keys.remove.length > 0 ? { removes: removingKeys(keys.remove) } : {}),
        ...(keys.adds.length > 0 ? { adds: keys.adds } : {}),
      },
      concurrency: SCAN_CONCURRENCY,
    });
    if (options.dryRun) {
      for (const line of planLines(plan, bucket, keys)) options.print(line);
      const error = outcomeError(
        plan.objects.map((object) => ({
          key: object.key,
          code: object.skip?.code,
          detail: object.skip?.detail,
        })),
        bucket,
      );
      if (error) throw error;
      return { plan };
    }
    const seam = nodeRewrapS3(s3.client);
    const store = fileRewrapStore(rewrapFolder(options.env ?? process.env));
    const [only] = plan.objects;
    const record =
      !options.prefix && only ? await resumableRewrap(store, seam, bucket, only, keys) : undefined;
    let result: RewrapResult | undefined;
    if (record && only) {
      const controller = new AbortController();
      const resumed = continueRewrap(store, seam, record, controller.signal);
      const entry = { cancel: () => controller.abort(), run: () => resumed };
      running.add(entry);
      try {
        result = await resumed;
      } catch (error) {
        // S3 no longer has the upload, or the record is not for this object: it was dropped.
        if (!(error instanceof VeilError && error.code === 'REWRAP_RESUME_GONE')) throw error;
      } finally {
        running.delete(entry);
      }
    }
    if (result && only) {
      const url = escapeUntrusted(formatS3Url({ bucket, key: only.key }));
      options.print(
        `resumed    ${url}  keys: ${keysAfter(only, keys)}  ` +
          `(${formatBytes(result.sentBytes)} sent, ${formatBytes(result.copiedBytes)} copied inside S3)`,
      );
      const note = await settleVersion(seam, result, options.deletePreviousVersion === true);
      if (note) options.print(note);
      return { plan };
    }
    const draw = progressOf(plan);
    const batch = new RewrapBatch({
      plan,
      setup: {
        s3: seam,
        store,
        bucket,
        openWith: keys.openWith,
        ...(keys.addWith ? { addWith: keys.addWith } : {}),
      },
      concurrency: options.concurrency ?? MAX_BATCH_CONCURRENCY,
      modelFor: (object) => modelAfter(object, keys),
      onChange: (snapshot) => {
        draw(snapshot);
        options.onChange?.(snapshot);
      },
    });
    const snapshot = await runCancellable(batch);
    for (const line of resultLines(snapshot, plan, bucket, keys)) options.print(line);
    for (const item of snapshot.items) {
      if (!item.result) continue;
      const note = await settleVersion(seam, item.result, options.deletePreviousVersion === true);
      if (note) options.print(note);
    }
    const error = outcomeError(snapshot.items, bucket);
    if (error) throw error;
    return { plan, snapshot };
  } finally {
    s3.close();
  }
}
