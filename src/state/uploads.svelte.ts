/**
 * The Upload view's state: the protection chosen for new uploads, the queue (a row per file, run
 * by the engine's UploadQueue), and the unfinished uploads of earlier sessions offered for resume.
 *
 * One instance for the page (`uploads`), so the queue keeps running while the user looks at
 * another view. Rows are plain reactive data; the engine's objects (FileUpload, the queue entry,
 * the keyring) stay outside reactive state in `#handles`.
 *
 * Every upload keeps its multipart upload on failure (`keepOnFailure`), so Retry resumes where it
 * stopped with the same File; removing a failed row aborts it. See [Note: existing objects] in
 * upload-names.ts for what happens when a key is taken.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { VeilConfig } from '../aws/config';
import { VeilError } from '../core/errors';
import type { Keyring } from '../core/keyring';
import { UploadQueue, type QueuedUpload } from '../transfer/queue';
import { uploadS3For, type UploadS3 } from '../transfer/s3-api';
import { FileUpload, type UploadSetup } from '../transfer/upload';
import type { UploadRecord } from '../transfer/upload-store';
import { awsSession } from './credentials.svelte';
import {
  keyringForKeys,
  readKeyring,
  writeKeys,
  type KeyringSources,
  type WriteKeys,
} from './keyrings';
import { objectKeyFor } from './object-keys';
import { preferences } from './preferences.svelte';
import { protectionStatement, type ModelId, type Protection } from './protection';
import { uploadStore, workerPool } from './transfers';
import {
  engineOptionsOf,
  protectionLabel,
  protectionOf,
  sseOf,
  type UploadChoice,
} from './upload-choice';
import type { PickedFile } from './upload-files';
import { sentPlaintextBytes, summarize, type QueueSummary } from './upload-format';
import { freeKey, parseFolder } from './upload-names';
import { holdUploadLock } from './upload-locks';

import { recordKeys, summarizeRecord } from './upload-records';
import { UnfinishedUploads } from './upload-unfinished.svelte';
import { rowError, s3Error, startedOverNotice, type RowError } from './upload-errors';
import {
  eachLimited,
  phaseOf,
  type ConflictAction,
  type UploadRow,
  type WriteReadiness,
} from './upload-rows';
import { vault } from './vault.svelte';

/** Files uploading at once. */
export const CONCURRENT_FILES = 2;

export type { ConflictAction, UploadRow, WriteReadiness } from './upload-rows';

/** Key lookups in flight while files are added. */
const LOOKUPS_IN_FLIGHT = 4;

interface Handle {
  readonly file: File;
  readonly keyring: Keyring | undefined;
  readonly encryptionContext: WriteKeys['encryptionContext'] | undefined;
  queued: QueuedUpload | undefined;
  /** The kept multipart upload id after a failure, for Retry and Remove. */
  uploadId: string | undefined;
  /** The stored record this row resumes (rows from an earlier session). */
  record: UploadRecord | undefined;
  /** Wraps a new message's data key if a resumed upload must start over (earlier sessions). */
  startOverKeyring?: Keyring | undefined;
  /** Releases the Web Locks of the uploads this row started ([Note: upload locks]). */
  releases?: (() => void)[];
}

export class Uploads {
  #config: VeilConfig | undefined;
  /** The choice made on this page; until then the defaults from Settings. */
  #choice = $state<UploadChoice | undefined>(undefined);
  #folderText = $state('');
  #rows = $state<UploadRow[]>([]);
  #addError = $state<RowError | undefined>(undefined);
  #announcement = $state('');
  #nextId = 1;
  readonly #queue = new UploadQueue(CONCURRENT_FILES);
  // Engine objects stay out of reactive state on purpose.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #handles = new Map<number, Handle>();

  /** Unfinished uploads of earlier sessions, offered for resume. */
  readonly unfinished = new UnfinishedUploads(this);

  /** Sets the deployment (once the view has its config). */
  attach(config: VeilConfig): void {
    this.#config = config;
  }

  get config(): VeilConfig | undefined {
    return this.#config;
  }

  get choice(): UploadChoice {
    return (
      this.#choice ?? { mode: preferences.values.model, sse: sseOf(preferences.values.atRest) }
    );
  }

  set choice(choice: UploadChoice) {
    this.#choice = choice;
  }

  /** The destination folder as typed. */
  get folderText(): string {
    return this.#folderText;
  }

  set folderText(text: string) {
    this.#folderText = text;
  }

  /** False when the typed folder cannot be used (`.`/`..` segments, control characters). */
  get folderValid(): boolean {
    return parseFolder(this.#folderText).ok;
  }

  get rows(): readonly UploadRow[] {
    return this.#rows;
  }

  /** Why the last files could not be added. */
  get addError(): RowError | undefined {
    return this.#addError;
  }

  /** The last completion or failure, for the aria-live region. */
  get announcement(): string {
    return this.#announcement;
  }

  get summary(): QueueSummary {
    return summarize(
      this.#rows.map((row) => ({
        phase: row.phase,
        sizeBytes: row.sizeBytes,
        sentBytes: row.progress
          ? sentPlaintextBytes(
              row.progress.uploadedBytes,
              row.progress.objectBytes,
              row.progress.plaintextBytes,
            )
          : 0,
      })),
    );
  }

  /** Rows waiting for a decision about an existing object. */
  get conflicts(): number {
    return this.#rows.filter((row) => row.phase === 'conflict').length;
  }

  #sources(config: VeilConfig): KeyringSources {
    return { config, session: awsSession, vault, preferences: preferences.values };
  }

  /** The SSE-KMS key: the preference's, else S3's default for the bucket. */
  sseKmsKeyId(): string | undefined {
    const preferred = preferences.values.atRest;
    // Blank means the bucket's AWS managed key (aws/s3), as Settings says. Never the Model C key:
    // S3's own KMS calls carry another encryption context, which a Model C key policy refuses.
    return preferred?.type === 'SSE-KMS' ? preferred.kmsKeyId : undefined;
  }

  /** The Protection of the current choice. */
  protection(): Protection {
    return protectionOf(this.choice, this.sseKmsKeyId());
  }

  /** Whether the current choice can upload now (reactive: reads the session, vault, prefs). */
  readiness(config: VeilConfig): WriteReadiness {
    if (awsSession.status.state !== 'ready') {
      return { ok: false, error: rowError(new VeilError('CREDENTIALS_MISSING')) };
    }
    const mode = this.choice.mode;
    return mode === 'S3-ONLY' ? { ok: true, keyName: undefined } : this.modelKey(config, mode);
  }

  /** The key `model` would write with now, or why it cannot (no vault key, no sign-in, …). */
  modelKey(config: VeilConfig, model: ModelId): WriteReadiness {
    try {
      return { ok: true, keyName: writeKeys(model, this.#sources(config)).keyName };
    } catch (error) {
      return { ok: false, error: rowError(error) };
    }
  }

  /** Says `text` in the aria-live region. */
  announce(text: string): void {
    this.#announcement = text;
  }

  #s3(): { s3: UploadS3; client: ReturnType<ReturnType<typeof awsSession.clients>['s3']> } {
    const client = awsSession.clients().s3();
    return { s3: uploadS3For(client), client };
  }

  #row(id: number): UploadRow | undefined {
    return this.#rows.find((row) => row.id === id);
  }

  /**
   * Adds files to the queue under the current choice and destination folder. Each key is looked
   * up first; taken keys wait for the user ([Note: existing objects]).
   */
  async add(picked: readonly PickedFile[]): Promise<void> {
    const config = this.#config;
    if (!config || picked.length === 0) return;
    this.#addError = undefined;
    const folder = parseFolder(this.#folderText);
    if (!folder.ok) {
      this.#addError = rowError(new VeilError('BAD_ARGUMENT', 'destination folder'));
      return;
    }
    const protection = this.protection();
    let keys: WriteKeys | undefined;
    try {
      awsSession.clients();
      if (protection.kind === 'client-side') {
        keys = writeKeys(protection.model, this.#sources(config));
      }
    } catch (error) {
      this.#addError = rowError(error);
      return;
    }
    const added: UploadRow[] = [];
    for (const { file, relativePath } of picked) {
      let key: string;
      try {
        key = objectKeyFor(config, relativePath, folder.folder, awsSession.identityId || undefined);
      } catch (error) {
        this.#addError = rowError(error);
        continue;
      }
      const id = this.#nextId++;
      this.#handles.set(id, {
        file,
        keyring: keys?.keyring,
        encryptionContext: keys?.encryptionContext,
        queued: undefined,
        uploadId: undefined,
        record: undefined,
      });
      this.#rows.push({
        id,
        relativePath,
        key,
        sizeBytes: file.size,
        protection,
        protectionLabel: protectionLabel(protection),
        statement: protectionStatement(protection),
        keyName: keys?.keyName,
        phase: 'checking',
        engineState: undefined,
        progress: undefined,
        error: undefined,
        notice: undefined,
        resumed: false,
      });
      const row = this.#row(id);
      if (row) added.push(row);
    }
    await eachLimited(added, LOOKUPS_IN_FLIGHT, (row) => this.#check(row));
    const waiting = this.conflicts;
    if (waiting > 0) {
      this.announce(
        `${waiting} ${waiting === 1 ? 'file has' : 'files have'} the name of an existing file: choose Replace, Keep both or Skip.`,
      );
    }
  }

  /** Looks the row's key up: queues the row when free, else waits for the user. */
  async #check(row: UploadRow): Promise<void> {
    row.phase = 'checking';
    row.error = undefined;
    try {
      const taken = await this.#taken(row.key, row.id);
      if (row.phase !== 'checking') return;
      if (taken) row.phase = 'conflict';
      else void this.#enqueue(row);
    } catch (error) {
      if (row.phase !== 'checking') return;
      row.phase = 'failed';
      row.error = rowError(s3Error(error));
    }
  }

  /** True when `key` is an object in the bucket or the key of another live row. */
  async #taken(key: string, exceptId: number): Promise<boolean> {
    const config = this.#config;
    if (!config) return false;
    const live = this.#rows.some(
      (row) =>
        row.id !== exceptId &&
        row.key === key &&
        row.phase !== 'cancelled' &&
        row.phase !== 'done' &&
        !(row.phase === 'failed' && this.#handles.get(row.id)?.uploadId === undefined),
    );
    if (live) return true;
    const { client } = this.#s3();
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: config.bucket, Prefix: key, MaxKeys: 1 }),
    );
    return listed.Contents?.[0]?.Key === key;
  }

  /** Settles one row's conflict. */
  async resolve(id: number, action: ConflictAction): Promise<void> {
    const row = this.#row(id);
    if (!row || row.phase !== 'conflict') return;
    if (action === 'skip') {
      row.phase = 'cancelled';
      return;
    }
    if (action === 'replace') {
      void this.#enqueue(row);
      return;
    }
    row.phase = 'checking';
    try {
      row.key = await freeKey(row.key, (candidate) => this.#taken(candidate, row.id));
      void this.#enqueue(row);
    } catch (error) {
      row.phase = 'failed';
      row.error = rowError(s3Error(error));
    }
  }

  /** Settles every waiting conflict the same way. */
  async resolveAll(action: ConflictAction): Promise<void> {
    const ids = this.#rows.filter((row) => row.phase === 'conflict').map((row) => row.id);
    // One after the other, so "keep both" never gives two files the same free name.
    for (const id of ids) await this.resolve(id, action);
  }

  #setup(row: UploadRow, handle: Handle, s3: UploadS3): UploadSetup {
    return {
      s3,
      builder: workerPool(),
      store: uploadStore(),
      ...(handle.keyring ? { keyring: handle.keyring } : {}),
      ...(handle.startOverKeyring ? { startOverKeyring: handle.startOverKeyring } : {}),
      keepOnFailure: true,
      onUploadCreated: async (uploadId) => {
        const release = await holdUploadLock(uploadId);
        (handle.releases ??= []).push(release);
      },
      onProgress: (progress) => {
        row.progress = progress;
        row.engineState = progress.state;
        if (progress.startedOver && row.notice === undefined) {
          row.notice = startedOverNotice(progress.startedOver);
          this.announce(`${row.relativePath}: ${row.notice}`);
        }
        if (progress.state !== 'done' && progress.state !== 'failed') {
          row.phase = phaseOf(progress.state);
        }
      },
    };
  }

  /** Queues `row`: a new upload, or the resume of its kept or stored multipart upload. */
  #enqueue(row: UploadRow, record?: UploadRecord): Promise<void> | undefined {
    const handle = this.#handles.get(row.id);
    const config = this.#config;
    if (!handle || !config) return undefined;
    let s3: UploadS3;
    try {
      s3 = this.#s3().s3;
    } catch (error) {
      row.phase = 'failed';
      row.error = rowError(error);
      return undefined;
    }
    row.phase = 'queued';
    row.error = undefined;
    row.engineState = undefined;
    const setup = this.#setup(row, handle, s3);
    const proxy = this.#row(row.id) ?? row;
    const queued = this.#queue.add(() => {
      proxy.phase = 'active';
      if (record) return FileUpload.resume(record, handle.file, setup);
      return FileUpload.start({
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
        this.announce(`${proxy.relativePath} uploaded.`);
      },
      (error: unknown) => {
        const cancelled = error instanceof VeilError && error.code === 'UPLOAD_CANCELLED';
        if (cancelled) {
          releaseLocks(handle);
          proxy.phase = 'cancelled';
          proxy.engineState = 'cancelled';
          handle.uploadId = undefined;
          this.announce(`${proxy.relativePath} cancelled.`);
          return;
        }
        handle.uploadId = queued.upload?.uploadId ?? record?.uploadId;
        proxy.phase = 'failed';
        proxy.engineState = 'failed';
        proxy.error = rowError(error);
        this.announce(`${proxy.relativePath} failed: ${proxy.error.code}.`);
      },
    );
  }

  pause(id: number): void {
    this.#handles.get(id)?.queued?.upload?.pause();
  }

  resume(id: number): void {
    this.#handles.get(id)?.queued?.upload?.resume();
  }

  /** Cancels a queued or running upload (the engine aborts its multipart upload). */
  async cancel(id: number): Promise<void> {
    const row = this.#row(id);
    const queued = this.#handles.get(id)?.queued;
    if (!row || !queued) return;
    await queued.remove();
  }

  /**
   * Tries a failed row again: resumes its kept multipart upload, or looks the name up again and
   * starts over (a conflict when the name was taken meanwhile, so nothing is overwritten
   * silently). The row leaves 'failed' before the first await, so a second click does nothing.
   */
  async retry(id: number): Promise<void> {
    const row = this.#row(id);
    const handle = this.#handles.get(id);
    if (!row || !handle || row.phase !== 'failed') return;
    const uploadId = handle.uploadId;
    if (!uploadId && !handle.record) {
      // Nothing kept (it failed before or while starting its multipart upload): look again.
      await this.#check(row);
      return;
    }
    row.phase = 'checking';
    row.error = undefined;
    try {
      const record = uploadId ? await uploadStore().get(uploadId) : undefined;
      if (record && handle.keyring === undefined && record.protection === 'client-side') {
        // A row of an earlier session: its keyring is the session's read keyring.
        const config = this.#config;
        const keyring = config ? await readKeyring(this.#sources(config)) : undefined;
        this.#handles.set(id, { ...handle, keyring });
      }
      if (!record && handle.record) {
        // A resumed upload whose multipart upload is gone: it cannot start over from here, since
        // its choices (SSE layer, context) were made in an earlier session.
        row.phase = 'failed';
        row.error = rowError(new VeilError('RESUME_UPLOAD_GONE'));
        return;
      }
      if (!record) {
        // The kept upload is gone from the store: start over, after looking the name up again.
        handle.uploadId = undefined;
        await this.#check(row);
        return;
      }
      // The row must hold the upload's lock before it continues it ([Note: upload locks]).
      const current = this.#handles.get(id);
      if (current && !current.releases?.length) {
        (current.releases ??= []).push(await holdUploadLock(record.uploadId));
      }
      void this.#enqueue(row, record);
    } catch (error) {
      row.phase = 'failed';
      row.error = rowError(s3Error(error));
    }
  }

  /**
   * Removes a finished, cancelled, skipped or failed row. A failed row's kept multipart upload is
   * aborted and its record deleted, so nothing stays behind in the bucket.
   */
  async remove(id: number): Promise<void> {
    const row = this.#row(id);
    const handle = this.#handles.get(id);
    if (!row || !handle) return;
    if (row.phase === 'active' || row.phase === 'queued') return;
    if (row.phase === 'failed' && handle.uploadId) {
      try {
        await this.abort(row.key, handle.uploadId);
      } catch (error) {
        row.error = rowError(s3Error(error));
        return;
      }
    }
    releaseLocks(handle);
    this.#rows = this.#rows.filter((other) => other.id !== id);
    this.#handles.delete(id);
  }

  /** Removes every finished, skipped and cancelled row. */
  clearFinished(): void {
    const keep = this.#rows.filter((row) => row.phase !== 'done' && row.phase !== 'cancelled');
    for (const row of this.#rows) if (!keep.includes(row)) this.#handles.delete(row.id);
    this.#rows = keep;
  }

  /**
   * Aborts a multipart upload and deletes its resume record; an upload S3 no longer has counts
   * as aborted.
   */
  async abort(key: string, uploadId: string): Promise<void> {
    const config = this.#config;
    if (!config) return;
    try {
      await this.#s3().s3.abortMultipartUpload({
        Bucket: config.bucket,
        Key: key,
        UploadId: uploadId,
      });
    } catch (error) {
      // Already gone (aborted elsewhere or expired): nothing left to clean up in the bucket.
      if (!(error instanceof Error && error.name === 'NoSuchUpload')) throw error;
    }
    await uploadStore().delete(uploadId);
  }

  /** The multipart upload ids the queue holds (running, or kept after a failure). */
  liveUploadIds(): Set<string> {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a snapshot, not state
    const ids = new Set<string>();
    for (const handle of this.#handles.values()) {
      const id = handle.queued?.upload?.uploadId ?? handle.uploadId;
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }

  /**
   * Queues the resume of `record` (an upload of an earlier session) with `file`, already checked
   * to be the same file; `keyring` unwraps its data key again. Settles when the upload leaves
   * the queue (done, failed or cancelled).
   */
  addResumed(
    record: UploadRecord,
    file: File,
    keyring: Keyring | undefined,
    release: () => void = () => undefined,
  ): Promise<void> {
    const summary = summarizeRecord(record);
    const model = summary.keys[0]?.model;
    const protection: Protection =
      summary.encrypted && model ? { kind: 'client-side', model } : { kind: 'none' };
    const id = this.#nextId++;
    const config = this.#config;
    const startOverKeyring = config
      ? keyringForKeys(recordKeys(record), this.#sources(config))
      : undefined;
    this.#handles.set(id, {
      file,
      keyring,
      encryptionContext: undefined,
      queued: undefined,
      uploadId: record.uploadId,
      record,
      startOverKeyring,
      releases: [release],
    });
    this.#rows.push({
      id,
      relativePath: record.key,
      key: record.key,
      sizeBytes: file.size,
      protection,
      protectionLabel: protectionLabel(protection),
      statement: protectionStatement(protection),
      keyName: summary.keys[0]?.keyName,
      phase: 'queued',
      engineState: undefined,
      progress: undefined,
      error: undefined,
      notice: undefined,
      resumed: true,
    });
    const row = this.#row(id);
    return (row && this.#enqueue(row, record)) ?? Promise.resolve();
  }

  /** The keyring that opens what this session can open (resumes of earlier sessions). */
  readKeyring(): Promise<Keyring | undefined> {
    const config = this.#config;
    return config ? readKeyring(this.#sources(config)) : Promise.resolve(undefined);
  }
}

/** Lets go of the upload locks `handle` holds. */
function releaseLocks(handle: Handle): void {
  for (const release of handle.releases?.splice(0) ?? []) release();
}

/** The page's one upload queue. */
export const uploads = new Uploads();
