/**
 * The Files view's "Download as ZIP" (the toolbar's Download of several files or of a folder):
 * zip-core.ts wired to the app's session, keys, worker pool and save target, with what the view
 * shows kept in `$state`. One ZIP at a time; a new one replaces a finished one.
 *
 * The save target is chosen as a single download's is (chooseSaveTarget: the save picker, else a
 * Blob for small ZIPs or the service-worker stream for large ones), and the keys are the same:
 * every key of the session, with the key files picked at a download's prompt first ([Note: keys
 * picked at the prompt] in downloads.svelte.ts).
 */
import type { VeilConfig } from '../../aws/config';
import { chooseSaveTarget } from '../../transfer/browser/download-sink';
import { downloadS3For } from '../../transfer/download-s3';
import type { LocationNames } from '../../transfer/location-names';
import type { ShownError } from '../app/shown-error';
import { vault } from '../keys/vault.svelte';
import { awsSession } from '../shared/credentials.svelte';
import { readKeyring } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import { workerPool } from '../shared/transfers';
import { withPrompted } from './download-keys';
import { downloads } from './downloads.svelte';
import { appBucketS3 } from './files-deps';
import type { Row } from './listing';
import { ZipCore, emptyZipView, type ZipDeps, type ZipPhase, type ZipView } from './zip-core';
import { zipFileName } from './zip-entries';

/** The app's objects as a ZIP download needs them, for `config`'s bucket. */
function appDeps(config: VeilConfig): ZipDeps {
  return {
    list: { list: (request, signal) => appBucketS3(config.bucket).list(request, signal) },
    s3: () => downloadS3For(awsSession.clients().s3()),
    decryptor: workerPool,
    readKeyring: async (opened) => {
      await vault.load();
      const keyring = await readKeyring({
        config: opened,
        session: awsSession,
        vault,
        preferences: preferences.values,
      });
      return withPrompted(downloads.promptedKeyrings, keyring);
    },
    // The names the listing opened; a location that cannot be named is checked strictly.
    bindingRule: (opened) =>
      locationNames.open(opened).then(
        (names) => names.bindingRule,
        () => 'required' as const,
      ),
    chooseTarget: (name, sizeBytes) => chooseSaveTarget(name, sizeBytes),
    // The save picker refuses to open without a recent click (user activation).
    needsClickToSave: () =>
      typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker === 'function' &&
      (navigator as { userActivation?: { isActive: boolean } }).userActivation?.isActive === false,
  };
}

/** The ZIP of a selection, as the view shows it. */
export class ZipDownload {
  readonly #view = $state<ZipView>(emptyZipView());
  readonly #config: VeilConfig;
  readonly #core: ZipCore;

  constructor(config: VeilConfig, deps: ZipDeps = appDeps(config)) {
    this.#config = config;
    this.#core = new ZipCore(deps, this.#view);
  }

  get phase(): ZipPhase {
    return this.#view.phase;
  }
  get fileName(): string {
    return this.#view.fileName;
  }
  get filesDone(): number {
    return this.#view.filesDone;
  }
  get filesTotal(): number {
    return this.#view.filesTotal;
  }
  get filesChecked(): number {
    return this.#view.filesChecked;
  }
  get writtenBytes(): number {
    return this.#view.writtenBytes;
  }
  /** The ZIP path of the file that failed. */
  get failedPath(): string | undefined {
    return this.#view.failedPath;
  }
  get error(): ShownError | undefined {
    return this.#view.error;
  }
  get active(): boolean {
    return this.#core.active;
  }

  /**
   * Zips `rows` selected in the folder `prefix` into "<name>.zip" (call it from a click: the save
   * picker needs the gesture). `folderName` is the folder shown's name, or the bucket's at the
   * root; a single selected folder names the ZIP itself.
   */
  start(
    prefix: string,
    rows: readonly Row[],
    names: LocationNames | undefined,
    folderName: string,
  ): Promise<void> {
    if (this.#core.active) return Promise.resolve();
    const [only] = rows;
    const name =
      rows.length === 1 && only?.kind === 'folder' && !only.unreadable ? only.name : folderName;
    return this.#core.run({
      config: this.#config,
      prefix,
      rows,
      names,
      fileName: zipFileName(name),
    });
  }

  /** Asks where to save a checked ZIP waiting in 'ready' (from a click). */
  save(): Promise<void> {
    return this.#core.save();
  }

  cancel(): void {
    this.#core.cancel();
  }

  /** Hides a finished ZIP's status. */
  dismiss(): void {
    if (this.#core.active) return;
    Object.assign(this.#view, emptyZipView());
  }
}
