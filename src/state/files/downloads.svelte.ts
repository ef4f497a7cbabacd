/**
 * Downloads started from the Files view: each one first checks that the object opens with every
 * key this session has (readKeyring: vault keys, the HSM when signed in, KMS), then asks where to
 * save (chooseSaveTarget: the save picker, or a Blob for small objects in browsers without it;
 * [Note: check before the save dialog] in downloads-core.ts), decrypts in the worker pool, and
 * reports progress (bytes, rate, ETA) until done, failed or cancelled. The engine
 * discards partial output on any failure ([Note: download pipeline]). The logic is in
 * downloads-core.ts; this file wires it to the app and keeps what the view shows in `$state`.
 *
 * When no key of the session opens the object, the header says which would
 * (download-keys.ts): the item then shows the key names and, for a Model A key, takes its key
 * file (held for this page, or kept in the vault when the user asks), after which "Download
 * again" starts over (the save picker needs a new click).
 *
 * [Note: keys picked at the prompt]: a key file picked for a download is held by `downloads` as a
 * raw AES keyring of its own, outside the name-keyed vault, and put first in every download's
 * keyring for the rest of the page. The vault holds one key per name, so a file wrapped by an
 * older key of a name the vault now gives another key could not be opened otherwise. "Keep it
 * in the vault" is offered only while no vault key has the name.
 *
 * Phase changes (started, done, failed, cancelled, needs a key) are said through one status
 * region (`announcement`); progress is shown, never announced.
 */
import type { VeilConfig } from '../../aws/config';
import type { Keyring } from '../../core/keyring';
import { chooseSaveTarget } from '../../transfer/browser/download-sink';
import type { DownloadProgress } from '../../transfer/download-progress';
import { downloadS3For } from '../../transfer/download-s3';
import { awsSession } from '../shared/credentials.svelte';
import type { KeyAdvice } from './download-keys';
import {
  DownloadItemCore,
  DownloadList,
  emptyDownloadView,
  type DownloadContext,
  type DownloadObject,
  type DownloadPhase,
  type DownloadsDeps,
  type DownloadsState,
  type DownloadView,
  type SaveKind,
} from './downloads-core';
import { readKeyring } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import type { ShownError } from '../app/shown-error';
import { workerPool } from '../shared/transfers';
import { vault } from '../keys/vault.svelte';

export type { DownloadContext, DownloadPhase, SaveKind } from './downloads-core';

/** The app's objects as the downloads need them (a version's download changes only `s3`). */
export const appDownloadDeps: DownloadsDeps = {
  chooseTarget: (name, sizeBytes) => chooseSaveTarget(name, sizeBytes),
  // The save picker refuses to open without a recent click (user activation).
  needsClickToSave: () =>
    typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker === 'function' &&
    (navigator as { userActivation?: { isActive: boolean } }).userActivation?.isActive === false,
  s3: () => downloadS3For(awsSession.clients().s3()),
  decryptor: workerPool,
  readKeyring: (config) =>
    readKeyring({ config, session: awsSession, vault, preferences: preferences.values }),
  vault,
  session: awsSession,
  bindingRule: (config) => locationNames.bindingRule(config),
};

/** One download, as the view shows it. */
export class DownloadItem {
  readonly id: number;
  readonly key: string;
  readonly name: string;
  readonly sizeBytes: number;
  readonly #view = $state<DownloadView>(emptyDownloadView());
  readonly #core: DownloadItemCore;

  constructor(
    id: number,
    key: string,
    name: string,
    sizeBytes: number,
    context?: DownloadContext,
    deps: DownloadsDeps = appDownloadDeps,
  ) {
    this.id = id;
    this.key = key;
    this.name = name;
    this.sizeBytes = sizeBytes;
    this.#core = new DownloadItemCore(deps, this.#view, { key, name, sizeBytes }, context);
  }

  get phase(): DownloadPhase {
    return this.#view.phase;
  }

  get progress(): DownloadProgress | undefined {
    return this.#view.progress;
  }

  get error(): ShownError | undefined {
    return this.#view.error;
  }

  /** The keys the object could be opened with, when the session has none of them. */
  get advice(): KeyAdvice[] {
    return this.#view.advice;
  }

  /** A key file picked for this object (its name), once added. */
  get keyAdded(): string | undefined {
    return this.#view.keyAdded;
  }

  /** Where the picked key went: the vault, or held for this page. */
  get keyAddedTo(): 'vault' | 'page' | undefined {
    return this.#view.keyAddedTo;
  }

  /** True when a picked key may be kept in the vault (no vault key has a needed name). */
  get canKeep(): boolean {
    return this.#view.canKeep;
  }

  get keyError(): ShownError | undefined {
    return this.#view.keyError;
  }

  /** 'plain' when the object was saved as it is (not encrypted by Veil or an ESDK). */
  get label(): 'decrypted' | 'plain' | undefined {
    return this.#view.label;
  }

  get saveKind(): SaveKind | undefined {
    return this.#view.saveKind;
  }

  get active(): boolean {
    return this.#core.active;
  }

  cancel(): void {
    this.#core.cancel();
  }

  /** Runs (or re-runs) the download. Call it from a click: the save picker needs the gesture. */
  run(config: VeilConfig): Promise<void> {
    return this.#core.run(config);
  }

  /** Asks where to save a checked download waiting in 'ready' (from a click). */
  save(config: VeilConfig): Promise<void> {
    return this.#core.save(config);
  }

  /** See DownloadItemCore.addKeyFile ([Note: keys picked at the prompt]). */
  addKeyFile(file: File, keep: boolean): Promise<boolean> {
    return this.#core.addKeyFile(file, keep);
  }
}

/** The list of downloads of this page. */
export class Downloads implements DownloadContext {
  readonly #state = $state<DownloadsState<DownloadItem>>({ items: [], announcement: '' });
  readonly #list = new DownloadList<DownloadItem>(
    this.#state,
    (id: number, object: DownloadObject, context: DownloadContext) =>
      new DownloadItem(id, object.key, object.name, object.sizeBytes, context),
  );

  get items(): DownloadItem[] {
    return this.#state.items;
  }

  /** The last phase change of a download, for the status region. */
  get announcement(): string {
    return this.#state.announcement;
  }

  get promptedKeyrings(): readonly Keyring[] {
    return this.#list.promptedKeyrings;
  }

  holdKey(keyring: Keyring, fingerprint: string): boolean {
    return this.#list.holdKey(keyring, fingerprint);
  }

  announce(text: string): void {
    this.#list.announce(text);
  }

  /** Starts downloading `key` (from a click). */
  start(config: VeilConfig, key: string, name: string, sizeBytes: number): DownloadItem {
    return this.#list.start(config, { key, name, sizeBytes });
  }

  /** Removes finished downloads from the list. */
  clearFinished(): void {
    this.#list.clearFinished();
  }

  dismiss(item: DownloadItem): void {
    this.#list.dismiss(item);
  }
}

/** The app's downloads (they outlive a visit to another view). */
export const downloads = new Downloads();
