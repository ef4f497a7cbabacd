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
import type { VeilConfig } from '../aws/config';
import { VeilError } from '../core/errors';
import { parseKeyFile, type RawAesKeyMaterial } from '../core/key-file';
import type { Keyring } from '../core/keyring';
import { RawAesKeyring } from '../keyrings/raw-aes';
import { downloadObject, inspectObject, keysNeeded } from '../transfer/download';
import type { DownloadProgress } from '../transfer/download-progress';
import { downloadS3For } from '../transfer/download-s3';
import { chooseSaveTarget } from '../transfer/browser/download-sink';
import { shownError, type ShownError } from './shown-error';
import { awsSession } from './credentials.svelte';
import { keyAdvice, keyFileMatches, withPrompted, type KeyAdvice } from './download-keys';
import { downloadAnnouncement } from './files-format';
import { readKeyring } from './keyrings';
import { preferences } from './preferences.svelte';
import { workerPool } from './transfers';
import { keyFingerprint, vault } from './vault.svelte';

/** What a download needs of the list that holds it. */
export interface DownloadContext {
  /** Keys picked at a key prompt this page ([Note: keys picked at the prompt]). */
  readonly promptedKeyrings: readonly Keyring[];
  /** Holds a picked key for this page; false when the same key is held already. */
  holdKey(keyring: Keyring, fingerprint: string): boolean;
  /** Says a phase change in the status region. */
  announce(text: string): void;
}

/** Where one download is. */
export type DownloadPhase =
  'choosing' | 'opening' | 'downloading' | 'done' | 'failed' | 'cancelled' | 'needs-key';

/** Where chooseSaveTarget saved (the picker's file, a Blob, or a streamed browser download). */
export type SaveKind = Awaited<ReturnType<typeof chooseSaveTarget>>['kind'];

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
  /** Where the picked key went: the vault, or held for this page. */
  keyAddedTo = $state<'vault' | 'page' | undefined>(undefined);
  /** True when a picked key may be kept in the vault (no vault key has a needed name). */
  canKeep = $state(false);
  keyError = $state<ShownError | undefined>(undefined);
  /** 'plain' when the object was saved as it is (not encrypted by Veil or an ESDK). */
  label = $state<'decrypted' | 'plain' | undefined>(undefined);
  saveKind = $state<SaveKind | undefined>(undefined);
  #controller: AbortController | undefined;
  readonly #context: DownloadContext | undefined;

  constructor(id: number, key: string, name: string, sizeBytes: number, context?: DownloadContext) {
    this.#context = context;
    this.id = id;
    this.key = key;
    this.name = name;
    this.sizeBytes = sizeBytes;
  }

  get active(): boolean {
    return this.phase === 'choosing' || this.phase === 'opening' || this.phase === 'downloading';
  }

  /** Moves to `phase`, saying it when it is a change worth announcing. */
  #to(phase: DownloadPhase): void {
    if (this.phase === phase) return;
    this.phase = phase;
    const text = downloadAnnouncement(this.name, phase, this.error?.code);
    if (text) this.#context?.announce(text);
  }

  cancel(): void {
    this.#controller?.abort(new DOMException('cancelled', 'AbortError'));
  }

  /** Runs (or re-runs) the download. Call it from a click: the save picker needs the gesture. */
  async run(config: VeilConfig): Promise<void> {
    this.#to('choosing');
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
    this.#to('opening');
    const controller = new AbortController();
    this.#controller = controller;
    const sources = { config, session: awsSession, vault, preferences: preferences.values };
    try {
      await vault.load();
      const keyring = withPrompted(
        this.#context?.promptedKeyrings ?? [],
        await readKeyring(sources),
      );
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
          if (progress.state === 'downloading') this.#to('downloading');
        },
      });
      this.label = result.label;
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
        s3: downloadS3For(awsSession.clients().s3()),
        bucket: config.bucket,
        key: this.key,
      });
      if (!opened.header) return false;
      await vault.load();
      const vaultKeyNames = vault.keys.map((k) => k.keyName);
      this.advice = keyAdvice(keysNeeded(opened.header), {
        signedIn: awsSession.hasIdToken,
        vaultKeyNames,
      });
      this.canKeep = this.advice.some((a) => a.model === 'A' && !vaultKeyNames.includes(a.keyName));
      this.error = shownError(
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
    this.error = shown;
    this.#to(shown.code === 'DOWNLOAD_CANCELLED' ? 'cancelled' : 'failed');
  }

  /**
   * Adds a picked key file for this object: kept in the vault when `keep` and no vault key has
   * its name, else held for this page ([Note: keys picked at the prompt]). Refuses a key file
   * whose name is not one the object needs.
   */
  async addKeyFile(file: File, keep: boolean): Promise<boolean> {
    this.keyError = undefined;
    let material: RawAesKeyMaterial | undefined;
    try {
      material = parseKeyFile(await file.text());
      if (!keyFileMatches(this.advice, material)) {
        const wanted = this.advice
          .filter((a) => a.model === 'A')
          .map((a) => `“${a.keyName}”`)
          .join(' or ');
        throw new VeilError(
          'NO_MATCHING_EDK',
          `this key file is named “${material.keyName}”; the file needs ${wanted}`,
        );
      }
      const keyName = material.keyName;
      await vault.load();
      const nameFree = !vault.keys.some((k) => k.keyName === keyName);
      if (keep && nameFree) {
        const info = await vault.add(material, { sessionOnly: false });
        this.keyAdded = info.keyName;
        this.keyAddedTo = 'vault';
        return true;
      }
      const fingerprint = await keyFingerprint(material.keyBytes);
      // fromBytes zeroes the bytes.
      const keyring = await RawAesKeyring.fromBytes(material);
      this.#context?.holdKey(keyring, fingerprint);
      this.keyAdded = material.keyName;
      this.keyAddedTo = 'page';
      return true;
    } catch (error) {
      this.keyError = shownError(error);
      return false;
    } finally {
      // vault.add and fromBytes zero it already; this covers every other way out.
      material?.keyBytes.fill(0);
    }
  }
}

/** The list of downloads of this page. */
export class Downloads implements DownloadContext {
  items = $state<DownloadItem[]>([]);
  /** The last phase change of a download, for the status region. */
  announcement = $state('');
  #nextId = 1;
  // Keyrings hold non-extractable keys; they stay out of reactive state.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #prompted = new Map<string, Keyring>();

  get promptedKeyrings(): readonly Keyring[] {
    return [...this.#prompted.values()];
  }

  holdKey(keyring: Keyring, fingerprint: string): boolean {
    if (this.#prompted.has(fingerprint)) return false;
    this.#prompted.set(fingerprint, keyring);
    return true;
  }

  announce(text: string): void {
    this.announcement = text;
  }

  /** Starts downloading `key` (from a click). */
  start(config: VeilConfig, key: string, name: string, sizeBytes: number): DownloadItem {
    const item = new DownloadItem(this.#nextId++, key, name, sizeBytes, this);
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
