/**
 * Rewrapping many objects: the plan and the run the Files view's "Change protection", the Keys
 * view's "Rotate this key" (and later `veil rewrap s3://bucket/prefix/`) stand on. Platform
 * neutral: S3 comes in through an injected listing and header reader, keys through keyrings.
 * The plan (scanRewrapBatch) is in rewrap-batch-plan.ts ([Note: rewrap batch plan]) and
 * re-exported here; this file runs it.
 *
 * [Note: rewrap batch run] RewrapBatch runs the ready objects one by one (or a few at once,
 * `concurrency`), calling rewrapObject for each with its own AbortSignal, and keeps a result per
 * object. pause() lets the objects in flight finish and starts no new one; resume() goes on;
 * cancel() aborts the objects in flight (the engine leaves each as it was, REWRAP_CANCELLED) and
 * never starts the rest, which stay untouched ('not-started'). A failure of one object does not
 * stop the others.
 */
import { VeilError, anyFailure } from '../core';
import { rewrapObject } from './rewrap';
import type { BatchPlan, PlannedObject } from './rewrap-batch-plan';
import type { RewrapProgress, RewrapResult, RewrapSetup } from './rewrap-options';

export * from './rewrap-batch-plan';

/** Most rewraps in flight a batch allows. */
export const MAX_BATCH_CONCURRENCY = 4;

/** Where one object of a run is. */
export type BatchItemState =
  | 'waiting'
  | 'running'
  | 'done'
  | 'failed'
  | 'skipped'
  /** Aborted while running by cancel(): left as it was. */
  | 'cancelled'
  /** Never started (the batch was cancelled first): untouched. */
  | 'not-started';

/** One object's result. */
export interface BatchItem {
  readonly key: string;
  readonly state: BatchItemState;
  readonly code?: string;
  readonly detail?: string;
  readonly progress?: RewrapProgress;
  readonly result?: RewrapResult;
}

/** Where a run is. */
export type BatchRunState =
  'idle' | 'running' | 'pausing' | 'paused' | 'cancelling' | 'done' | 'cancelled';

/** A run's totals so far. */
export interface BatchProgress {
  readonly totalObjects: number;
  readonly doneObjects: number;
  readonly failedObjects: number;
  readonly skippedObjects: number;
  readonly copiedBytes: number;
  readonly copyTotalBytes: number;
  readonly sentBytes: number;
  readonly receivedBytes: number;
}

/** A run's state as a whole. */
export interface BatchSnapshot {
  readonly state: BatchRunState;
  readonly items: readonly BatchItem[];
  readonly progress: BatchProgress;
}

/** How to run a plan. */
export interface BatchRunOptions {
  readonly plan: BatchPlan;
  /** What every object's rewrap shares: S3, bucket, openWith, addWith, model, limits. */
  readonly setup: Omit<RewrapSetup, 'key' | 'remove' | 'signal' | 'onProgress'>;
  /** Rewraps in flight, 1..4; default 1. */
  readonly concurrency?: number;
  /** Called after every change, with the whole state. */
  readonly onChange?: (snapshot: BatchSnapshot) => void;
  /** The model badge of one object's replacement, when it differs per object; else setup.model. */
  readonly modelFor?: (object: PlannedObject) => 'A' | 'B' | 'C' | undefined;
  /**
   * Where an object goes, for a move ([Note: move plan] in move-plan.ts); undefined (or
   * absent) rewrites it in place.
   */
  readonly destinationFor?: (object: PlannedObject) => string | undefined;
  /** The engine (tests pass a fake); default rewrapObject. */
  readonly rewrap?: (setup: RewrapSetup) => Promise<RewrapResult>;
}

/** Runs a plan ([Note: rewrap batch run]). */
export class RewrapBatch {
  readonly #options: BatchRunOptions;
  readonly #items: BatchItem[];
  readonly #controllers = new Map<number, AbortController>();
  #state: BatchRunState = 'idle';
  #next = 0;
  #wake: (() => void) | undefined;
  #running: Promise<BatchSnapshot> | undefined;

  constructor(options: BatchRunOptions) {
    // Precondition: a plan and a setup with an S3 seam; concurrency in range.
    const hasObjects: boolean = Array.isArray(options?.plan?.objects);
    if (!hasObjects) throw new VeilError('BAD_ARGUMENT', 'plan');
    if (typeof options.setup?.openWith?.onDecrypt !== 'function') {
      throw new VeilError('BAD_ARGUMENT', 'setup.openWith');
    }
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_BATCH_CONCURRENCY) {
      throw new VeilError('OUT_OF_RANGE', `concurrency must be 1..${MAX_BATCH_CONCURRENCY}`);
    }
    this.#options = options;
    this.#items = options.plan.objects.map((object) =>
      object.skip
        ? {
            key: object.key,
            state: 'skipped',
            ...(object.skip.code ? { code: object.skip.code } : {}),
            detail: object.skip.detail,
          }
        : { key: object.key, state: 'waiting' },
    );
  }

  get snapshot(): BatchSnapshot {
    const items = [...this.#items];
    const count = (state: BatchItemState): number =>
      items.filter((item) => item.state === state).length;
    const sum = (pick: (p: RewrapProgress) => number): number =>
      items.reduce((total, item) => total + (item.progress ? pick(item.progress) : 0), 0);
    return {
      state: this.#state,
      items,
      progress: {
        totalObjects: this.#options.plan.totals.ready,
        doneObjects: count('done'),
        failedObjects: count('failed'),
        skippedObjects: count('skipped'),
        copiedBytes: sum((p) => p.copiedBytes),
        copyTotalBytes: this.#options.plan.totals.copiedBytes,
        sentBytes: sum((p) => p.sentBytes),
        receivedBytes: sum((p) => p.receivedBytes),
      },
    };
  }

  /** Starts the run (once); resolves with the final state when every object ended or was left. */
  run(): Promise<BatchSnapshot> {
    this.#running ??= this.#run();
    return this.#running;
  }

  /** Lets the objects in flight finish and starts no new one. */
  pause(): void {
    if (this.#state !== 'running') return;
    this.#state = this.#controllers.size === 0 ? 'paused' : 'pausing';
    this.#changed();
  }

  /** Goes on after pause(). */
  resume(): void {
    if (this.#state !== 'paused' && this.#state !== 'pausing') return;
    this.#state = 'running';
    this.#changed();
    this.#wakeUp();
  }

  /** Aborts the objects in flight (each left as it was) and starts no other. */
  cancel(): void {
    if (this.#state === 'done' || this.#state === 'cancelled' || this.#state === 'cancelling') {
      return;
    }
    const idle = this.#state === 'idle';
    this.#state = 'cancelling';
    for (const controller of this.#controllers.values()) controller.abort();
    this.#markNotStarted();
    if (idle) this.#state = 'cancelled';
    this.#changed();
    this.#wakeUp();
  }

  async #run(): Promise<BatchSnapshot> {
    if (this.#state === 'cancelled') return this.snapshot;
    this.#state = 'running';
    this.#changed();
    const lanes = Math.max(1, this.#options.concurrency ?? 1);
    await Promise.all(Array.from({ length: lanes }, () => this.#lane()));
    // The lanes may have moved the state on (cancel()): read it again, not as narrowed above.
    const ended = this.snapshot.state;
    this.#state = ended === 'cancelling' ? 'cancelled' : 'done';
    this.#changed();
    return this.snapshot;
  }

  async #lane(): Promise<void> {
    for (;;) {
      while (this.#state === 'paused' || this.#state === 'pausing') {
        await new Promise<void>((resolve) => {
          const previous = this.#wake;
          this.#wake = () => {
            previous?.();
            resolve();
          };
        });
      }
      if (this.#state === 'cancelling') return;
      const index = this.#takeNext();
      if (index === undefined) return;
      await this.#one(index);
    }
  }

  #takeNext(): number | undefined {
    while (this.#next < this.#items.length) {
      const index = this.#next++;
      if (this.#items[index]!.state === 'waiting') return index;
    }
    return undefined;
  }

  async #one(index: number): Promise<void> {
    const object = this.#options.plan.objects[index]!;
    const controller = new AbortController();
    this.#controllers.set(index, controller);
    this.#set(index, { key: object.key, state: 'running' });
    const { addWith, ...shared } = this.#options.setup;
    const rewrap = this.#options.rewrap ?? rewrapObject;
    const model = this.#options.modelFor ? this.#options.modelFor(object) : shared.model;
    const destinationKey = this.#options.destinationFor?.(object);
    try {
      const result = await rewrap({
        ...shared,
        ...(model ? { model } : {}),
        ...(destinationKey ? { destinationKey } : {}),
        ...(object.add && addWith ? { addWith } : {}),
        key: object.key,
        ...(object.remove.length > 0 ? { remove: object.remove } : {}),
        signal: controller.signal,
        onProgress: (progress) => {
          const item = this.#items[index]!;
          if (item.state === 'running') this.#set(index, { ...item, progress });
        },
      });
      const progress = this.#items[index]!.progress;
      this.#set(index, {
        key: object.key,
        state: 'done',
        result,
        progress: {
          state: 'done',
          receivedBytes: result.receivedBytes,
          sentBytes: result.sentBytes,
          sentTotalBytes: result.sentBytes,
          copiedBytes: result.copiedBytes,
          copyTotalBytes: progress?.copyTotalBytes ?? result.copiedBytes,
        },
      });
    } catch (error) {
      const failure = anyFailure(error);
      const cancelled = controller.signal.aborted;
      const progress = this.#items[index]!.progress;
      this.#set(index, {
        key: object.key,
        state: cancelled ? 'cancelled' : 'failed',
        code: cancelled ? 'REWRAP_CANCELLED' : failure.code,
        ...(failure.detail ? { detail: failure.detail } : {}),
        // What a failed or cancelled rewrap copied was aborted: count none of it.
        ...(progress ? { progress: { ...progress, copiedBytes: 0, sentBytes: 0 } } : {}),
      });
    } finally {
      this.#controllers.delete(index);
      if (this.#state === 'pausing' && this.#controllers.size === 0) {
        this.#state = 'paused';
        this.#changed();
      }
    }
  }

  #markNotStarted(): void {
    this.#items.forEach((item, index) => {
      if (item.state === 'waiting') this.#items[index] = { ...item, state: 'not-started' };
    });
  }

  #set(index: number, item: BatchItem): void {
    this.#items[index] = item;
    this.#changed();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #changed(): void {
    this.#options.onChange?.(this.snapshot);
  }
}
