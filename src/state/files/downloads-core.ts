/**
 * The logic of the downloads started from the Files view (downloads.svelte.ts is its reactive
 * wrapper): ask where to save, open the object with every key the session has, report progress
 * until done, failed or cancelled, and when no key of the session opens it, name the keys that
 * would and take a picked key file ([Note: keys picked at the prompt] in downloads.svelte.ts).
 *
 * The app's objects come in through DownloadsDeps; what the view shows lives in a DownloadView
 * (one per item) and a DownloadsState (the list) that the wrapper makes reactive.
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { parseKeyFile, type RawAesKeyMaterial } from '../../core/key-file';
import type { Keyring } from '../../core/keyring';
import type { BindingRule } from '../../core/location';
import { RawAesKeyring } from '../../keyrings/raw-aes';
import { downloadObject, inspectObject, keysNeeded } from '../../transfer/download';
import type { DownloadProgress } from '../../transfer/download-progress';
import type { DownloadS3 } from '../../transfer/download-s3';
import type { DownloadSetup, DownloadSink } from '../../transfer/download-setup';
import { keyAdvice, keyFileMatches, withPrompted, type KeyAdvice } from './download-keys';
import { downloadAnnouncement } from './format';
import { shownError, type ShownError } from '../app/shown-error';
import { keyFingerprint, type AddOptions, type VaultKeyInfo } from '../keys/vault-core';

/** Where a download is saved: the picker's file, or the browser's downloads. */
export type SaveKind = 'file-system-access' | 'blob';

/** What the downloads need of the app. */
export interface DownloadsDeps {
  /**
   * Asks where to save (chooseSaveTarget); the first await of a click.
   * @throws VeilError DOWNLOAD_CANCELLED when the user dismisses the picker, and the like.
   */
  chooseTarget(name: string, sizeBytes: number): Promise<{ sink: DownloadSink; kind: SaveKind }>;
  /**
   * The engine's S3 seam for this session.
   * @throws VeilError CREDENTIALS_MISSING without credentials.
   */
  s3(): DownloadS3;
  /** Decrypts frame batches (the worker pool). */
  decryptor(): DownloadSetup['decryptor'];
  /** readKeyring: every key the session's sources have ([Note: keyring choice]). */
  readKeyring(config: VeilConfig): Promise<Keyring | undefined>;
  readonly vault: {
    readonly keys: readonly VaultKeyInfo[];
    load(): Promise<void>;
    add(material: RawAesKeyMaterial, options?: AddOptions): Promise<VaultKeyInfo>;
  };
  /** Whether the user is signed in (Model B's keys need it). */
  readonly session: { readonly hasIdToken: boolean };
  /**
   * How strictly the object's binding to its key is checked: the location's names' rule
   * ([Note: names of the current location]); absent: 'if-present'.
   */
  bindingRule?(config: VeilConfig): Promise<BindingRule>;
}

/** Where one download is. */
export type DownloadPhase =
  'choosing' | 'opening' | 'downloading' | 'done' | 'failed' | 'cancelled' | 'needs-key';

/** What the view shows of one download (the wrapper makes it reactive). */
export interface DownloadView {
  phase: DownloadPhase;
  progress: DownloadProgress | undefined;
  error: ShownError | undefined;
  /** The keys the object could be opened with, when the session has none of them. */
  advice: KeyAdvice[];
  /** A key file picked for this object (its name), once added. */
  keyAdded: string | undefined;
  /** Where the picked key went: the vault, or held for this page. */
  keyAddedTo: 'vault' | 'page' | undefined;
  /** True when a picked key may be kept in the vault (no vault key has a needed name). */
  canKeep: boolean;
  keyError: ShownError | undefined;
  /** 'plain' when the object was saved as it is (not encrypted by Veil or an ESDK). */
  label: 'decrypted' | 'plain' | undefined;
  saveKind: SaveKind | undefined;
}

/** A fresh DownloadView. */
export function emptyDownloadView(): DownloadView {
  return {
    phase: 'choosing',
    progress: undefined,
    error: undefined,
    advice: [],
    keyAdded: undefined,
    keyAddedTo: undefined,
    canKeep: false,
    keyError: undefined,
    label: undefined,
    saveKind: undefined,
  };
}

/** What a download needs of the list that holds it. */
export interface DownloadContext {
  /** Keys picked at a key prompt this page ([Note: keys picked at the prompt]). */
  readonly promptedKeyrings: readonly Keyring[];
  /** Holds a picked key for this page; false when the same key is held already. */
  holdKey(keyring: Keyring, fingerprint: string): boolean;
  /** Says a phase change in the status region. */
  announce(text: string): void;
}

/** The object a download reads. */
export interface DownloadObject {
  readonly key: string;
  readonly name: string;
  readonly sizeBytes: number;
}

/**
 * Errors that mean "none of this session's keys opens it": no keyring at all (the engine's
 * NO_KEY_FOR_OBJECT), keys none of which fits (the core's NO_MATCHING_EDK), or an HSM key that
 * needs a sign-in first.
 */
const NO_KEY_CODES: ReadonlySet<string> = new Set([
  'NO_KEY_FOR_OBJECT',
  'NO_MATCHING_EDK',
  'HSM_UNAUTHENTICATED',
]);

/** One download's logic; `view` is what the view shows of it. */
export class DownloadItemCore {
  readonly #deps: DownloadsDeps;
  readonly #view: DownloadView;
  readonly #name: string;
  readonly #key: string;
  readonly #sizeBytes: number;
  readonly #context: DownloadContext | undefined;
  #controller: AbortController | undefined;

  constructor(
    deps: DownloadsDeps,
    view: DownloadView,
    object: DownloadObject,
    context?: DownloadContext,
  ) {
    this.#deps = deps;
    this.#view = view;
    this.#key = object.key;
    this.#name = object.name;
    this.#sizeBytes = object.sizeBytes;
    this.#context = context;
  }

  get view(): DownloadView {
    return this.#view;
  }

  get phase(): DownloadPhase {
    return this.#view.phase;
  }

  get active(): boolean {
    const phase = this.#view.phase;
    return phase === 'choosing' || phase === 'opening' || phase === 'downloading';
  }

  /** Moves to `phase`, saying it when it is a change worth announcing. */
  #to(phase: DownloadPhase): void {
    if (this.#view.phase === phase) return;
    this.#view.phase = phase;
    const text = downloadAnnouncement(this.#name, phase, this.#view.error?.code);
    if (text) this.#context?.announce(text);
  }

  cancel(): void {
    this.#controller?.abort(new DOMException('cancelled', 'AbortError'));
  }

  /** Runs (or re-runs) the download. Call it from a click: the save picker needs the gesture. */
  async run(config: VeilConfig): Promise<void> {
    const view = this.#view;
    this.#to('choosing');
    view.error = undefined;
    view.keyError = undefined;
    view.progress = undefined;
    view.label = undefined;
    let target;
    try {
      // First, before any other await: the save picker must run inside the user's gesture.
      target = await this.#deps.chooseTarget(this.#name, this.#sizeBytes);
    } catch (error) {
      this.#fail(error);
      return;
    }
    view.saveKind = target.kind;
    this.#to('opening');
    const controller = new AbortController();
    this.#controller = controller;
    try {
      await this.#deps.vault.load();
      const keyring = withPrompted(
        this.#context?.promptedKeyrings ?? [],
        await this.#deps.readKeyring(config),
      );
      const decryptor = this.#deps.decryptor();
      const bindingRule = (await this.#deps.bindingRule?.(config)) ?? 'if-present';
      const result = await downloadObject({
        s3: this.#deps.s3(),
        bucket: config.bucket,
        key: this.#key,
        bindingRule,
        sink: target.sink,
        ...(decryptor ? { decryptor } : {}),
        signal: controller.signal,
        ...(keyring ? { keyring } : {}),
        onProgress: (progress) => {
          view.progress = progress;
          if (progress.state === 'downloading') this.#to('downloading');
        },
      });
      view.label = result.label;
      this.#to('done');
    } catch (error) {
      await target.sink.abort(error).catch(() => undefined);
      if (await this.#needsKey(config, error)) return;
      this.#fail(error);
    } finally {
      this.#controller = undefined;
    }
  }

  /** True (and the advice set) when the failure means the session lacks the object's key. */
  async #needsKey(config: VeilConfig, error: unknown): Promise<boolean> {
    if (!(error instanceof VeilError && NO_KEY_CODES.has(error.code))) return false;
    try {
      const opened = await inspectObject({
        s3: this.#deps.s3(),
        bucket: config.bucket,
        key: this.#key,
      });
      if (!opened.header) return false;
      await this.#deps.vault.load();
      const vaultKeyNames = this.#deps.vault.keys.map((k) => k.keyName);
      const advice = keyAdvice(keysNeeded(opened.header), {
        signedIn: this.#deps.session.hasIdToken,
        vaultKeyNames,
      });
      this.#view.advice = advice;
      this.#view.canKeep = advice.some(
        (a) => a.model === 'A' && !vaultKeyNames.includes(a.keyName),
      );
      this.#view.error = shownError(
        error.code === 'HSM_UNAUTHENTICATED'
          ? error
          : new VeilError('NO_KEY_FOR_OBJECT', undefined, { cause: error }),
      );
      this.#to('needs-key');
      return true;
    } catch {
      return false;
    }
  }

  #fail(error: unknown): void {
    const shown = shownError(error);
    this.#view.error = shown;
    this.#to(shown.code === 'DOWNLOAD_CANCELLED' ? 'cancelled' : 'failed');
  }

  /**
   * Adds a picked key file for this object: kept in the vault when `keep` and no vault key has
   * its name, else held for this page ([Note: keys picked at the prompt]). Refuses a key file
   * whose name is not one the object needs.
   */
  async addKeyFile(file: File, keep: boolean): Promise<boolean> {
    const view = this.#view;
    view.keyError = undefined;
    let material: RawAesKeyMaterial | undefined;
    try {
      material = parseKeyFile(await file.text());
      if (!keyFileMatches(view.advice, material)) {
        const wanted = view.advice
          .filter((a) => a.model === 'A')
          .map((a) => `“${a.keyName}”`)
          .join(' or ');
        throw new VeilError(
          'NO_MATCHING_EDK',
          `this key file is named “${material.keyName}”; the file needs ${wanted}`,
        );
      }
      const keyName = material.keyName;
      const vault = this.#deps.vault;
      await vault.load();
      const nameFree = !vault.keys.some((k) => k.keyName === keyName);
      if (keep && nameFree) {
        const info = await vault.add(material, { sessionOnly: false });
        view.keyAdded = info.keyName;
        view.keyAddedTo = 'vault';
        return true;
      }
      const fingerprint = await keyFingerprint(material.keyBytes);
      // fromBytes zeroes the bytes.
      const keyring = await RawAesKeyring.fromBytes(material);
      this.#context?.holdKey(keyring, fingerprint);
      view.keyAdded = material.keyName;
      view.keyAddedTo = 'page';
      return true;
    } catch (error) {
      view.keyError = shownError(error);
      return false;
    } finally {
      // vault.add and fromBytes zero it already; this covers every other way out.
      material?.keyBytes.fill(0);
    }
  }
}

/** What the list of downloads shows (the wrapper makes it reactive). */
export interface DownloadsState<Item> {
  items: Item[];
  /** The last phase change of a download, for the status region. */
  announcement: string;
}

/** What the list needs of an item. */
export interface ListedDownload {
  readonly active: boolean;
  readonly phase: DownloadPhase;
  run(config: VeilConfig): Promise<void>;
}

/**
 * The list of downloads of this page, and the keys picked at its prompts. `newItem` makes an
 * item (the wrapper's reactive one) that reports to the list.
 */
export class DownloadList<Item extends ListedDownload> implements DownloadContext {
  readonly #state: DownloadsState<Item>;
  readonly #newItem: (id: number, object: DownloadObject, context: DownloadContext) => Item;
  #nextId = 1;
  // Keyrings hold non-extractable keys; they stay out of reactive state.
  readonly #prompted = new Map<string, Keyring>();

  constructor(
    state: DownloadsState<Item>,
    newItem: (id: number, object: DownloadObject, context: DownloadContext) => Item,
  ) {
    this.#state = state;
    this.#newItem = newItem;
  }

  get promptedKeyrings(): readonly Keyring[] {
    return [...this.#prompted.values()];
  }

  holdKey(keyring: Keyring, fingerprint: string): boolean {
    if (this.#prompted.has(fingerprint)) return false;
    this.#prompted.set(fingerprint, keyring);
    return true;
  }

  announce(text: string): void {
    this.#state.announcement = text;
  }

  /** Starts downloading `object` (from a click). */
  start(config: VeilConfig, object: DownloadObject): Item {
    const item = this.#newItem(this.#nextId++, object, this);
    // Class instances are not proxied by $state: `item` is the one the list holds.
    this.#state.items = [item, ...this.#state.items];
    void item.run(config);
    return item;
  }

  /** Removes finished downloads from the list. */
  clearFinished(): void {
    this.#state.items = this.#state.items.filter(
      (item) => item.active || item.phase === 'needs-key',
    );
  }

  dismiss(item: Item): void {
    this.#state.items = this.#state.items.filter((other) => other !== item);
  }
}
