/**
 * The logic of Settings' "Rotate names key…" (names-rotation.svelte.ts is its reactive wrapper,
 * NamesRotationDialog.svelte its view), on the engine of [Note: names key rotation] in
 * src/transfer/names-rotate.ts. Opening checks that the location's names key opens with the
 * session's keys and whether a rotation was started (`.veil/names-key.next` is there: it is
 * continued, never replaced). Planning lists every object under the root (all pages, no
 * delimiter) and shows what is renamed, the bytes copied inside S3 and through the browser, and
 * what is skipped and why; it writes nothing (a next key it would create is made in memory).
 * Start creates (or reuses) the next key, plans again with it, runs the plan with RewrapBatch
 * (progress, pause, cancel) and plans again until nothing is left; then the next key takes the
 * current one's place and the location's names are opened again (the old cipher is stale).
 * A run stopped part-way leaves both keys: starting again continues it.
 */
import { VeilError, type EncryptionContext, type Keyring } from '../../core';
import type { LocationNames } from '../../transfer/location-names';
import type { MovePlan } from '../../transfer/move-plan';
import {
  NAMES_KEY_PATH,
  NEXT_NAMES_KEY_PATH,
  namesKeyObjectKey,
  readAt,
  readNextNamesKey,
  type NamesKeyStorage,
  type NamesLocation,
} from '../../transfer/names-key';
import { finishNamesRotation, planNamesRotation } from '../../transfer/names-rotate';
import { RewrapBatch, type BatchSnapshot } from '../../transfer/rewrap-batch';
import { shownError } from '../app/shown-error';
import { firstFailure } from '../files/protection-ops';
import {
  EMPTY_ROTATION_VIEW,
  MAX_ROUNDS,
  dryStorage,
  rotationKeyring,
  skippedOf,
  type NamesRotationDeps,
  type RotationPhase,
  type RotationView,
} from './names-rotation-parts';

export {
  EMPTY_ROTATION_VIEW,
  MAX_ROUNDS,
  rotationKeyring,
  type NamesRotationDeps,
  type RotationPhase,
  type RotationStorage,
  type RotationView,
  type SkippedObject,
} from './names-rotation-parts';

export class NamesRotationCore {
  readonly #deps: NamesRotationDeps;
  readonly #onChange: (view: RotationView) => void;
  #view: RotationView = EMPTY_ROTATION_VIEW;
  /** Opens objects (every key of the session). */
  #keyring: Keyring | undefined;
  /** Opens and writes names keys. */
  #namesKeyring: Keyring | undefined;
  #context: EncryptionContext | undefined;
  #current: LocationNames | undefined;
  #controller: AbortController | undefined;
  #batch: RewrapBatch | undefined;
  #generation = 0;

  constructor(deps: NamesRotationDeps, onChange: (view: RotationView) => void = () => {}) {
    this.#deps = deps;
    this.#onChange = onChange;
  }

  get view(): RotationView {
    return this.#view;
  }

  /** True while the bucket is read or written (the dialog does not close then). */
  get busy(): boolean {
    const phase = this.#view.phase;
    return (
      phase === 'opening' || phase === 'planning' || phase === 'running' || phase === 'finishing'
    );
  }

  /** True while objects are renamed or the keys swapped (Esc is refused then). */
  get running(): boolean {
    return this.#view.phase === 'running' || this.#view.phase === 'finishing';
  }

  /** A stored key as the user reads it: its clear path below the root, else as stored. */
  shown(key: string): string {
    const names = this.#current;
    if (!names || !key.startsWith(names.root)) return key;
    return names.clearPath(key) ?? key;
  }

  /**
   * Checks that the names key opens with the session's keys and whether a rotation was started.
   * Writes nothing. Never throws: a names key that does not open is the view's error.
   */
  async open(): Promise<void> {
    this.close();
    const generation = ++this.#generation;
    this.#set({ ...EMPTY_ROTATION_VIEW, phase: 'opening' });
    const controller = new AbortController();
    this.#controller = controller;
    try {
      const keyring = await this.#deps.readKeyring();
      if (!keyring) throw new VeilError('NO_KEY_FOR_OBJECT', 'no key is at hand in this session');
      const write = this.#deps.writeKeys();
      const namesKeyring = rotationKeyring(keyring, write.keyring);
      const storage = this.#deps.storage();
      const location = this.#deps.location();
      const signal = controller.signal;
      const current = await readAt(storage, location, NAMES_KEY_PATH, namesKeyring, signal);
      const next = await readNextNamesKey(storage, location, namesKeyring, signal);
      if (generation !== this.#generation) return;
      if (!current && !next) {
        throw new VeilError('BAD_ARGUMENT', 'this location has no names key to rotate');
      }
      this.#keyring = keyring;
      this.#namesKeyring = namesKeyring;
      this.#context = write.encryptionContext;
      this.#set({
        phase: 'ready',
        started: next !== undefined,
        lastStep: !current,
        keyName: write.keyName,
      });
    } catch (error) {
      if (generation === this.#generation) this.#fail(error);
    } finally {
      if (this.#controller === controller) this.#controller = undefined;
    }
  }

  /**
   * Lists the location and plans the rotation without writing anything. Never throws: a failed
   * listing is the view's error (back to ready).
   */
  async plan(): Promise<void> {
    const keyring = this.#keyring;
    const phase = this.#view.phase;
    if (!keyring || (phase !== 'ready' && phase !== 'stopped')) return;
    const generation = this.#generation;
    this.#set({
      phase: 'planning',
      plan: undefined,
      skipped: [],
      run: undefined,
      error: undefined,
    });
    const controller = new AbortController();
    this.#controller = controller;
    try {
      if (this.#view.lastStep) {
        this.#set({ phase: 'planned' });
        return;
      }
      const plan = await this.#planned(dryStorage(this.#deps.storage()), controller);
      if (generation !== this.#generation) return;
      this.#set({ phase: 'planned', plan, skipped: skippedOf(plan) });
    } catch (error) {
      if (generation === this.#generation) this.#fail(error, 'ready');
    } finally {
      if (this.#controller === controller) this.#controller = undefined;
    }
  }

  /**
   * Runs the rotation: creates (or reuses) the next key, renames every object, plans again
   * until nothing is left, then puts the next key in place and reopens the names. Resolves when
   * it finished or stopped. Never throws.
   */
  async start(): Promise<void> {
    const keyring = this.#keyring;
    if (!keyring || this.#view.phase !== 'planned') return;
    const generation = this.#generation;
    const controller = new AbortController();
    this.#controller = controller;
    const storage = this.#deps.storage();
    const location = this.#deps.location();
    let moved = this.#view.movedObjects;
    this.#set({ phase: 'running', error: undefined });
    try {
      const hasCurrent =
        (await storage.read(namesKeyObjectKey(location, NAMES_KEY_PATH), controller.signal)) !==
        undefined;
      for (let round = 1; hasCurrent; round++) {
        if (round > MAX_ROUNDS) {
          throw new VeilError(
            'BAD_ARGUMENT',
            'objects keep arriving under the current names key: start again once uploads here have stopped',
          );
        }
        const plan = await this.#planned(storage, controller);
        if (generation !== this.#generation) return;
        if (plan.totals.ready === 0) break;
        this.#set({ plan, skipped: skippedOf(plan), round });
        const run = await this.#runBatch(plan, keyring);
        if (generation !== this.#generation) return;
        moved += run.progress.doneObjects;
        this.#set({ run, movedObjects: moved });
        if (
          run.state === 'cancelled' ||
          run.items.some((item) => item.state !== 'done' && item.state !== 'skipped')
        ) {
          const failure = run.state === 'cancelled' ? undefined : firstFailure(run);
          this.#set({
            phase: 'stopped',
            started: true,
            error:
              failure ??
              shownError(
                new VeilError(
                  'REWRAP_CANCELLED',
                  'the rotation is not finished (both names keys kept): start it again to continue',
                ),
              ),
          });
          return;
        }
      }
      this.#set({ phase: 'finishing' });
      const finish = this.#deps.finish ?? finishNamesRotation;
      await finish(
        storage,
        location,
        { s3: this.#deps.rewrapS3(), openWith: this.#namesKeyring ?? keyring },
        controller.signal,
      );
      if (generation !== this.#generation) return;
      this.#deps.reopen();
      this.#set({ phase: 'finished', lastStep: false, movedObjects: moved });
    } catch (error) {
      if (generation === this.#generation) {
        this.#set({ started: true });
        this.#fail(error, 'stopped');
      }
    } finally {
      if (this.#controller === controller) this.#controller = undefined;
    }
  }

  pause(): void {
    this.#batch?.pause();
  }
  resume(): void {
    this.#batch?.resume();
  }
  /** Cancels the listing or the run (objects in flight are left as they were). */
  cancel(): void {
    this.#controller?.abort();
    this.#batch?.cancel();
  }

  /** Forgets everything (the dialog closed); a run is cancelled. */
  close(): void {
    this.cancel();
    this.#generation += 1;
    this.#batch = undefined;
    this.#keyring = undefined;
    this.#namesKeyring = undefined;
    this.#context = undefined;
    this.#current = undefined;
    this.#set(EMPTY_ROTATION_VIEW);
  }

  async #planned(storage: NamesKeyStorage, controller: AbortController): Promise<MovePlan> {
    const keyring = this.#namesKeyring;
    const context = this.#context;
    if (!keyring || !context) throw new VeilError('BAD_ARGUMENT', 'the rotation is not open');
    const location = this.#deps.location();
    const listed = await this.#deps.list(location.root, controller.signal);
    const rotation = await planNamesRotation(
      storage,
      location,
      keyring,
      context,
      listed,
      controller.signal,
    );
    this.#current = rotation.current;
    return rotation.plan;
  }

  async #runBatch(plan: MovePlan, keyring: Keyring): Promise<BatchSnapshot> {
    const batch = new RewrapBatch({
      plan,
      setup: {
        s3: this.#deps.rewrapS3(),
        bucket: this.#deps.location().bucket,
        openWith: keyring,
        bindingRule: 'required',
      },
      destinationFor: (object) => plan.destinations.get(object.key),
      concurrency: this.#deps.concurrency ?? 2,
      onChange: (run) => {
        if (this.#batch === batch) this.#set({ run });
      },
      ...(this.#deps.rewrap ? { rewrap: this.#deps.rewrap } : {}),
    });
    this.#batch = batch;
    this.#set({ run: batch.snapshot });
    try {
      return await batch.run();
    } finally {
      if (this.#batch === batch) this.#batch = undefined;
    }
  }

  #fail(error: unknown, phase: RotationPhase = 'failed'): void {
    this.#set({ phase, error: shownError(error) });
  }

  #set(change: Partial<RotationView>): void {
    this.#view = { ...this.#view, ...change };
    this.#onChange(this.#view);
  }
}

/** The object key of the next names key, for the dialog's note. */
export function nextKeyOf(location: NamesLocation): string {
  return namesKeyObjectKey(location, NEXT_NAMES_KEY_PATH);
}
