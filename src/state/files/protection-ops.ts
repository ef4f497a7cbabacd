/**
 * What Change protection is about, as data: the operations (add, remove, replace a key, change
 * model), the target, what the view shows, and the pure rules on them (which keys an operation
 * removes, its checks, a plan's refusal, a run's first failure and previous versions).
 * protection-change-core.ts drives them. Pure.
 */
import type { ErrorCode, NeededKey } from '../../core';
import { VeilError, isErrorCode } from '../../core/errors';
import type { BatchPlan, BatchSnapshot, ScanProgress } from '../../transfer/rewrap-batch';
import { shownError, type ShownError } from '../app/shown-error';
import type { ModelId } from '../shared/protection';

/** A key to add, as the user chose it: its model and name (vault key, HSM label, KMS key). */
export interface ChosenKey {
  readonly model: ModelId;
  readonly keyName: string;
}

/** A key an object carries, with its model. */
export interface CarriedKey extends NeededKey {
  readonly model: ModelId;
  /** Objects of the selection that carry it. */
  readonly objects: number;
}

export type ProtectionOperation =
  | { readonly kind: 'add'; readonly add: ChosenKey }
  | { readonly kind: 'remove'; readonly remove: NeededKey }
  | { readonly kind: 'replace'; readonly remove: NeededKey; readonly add: ChosenKey }
  | { readonly kind: 'model'; readonly from: ModelId; readonly add: ChosenKey };

/** What to change: objects by key, and folders (every object under the prefix). */
export interface ProtectionTarget {
  readonly keys: readonly string[];
  readonly prefixes: readonly string[];
}

/** Where a change is. */
export type ProtectionPhase =
  'idle' | 'scanning' | 'choosing' | 'planning' | 'planned' | 'running' | 'finished' | 'failed';

/** A previous version a run left behind ([Note: removed keys in versioned buckets]). */
export interface PreviousVersion {
  readonly key: string;
  readonly versionId: string;
}

/** Deleting the previous versions after a run. */
export interface VersionsView {
  readonly state: 'idle' | 'deleting' | 'done';
  readonly deletedVersions: number;
  readonly totalVersions: number;
  /** Versions S3 refused to delete, with the first failure. */
  readonly failedVersions: number;
  readonly error: ShownError | undefined;
}

/** Everything the view shows (the wrapper copies it into $state). */
export interface ProtectionView {
  readonly phase: ProtectionPhase;
  readonly scan: ScanProgress | undefined;
  readonly carried: readonly CarriedKey[];
  /** Objects the selection holds (read so far). */
  readonly objects: number;
  readonly operation: ProtectionOperation | undefined;
  readonly plan: BatchPlan | undefined;
  /** Set when the plan applies to no object: why, in the catalogue's words. */
  readonly refused: ShownError | undefined;
  /** True when the operation removes a key ([Note: removed keys in versioned buckets]). */
  readonly removesKeys: boolean;
  readonly run: BatchSnapshot | undefined;
  /** Previous versions the run left (versioned buckets only), and their deletion. */
  readonly previousVersions: readonly PreviousVersion[];
  readonly versions: VersionsView | undefined;
  readonly error: ShownError | undefined;
}

export const EMPTY_VIEW: ProtectionView = {
  phase: 'idle',
  scan: undefined,
  carried: [],
  objects: 0,
  operation: undefined,
  plan: undefined,
  refused: undefined,
  removesKeys: false,
  run: undefined,
  previousVersions: [],
  versions: undefined,
  error: undefined,
};

/** Which of an object's keys an operation removes. */
export function removesFor(operation: ProtectionOperation, modelOf: (id: string) => ModelId) {
  return (key: NeededKey): boolean => {
    switch (operation.kind) {
      case 'add':
        return false;
      case 'remove':
      case 'replace':
        return (
          key.keyName === operation.remove.keyName && key.providerId === operation.remove.providerId
        );
      case 'model':
        return modelOf(key.providerId) === operation.from;
    }
  };
}

/** The key an operation adds, if any. */
export function addOf(operation: ProtectionOperation): ChosenKey | undefined {
  return operation.kind === 'remove' ? undefined : operation.add;
}

/**
 * Checks an operation before planning.
 * @throws VeilError BAD_ARGUMENT for an empty key name, a replace by the same key, a change to
 *   the same model.
 */
export function checkOperation(operation: ProtectionOperation): void {
  const add = addOf(operation);
  if (add && add.keyName.trim() === '') throw new VeilError('BAD_ARGUMENT', 'the key to add');
  if (operation.kind === 'remove' || operation.kind === 'replace') {
    if (operation.remove.keyName === '') throw new VeilError('BAD_ARGUMENT', 'the key to remove');
  }
  if (operation.kind === 'replace' && operation.remove.keyName === operation.add.keyName) {
    throw new VeilError('BAD_ARGUMENT', 'replace a key by another one');
  }
  if (operation.kind === 'model' && operation.from === operation.add.model) {
    throw new VeilError('BAD_ARGUMENT', 'choose another model');
  }
}

/** The versions a run replaced and S3 kept (versioned buckets): one per object done. */
export function previousVersionsOf(run: BatchSnapshot): PreviousVersion[] {
  return run.items.flatMap((item) => {
    const versionId = item.state === 'done' ? item.result?.previousVersionId : undefined;
    return versionId ? [{ key: item.key, versionId }] : [];
  });
}

/** The first failure of a run in the catalogue's words (ErrorNotice shows it). */
export function firstFailure(run: BatchSnapshot): ShownError | undefined {
  const failed = run.items.find((item) => item.state === 'failed');
  if (!failed?.code) return undefined;
  return shownError(
    isErrorCode(failed.code)
      ? new VeilError(failed.code, failed.detail || undefined)
      : new VeilError('INTERNAL_ERROR', failed.code),
  );
}

/** The most common skip code of a plan that applies to nothing, as the view shows it. */
export function refusalOf(plan: BatchPlan): ShownError | undefined {
  if (plan.totals.ready > 0) return undefined;
  if (plan.objects.length === 0) {
    return shownError(new VeilError('REWRAP_KEY_NOT_FOUND', 'no object matches'));
  }
  const counts = new Map<ErrorCode, number>();
  for (const object of plan.objects) {
    const code = object.skip?.code;
    if (code) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  const [code] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
  const detail = plan.objects.find((object) => object.skip?.code === code)?.skip?.detail;
  return shownError(new VeilError(code ?? 'REWRAP_KEY_NOT_FOUND', detail || undefined));
}
