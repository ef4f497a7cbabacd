/**
 * `veil names rotate KEYS [--dry-run] s3://BUCKET/ROOT/`: gives a private location a new names
 * key, and so every object under it a new stored name ([Note: names key rotation] in
 * transfer/names-rotate.ts). The next names key is created at `ROOT/.veil/names-key.next`,
 * wrapped by KEYS as `veil names init` wraps one (or the one a stopped rotation created is
 * opened with them); every object under the root is listed (all pages of ListObjectsV2) and
 * planned: its name under the next key, the bytes S3 copies and the bytes through this machine,
 * or why it stays (NAME_UNREADABLE: its name opens under neither key). The plan is printed;
 * `--dry-run` stops there and writes nothing (not even the next key).
 *
 * Then the batch runner moves the objects a few at once ([Note: move by rewrap] in
 * transfer/rewrap-move.ts), with KEYS opening their headers, and the location is listed and
 * planned again until nothing is left (uploads made meanwhile under the current key); only
 * then does the next key take the current one's place. A run stopped part-way (an object that
 * failed, Ctrl-C, a crash) leaves both keys, and the same command run again continues: the
 * objects already moved are left out, the same next key is used. A run stopped inside the last
 * step (the current key deleted, the next one not yet in its place) finishes that step.
 *
 * Exit status 0 once the rotation finished; 1 when an object did not move (the last stderr line
 * starts with its code and says to run the command again).
 */
import { VeilError, isErrorCode } from '../core/errors';
import { escapeUntrusted } from '../core/untrusted-text';
import { buildUploadContext } from '../keyrings/upload-context';
import {
  NEXT_NAMES_KEY_PATH,
  namesKeyObjectKey,
  type NamesKeyStorage,
  type NamesLocation,
} from '../transfer/names-key';
import { finishNamesRotation, planNamesRotation } from '../transfer/names-rotate';
import type { LocationNames } from '../transfer/location-names';
import type { MovePlan } from '../transfer/move-plan';
import { nodeRewrapS3 } from '../transfer/node';
import { MAX_BATCH_CONCURRENCY, RewrapBatch, type BatchSnapshot } from '../transfer/rewrap-batch';
import { cliKeyring, writeKeyFlags, type KeyringFlags } from './keyrings';
import { rootOf, storedKeys } from './names-init';
import { s3NamesKeyStorage } from './names-storage';
import { formatBytes } from './progress-line';
import { listPrefix, progressOf, runCancellable } from './rewrap-s3';
import { cliS3, type S3Flags } from './s3-client';
import { formatS3Url, type S3Location } from './s3-url';

/** Plans run before giving up on a location that keeps receiving uploads under the old key. */
const MAX_ROUNDS = 5;

/** What `veil names rotate` is given. */
export interface NamesRotateOptions {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  /** The location; its key is the root prefix (a trailing `/` is added when missing). */
  readonly location: S3Location;
  readonly dryRun: boolean;
  readonly print: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Moves in flight; default MAX_BATCH_CONCURRENCY. */
  readonly concurrency?: number;
}

/** What a rotation did. */
export interface NamesRotateOutcome {
  /** Objects given a name under the new key by this run. */
  readonly movedObjects: number;
  /** True once the new names key is in place. */
  readonly finished: boolean;
}

/** The object's clear key under `names` (root and path), or its stored key. Pure. */
function clearKeyOf(names: LocationNames, key: string): string {
  const clear = names.clearPath(key);
  return clear === undefined ? key : `${names.root}${clear}`;
}

/** The plan as lines: a summary, then one line per object by its clear key. Pure. */
export function rotationPlanLines(
  plan: MovePlan,
  current: LocationNames,
  bucket: string,
): string[] {
  const t = plan.totals;
  const url = (key: string) => escapeUntrusted(formatS3Url({ bucket, key }));
  const lines = [
    `plan: ${t.ready} of ${t.objects} object${t.objects === 1 ? '' : 's'} to rename under the next names key` +
      (t.skipped > 0 ? `, ${t.skipped} skipped` : '') +
      `; ${formatBytes(t.copiedBytes)} copied inside S3, about ${formatBytes(t.clientBytes)} ` +
      `through this machine`,
  ];
  for (const object of plan.objects) {
    if (object.skip) {
      const code = object.skip.code ? `${object.skip.code}: ` : '';
      lines.push(`  skip    ${url(object.key)}  ${code}${escapeUntrusted(object.skip.detail)}`);
    } else {
      const size = formatBytes(object.objectBytes);
      lines.push(`  rename  ${url(clearKeyOf(current, object.key))}  (${size})`);
    }
  }
  return lines;
}

/** The lines of the objects of a run that did not move, and the first one's error. */
function failures(
  snapshot: BatchSnapshot,
  current: LocationNames,
  bucket: string,
): { lines: string[]; error?: VeilError } {
  const lines: string[] = [];
  let error: VeilError | undefined;
  for (const item of snapshot.items) {
    if (item.state === 'done' || item.state === 'skipped') continue;
    const url = escapeUntrusted(formatS3Url({ bucket, key: clearKeyOf(current, item.key) }));
    const why = `${item.code ?? item.state}${item.detail ? `: ${escapeUntrusted(item.detail)}` : ''}`;
    lines.push(`${item.state.padEnd(8)} ${url}  ${why} (left as it was)`);
    error ??= new VeilError(
      isErrorCode(item.code) ? item.code : 'REWRAP_CANCELLED',
      `${url}; the rotation is not finished: run the same command again to continue it`,
    );
  }
  return { lines, ...(error ? { error } : {}) };
}

/**
 * Runs `veil names rotate` (see the header).
 * @throws VeilError USAGE for a location without a names key or malformed flags; the names key's
 *   errors (NAMES_KEY_UNREADABLE, NAMES_KEY_INVALID, OBJECT_MISMATCH); the keyring's;
 *   S3_REJECTED, S3_UNREACHABLE, CREDENTIALS_*; the code of the first object that did not move.
 */
export async function rotateNames(options: NamesRotateOptions): Promise<NamesRotateOutcome> {
  const env = options.env ?? process.env;
  const { bucket } = options.location;
  const location: NamesLocation = { bucket, root: rootOf(options.location.key) };
  const rootUrl = formatS3Url({ bucket, key: location.root });
  const currentKey = namesKeyObjectKey(location);
  const nextKey = namesKeyObjectKey(location, NEXT_NAMES_KEY_PATH);
  const s3 = await cliS3(options.s3, env);
  try {
    const storage = s3NamesKeyStorage(s3.client, bucket, 'names rotate');
    const hasCurrent = (await storage.read(currentKey)) !== undefined;
    const hasNext = (await storage.read(nextKey)) !== undefined;
    if (!hasCurrent && !hasNext) {
      throw new VeilError(
        'USAGE',
        `${rootUrl} has no names key (${currentKey}): its names are not private; give the location's root, as veil names init was given it`,
      );
    }
    const { keyring, close } = await cliKeyring('encrypt', writeKeyFlags(options.keys), env);
    try {
      const seam = nodeRewrapS3(s3.client);
      const finish = async (movedObjects: number): Promise<NamesRotateOutcome> => {
        await finishNamesRotation(storage, location, { s3: seam, openWith: keyring });
        const keys = await storedKeys(storage, currentKey);
        options.print(
          `names key rotated for ${rootUrl}: ${formatS3Url({ bucket, key: currentKey })} replaced (keys: ${keys})`,
        );
        return { movedObjects, finished: true };
      };
      if (!hasCurrent) {
        // Stopped inside the last step: the next key only has to take its place.
        options.print(
          `plan: the rotation's last step: the next names key takes the current one's place`,
        );
        if (options.dryRun) return { movedObjects: 0, finished: false };
        return await finish(0);
      }
      options.print(
        hasNext
          ? `continuing the names key rotation started for ${rootUrl} (${nextKey} is there)`
          : `rotating the names key of ${rootUrl}`,
      );
      // A dry run writes nothing: a next key it would create is made in memory only.
      const planStorage: NamesKeyStorage = options.dryRun
        ? {
            read: (key, signal) => storage.read(key, signal),
            createOnly: () => Promise.resolve(true),
          }
        : storage;
      const context = buildUploadContext({ bucket });
      let moved = 0;
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        const listed = await listPrefix((c) => s3.client.send(c), bucket, location.root);
        const rotation = await planNamesRotation(planStorage, location, keyring, context, listed);
        const { current } = rotation;
        const plan = rotation.plan;
        if (round === 1) {
          for (const line of rotationPlanLines(plan, current, bucket)) options.print(line);
          if (!options.dryRun) await noteKeys(storage, currentKey, nextKey, options.print);
        } else if (plan.totals.ready > 0) {
          options.print(
            `plan: ${plan.totals.ready} more object${plan.totals.ready === 1 ? '' : 's'} named under the current key (uploaded meanwhile)`,
          );
        }
        if (options.dryRun) return { movedObjects: 0, finished: false };
        if (plan.totals.ready === 0) {
          options.print(
            `renamed ${moved} object${moved === 1 ? '' : 's'} under the next names key`,
          );
          return await finish(moved);
        }
        const batch = new RewrapBatch({
          plan,
          setup: { s3: seam, bucket, openWith: keyring, bindingRule: 'required' },
          concurrency: options.concurrency ?? MAX_BATCH_CONCURRENCY,
          destinationFor: (object) => plan.destinations.get(object.key),
          onChange: progressOf(plan, 'rename'),
        });
        const snapshot = await runCancellable(batch);
        moved += snapshot.progress.doneObjects;
        const failed = failures(snapshot, current, bucket);
        for (const line of failed.lines) options.print(line);
        if (failed.error) {
          options.print(
            `renamed ${moved} object${moved === 1 ? '' : 's'}; ${failed.lines.length} not: the rotation is not finished (both names keys kept)`,
          );
          throw failed.error;
        }
      }
      throw new VeilError(
        'USAGE',
        `objects keep arriving under the current names key of ${rootUrl}: run the command again once uploads there have stopped`,
      );
    } finally {
      close();
    }
  } finally {
    s3.close();
  }
}

/**
 * Prints the keys the next names key opens with, and a note when the current one opens with a
 * key the next one does not (those who hold only that key would lose the names).
 */
async function noteKeys(
  storage: NamesKeyStorage,
  currentKey: string,
  nextKey: string,
  print: (line: string) => void,
): Promise<void> {
  const [current, next] = [
    await storedKeys(storage, currentKey),
    await storedKeys(storage, nextKey),
  ];
  print(`next names key: ${nextKey} (keys: ${next})`);
  const missing = current
    .split(', ')
    .filter((key) => key !== '?' && !next.split(', ').includes(key));
  if (missing.length > 0) {
    print(
      `note: the current names key also opens with ${missing.join(', ')}, the next one will not: give that key too (a rotation stopped now keeps the current key)`,
    );
  }
}
