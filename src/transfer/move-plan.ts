/**
 * [Note: move plan] Renaming or moving a file or a folder, as a plan the batch runner
 * (rewrap-batch.ts, `destinationFor`) carries out with the move engine ([Note: move by rewrap]
 * in rewrap-move.ts): one entry per object, from its key to the key of its new clear path.
 *
 * - Paths are clear and relative to the location's root; a folder ends in '/'. The object keys
 *   come from the location's names (location-names.ts), so with private names every segment
 *   below the moved folder is encrypted again under its new parent ([Note: private names]) and
 *   every object of the folder is moved, even when only the folder's own name changes.
 * - Everything is checked before anything moves: a destination inside the source, a kind that
 *   changes (file to folder), a name a folder cannot hold (NAME_INVALID), a key past S3's limit
 *   (NAME_TOO_LONG). Objects whose names cannot be opened cannot be given a new one: they stay,
 *   listed as skipped (NAME_UNREADABLE), so the user sees what was left.
 * - Each object's bytes are estimated as the engine moves them (plannedMove).
 */
import { VeilError, needs } from '../core';
import type { LocationNames } from './location-names';
import { totalsOf, type BatchPlan, type ListedObject, type PlannedObject } from './rewrap-batch';
import { planRewrap } from './rewrap-plan';

/** What to move: clear paths below the root, a folder ending in '/'. */
export interface MoveRequest {
  readonly from: string;
  readonly to: string;
}

/** A plan with each ready object's destination key. */
export interface MovePlan extends BatchPlan {
  /** Object key -> the key it moves to. */
  readonly destinations: ReadonlyMap<string, string>;
}

/** A header's bytes as guessed: a few keys and the binding (a move reads no header to plan). */
const HEADER_GUESS_BYTES = 1024;

function isFolder(path: string): boolean {
  return path.endsWith('/');
}

/**
 * Checks a move request.
 * @throws VeilError BAD_ARGUMENT for an empty path, a change of kind, a no-op or a folder moved
 *   into itself.
 */
function checkRequest(request: MoveRequest): void {
  // Precondition: two non-empty paths of the same kind, different, the target not inside.
  needs(request.from !== '' && request.to !== '', 'BAD_ARGUMENT', 'move: an empty path');
  needs(isFolder(request.from) === isFolder(request.to), 'BAD_ARGUMENT', 'move: file vs folder');
  needs(request.from !== request.to, 'BAD_ARGUMENT', 'move: the same place');
  if (isFolder(request.from) && request.to.startsWith(request.from)) {
    throw new VeilError('BAD_ARGUMENT', 'move: a folder cannot go inside itself');
  }
}

/**
 * One object of a move plan: moved, or skipped for `skip`. Its bytes are counted as the rewrap
 * engine will move them ([Note: rewrap plan] in rewrap-plan.ts): an object whose new form fits one
 * PutObject (5 MiB) is read and sent again whole, a larger one has its first part sent and the
 * rest copied inside S3; an object that is not a message (an empty folder marker) is copied.
 */
export function plannedMove(object: ListedObject, skip?: PlannedObject['skip']): PlannedObject {
  const objectBytes = object.sizeBytes ?? 0;
  const base: PlannedObject = {
    key: object.key,
    objectBytes,
    kind: undefined,
    keys: [],
    models: [],
    etag: undefined,
    ...(skip ? { skip } : {}),
    remove: [],
    add: false,
    method: undefined,
    receivedBytes: 0,
    sentBytes: 0,
    copiedBytes: skip ? 0 : objectBytes,
  };
  if (skip || objectBytes === 0) return base;
  const headerBytes = Math.min(objectBytes, HEADER_GUESS_BYTES);
  const sizes = planRewrap({
    objectBytes,
    oldHeaderBytes: headerBytes,
    newHeaderBytes: headerBytes,
  });
  return {
    ...base,
    method: sizes.method,
    receivedBytes: headerBytes + sizes.readBodyBytes,
    sentBytes: sizes.sentBytes,
    copiedBytes: sizes.copiedBytes,
  };
}

/**
 * Plans a move ([Note: move plan]). `listed` is every object under the source's key (for a
 * file, the file itself), as a recursive listing returns it.
 * @throws VeilError BAD_ARGUMENT (checkRequest), NAME_INVALID and NAME_TOO_LONG for a new path,
 *   before anything is moved.
 */
export function planMove(
  names: LocationNames,
  listed: readonly ListedObject[],
  request: MoveRequest,
): MovePlan {
  checkRequest(request);
  const sourceKey = names.objectKey(request.from);
  const destinations = new Map<string, string>();
  const objects: PlannedObject[] = [];
  for (const object of listed) {
    if (isFolder(request.from) ? !object.key.startsWith(sourceKey) : object.key !== sourceKey) {
      continue;
    }
    const clear = names.clearPath(object.key);
    if (clear === undefined || !clear.startsWith(request.from)) {
      objects.push(
        plannedMove(object, { code: 'NAME_UNREADABLE', detail: 'its name cannot be opened' }),
      );
      continue;
    }
    const target = names.objectKey(`${request.to}${clear.slice(request.from.length)}`);
    destinations.set(object.key, target);
    objects.push(plannedMove(object));
  }
  if (objects.length === 0) throw new VeilError('BAD_ARGUMENT', 'move: nothing to move');
  return { objects, totals: totalsOf(objects), destinations };
}
