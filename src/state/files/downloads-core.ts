/**
 * The logic of one download started from the Files view (downloads.svelte.ts is its reactive
 * wrapper): check that the object opens with the keys the session has, then ask where to save,
 * then download, reporting progress until done, failed or cancelled; when no key of the session
 * opens it, name the keys that would and take a picked key file ([Note: keys picked at the
 * prompt] in downloads.svelte.ts). The list of downloads is download-list.ts.
 *
 * [Note: check before the save dialog] A download first reads the object's header and unwraps its
 * data key (the vault, the HSM proxy, KMS), and only then opens the save dialog: a wrong key, a
 * missing one or a proxy that is down fails with nothing asked and no file created. The data key
 * is unwrapped again by the download itself rather than kept in memory while the dialog is open
 * (one more key-service call per download, no raw data key held across a dialog). The save picker
 * needs a recent click (the browser's user activation); when the check took longer than that
 * lasts, the item waits in 'ready' for the user's "Choose where to save" click.
 *
 * [Note: a picked key is checked first] A key file picked at the prompt must open this object's
 * header before it is held for the page or kept in the vault: a key with the right name and the
 * wrong bytes is refused where it was picked (WRONG_KEY), so it is never cached anywhere and the
 * picker stays. A run that ends in WRONG_KEY (a vault key of the same name, or a key picked for
 * another file) offers the picker again instead of leaving Retry alone.
 *
 * The app's objects come in through DownloadsDeps; what the view shows lives in a DownloadView
 * (one per item) that the wrapper makes reactive.
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { parseKeyFile, type RawAesKeyMaterial } from '../../core/key-file';
import type { Keyring } from '../../core/keyring';
import type { BindingRule } from '../../core/location';
import type { MessageHeader } from '../../core/header';
import { openMessageKeys } from '../../core/message';
import { RawAesKeyring } from '../../keyrings/raw-aes';
import { downloadObject, inspectObject, keysNeeded } from '../../transfer/download';
import { keyAdvice, keyFileMatches, withPrompted } from './download-keys';
import type {
  DownloadContext,
  DownloadObject,
  DownloadPhase,
  DownloadsDeps,
  DownloadView,
} from './download-view';
import { downloadAnnouncement } from './format';
import { shownError } from '../app/shown-error';
import { keyFingerprint } from '../keys/vault-core';

export {
  emptyDownloadView,
  type DownloadContext,
  type DownloadObject,
  type DownloadPhase,
  type DownloadsDeps,
  type DownloadView,
  type SaveKind,
} from './download-view';

/**
 * Errors that mean "none of this session's keys opens it": no keyring at all (the engine's
 * NO_KEY_FOR_OBJECT), keys none of which fits (the core's NO_MATCHING_EDK), a key of the right
 * name with other bytes (WRONG_KEY), or an HSM key that needs a sign-in first.
 */
const NO_KEY_CODES: ReadonlySet<string> = new Set([
  'NO_KEY_FOR_OBJECT',
  'NO_MATCHING_EDK',
  'WRONG_KEY',
  'HSM_UNAUTHENTICATED',
]);

/** Errors shown as they are at the key prompt (the others become NO_KEY_FOR_OBJECT). */
const SHOWN_AS_IS: ReadonlySet<string> = new Set(['WRONG_KEY', 'HSM_UNAUTHENTICATED']);

/** What the check learned, kept for the save that follows it. */
interface Checked {
  readonly keyring: Keyring | undefined;
  readonly bindingRule: BindingRule;
}

/**
 * Unwraps the data key of `header` with `keyring`, releasing nothing: the check of [Note: check
 * before the save dialog] and [Note: a picked key is checked first]. A signed message's signature
 * is checked by the download itself, which reads the whole message.
 * @throws VeilError NO_MATCHING_EDK, WRONG_KEY, COMMITMENT_MISMATCH, HEADER_TAMPERED and the
 *   keyring's errors.
 */
async function unwrapOnly(header: MessageHeader, keyring: Keyring): Promise<void> {
  await openMessageKeys(header, { keyring, allowUnverifiedSignature: true });
}

/** One download's logic; `view` is what the view shows of it. */
export class DownloadItemCore {
  readonly #deps: DownloadsDeps;
  readonly #view: DownloadView;
  readonly #name: string;
  readonly #key: string;
  readonly #sizeBytes: number;
  readonly #context: DownloadContext | undefined;
  #controller: AbortController | undefined;
  /** The object's header, once read (a picked key file is checked against it). */
  #header: MessageHeader | undefined;
  /** What the last check found, while the item waits in 'ready'. */
  #checked: Checked | undefined;

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
    const text =
      phase === 'ready'
        ? `${this.#name} is ready: choose where to save it.`
        : downloadAnnouncement(this.#name, phase, this.#view.error?.code);
    if (text) this.#context?.announce(text);
  }

  cancel(): void {
    this.#controller?.abort(new DOMException('cancelled', 'AbortError'));
  }

  /**
   * Runs (or re-runs) the download: the check, then the save dialog, then the body ([Note: check
   * before the save dialog]). Call it from a click: the save picker needs the gesture.
   */
  async run(config: VeilConfig): Promise<void> {
    const view = this.#view;
    view.phase = 'opening';
    view.error = undefined;
    view.keyError = undefined;
    view.progress = undefined;
    view.label = undefined;
    this.#checked = undefined;
    const controller = new AbortController();
    this.#controller = controller;
    try {
      this.#checked = await this.#check(config, controller.signal);
    } catch (error) {
      this.#controller = undefined;
      if (await this.#needsKey(config, error)) return;
      this.#fail(error);
      return;
    }
    this.#controller = undefined;
    if (this.#deps.needsClickToSave?.()) {
      this.#to('ready');
      return;
    }
    await this.save(config);
  }

  /**
   * Asks where to save and downloads, after a check (from the "Choose where to save" click when
   * the item waits in 'ready'; run() calls it itself otherwise).
   */
  async save(config: VeilConfig): Promise<void> {
    const checked = this.#checked;
    if (!checked) return this.run(config);
    this.#checked = undefined;
    const view = this.#view;
    this.#to('choosing');
    let target;
    try {
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
      const decryptor = this.#deps.decryptor();
      const result = await downloadObject({
        s3: this.#deps.s3(),
        bucket: config.bucket,
        key: this.#key,
        bindingRule: checked.bindingRule,
        sink: target.sink,
        ...(decryptor ? { decryptor } : {}),
        signal: controller.signal,
        ...(checked.keyring ? { keyring: checked.keyring } : {}),
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

  /**
   * Reads the header and unwraps the data key with the session's keys, releasing nothing
   * ([Note: check before the save dialog]).
   * @throws the errors of inspectObject and unwrapOnly; NO_KEY_FOR_OBJECT without any key.
   */
  async #check(config: VeilConfig, signal: AbortSignal): Promise<Checked> {
    await this.#deps.vault.load();
    const keyring = withPrompted(
      this.#context?.promptedKeyrings ?? [],
      await this.#deps.readKeyring(config),
    );
    const bindingRule = (await this.#deps.bindingRule?.(config)) ?? 'if-present';
    // A framed 0x0478 object's data key is unwrapped (and its binding checked) by inspectObject
    // when given a keyring; a signed or non-framed one's by unwrapOnly.
    const opened = await inspectObject({
      s3: this.#deps.s3(),
      bucket: config.bucket,
      key: this.#key,
      bindingRule,
      signal,
      ...(keyring ? { keyring } : {}),
    });
    if (opened.header) {
      this.#header = opened.header;
      if (!keyring) throw new VeilError('NO_KEY_FOR_OBJECT');
      if (!opened.contentKey) await unwrapOnly(opened.header, keyring);
    }
    return { keyring, bindingRule };
  }

  /** True (and the advice set) when the failure means the session lacks the object's key. */
  async #needsKey(config: VeilConfig, error: unknown): Promise<boolean> {
    if (!(error instanceof VeilError && NO_KEY_CODES.has(error.code))) return false;
    try {
      if (!this.#header) {
        const opened = await inspectObject({
          s3: this.#deps.s3(),
          bucket: config.bucket,
          key: this.#key,
        });
        if (!opened.header) return false;
        this.#header = opened.header;
      }
      await this.#deps.vault.load();
      const vaultKeyNames = this.#deps.vault.keys.map((k) => k.keyName);
      const advice = keyAdvice(keysNeeded(this.#header), {
        signedIn: this.#deps.session.hasIdToken,
        vaultKeyNames,
      });
      this.#view.advice = advice;
      this.#view.canKeep = advice.some(
        (a) => a.model === 'A' && !vaultKeyNames.includes(a.keyName),
      );
      this.#view.keyAdded = undefined;
      this.#view.keyAddedTo = undefined;
      this.#view.error = shownError(
        SHOWN_AS_IS.has(error.code)
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
    const cancelled =
      shown.code === 'DOWNLOAD_CANCELLED' || shown.code === 'VAULT_UNLOCK_CANCELLED';
    this.#to(cancelled ? 'cancelled' : 'failed');
  }

  /**
   * Adds a picked key file for this object once it opens the object's header ([Note: a picked
   * key is checked first]): kept in the vault when `keep` and no vault key has its name, else held
   * for this page ([Note: keys picked at the prompt]). Refuses a key file whose name is not one
   * the object needs (NO_MATCHING_EDK) or whose bytes do not open it (WRONG_KEY); a refused key
   * is kept nowhere.
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
      const fingerprint = await keyFingerprint(material.keyBytes);
      // fromBytes zeroes the copy it is given.
      const keyring = await RawAesKeyring.fromBytes({
        ...material,
        keyBytes: material.keyBytes.slice(),
      });
      const header = this.#header;
      // Precondition: the prompt shows only after the header was read.
      if (!header) throw new VeilError('NO_KEY_FOR_OBJECT', 'the file was not read yet');
      await unwrapOnly(header, keyring);
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
      this.#context?.holdKey(keyring, fingerprint);
      view.keyAdded = keyName;
      view.keyAddedTo = 'page';
      return true;
    } catch (error) {
      view.keyAdded = undefined;
      view.keyAddedTo = undefined;
      view.keyError = shownError(error);
      return false;
    } finally {
      // vault.add zeroes it already; this covers every other way out.
      material?.keyBytes.fill(0);
    }
  }
}

export { DownloadList, type DownloadsState, type ListedDownload } from './download-list';
