/**
 * The logic of "Change protection" (protection-change.svelte.ts is its reactive wrapper, and the
 * Keys view's "Rotate this key" drives the same core): for a selection of files and folders,
 * read every header once (a folder means every object under it), say which keys the selection
 * carries, plan an operation ([Note: rewrap batch plan] in src/transfer/rewrap-batch.ts), then
 * run it with progress, pause and cancel, and keep a result per object.
 *
 * Operations, each a set of keys removed and keys added:
 * - add a key (A: a vault key; B: an HSM label; C: a KMS key);
 * - remove a key the objects carry: never the last (REWRAP_LAST_KEY), and never so that none of
 *   the keys left is one this session can use (REWRAP_WOULD_LOCK_OUT);
 * - replace key X by key Y;
 * - change model: every key of model M1 removed, the chosen key of M2 added.
 * Objects the change cannot apply to are skipped with their reason; when it applies to none,
 * the plan is refused with the most common reason, in the catalogue's words.
 *
 * [Note: removed keys in versioned buckets] A versioned bucket keeps the previous version of
 * each rewrapped object, with its old header: a removed key still opens that version until it is
 * deleted. The plan says so whenever a key is removed, and after a run the previous versions the
 * engine names (`previousVersionId`) can be deleted (deletePreviousVersion, never the current one).
 */
import type { ErrorCode, Keyring, NeededKey } from '../../core';
import { VeilError, isErrorCode } from '../../core/errors';
import {
  RewrapBatch,
  scanRewrapBatch,
  type BatchChange,
  type BatchPlan,
  type BatchSnapshot,
  type HeaderReader,
  type ListedObject,
  type ObjectHeaderInfo,
  type PlannedObject,
  type ScanProgress,
} from '../../transfer/rewrap-batch';
import type { RewrapResult, RewrapSetup } from '../../transfer/rewrap-options';
import type { RewrapS3 } from '../../transfer/rewrap-s3';
import { deletePreviousVersion } from '../../transfer/rewrap-versions';
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

/** What the core needs of the app. */
export interface ProtectionDeps {
  readonly bucket: string;
  /** Every object under a prefix (all pages). */
  list(prefix: string, signal?: AbortSignal): Promise<readonly ListedObject[]>;
  /** One object's header (HEAD and a ranged GET; nothing decrypted). */
  readonly readHeader: HeaderReader;
  /** The rewrap engine's S3 seam. */
  rewrapS3(): RewrapS3;
  /** Every key the session holds (opens the headers). */
  readKeyring(): Promise<Keyring | undefined>;
  /**
   * The keyring that wraps the data key for `key`.
   * @throws VeilError VAULT_KEY_MISSING, HSM_UNAUTHENTICATED, CREDENTIALS_MISSING, ...
   */
  writeKeyring(key: ChosenKey): Keyring;
  /**
   * Optional: makes the added key's EDK inside its key service (KMS ReEncrypt from a KMS EDK of
   * the header), with `writeKeyring`'s keyring as the fallback; undefined where it does not apply.
   */
  reEncrypter?(key: ChosenKey): RewrapSetup['reEncrypt'] | undefined;
  /** How a key to add will be named in the header (provider id and key name). */
  addedKey(key: ChosenKey): NeededKey;
  /** Whether this session can use a key named in a header. */
  canOpen(key: NeededKey): boolean;
  modelOf(providerId: string): ModelId;
  /** Rewraps in flight; default 2. */
  readonly concurrency?: number;
  /** The engine (tests pass a fake). */
  readonly rewrap?: (setup: RewrapSetup) => Promise<RewrapResult>;
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

export class ProtectionChangeCore {
  readonly #deps: ProtectionDeps;
  readonly #onChange: (view: ProtectionView) => void;
  #view: ProtectionView = EMPTY_VIEW;
  #target: ProtectionTarget = { keys: [], prefixes: [] };
  #match: ((keys: readonly NeededKey[]) => boolean) | undefined;
  /** Headers read once per open, reused by every plan. */
  #headers = new Map<string, Promise<ObjectHeaderInfo>>();
  #scan: AbortController | undefined;
  #batch: RewrapBatch | undefined;
  #generation = 0;

  constructor(deps: ProtectionDeps, onChange: (view: ProtectionView) => void = () => {}) {
    this.#deps = deps;
    this.#onChange = onChange;
  }

  get view(): ProtectionView {
    return this.#view;
  }

  /** True while headers are read or objects rewrapped (the dialog does not close then). */
  get busy(): boolean {
    const phase = this.#view.phase;
    return (
      phase === 'scanning' ||
      phase === 'planning' ||
      phase === 'running' ||
      this.#view.versions?.state === 'deleting'
    );
  }

  /**
   * Reads the headers of `target` and lists the keys they carry. `match` keeps only the objects
   * whose keys it accepts (Rotate: those naming the old key). Never throws: a failure is the
   * view's error.
   */
  async open(
    target: ProtectionTarget,
    match?: (keys: readonly NeededKey[]) => boolean,
  ): Promise<void> {
    this.close();
    const generation = ++this.#generation;
    this.#target = target;
    this.#match = match;
    this.#headers = new Map();
    this.#set({ ...EMPTY_VIEW, phase: 'scanning' });
    try {
      const plan = await this.#scanWith({}, (scan) => {
        if (generation === this.#generation) this.#set({ scan });
      });
      if (generation !== this.#generation) return;
      this.#set({
        phase: 'choosing',
        carried: this.#carried(plan.objects),
        objects: plan.objects.length,
      });
    } catch (error) {
      if (generation === this.#generation) this.#fail(error);
    }
  }

  /** Plans `operation` on the headers read by open(). Never throws. */
  async plan(operation: ProtectionOperation): Promise<void> {
    const generation = this.#generation;
    this.#set({
      phase: 'planning',
      operation,
      plan: undefined,
      refused: undefined,
      error: undefined,
    });
    try {
      checkOperation(operation);
      const add = addOf(operation);
      const change: BatchChange = {
        removes: removesFor(operation, (id) => this.#deps.modelOf(id)),
        adds: add ? [this.#deps.addedKey(add)] : [],
        canOpen: (key) => this.#deps.canOpen(key),
      };
      const plan = await this.#scanWith(change);
      if (generation !== this.#generation) return;
      this.#set({
        phase: 'planned',
        plan,
        refused: refusalOf(plan),
        removesKeys: operation.kind !== 'add',
      });
    } catch (error) {
      if (generation === this.#generation) this.#fail(error, 'choosing');
    }
  }

  /** Runs the plan; resolves when every object ended or the run was cancelled. Never throws. */
  async start(): Promise<void> {
    const { plan, operation } = this.#view;
    if (this.#view.phase !== 'planned' || !plan || !operation || this.#view.refused) return;
    try {
      const openWith = await this.#deps.readKeyring();
      if (!openWith) throw new VeilError('NO_KEY_FOR_OBJECT', 'no key is at hand in this session');
      const add = addOf(operation);
      const addWith = add ? this.#deps.writeKeyring(add) : undefined;
      const reEncrypt = add ? this.#deps.reEncrypter?.(add) : undefined;
      const batch = new RewrapBatch({
        plan,
        setup: {
          s3: this.#deps.rewrapS3(),
          bucket: this.#deps.bucket,
          openWith,
          ...(addWith ? { addWith } : {}),
          ...(reEncrypt ? { reEncrypt } : {}),
        },
        concurrency: this.#deps.concurrency ?? 2,
        modelFor: (object) => this.#modelAfter(object, operation),
        onChange: (run) => {
          if (this.#batch === batch) this.#set({ run });
        },
        ...(this.#deps.rewrap ? { rewrap: this.#deps.rewrap } : {}),
      });
      this.#batch = batch;
      this.#set({ phase: 'running', run: batch.snapshot, error: undefined });
      const run = await batch.run();
      if (this.#batch === batch) {
        this.#set({ phase: 'finished', run, previousVersions: previousVersionsOf(run) });
      }
    } catch (error) {
      this.#fail(error, 'planned');
    }
  }

  /**
   * Deletes the previous versions the run left, one by one ([Note: removed keys in versioned
   * buckets]). Never throws: failures are counted and the first one shown.
   */
  async deletePreviousVersions(): Promise<void> {
    const versions = this.#view.previousVersions;
    if (this.#view.phase !== 'finished' || versions.length === 0) return;
    if (this.#view.versions?.state === 'deleting') return;
    const generation = this.#generation;
    const s3 = this.#deps.rewrapS3();
    let deletedVersions = 0;
    let failedVersions = 0;
    let error: ShownError | undefined;
    const report = (state: VersionsView['state']): void => {
      if (generation !== this.#generation) return;
      this.#set({
        versions: { state, deletedVersions, totalVersions: versions.length, failedVersions, error },
      });
    };
    report('deleting');
    for (const version of versions) {
      try {
        await deletePreviousVersion(s3, this.#deps.bucket, version.key, version.versionId);
        deletedVersions += 1;
      } catch (failure) {
        failedVersions += 1;
        error ??= shownError(failure);
      }
      report('deleting');
    }
    report('done');
  }

  pause(): void {
    this.#batch?.pause();
  }
  resume(): void {
    this.#batch?.resume();
  }
  /** Cancels the scan or the run (objects in flight are left as they were). */
  cancel(): void {
    this.#scan?.abort();
    this.#batch?.cancel();
  }

  /**
   * Goes back to choosing another operation (after a plan, or a finished run). After a run the
   * headers changed: they are read again.
   */
  back(): void {
    if (this.busy) return;
    if (this.#view.run) {
      void this.open(this.#target, this.#match);
      return;
    }
    this.#batch = undefined;
    this.#set({
      phase: 'choosing',
      plan: undefined,
      refused: undefined,
      run: undefined,
      previousVersions: [],
      versions: undefined,
      error: undefined,
    });
  }

  /** Forgets everything (the dialog closed); a running batch is cancelled. */
  close(): void {
    this.cancel();
    this.#generation += 1;
    this.#batch = undefined;
    this.#headers = new Map();
    this.#set(EMPTY_VIEW);
  }

  /** Scans the target with `change`, reading each header at most once per open(). */
  async #scanWith(
    change: BatchChange,
    onProgress?: (progress: ScanProgress) => void,
  ): Promise<BatchPlan> {
    const controller = new AbortController();
    this.#scan = controller;
    const headers = this.#headers;
    const readHeader: HeaderReader = (key, signal) => {
      let read = headers.get(key);
      if (!read) {
        read = this.#deps.readHeader(key, signal);
        headers.set(key, read);
        // A failed read is tried again by the next plan.
        read.catch(() => headers.delete(key));
      }
      return read;
    };
    const match = this.#match;
    try {
      return await scanRewrapBatch({
        keys: this.#target.keys,
        prefixes: this.#target.prefixes,
        list: (prefix, signal) => this.#deps.list(prefix, signal),
        readHeader,
        change,
        ...(match ? { match: (object) => match(object.keys) } : {}),
        signal: controller.signal,
        ...(onProgress ? { onProgress } : {}),
      });
    } finally {
      if (this.#scan === controller) this.#scan = undefined;
    }
  }

  #carried(objects: readonly PlannedObject[]): CarriedKey[] {
    const byKey = new Map<string, CarriedKey>();
    for (const object of objects) {
      const seen = new Set<string>();
      for (const key of object.keys) {
        const id = `${key.providerId}\u0000${key.keyName}`;
        if (seen.has(id)) continue;
        seen.add(id);
        const known = byKey.get(id);
        byKey.set(id, {
          providerId: key.providerId,
          keyName: key.keyName,
          model: this.#deps.modelOf(key.providerId),
          objects: (known?.objects ?? 0) + 1,
        });
      }
    }
    return [...byKey.values()].sort(
      (a, b) => a.model.localeCompare(b.model) || a.keyName.localeCompare(b.keyName),
    );
  }

  /**
   * The model badge after the change: unchanged when a key is only added (a recovery key does
   * not change what the file is); the added key's for a replace or a change of model; else that
   * of the first key kept.
   */
  #modelAfter(object: PlannedObject, operation: ProtectionOperation): ModelId | undefined {
    if (operation.kind === 'add') return undefined;
    const add = addOf(operation);
    if (add && object.add) return add.model;
    const kept = object.keys.find(
      (key) =>
        !object.remove.some((r) => r.keyName === key.keyName && r.providerId === key.providerId),
    );
    return kept ? this.#deps.modelOf(kept.providerId) : undefined;
  }

  #fail(error: unknown, phase: ProtectionPhase = 'failed'): void {
    this.#set({ phase, error: shownError(error) });
  }

  #set(change: Partial<ProtectionView>): void {
    this.#view = { ...this.#view, ...change };
    this.#onChange(this.#view);
  }
}
