/**
 * The logic of one "Download as ZIP" of a Files selection (zip-download.svelte.ts is its reactive
 * wrapper): list the selection into entries (zip-plan.ts), check that every file opens with the
 * session's keys, then ask where to save `<folder>.zip`, then stream the ZIP into it
 * ([Note: a streaming ZIP] in zip-stream.ts), reporting files done and bytes written until done,
 * failed or cancelled.
 *
 * Every file is checked before the save dialog opens, as a single download is ([Note: check
 * before the save dialog] in downloads-core.ts): a selection with a file no key of the session
 * opens fails naming that file, with nothing asked and no file created. Each file's data key is
 * unwrapped again by its download. A file that fails only while its body is read (a tampered
 * frame, an object changed meanwhile) stops the ZIP there and the save target is aborted.
 */
import type { FilesS3 } from '../../aws/bucket-s3';
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import type { Keyring } from '../../core/keyring';
import type { BindingRule } from '../../core/location';
import { openMessageKeys } from '../../core/message';
import { downloadObject, inspectObject } from '../../transfer/download';
import type { DownloadS3 } from '../../transfer/download-s3';
import type { DownloadSetup, DownloadSink } from '../../transfer/download-setup';
import type { LocationNames } from '../../transfer/location-names';
import { shownError, type ShownError } from '../app/shown-error';
import type { Row } from './listing';
import type { ZipEntry } from './zip-entries';
import { planZip } from './zip-plan';
import { entryFailure, pipeZip, zipStream } from './zip-stream';

/** What a ZIP download needs of the app. */
export interface ZipDeps {
  /** Lists folders of the selection. */
  readonly list: Pick<FilesS3, 'list'>;
  /** The engine's S3 seam. */
  s3(): DownloadS3;
  decryptor(): DownloadSetup['decryptor'];
  /** Every key of the session (the vault loaded, keys picked at a prompt first). */
  readKeyring(config: VeilConfig): Promise<Keyring | undefined>;
  bindingRule(config: VeilConfig): Promise<BindingRule>;
  /** Asks where to save (chooseSaveTarget). @throws VeilError DOWNLOAD_CANCELLED and the like. */
  chooseTarget(name: string, sizeBytes: number): Promise<{ sink: DownloadSink }>;
  /** True when the save picker now needs a new click (see downloads-core.ts). */
  needsClickToSave?(): boolean;
}

/** Where a ZIP download is. */
export type ZipPhase =
  | 'idle'
  | 'listing'
  | 'checking'
  | 'ready'
  | 'choosing'
  | 'zipping'
  | 'done'
  | 'failed'
  | 'cancelled';

/** What the view shows of a ZIP download. */
export interface ZipView {
  phase: ZipPhase;
  /** The ZIP's file name. */
  fileName: string;
  filesDone: number;
  filesTotal: number;
  /** Files checked before the save dialog. */
  filesChecked: number;
  /** ZIP bytes written so far. */
  writtenBytes: number;
  /** The ZIP path of the file that failed, when one did. */
  failedPath: string | undefined;
  /** Why it failed (the file's own error when a file failed). */
  error: ShownError | undefined;
}

/** A fresh ZipView. */
export function emptyZipView(): ZipView {
  return {
    phase: 'idle',
    fileName: '',
    filesDone: 0,
    filesTotal: 0,
    filesChecked: 0,
    writtenBytes: 0,
    failedPath: undefined,
    error: undefined,
  };
}

/** What a run was given. */
export interface ZipRequest {
  readonly config: VeilConfig;
  /** The folder shown (the entries' paths are relative to it). */
  readonly prefix: string;
  readonly rows: readonly Row[];
  readonly names: LocationNames | undefined;
  /** The ZIP's file name (zipFileName). */
  readonly fileName: string;
}

/** One ZIP download's logic; `view` is what the view shows of it. */
export class ZipCore {
  readonly #deps: ZipDeps;
  readonly #view: ZipView;
  #controller: AbortController | undefined;
  /** The checked run waiting in 'ready' for a click. */
  #ready: { request: ZipRequest; entries: ZipEntry[]; keyring: Keyring | undefined } | undefined;
  #bindingRule: BindingRule = 'if-present';

  constructor(deps: ZipDeps, view: ZipView) {
    this.#deps = deps;
    this.#view = view;
  }

  get view(): ZipView {
    return this.#view;
  }

  get active(): boolean {
    const phase = this.#view.phase;
    return (
      phase === 'listing' || phase === 'checking' || phase === 'choosing' || phase === 'zipping'
    );
  }

  cancel(): void {
    if (this.#view.phase === 'ready') {
      this.#ready = undefined;
      this.#view.phase = 'cancelled';
      return;
    }
    this.#controller?.abort(new VeilError('DOWNLOAD_CANCELLED'));
  }

  /** Lists and checks the selection, then asks where to save (call it from a click). */
  async run(request: ZipRequest): Promise<void> {
    const view = this.#view;
    Object.assign(view, emptyZipView(), { phase: 'listing', fileName: request.fileName });
    this.#ready = undefined;
    const controller = new AbortController();
    this.#controller = controller;
    try {
      const entries = await planZip(
        this.#deps.list,
        request.prefix,
        request.rows,
        request.names,
        controller.signal,
      );
      if (entries.length === 0) throw new VeilError('ZIP_NOTHING');
      view.filesTotal = entries.length;
      view.phase = 'checking';
      this.#bindingRule = await this.#deps.bindingRule(request.config);
      const keyring = await this.#deps.readKeyring(request.config);
      for (const entry of entries) {
        await this.#check(request.config, entry, keyring, controller.signal);
        view.filesChecked += 1;
      }
      this.#ready = { request, entries, keyring };
    } catch (error) {
      this.#fail(controller.signal.aborted ? controller.signal.reason : error);
      return;
    } finally {
      this.#controller = undefined;
    }
    if (this.#deps.needsClickToSave?.()) {
      view.phase = 'ready';
      return;
    }
    await this.save();
  }

  /** Asks where to save and writes the ZIP (from the "Choose where to save" click in 'ready'). */
  async save(): Promise<void> {
    const ready = this.#ready;
    if (!ready) return;
    this.#ready = undefined;
    const { request, entries, keyring } = ready;
    const view = this.#view;
    view.phase = 'choosing';
    let sink: DownloadSink;
    try {
      const totalBytes = entries.reduce((sum, entry) => sum + entry.sizeBytes, 0);
      ({ sink } = await this.#deps.chooseTarget(request.fileName, totalBytes));
    } catch (error) {
      this.#fail(error);
      return;
    }
    view.phase = 'zipping';
    const controller = new AbortController();
    this.#controller = controller;
    const decryptor = this.#deps.decryptor();
    const download = (entry: ZipEntry, into: DownloadSink): Promise<unknown> =>
      downloadObject({
        s3: this.#deps.s3(),
        bucket: request.config.bucket,
        key: entry.key,
        bindingRule: this.#bindingRule,
        sink: into,
        signal: controller.signal,
        ...(decryptor ? { decryptor } : {}),
        ...(keyring ? { keyring } : {}),
      });
    try {
      const zip = zipStream(entries, download, () => (view.filesDone += 1));
      await pipeZip(zip, sink, (writtenBytes) => (view.writtenBytes = writtenBytes));
      view.phase = 'done';
    } catch (error) {
      // Whatever failed, the downloads still running stop.
      controller.abort(new VeilError('DOWNLOAD_CANCELLED'));
      this.#fail(error);
    } finally {
      this.#controller = undefined;
    }
  }

  /**
   * Reads `entry`'s header and unwraps its data key, releasing nothing.
   * @throws VeilError ZIP_FILE_FAILED naming the entry, with the reason as its cause.
   */
  async #check(
    config: VeilConfig,
    entry: ZipEntry,
    keyring: Keyring | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    try {
      const opened = await inspectObject({
        s3: this.#deps.s3(),
        bucket: config.bucket,
        key: entry.key,
        bindingRule: this.#bindingRule,
        signal,
        ...(keyring ? { keyring } : {}),
      });
      if (!opened.header) return;
      if (!keyring) throw new VeilError('NO_KEY_FOR_OBJECT');
      if (!opened.contentKey)
        await openMessageKeys(opened.header, { keyring, allowUnverifiedSignature: true });
    } catch (error) {
      throw entryFailure(entry.path, error);
    }
  }

  #fail(error: unknown): void {
    const view = this.#view;
    if (error instanceof VeilError && error.code === 'DOWNLOAD_CANCELLED') {
      view.phase = 'cancelled';
      return;
    }
    if (error instanceof VeilError && error.code === 'ZIP_FILE_FAILED') {
      view.failedPath = error.detail;
      view.error = shownError(error.cause);
      if (view.error.code === 'DOWNLOAD_CANCELLED') {
        view.phase = 'cancelled';
        return;
      }
    } else {
      view.error = shownError(error);
    }
    view.phase = 'failed';
  }
}
