/**
 * The engine side of the upload queue (uploads-core.ts): each row's handle (the File, its keyring
 * and the engine's objects, kept out of reactive state) and the runs of the engine's UploadQueue,
 * which report into the row: progress, phase, a started-over notice, and the outcome.
 *
 * Every upload keeps its multipart upload on failure (`keepOnFailure`), so Retry resumes where it
 * stopped with the same File. A row holds the Web Lock of each upload it started until it lets go
 * of the upload: done, cancelled or removed ([Note: upload locks] in locks.ts).
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import type { Keyring } from '../../core/keyring';
import { UploadQueue, type QueuedUpload } from '../../transfer/queue';
import type { UploadS3 } from '../../transfer/s3-api';
import type { FileUpload, UploadOptions, UploadSetup } from '../../transfer/upload';
import type { UploadRecord, UploadStore } from '../../transfer/upload-store';
import type { WriteKeys } from '../shared/keyrings';
import { engineOptionsOf } from './choice';
import { rowError, startedOverNotice } from './errors';
import { phaseOf, type UploadRow } from './rows';

/** A running upload as the queue sees it: the engine's FileUpload, or a test's stand-in. */
export type EngineUpload = Pick<FileUpload, 'uploadId' | 'done' | 'pause' | 'resume' | 'cancel'>;

/** What the runs need of the app: the engine, its S3 seam, store and workers, and the locks. */
export interface UploadEngine {
  /**
   * The engine's S3 seam for this session.
   * @throws VeilError CREDENTIALS_MISSING without credentials.
   */
  s3(): UploadS3;
  /** Builds parts (the worker pool). */
  builder(): UploadSetup['builder'];
  /** The resume store. */
  store(): UploadStore;
  /** Starts a new upload (FileUpload.start). */
  start(options: UploadOptions): EngineUpload;
  /** Continues a stored upload with the same file (FileUpload.resume). */
  resume(record: UploadRecord, file: File, setup: UploadSetup): EngineUpload;
  /**
   * Takes the Web Lock of an upload until the returned function is called (holdUploadLock).
   * @throws VeilError RESUME_UPLOAD_BUSY when another tab holds it.
   */
  holdLock(uploadId: string): Promise<() => void>;
}

/** One row's engine objects. */
export interface Handle {
  readonly file: File;
  readonly keyring: Keyring | undefined;
  readonly encryptionContext: WriteKeys['encryptionContext'] | undefined;
  queued: QueuedUpload<EngineUpload> | undefined;
  /** The kept multipart upload id after a failure, for Retry and Remove. */
  uploadId: string | undefined;
  /** The stored record this row resumes (rows from an earlier session). */
  record: UploadRecord | undefined;
  /** Wraps a new message's data key if a resumed upload must start over (earlier sessions). */
  startOverKeyring?: Keyring | undefined;
  /** Releases the Web Locks of the uploads this row started ([Note: upload locks]). */
  releases?: (() => void)[];
}

/** What the runs need of the queue that holds the rows. */
export interface RunsHost {
  config(): VeilConfig | undefined;
  /** The row as the queue holds it (the reactive one in the app). */
  row(id: number): UploadRow | undefined;
  announce(text: string): void;
}

/** Lets go of the upload locks `handle` holds. */
export function releaseLocks(handle: Handle): void {
  for (const release of handle.releases?.splice(0) ?? []) release();
}

/** The handles of the rows and the engine's queue that runs them. */
export class UploadRuns {
  readonly #engine: UploadEngine;
  readonly #host: RunsHost;
  readonly #queue: UploadQueue<EngineUpload>;
  readonly #handles = new Map<number, Handle>();

  constructor(engine: UploadEngine, host: RunsHost, concurrentFiles: number) {
    this.#engine = engine;
    this.#host = host;
    this.#queue = new UploadQueue<EngineUpload>(concurrentFiles);
  }

  handle(id: number): Handle | undefined {
    return this.#handles.get(id);
  }

  set(id: number, handle: Handle): void {
    this.#handles.set(id, handle);
  }

  delete(id: number): void {
    this.#handles.delete(id);
  }

  #setup(row: UploadRow, handle: Handle, s3: UploadS3): UploadSetup {
    return {
      s3,
      builder: this.#engine.builder(),
      store: this.#engine.store(),
      ...(handle.keyring ? { keyring: handle.keyring } : {}),
      ...(handle.startOverKeyring ? { startOverKeyring: handle.startOverKeyring } : {}),
      keepOnFailure: true,
      onUploadCreated: async (uploadId) => {
        const release = await this.#engine.holdLock(uploadId);
        (handle.releases ??= []).push(release);
      },
      onProgress: (progress) => {
        row.progress = progress;
        row.engineState = progress.state;
        if (progress.startedOver && row.notice === undefined) {
          row.notice = startedOverNotice(progress.startedOver);
          this.#host.announce(`${row.relativePath}: ${row.notice}`);
        }
        if (progress.state !== 'done' && progress.state !== 'failed') {
          row.phase = phaseOf(progress.state);
        }
      },
    };
  }

  /**
   * Queues `row`: a new upload, or the resume of its kept or stored multipart upload. Settles
   * when the upload leaves the queue; undefined when it could not be queued (the row says why).
   */
  enqueue(row: UploadRow, record?: UploadRecord): Promise<void> | undefined {
    const handle = this.#handles.get(row.id);
    const config = this.#host.config();
    if (!handle || !config) return undefined;
    let s3: UploadS3;
    try {
      s3 = this.#engine.s3();
    } catch (error) {
      row.phase = 'failed';
      row.error = rowError(error);
      return undefined;
    }
    row.phase = 'queued';
    row.error = undefined;
    row.engineState = undefined;
    const setup = this.#setup(row, handle, s3);
    const proxy = this.#host.row(row.id) ?? row;
    const queued = this.#queue.add(() => {
      proxy.phase = 'active';
      if (record) return this.#engine.resume(record, handle.file, setup);
      return this.#engine.start({
        ...setup,
        file: handle.file,
        bucket: config.bucket,
        key: proxy.key,
        ...engineOptionsOf(proxy.protection),
        ...(handle.encryptionContext ? { encryptionContext: handle.encryptionContext } : {}),
      });
    });
    handle.queued = queued;
    return queued.done.then(
      () => {
        releaseLocks(handle);
        proxy.phase = 'done';
        proxy.engineState = 'done';
        handle.uploadId = undefined;
        handle.record = undefined;
        this.#host.announce(`${proxy.relativePath} uploaded.`);
      },
      (error: unknown) => {
        const cancelled = error instanceof VeilError && error.code === 'UPLOAD_CANCELLED';
        if (cancelled) {
          releaseLocks(handle);
          proxy.phase = 'cancelled';
          proxy.engineState = 'cancelled';
          handle.uploadId = undefined;
          this.#host.announce(`${proxy.relativePath} cancelled.`);
          return;
        }
        handle.uploadId = queued.upload?.uploadId ?? record?.uploadId;
        proxy.phase = 'failed';
        proxy.engineState = 'failed';
        proxy.error = rowError(error);
        this.#host.announce(`${proxy.relativePath} failed: ${proxy.error.code}.`);
      },
    );
  }

  pause(id: number): void {
    this.#handles.get(id)?.queued?.upload?.pause();
  }

  resume(id: number): void {
    this.#handles.get(id)?.queued?.upload?.resume();
  }

  /** The multipart upload ids the queue holds (running, or kept after a failure). */
  liveUploadIds(): Set<string> {
    const ids = new Set<string>();
    for (const handle of this.#handles.values()) {
      const id = handle.queued?.upload?.uploadId ?? handle.uploadId;
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }
}
