/**
 * The logic of "Change protection" (protection-change.svelte.ts is its reactive wrapper, and the
 * Keys view's "Rotate this key" drives the same core): for a selection of files and folders,
 * read every header once (a folder means every object under it), say which keys the selection
 * carries, plan an operation ([Note: rewrap batch plan] in src/transfer/rewrap-batch-plan.ts),
 * then run it with progress, pause and cancel, and keep a result per object. The operations and
 * the view are data in protection-ops.ts.
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
import type { BindingRule, Keyring, NeededKey } from '../../core';
import { VeilError } from '../../core/errors';
import {
  RewrapBatch,
  scanRewrapBatch,
  type BatchChange,
  type BatchPlan,
  type HeaderReader,
  type ListedObject,
  type ObjectHeaderInfo,
  type PlannedObject,
  type ScanProgress,
} from '../../transfer/rewrap-batch';
import type { RewrapResult, RewrapSetup } from '../../transfer/rewrap-options';
import type { RewrapS3 } from '../../transfer/rewrap-s3';
import type { RewrapStore } from '../../transfer/rewrap-store';
import { deletePreviousVersion } from '../../transfer/rewrap-versions';
import { shownError, type ShownError } from '../app/shown-error';
import type { ModelId } from '../shared/protection';
import {
  EMPTY_VIEW,
  addOf,
  checkOperation,
  previousVersionsOf,
  refusalOf,
  removesFor,
  type CarriedKey,
  type ChosenKey,
  type ProtectionOperation,
  type ProtectionPhase,
  type ProtectionTarget,
  type ProtectionView,
  type VersionsView,
} from './protection-ops';

export * from './protection-ops';

/** What the core needs of the app. */
export interface ProtectionDeps {
  readonly bucket: string;
  /** Every object under a prefix (all pages). */
  list(prefix: string, signal?: AbortSignal): Promise<readonly ListedObject[]>;
  /** One object's header (HEAD and a ranged GET; nothing decrypted). */
  readonly readHeader: HeaderReader;
  /** The rewrap engine's S3 seam. */
  rewrapS3(): RewrapS3;
  /**
   * Optional: where a multipart rewrap keeps its record, so that one stopped by the network or
   * expired credentials can be resumed ([Note: rewrap resume] in src/transfer/rewrap-resume.ts;
   * unfinished-changes-core.ts lists them); without it such a run starts over.
   */
  rewrapStore?(): RewrapStore | undefined;
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
  /**
   * How each object's binding is checked before it is rewrapped ([Note: location binding]):
   * strict where the location's names are private, so no object is bound anew that storage put
   * there; default 'if-present'.
   */
  bindingRule?(): Promise<BindingRule>;
  /** Rewraps in flight; default 2. */
  readonly concurrency?: number;
  /** The engine (tests pass a fake). */
  readonly rewrap?: (setup: RewrapSetup) => Promise<RewrapResult>;
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
      const store = this.#deps.rewrapStore?.();
      const bindingRule = (await this.#deps.bindingRule?.()) ?? 'if-present';
      const batch = new RewrapBatch({
        plan,
        setup: {
          s3: this.#deps.rewrapS3(),
          bucket: this.#deps.bucket,
          openWith,
          bindingRule,
          ...(addWith ? { addWith } : {}),
          ...(reEncrypt ? { reEncrypt } : {}),
          ...(store ? { store } : {}),
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
