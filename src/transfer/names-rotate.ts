/**
 * [Note: names key rotation] A new names key means a new name for every object: in S3 a move per
 * object ([Note: move by rewrap] in rewrap-move.ts). It runs in steps that can each be stopped
 * and started again without losing a name:
 * 1. The next names key is created at `.veil/names-key.next` (or the one a stopped rotation
 *    created is opened), wrapped by the same keyring as the names key.
 * 2. planNamesRotation lists the location and maps every object named under the current key to
 *    its name under the next one. Objects already named under the next key (moved by a run that
 *    stopped) are left out; objects whose names open under neither are skipped (NAME_UNREADABLE).
 *    The caller shows the plan and runs it with the batch runner (`destinationFor`), with its
 *    progress, pause and cancel.
 * 3. Once a fresh plan has nothing left to move (uploads made meanwhile under the current key are
 *    picked up by planning again), finishNamesRotation deletes the current names key and moves
 *    the next one into its place (a move by rewrap: it is bound to where it lies). Between those
 *    two, readers find only the next key and use it (readNamesKey).
 * While steps 2 and 3 run, a reader with the current key sees the objects already moved as names
 * it cannot open; they open again once the rotation finishes.
 */
import { VeilError, needs, type EncryptionContext, type Keyring } from '../core';
import { isReservedKey, privateNames, type LocationNames } from './location-names';
import { plannedMove, type MovePlan } from './move-plan';
import {
  NAMES_KEY_PATH,
  NEXT_NAMES_KEY_PATH,
  ensureNextNamesKey,
  namesKeyObjectKey,
  readAt,
  type NamesKeyStorage,
  type NamesLocation,
} from './names-key';
import { rewrapObject } from './rewrap';
import { totalsOf, type ListedObject, type PlannedObject } from './rewrap-batch';
import type { RewrapResult, RewrapSetup } from './rewrap-options';

/** A rotation under way: both names, and what is left to move. */
export interface NamesRotation {
  readonly current: LocationNames;
  readonly next: LocationNames;
  readonly plan: MovePlan;
}

/**
 * Steps 1 and 2 of [Note: names key rotation]: opens the current and next names keys (creating
 * the next) and plans the moves of `listed` (every object under the root).
 * @throws VeilError BAD_ARGUMENT when the location has no names key to rotate; the errors of
 *   ensureNextNamesKey.
 */
export async function planNamesRotation(
  storage: NamesKeyStorage,
  location: NamesLocation,
  keyring: Keyring,
  context: EncryptionContext,
  listed: readonly ListedObject[],
  signal?: AbortSignal,
): Promise<NamesRotation> {
  const currentCipher = await readAt(storage, location, NAMES_KEY_PATH, keyring, signal);
  // Precondition: a names key to rotate (a plain location has none).
  needs(currentCipher, 'BAD_ARGUMENT', 'this location has no names key to rotate');
  const { cipher: nextCipher } = await ensureNextNamesKey(
    storage,
    location,
    keyring,
    context,
    signal,
  );
  const current = privateNames(location, currentCipher);
  const next = privateNames(location, nextCipher);
  const destinations = new Map<string, string>();
  const objects: PlannedObject[] = [];
  for (const object of listed) {
    if (isReservedKey(location.root, object.key) || !object.key.startsWith(location.root)) continue;
    const clear = current.clearPath(object.key);
    if (clear === undefined) {
      if (next.clearPath(object.key) !== undefined) continue; // moved by an earlier run
      objects.push(plannedMove(object, { code: 'NAME_UNREADABLE', detail: 'name does not open' }));
      continue;
    }
    destinations.set(object.key, next.objectKey(clear));
    objects.push(plannedMove(object));
  }
  return { current, next, plan: { objects, totals: totalsOf(objects), destinations } };
}

/**
 * Step 3 of [Note: names key rotation]: the next names key takes the current one's place.
 * Call it only when a fresh plan has no object left to move.
 * @throws VeilError BAD_ARGUMENT when no rotation was started; the move's errors (the next key
 *   stays where it is, and readers keep using the current one).
 */
export async function finishNamesRotation(
  storage: NamesKeyStorage & { remove(key: string, signal?: AbortSignal): Promise<void> },
  location: NamesLocation,
  move: Omit<RewrapSetup, 'key' | 'destinationKey' | 'bucket'>,
  signal?: AbortSignal,
): Promise<RewrapResult> {
  const nextKey = namesKeyObjectKey(location, NEXT_NAMES_KEY_PATH);
  const currentKey = namesKeyObjectKey(location, NAMES_KEY_PATH);
  // Precondition: a started rotation.
  if ((await storage.read(nextKey, signal)) === undefined) {
    throw new VeilError('BAD_ARGUMENT', 'no names key rotation was started here');
  }
  await storage.remove(currentKey, signal);
  return rewrapObject({
    ...move,
    bucket: location.bucket,
    key: nextKey,
    destinationKey: currentKey,
    bindingRule: 'required',
    ...(signal ? { signal } : {}),
  });
}
