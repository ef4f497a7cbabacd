/**
 * "Rotate this key" in Keys (rotate.svelte.ts is its reactive wrapper): every object under the
 * user's prefix whose header names the old vault key gets the new key instead, through the
 * Change protection core (src/state/files/protection-change-core.ts): the headers are read
 * with progress, the objects that name the old key are planned (replace old by new), and the
 * user starts, pauses or cancels the run. Once every one of them was rewrapped, the old key can
 * be retired (deleted from the vault through Keys' delete confirmation). Pure logic.
 */
import type { NeededKey } from '../../core';
import type {
  ProtectionChangeCore,
  ProtectionOperation,
  ProtectionView,
} from '../files/protection-change-core';

/** The vault key being rotated: its name and namespace (the EDK's provider id). */
export interface RotatedKey {
  readonly keyName: string;
  readonly keyNamespace: string;
}

/** Accepts the objects whose header names `old`. */
export function namesKey(old: RotatedKey): (keys: readonly NeededKey[]) => boolean {
  return (keys) =>
    keys.some((key) => key.keyName === old.keyName && key.providerId === old.keyNamespace);
}

/** Replace `old` by the vault key `newKeyName`. */
export function rotationOperation(old: RotatedKey, newKeyName: string): ProtectionOperation {
  return {
    kind: 'replace',
    remove: { providerId: old.keyNamespace, keyName: old.keyName },
    add: { model: 'A', keyName: newKeyName },
  };
}

/** The vault keys a rotation of `old` may move to: every other key. */
export function rotationTargets(
  keys: readonly { readonly keyName: string }[],
  old: RotatedKey,
): string[] {
  return keys.map((key) => key.keyName).filter((name) => name !== old.keyName);
}

/**
 * Whether the old key may be retired now: the rotation finished and every object that named it
 * was rewrapped (none failed, was cancelled or left untouched), or none named it at all.
 */
export function canRetire(view: ProtectionView): boolean {
  if (view.phase === 'planned' && view.objects === 0) return true;
  if (view.phase !== 'finished' || !view.run) return false;
  return view.run.items.every((item) => item.state === 'done');
}

/**
 * Reads the headers under `root`, keeps those naming `old`, and plans the replace. Never
 * throws: failures are the view's error (see ProtectionChangeCore).
 */
export async function scanForRotation(
  change: Pick<ProtectionChangeCore, 'open' | 'plan' | 'view'>,
  root: string,
  old: RotatedKey,
  newKeyName: string,
): Promise<void> {
  await change.open({ keys: [], prefixes: [root] }, namesKey(old));
  if (change.view.phase !== 'choosing') return;
  await change.plan(rotationOperation(old, newKeyName));
}
