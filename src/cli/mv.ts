/**
 * `veil mv [KEYS] [--dry-run] s3://BUCKET/PATH s3://BUCKET/NEWPATH`: renames or moves a file, or
 * a folder (PATH ending in `/`, NEWPATH too), inside one bucket and one location. In a private
 * location both paths are clear, as `veil cp` takes them ([Note: names on the command line] in
 * names.ts); elsewhere they are the stored keys.
 *
 * Every object under the source is listed (all pages of ListObjectsV2) and planned ([Note: move
 * plan] in transfer/move-plan.ts): its new key, the bytes S3 copies and the bytes through this
 * machine, or why it stays (NAME_UNREADABLE). The plan is printed; `--dry-run` stops there.
 * Otherwise the batch runner moves the objects a few at once ([Note: move by rewrap] in
 * transfer/rewrap-move.ts): each gets a new header bound to its new key in front of its body
 * (copied inside S3, or sent again whole when small: move-estimate.ts), at a key that must be free (MOVE_DESTINATION_EXISTS: nothing is ever
 * overwritten), and its source is deleted once the copy is complete. The keys given (KEYS, as
 * for `veil rewrap`) open the objects' headers; an unencrypted object of a plain location is
 * moved with CopyObject. Ctrl-C cancels: the objects in flight are left as they were.
 *
 * Exit status 0 when every object moved; otherwise a line per object that did not, and the last
 * stderr line starts with the code of the first (status 1).
 */
import { VeilError, isErrorCode } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { escapeUntrusted } from '../core/untrusted-text';
import type { LocationNames } from '../transfer/location-names';
import { planMove, type MovePlan } from '../transfer/move-plan';
import { nodeRewrapS3 } from '../transfer/node';
import { MAX_BATCH_CONCURRENCY, RewrapBatch, type BatchSnapshot } from '../transfer/rewrap-batch';
import { cliKeyring, readKeyFlags, type KeyringFlags } from './keyrings';
import { candidateRoots, findNamesKey, openLocationNames } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { formatBytes } from './progress-line';
import { listPrefix, progressOf, runCancellable } from './rewrap-s3';
import { cliS3, type S3Flags } from './s3-client';
import { formatS3Url, parseS3Url, type S3Location } from './s3-url';

/** What `veil mv` is given. */
export interface MoveCommand {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  /** `s3://BUCKET/PATH` and `s3://BUCKET/NEWPATH`, as typed. */
  readonly from: string;
  readonly to: string;
  readonly dryRun: boolean;
  readonly print: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Moves in flight; default MAX_BATCH_CONCURRENCY. */
  readonly concurrency?: number;
}

/** What a move did. */
export interface MoveOutcome {
  readonly plan: MovePlan;
  readonly snapshot?: BatchSnapshot;
}

function usage(detail: string): never {
  throw new VeilError('USAGE', detail);
}

/**
 * The two locations of a move, checked: one bucket, the same kind (a folder ends in `/`), not
 * the bucket itself, not the same path, a folder not into itself.
 * @throws VeilError USAGE naming what is wrong.
 */
export function moveLocations(from: string, to: string): { from: S3Location; to: S3Location } {
  const source = parseS3Url(from, 'prefix');
  const target = parseS3Url(to, 'prefix');
  if (source.bucket !== target.bucket) {
    usage('veil mv moves inside one bucket: give the same bucket on both sides');
  }
  if (source.key === '' || target.key === '') usage('veil mv needs a path below the bucket');
  const folder = source.key.endsWith('/');
  if (folder !== target.key.endsWith('/')) {
    usage(
      folder
        ? 'a folder (ending in /) moves to a folder: end NEWPATH with /'
        : 'a file moves to a file: NEWPATH must not end with /',
    );
  }
  if (source.key === target.key) usage('the source and the destination are the same');
  if (folder && target.key.startsWith(source.key)) usage('a folder cannot move inside itself');
  return { from: source, to: target };
}

/** The clear key (root and clear path) an object is shown by, or its stored key. Pure. */
function shownKey(names: LocationNames, key: string): string {
  if (!names.isPrivate) return key;
  const clear = names.clearPath(key);
  return clear === undefined ? key : `${names.root}${clear}`;
}

/** Where each moved object goes, as clear keys. */
interface Shown {
  readonly from: (key: string) => string;
  readonly to: (key: string) => string;
}

function shownBy(names: LocationNames, from: string, to: string): Shown {
  return {
    from: (key) => shownKey(names, key),
    to: (key) => {
      const clear = shownKey(names, key);
      return clear.startsWith(from) ? `${to}${clear.slice(from.length)}` : clear;
    },
  };
}

/** The plan as lines: a summary, then one line per object. Pure. */
export function movePlanLines(plan: MovePlan, bucket: string, shown: Shown): string[] {
  const t = plan.totals;
  const url = (key: string) => escapeUntrusted(formatS3Url({ bucket, key }));
  const lines = [
    `plan: ${t.ready} of ${t.objects} object${t.objects === 1 ? '' : 's'} to move` +
      (t.skipped > 0 ? `, ${t.skipped} skipped` : '') +
      `; ${formatBytes(t.copiedBytes)} copied inside S3, about ${formatBytes(t.clientBytes)} ` +
      `through this machine`,
  ];
  for (const object of plan.objects) {
    if (object.skip) {
      const code = object.skip.code ? `${object.skip.code}: ` : '';
      lines.push(`  skip  ${url(object.key)}  ${code}${escapeUntrusted(object.skip.detail)}`);
      continue;
    }
    lines.push(
      `  move  ${url(shown.from(object.key))} -> ${url(shown.to(object.key))}  ` +
        `(${formatBytes(object.objectBytes)})`,
    );
  }
  return lines;
}

/** The result lines of a run, one per object, and the summary. Pure. */
export function moveResultLines(snapshot: BatchSnapshot, bucket: string, shown: Shown): string[] {
  const url = (key: string) => escapeUntrusted(formatS3Url({ bucket, key }));
  const lines = snapshot.items.map((item) => {
    const why = `${item.code ?? ''}${item.detail ? `: ${escapeUntrusted(item.detail)}` : ''}`;
    switch (item.state) {
      case 'done': {
        const kept =
          item.result?.movedFrom?.deleted === false
            ? '  (the source changed or could not be deleted: both kept)'
            : '';
        return `moved    ${url(shown.from(item.key))} -> ${url(shown.to(item.key))}${kept}`;
      }
      case 'skipped':
        return `skipped  ${url(shown.from(item.key))}  ${why}`;
      case 'failed':
        return `failed   ${url(shown.from(item.key))}  ${why} (left as it was)`;
      default:
        return `${item.state.padEnd(8)} ${url(shown.from(item.key))}  left as it was`;
    }
  });
  const p = snapshot.progress;
  const notMoved = snapshot.items.length - p.doneObjects;
  lines.push(
    `moved ${p.doneObjects} of ${snapshot.items.length} object${snapshot.items.length === 1 ? '' : 's'}` +
      (notMoved > 0 ? ` (${notMoved} not moved)` : '') +
      `; ${formatBytes(p.copiedBytes)} copied inside S3, ${formatBytes(p.sentBytes + p.receivedBytes)} through this machine`,
  );
  return lines;
}

/** The error a run ends with: the first object that did not move, or undefined. */
function moveError(
  items: readonly { key: string; code?: string | undefined; detail?: string | undefined }[],
  bucket: string,
  shown: Shown,
): VeilError | undefined {
  const bad = items.filter((item) => item.code !== undefined);
  const [first] = bad;
  if (!first) return undefined;
  const code = isErrorCode(first.code) ? first.code : 'INTERNAL_ERROR';
  const from = escapeUntrusted(formatS3Url({ bucket, key: shown.from(first.key) }));
  const to = escapeUntrusted(formatS3Url({ bucket, key: shown.to(first.key) }));
  const count = items.length > 1 || bad.length > 1 ? `${bad.length} not moved; first ` : '';
  return new VeilError(code, `${count}${from} -> ${to}`);
}

/**
 * Runs `veil mv` (see the header).
 * @throws VeilError USAGE (paths, flags, a destination in another location); NAME_INVALID,
 *   NAME_TOO_LONG for a new path; the names key's and the keyring's errors; S3_REJECTED,
 *   S3_UNREACHABLE, CREDENTIALS_* when listing fails; the code of the first object that did not
 *   move (MOVE_DESTINATION_EXISTS, OBJECT_MISMATCH, NO_MATCHING_EDK, ...).
 */
export async function moveObjects(command: MoveCommand): Promise<MoveOutcome> {
  const env = command.env ?? process.env;
  const { from, to } = moveLocations(command.from, command.to);
  const { bucket } = from;
  const folder = from.key.endsWith('/');
  const s3 = await cliS3(command.s3, env);
  const opened: { close?: () => void; keyring?: Keyring } = {};
  const keyring = async (): Promise<Keyring> => {
    if (!opened.keyring) {
      const made = await cliKeyring('decrypt', readKeyFlags(command.keys), env);
      opened.keyring = made.keyring;
      opened.close = made.close;
    }
    return opened.keyring;
  };
  try {
    const storage = s3NamesKeyStorage(s3.client, bucket, 'move');
    const what = folder ? 'folder' : 'object';
    const fromKey = await findNamesKey(storage, bucket, candidateRoots(from.key, what));
    const toKey = await findNamesKey(storage, bucket, candidateRoots(to.key, what));
    if (fromKey?.root !== toKey?.root) {
      usage(
        'the source and the destination are in different locations (one has private names, or ' +
          'another names key): veil mv moves inside one location; use veil cp down and up',
      );
    }
    const names = await openLocationNames(bucket, fromKey, keyring);
    const root = names.isPrivate ? names.root : '';
    if (from.key === root || to.key === root) usage('veil mv cannot move a location’s root');
    const fromPath = from.key.slice(root.length);
    const toPath = to.key.slice(root.length);
    const listed = await listPrefix(
      (request) => s3.client.send(request),
      bucket,
      names.objectKey(fromPath),
    );
    const shown = shownBy(names, from.key, to.key);
    let plan: MovePlan;
    try {
      plan = planMove(names, listed, { from: fromPath, to: toPath });
    } catch (error) {
      if (error instanceof VeilError && error.code === 'BAD_ARGUMENT') {
        throw new VeilError(
          'USAGE',
          `nothing to move: no ${folder ? 'object under' : 'object at'} ${formatS3Url(from)}`,
        );
      }
      throw error;
    }
    for (const line of movePlanLines(plan, bucket, shown)) command.print(line);
    if (command.dryRun) return { plan };
    const draw = progressOf(plan, 'move');
    const batch = new RewrapBatch({
      plan,
      setup: {
        s3: nodeRewrapS3(s3.client),
        bucket,
        openWith: await keyring(),
        bindingRule: names.bindingRule,
      },
      concurrency: command.concurrency ?? MAX_BATCH_CONCURRENCY,
      destinationFor: (object) => plan.destinations.get(object.key),
      onChange: draw,
    });
    const snapshot = await runCancellable(batch);
    for (const line of moveResultLines(snapshot, bucket, shown)) command.print(line);
    const error = moveError(snapshot.items, bucket, shown);
    if (error) throw error;
    return { plan, snapshot };
  } finally {
    opened.close?.();
    s3.close();
  }
}
