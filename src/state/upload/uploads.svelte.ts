/**
 * The Upload view's state: the queue of uploads-core.ts (the protection chosen for new uploads, a
 * row per file run by the engine's UploadQueue, conflicts, Retry and Remove) with its view data in
 * `$state`, wired to the app's session, vault, preferences, worker pool, resume store and locks;
 * and the unfinished uploads of earlier sessions offered for resume.
 *
 * One instance for the page (`uploads`), so the queue keeps running while the user looks at
 * another view. Rows are plain reactive data; the engine's objects stay outside reactive state
 * (runs.ts).
 */
import { bucketS3For } from '../../aws/bucket-s3';
import type { VeilConfig } from '../../aws/config';
import type { Keyring } from '../../core/keyring';
import { uploadS3For } from '../../transfer/s3-api';
import { FileUpload } from '../../transfer/upload';
import type { UploadRecord } from '../../transfer/upload-store';
import { awsSession } from '../shared/credentials.svelte';
import { keyringForKeys, readKeyring, writeKeys, type KeyringSources } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { paddingSetting } from '../shared/padding-setting.svelte';
import { preferences } from '../shared/preferences.svelte';
import type { ModelId, Protection } from '../shared/protection';
import { uploadStore, workerPool } from '../shared/transfers';
import type { UploadChoice } from './choice';
import type { RowError } from './errors';
import type { PickedFile } from './files';
import { sentPlaintextBytes, summarize, type QueueSummary } from './format';
import { holdUploadLock } from './locks';
import { parseFolder } from './names';
import {
  emptyUploadsState,
  type ConflictAction,
  type UploadRow,
  type UploadsState,
  type WriteReadiness,
} from './rows';
import { UnfinishedUploads } from './unfinished.svelte';
import { UploadsCore, type UploadsDeps } from './uploads-core';
import { vault } from '../keys/vault.svelte';

export { CONCURRENT_FILES } from './uploads-core';
export type { ConflictAction, UploadRow, WriteReadiness } from './rows';

function sources(config: VeilConfig): KeyringSources {
  return { config, session: awsSession, vault, preferences: preferences.values };
}

/** The app's objects as the queue needs them. */
const appDeps: UploadsDeps = {
  preferences,
  session: {
    get ready() {
      return awsSession.status.state === 'ready';
    },
    get identityId() {
      return awsSession.identityId;
    },
  },
  s3: () => uploadS3For(awsSession.clients().s3()),
  objectExists: (bucket, key) => bucketS3For(awsSession.clients().s3(), bucket).exists(key),
  builder: workerPool,
  store: uploadStore,
  start: (options) => FileUpload.start(options),
  resume: (record, file, setup) => FileUpload.resume(record, file, setup),
  holdLock: holdUploadLock,
  keys: {
    write: (model, config) => writeKeys(model, sources(config)),
    read: (config) => readKeyring(sources(config)),
    forRecord: (keys, config) => keyringForKeys(keys, sources(config)),
  },
  padding: (config) => paddingSetting.scheme(config),
  names: {
    forUpload: (config, writer) => locationNames.forUpload(config, writer),
    shownPath: (key) => locationNames.shownPath(key),
  },
};

export class Uploads {
  readonly #state = $state<UploadsState>(emptyUploadsState());
  readonly #core: UploadsCore;

  /** Unfinished uploads of earlier sessions, offered for resume. */
  readonly unfinished = new UnfinishedUploads(this);

  constructor(deps: UploadsDeps = appDeps) {
    this.#core = new UploadsCore(deps, this.#state);
  }

  /** Sets the deployment (once the view has its config). */
  attach(config: VeilConfig): void {
    this.#core.attach(config);
  }

  get config(): VeilConfig | undefined {
    return this.#core.config;
  }

  get choice(): UploadChoice {
    return this.#core.choice;
  }

  set choice(choice: UploadChoice) {
    this.#state.choice = choice;
  }

  /** The destination folder as typed. */
  get folderText(): string {
    return this.#state.folderText;
  }

  set folderText(text: string) {
    this.#state.folderText = text;
  }

  /** False when the typed folder cannot be used (`.`/`..` segments, control characters). */
  get folderValid(): boolean {
    return parseFolder(this.#state.folderText).ok;
  }

  get rows(): readonly UploadRow[] {
    return this.#state.rows;
  }

  /** Why the last files could not be added. */
  get addError(): RowError | undefined {
    return this.#state.addError;
  }

  /** The last completion or failure, for the aria-live region. */
  get announcement(): string {
    return this.#state.announcement;
  }

  get summary(): QueueSummary {
    return summarize(
      this.#state.rows.map((row) => ({
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
    return this.#core.conflicts;
  }

  /** The SSE-KMS key: the preference's, else S3's default for the bucket. */
  sseKmsKeyId(): string | undefined {
    return this.#core.sseKmsKeyId();
  }

  /** The Protection of the current choice. */
  protection(): Protection {
    return this.#core.protection();
  }

  /** Whether the current choice can upload now (reactive: reads the session, vault, prefs). */
  readiness(config: VeilConfig): WriteReadiness {
    return this.#core.readiness(config);
  }

  /** The key `model` would write with now, or why it cannot (no vault key, no sign-in, …). */
  modelKey(config: VeilConfig, model: ModelId): WriteReadiness {
    return this.#core.modelKey(config, model);
  }

  /** Says `text` in the aria-live region. */
  announce(text: string): void {
    this.#core.announce(text);
  }

  /** See UploadsCore.add. */
  add(picked: readonly PickedFile[]): Promise<void> {
    return this.#core.add(picked);
  }

  /** Settles one row's conflict. */
  resolve(id: number, action: ConflictAction): Promise<void> {
    return this.#core.resolve(id, action);
  }

  /** Settles every waiting conflict the same way. */
  resolveAll(action: ConflictAction): Promise<void> {
    return this.#core.resolveAll(action);
  }

  pause(id: number): void {
    this.#core.pause(id);
  }

  resume(id: number): void {
    this.#core.resume(id);
  }

  /** Cancels a queued or running upload (the engine aborts its multipart upload). */
  cancel(id: number): Promise<void> {
    return this.#core.cancel(id);
  }

  /** See UploadsCore.retry. */
  retry(id: number): Promise<void> {
    return this.#core.retry(id);
  }

  /** See UploadsCore.remove. */
  remove(id: number): Promise<void> {
    return this.#core.remove(id);
  }

  /** Removes every finished, skipped and cancelled row. */
  clearFinished(): void {
    this.#core.clearFinished();
  }

  /** Aborts a multipart upload and deletes its resume record. */
  abort(key: string, uploadId: string): Promise<void> {
    return this.#core.abort(key, uploadId);
  }

  /** The multipart upload ids the queue holds (running, or kept after a failure). */
  liveUploadIds(): Set<string> {
    return this.#core.liveUploadIds();
  }

  /** See UploadsCore.addResumed. */
  addResumed(
    record: UploadRecord,
    file: File,
    keyring: Keyring | undefined,
    release?: () => void,
  ): Promise<void> {
    return this.#core.addResumed(record, file, keyring, release);
  }

  /** The keyring that opens what this session can open (resumes of earlier sessions). */
  readKeyring(): Promise<Keyring | undefined> {
    return this.#core.readKeyring();
  }
}

/** The page's one upload queue. */
export const uploads = new Uploads();
