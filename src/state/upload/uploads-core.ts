/**
 * The logic of the Upload view's queue (uploads.svelte.ts is its reactive wrapper): the
 * protection chosen for new uploads, a row per file, the key lookup that finds taken names and
 * how the user settles them, Retry and Remove, and the resume of an earlier session's upload.
 * The engine side (handles, runs, locks) is in runs.ts.
 *
 * The app's objects come in through UploadsDeps; the view's data lives in an UploadsState the
 * wrapper makes reactive. A failed upload keeps its multipart upload, so Retry resumes where it
 * stopped with the same File; removing a failed row aborts it. See [Note: existing objects] in
 * names.ts for what happens when a key is taken.
 * Keys come from the location's names (fileKey in names.ts; with private names a row shows its
 * clear `shownPath` and only the encrypted key is looked up and sent).
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { withPadding } from '../../core/padding';
import type { Keyring } from '../../core/keyring';
import type { LocationNames } from '../../transfer/location-names';
import type { UploadRecord } from '../../transfer/upload-store';
import { withUnlockedVault } from '../keys/unlock-request';
import type { WriteKeys } from '../shared/keyrings';
import type { ModelId, Protection } from '../shared/protection';
import { protectionOf, sseOf, type UploadChoice } from './choice';
import { rowError, s3Error } from './errors';
import type { PickedFile } from './files';
import { fileKey, keepBothKey, parseFolder, type FileKey } from './names';
import { recordKeys, summarizeRecord } from './records';
import {
  eachLimited,
  emptyUploadsState,
  newRow,
  type ConflictAction,
  type UploadRow,
  type UploadsState,
  type WriteReadiness,
} from './rows';
import { abortUpload, removeRow, retryRow, type RowRecovery } from './retry';
import { UploadRuns } from './runs';
import type { UploadsDeps } from './uploads-deps';

/** Files uploading at once. */
export const CONCURRENT_FILES = 2;

/** Key lookups in flight while files are added. */
const LOOKUPS_IN_FLIGHT = 4;

export type { UploadsDeps } from './uploads-deps';

export class UploadsCore {
  readonly #deps: UploadsDeps;
  readonly #state: UploadsState;
  readonly #runs: UploadRuns;
  readonly #recovery: RowRecovery;
  #config: VeilConfig | undefined;
  #nextId = 1;
  /** The private names each row's key was made with (for Keep both). */
  readonly #rowNames = new Map<number, LocationNames>();

  constructor(deps: UploadsDeps, state: UploadsState = emptyUploadsState()) {
    this.#deps = deps;
    this.#state = state;
    this.#runs = new UploadRuns(
      deps,
      {
        config: () => this.#config,
        row: (id) => this.#row(id),
        announce: (text) => this.announce(text),
      },
      CONCURRENT_FILES,
    );
    this.#recovery = {
      deps,
      runs: this.#runs,
      config: () => this.#config,
      row: (id) => this.#row(id),
      check: (row) => this.#check(row),
      drop: (id) => {
        this.#state.rows = this.#state.rows.filter((other) => other.id !== id);
      },
    };
  }

  /** Sets the deployment (once the view has its config). */
  attach(config: VeilConfig): void {
    this.#config = config;
  }

  get config(): VeilConfig | undefined {
    return this.#config;
  }

  get state(): UploadsState {
    return this.#state;
  }

  get choice(): UploadChoice {
    const values = this.#deps.preferences.values;
    return this.#state.choice ?? { mode: values.model, sse: sseOf(values.atRest) };
  }

  /** Rows waiting for a decision about an existing object. */
  get conflicts(): number {
    return this.#state.rows.filter((row) => row.phase === 'conflict').length;
  }

  /** The SSE-KMS key: the preference's, else S3's default for the bucket. */
  sseKmsKeyId(): string | undefined {
    const preferred = this.#deps.preferences.values.atRest;
    // Blank means the bucket's AWS managed key (aws/s3), as Settings says. Never the Model C key:
    // S3's own KMS calls carry another encryption context, which a Model C key policy refuses.
    return preferred?.type === 'SSE-KMS' ? preferred.kmsKeyId : undefined;
  }

  /** The Protection of the current choice. */
  protection(): Protection {
    return protectionOf(this.choice, this.sseKmsKeyId());
  }

  /** Whether the current choice can upload now. */
  readiness(config: VeilConfig): WriteReadiness {
    if (!this.#deps.session.ready) {
      return { ok: false, error: rowError(new VeilError('CREDENTIALS_MISSING')) };
    }
    const mode = this.choice.mode;
    return mode === 'S3-ONLY' ? { ok: true, keyName: undefined } : this.modelKey(config, mode);
  }

  /** The key `model` would write with now, or why it cannot (no vault key, no sign-in, …). */
  modelKey(config: VeilConfig, model: ModelId): WriteReadiness {
    try {
      return { ok: true, keyName: this.#deps.keys.write(model, config).keyName };
    } catch (error) {
      return { ok: false, error: rowError(error) };
    }
  }

  /** Says `text` in the aria-live region. */
  announce(text: string): void {
    this.#state.announcement = text;
  }

  #row(id: number): UploadRow | undefined {
    return this.#state.rows.find((row) => row.id === id);
  }

  /** Appends a row and returns it as the state holds it. */
  #push(row: UploadRow): UploadRow | undefined {
    this.#state.rows.push(row);
    return this.#row(row.id);
  }

  /**
   * Adds files to the queue under the current choice and destination folder. Each key is looked
   * up first; taken keys wait for the user ([Note: existing objects]).
   */
  async add(picked: readonly PickedFile[]): Promise<void> {
    const config = this.#config;
    if (!config || picked.length === 0) return;
    this.#state.addError = undefined;
    const folder = parseFolder(this.#state.folderText);
    if (!folder.ok) {
      this.#state.addError = rowError(new VeilError('BAD_ARGUMENT', 'destination folder'));
      return;
    }
    const protection = this.protection();
    let keys: WriteKeys | undefined;
    let names: LocationNames | undefined;
    try {
      this.#deps.s3();
      if (protection.kind === 'client-side') {
        const { model } = protection;
        // A locked vault key asks for the unlock here ([Note: unlock where the user is]).
        keys = await withUnlockedVault(() =>
          Promise.resolve().then(() => this.#deps.keys.write(model, config)),
        );
      }
      if (this.#deps.names) {
        const writer = keys && { keyring: keys.keyring, encryptionContext: keys.encryptionContext };
        const opened = await this.#deps.names.forUpload(config, writer);
        if (opened.isPrivate) names = opened;
      }
    } catch (error) {
      this.#state.addError = rowError(error);
      return;
    }
    const added: UploadRow[] = [];
    for (const { file, relativePath } of picked) {
      let made: FileKey;
      try {
        const identityId = this.#deps.session.identityId || undefined;
        made = fileKey(config, relativePath, folder.folder, { identityId, names });
      } catch (error) {
        this.#state.addError = rowError(error);
        continue;
      }
      const { key, shownPath, nameError } = made;
      const id = this.#nextId++;
      this.#runs.set(id, {
        file,
        keyring: keys?.keyring,
        // The file's context marks padding; the names key's (above) never does.
        encryptionContext:
          keys && withPadding(keys.encryptionContext, this.#deps.padding?.(config)),
        queued: undefined,
        uploadId: undefined,
        record: undefined,
      });
      if (names) this.#rowNames.set(id, names);
      const fresh = newRow(id, relativePath, key, file.size, protection, keys?.keyName);
      const row = this.#push({
        ...fresh,
        ...(shownPath !== undefined ? { shownPath } : {}),
        ...(nameError !== undefined
          ? { phase: 'failed' as const, error: rowError(nameError) }
          : {}),
      });
      if (row && nameError === undefined) added.push(row);
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
    // A name the location's names refused: it stays failed with its error; nothing is sent.
    if (row.key === '') return;
    row.phase = 'checking';
    row.error = undefined;
    try {
      const taken = await this.#taken(row.key, row.id);
      if (row.phase !== 'checking') return;
      if (taken) row.phase = 'conflict';
      else void this.#runs.enqueue(row);
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
    const live = this.#state.rows.some(
      (row) =>
        row.id !== exceptId &&
        row.key === key &&
        row.phase !== 'cancelled' &&
        row.phase !== 'done' &&
        !(row.phase === 'failed' && this.#runs.handle(row.id)?.uploadId === undefined),
    );
    if (live) return true;
    return this.#deps.objectExists(config.bucket, key);
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
      void this.#runs.enqueue(row);
      return;
    }
    row.phase = 'checking';
    try {
      const free = await keepBothKey(row, this.#rowNames.get(row.id), (candidate) =>
        this.#taken(candidate, row.id),
      );
      row.key = free.key;
      if (free.shownPath !== undefined) row.shownPath = free.shownPath;
      void this.#runs.enqueue(row);
    } catch (error) {
      row.phase = 'failed';
      row.error = rowError(s3Error(error));
    }
  }

  /** Settles every waiting conflict the same way. */
  async resolveAll(action: ConflictAction): Promise<void> {
    const ids = this.#state.rows.filter((row) => row.phase === 'conflict').map((row) => row.id);
    // One after the other, so "keep both" never gives two files the same free name.
    for (const id of ids) await this.resolve(id, action);
  }

  pause(id: number): void {
    this.#runs.pause(id);
  }

  resume(id: number): void {
    this.#runs.resume(id);
  }

  /** Cancels a queued or running upload (the engine aborts its multipart upload). */
  async cancel(id: number): Promise<void> {
    const row = this.#row(id);
    const queued = this.#runs.handle(id)?.queued;
    if (!row || !queued) return;
    await queued.remove();
  }

  /** See retryRow in retry.ts. */
  retry(id: number): Promise<void> {
    return retryRow(this.#recovery, id);
  }

  /** See removeRow in retry.ts. */
  remove(id: number): Promise<void> {
    return removeRow(this.#recovery, id);
  }

  /** Removes every finished, skipped and cancelled row. */
  clearFinished(): void {
    const rows = this.#state.rows;
    const keep = rows.filter((row) => row.phase !== 'done' && row.phase !== 'cancelled');
    for (const row of rows) {
      if (keep.includes(row)) continue;
      this.#runs.delete(row.id);
      this.#rowNames.delete(row.id);
    }
    this.#state.rows = keep;
  }

  /** See abortUpload in retry.ts. */
  abort(key: string, uploadId: string): Promise<void> {
    return abortUpload(this.#recovery, key, uploadId);
  }

  /** The multipart upload ids the queue holds (running, or kept after a failure). */
  liveUploadIds(): Set<string> {
    return this.#runs.liveUploadIds();
  }

  /**
   * Queues the resume of `record` (an upload of an earlier session) with `file`, already checked
   * to be the same file; `keyring` unwraps its data key again; the row owns `release`, the
   * upload's lock. Settles when the upload leaves the queue (done, failed or cancelled).
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
      ? this.#deps.keys.forRecord(recordKeys(record), config)
      : undefined;
    this.#runs.set(id, {
      file,
      keyring,
      encryptionContext: undefined,
      queued: undefined,
      uploadId: record.uploadId,
      record,
      startOverKeyring,
      releases: [release],
    });
    const fresh = newRow(
      id,
      this.#deps.names?.shownPath(record.key) ?? record.key,
      record.key,
      file.size,
      protection,
      summary.keys[0]?.keyName,
    );
    const row = this.#push({ ...fresh, phase: 'queued', resumed: true });
    return (row && this.#runs.enqueue(row, record)) ?? Promise.resolve();
  }

  /** The keyring that opens what this session can open (resumes of earlier sessions). */
  readKeyring(): Promise<Keyring | undefined> {
    const config = this.#config;
    return config ? this.#deps.keys.read(config) : Promise.resolve(undefined);
  }
}
