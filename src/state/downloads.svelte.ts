/**
 * Downloads started from the Files view: each one asks where to save (chooseSaveTarget: the save
 * picker, or a Blob for small objects in browsers without it), opens the object with every key
 * this session has (readKeyring: vault keys, the HSM when signed in, KMS), decrypts in the worker
 * pool, and reports progress (bytes, rate, ETA) until done, failed or cancelled. The engine
 * discards partial output on any failure ([Note: download pipeline]).
 *
 * When no key of the session opens the object, the header says which would
 * (download-keys.ts): the item then shows the key names and, for a Model A key, takes its key
 * file (held for this page, or kept in the vault when the user asks), after which "Download
 * again" starts over (the save picker needs a new click).
 */
import type { VeilConfig } from '../aws/config';
import { VeilError } from '../core/errors';
import { parseKeyFile } from '../core/key-file';
import { downloadObject, inspectObject, keysNeeded } from '../transfer/download';
import type { DownloadProgress } from '../transfer/download-progress';
import { downloadS3For } from '../transfer/download-s3';
import { chooseSaveTarget } from '../transfer/download-sink';
import { shownError, type ShownError } from '../views/ui/errors';
import { awsSession } from './credentials.svelte';
import { keyAdvice, keyFileMatches, type KeyAdvice } from './download-keys';
import { readKeyring } from './keyrings';
import { preferences } from './preferences.svelte';
import { workerPool } from './transfers';
import { vault } from './vault.svelte';

/** Where one download is. */
export type DownloadPhase =
  'choosing' | 'opening' | 'downloading' | 'done' | 'failed' | 'cancelled' | 'needs-key';

/** Where chooseSaveTarget saved (the picker's file, a Blob, or a streamed browser download). */
export type SaveKind = Awaited<ReturnType<typeof chooseSaveTarget>>['kind'];

/** Errors that mean "none of this session's keys opens it". */
const NO_KEY_CODES = new Set(['NO_MATCHING_EDK', 'HSM_UNAUTHENTICATED']);

/** One download, as the view shows it. */
export class DownloadItem {
  readonly id: number;
  readonly key: string;
  readonly name: string;
  readonly sizeBytes: number;
  phase = $state<DownloadPhase>('choosing');
  progress = $state<DownloadProgress | undefined>(undefined);
  error = $state<ShownError | undefined>(undefined);
  /** The keys the object could be opened with, when the session has none of them. */
  advice = $state<KeyAdvice[]>([]);
  /** A key file picked for this object (its name), once added. */
  keyAdded = $state<string | undefined>(undefined);
  keyError = $state<ShownError | undefined>(undefined);
  /** 'plain' when the object was saved as it is (not encrypted by Veil or an ESDK). */
  label = $state<'decrypted' | 'plain' | undefined>(undefined);
  saveKind = $state<SaveKind | undefined>(undefined);
  #controller: AbortController | undefined;

  constructor(id: number, key: string, name: string, sizeBytes: number) {
    this.id = id;
    this.key = key;
    this.name = name;
    this.sizeBytes = sizeBytes;
  }

  get active(): boolean {
    return this.phase === 'choosing' || this.phase === 'opening' || this.phase === 'downloading';
  }

  cancel(): void {
    this.#controller?.abort(new DOMException('cancelled', 'AbortError'));
  }

  /** Runs (or re-runs) the download. Call it from a click: the save picker needs the gesture. */
  async run(config: VeilConfig): Promise<void> {
    this.phase = 'choosing';
    this.error = undefined;
    this.keyError = undefined;
    this.progress = undefined;
    this.label = undefined;
    let target;
    try {
      // First, before any other await: the save picker must run inside the user's gesture.
      target = await chooseSaveTarget(this.name, this.sizeBytes);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.saveKind = target.kind;
    this.phase = 'opening';
    const controller = new AbortController();
    this.#controller = controller;
    const sources = { config, session: awsSession, vault, preferences: preferences.values };
    try {
      await vault.load();
      const keyring = await readKeyring(sources);
      const s3 = downloadS3For(awsSession.clients().s3());
      const result = await downloadObject({
        s3,
        bucket: config.bucket,
        key: this.key,
        sink: target.sink,
        decryptor: workerPool(),
        signal: controller.signal,
        ...(keyring ? { keyring } : {}),
        onProgress: (progress) => {
          this.progress = progress;
          if (progress.state === 'downloading') this.phase = 'downloading';
        },
      });
      this.label = result.label;
      this.phase = 'done';
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
    const missingKeyring =
      error instanceof VeilError && error.code === 'BAD_ARGUMENT' && /keyring/.test(error.message);
    const noKey = error instanceof VeilError && NO_KEY_CODES.has(error.code);
    if (!missingKeyring && !noKey) return false;
    try {
      const opened = await inspectObject({
        s3: downloadS3For(awsSession.clients().s3()),
        bucket: config.bucket,
        key: this.key,
      });
      if (!opened.header) return false;
      await vault.load();
      this.advice = keyAdvice(keysNeeded(opened.header), {
        signedIn: awsSession.hasIdToken,
        vaultKeyNames: vault.keys.map((k) => k.keyName),
      });
      this.error = shownError(noKey ? error : new VeilError('NO_MATCHING_EDK'));
      this.phase = 'needs-key';
      return true;
    } catch {
      return false;
    }
  }

  #fail(error: unknown): void {
    const shown = shownError(error);
    this.error = shown;
    this.phase = shown.code === 'DOWNLOAD_CANCELLED' ? 'cancelled' : 'failed';
  }

  /**
   * Adds a picked key file for this object: held for this page, or kept in the vault when `keep`.
   * Refuses a key file whose name is not one the object needs.
   */
  async addKeyFile(file: File, keep: boolean): Promise<boolean> {
    this.keyError = undefined;
    try {
      const material = parseKeyFile(await file.text());
      if (!keyFileMatches(this.advice, material)) {
        material.keyBytes.fill(0);
        const wanted = this.advice
          .filter((a) => a.model === 'A')
          .map((a) => `“${a.keyName}”`)
          .join(' or ');
        throw new VeilError(
          'NO_MATCHING_EDK',
          `this key file is named “${material.keyName}”; the file needs ${wanted}`,
        );
      }
      const info = await vault.add(material, { sessionOnly: !keep });
      this.keyAdded = info.keyName;
      return true;
    } catch (error) {
      this.keyError = shownError(error);
      return false;
    }
  }
}

/** The list of downloads of this page. */
export class Downloads {
  items = $state<DownloadItem[]>([]);
  #nextId = 1;

  /** Starts downloading `key` (from a click). */
  start(config: VeilConfig, key: string, name: string, sizeBytes: number): DownloadItem {
    const item = new DownloadItem(this.#nextId++, key, name, sizeBytes);
    // Class instances are not proxied by $state: `item` is the one the list holds.
    this.items = [item, ...this.items];
    void item.run(config);
    return item;
  }

  /** Removes finished downloads from the list. */
  clearFinished(): void {
    this.items = this.items.filter((item) => item.active || item.phase === 'needs-key');
  }

  dismiss(item: DownloadItem): void {
    this.items = this.items.filter((other) => other !== item);
  }
}

/** The app's downloads (they outlive a visit to another view). */
export const downloads = new Downloads();
