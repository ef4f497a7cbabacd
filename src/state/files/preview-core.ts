/**
 * The logic of a preview opened from the Files view (preview.svelte.ts is its reactive wrapper):
 * pick the kind from the clear name ([Note: preview type from the name] in preview-kind.ts), open
 * the object with the session's keys under the location's binding rule, exactly as a download's
 * check does ([Note: check before the save dialog] in downloads-core.ts), plan the read, and read
 * it through the download engine.
 *
 * [Note: preview shows only authenticated bytes] Every byte shown went through the engine's
 * frame authentication, and nothing is shown before the read that holds it has finished:
 * - text of a framed 0x0478 object: readPlaintextRange fetches only the frames holding the first
 *   PREVIEW_TEXT_BYTES and returns once every one of them verified;
 * - everything else (images, PDF, audio, video; text of a signed, non-framed or padded message):
 *   downloadObject into a memory sink under PREVIEW_MAX_BYTES. The Blob is built on the sink's
 *   close, which the engine calls only after the last frame verified and, for a signed 0x0578
 *   message, after the footer's signature verified (the decrypt stream releases regular frames
 *   before the signature; the sink holds them unseen until then, [Note: signed release]). On any
 *   failure the sink is aborted and what it held is dropped.
 * A plain (unencrypted) object is refused: nothing authenticates it. A tampered frame anywhere in
 * what is read fails the whole preview, so the dialog shows the error and no content.
 */
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import type { Keyring } from '../../core/keyring';
import type { BindingRule } from '../../core/location';
import { openMessageKeys } from '../../core/message';
import { paddingOf } from '../../core/padding';
import { downloadObject, inspectObject, readPlaintextRange } from '../../transfer/download';
import type { DownloadS3 } from '../../transfer/download-s3';
import type { DownloadSetup } from '../../transfer/download-setup';
import { shownError } from '../app/shown-error';
import { MemorySink } from './preview-sink';
import {
  PREVIEW_MAX_BYTES,
  PREVIEW_TEXT_BYTES,
  planPreview,
  previewTypeOf,
  utf8Text,
  type PreviewType,
} from './preview-kind';
import type { PreviewView } from './preview-view';

export type { PreviewView } from './preview-view';

/** What a preview needs of the app (the same seams as the downloads). */
export interface PreviewDeps {
  /** @throws VeilError CREDENTIALS_MISSING without credentials. */
  s3(): DownloadS3;
  decryptor(): DownloadSetup['decryptor'];
  /** Every key the session has, with the keys picked at a download's prompt first. */
  readKeyring(config: VeilConfig): Promise<Keyring | undefined>;
  /** The location's binding rule ([Note: names of the current location]). */
  bindingRule(config: VeilConfig): Promise<BindingRule>;
  /** A `blob:` URL for `blob` (URL.createObjectURL). */
  createUrl(blob: Blob): string;
  /** Frees a URL of createUrl (URL.revokeObjectURL). */
  revokeUrl(url: string): void;
  /** Caps, for tests; default PREVIEW_TEXT_BYTES and PREVIEW_MAX_BYTES. */
  readonly textBytes?: number;
  readonly maxBytes?: number;
}

/** The file a preview opens. */
export interface PreviewObject {
  readonly key: string;
  /** The clear name (never sent anywhere; only its extension is read). */
  readonly name: string;
}

/** Codes after which "Download" is the way on (the file is fine, the preview is not). */
const DOWNLOAD_INSTEAD: ReadonlySet<string> = new Set([
  'PREVIEW_UNSUPPORTED',
  'PREVIEW_TOO_LARGE',
  'PREVIEW_NOT_TEXT',
  'PREVIEW_UNAUTHENTICATED',
]);

/** One preview dialog's logic; it sets `onChange`'s view on every change. */
export class PreviewCore {
  readonly #deps: PreviewDeps;
  readonly #onChange: (view: PreviewView) => void;
  #controller: AbortController | undefined;
  #url: string | undefined;
  /** Bumped by each open and close, so a late result of an old run is dropped. */
  #run = 0;

  constructor(deps: PreviewDeps, onChange: (view: PreviewView) => void) {
    this.#deps = deps;
    this.#onChange = onChange;
  }

  /** Opens a preview of `object`; any earlier one is closed first. */
  async open(config: VeilConfig, object: PreviewObject): Promise<void> {
    this.close();
    const run = ++this.#run;
    const controller = new AbortController();
    this.#controller = controller;
    const name = object.name;
    const set = (view: PreviewView): void => {
      if (run === this.#run) this.#onChange(view);
    };
    set({ state: 'opening', name });
    try {
      const type = previewTypeOf(name);
      if (!type) throw new VeilError('PREVIEW_UNSUPPORTED');
      const shown = await this.#read(config, object, type, controller.signal, (done, total) =>
        set({ state: 'loading', name, doneBytes: done, totalBytes: total }),
      );
      if (run !== this.#run) {
        if (shown.state === 'media') this.#deps.revokeUrl(shown.url);
        return;
      }
      if (shown.state === 'media') this.#url = shown.url;
      set(shown);
    } catch (error) {
      const failure = shownError(error);
      if (failure.code === 'DOWNLOAD_CANCELLED') return;
      set({
        state: 'failed',
        name,
        error: failure,
        downloadInstead: DOWNLOAD_INSTEAD.has(failure.code),
      });
    } finally {
      if (this.#controller === controller) this.#controller = undefined;
    }
  }

  /** Stops a read in progress and frees the shown Blob; the view goes back to idle. */
  close(): void {
    this.#run++;
    this.#controller?.abort(new DOMException('cancelled', 'AbortError'));
    this.#controller = undefined;
    if (this.#url) this.#deps.revokeUrl(this.#url);
    this.#url = undefined;
    this.#onChange({ state: 'idle' });
  }

  /**
   * Opens the object with the session's keys and reads what the plan says.
   * @throws VeilError NO_KEY_FOR_OBJECT, the keyring's, the engine's and the plan's errors.
   */
  async #read(
    config: VeilConfig,
    { key, name }: PreviewObject,
    type: PreviewType,
    signal: AbortSignal,
    onProgress: (doneBytes: number | undefined, totalBytes: number) => void,
  ): Promise<PreviewView> {
    const deps = this.#deps;
    const keyring = await deps.readKeyring(config);
    const bindingRule = await deps.bindingRule(config);
    const decryptor = deps.decryptor();
    const setup: DownloadSetup = {
      s3: deps.s3(),
      bucket: config.bucket,
      key,
      bindingRule,
      signal,
      ...(keyring ? { keyring } : {}),
      ...(decryptor ? { decryptor } : {}),
    };
    // The check a download makes before its save dialog: the header, the data key unwrapped
    // with the session's keys, the binding (framed 0x0478: here; others: by the decrypt stream).
    const opened = await inspectObject(setup);
    if (opened.header) {
      if (!keyring) throw new VeilError('NO_KEY_FOR_OBJECT');
      if (!opened.contentKey) {
        await openMessageKeys(opened.header, { keyring, allowUnverifiedSignature: true });
      }
    }
    const textBytes = deps.textBytes ?? PREVIEW_TEXT_BYTES;
    const maxBytes = deps.maxBytes ?? PREVIEW_MAX_BYTES;
    const plan = planPreview(
      {
        type,
        objectKind: opened.kind,
        objectBytes: opened.objectBytes,
        plaintextBytes: opened.plaintextBytes,
        ...(opened.layout
          ? { frames: { frameBytes: opened.layout.frameBytes, form: opened.layout.form } }
          : {}),
        padded: opened.header ? paddingOf(opened.header.encryptionContext) !== undefined : false,
      },
      textBytes,
      maxBytes,
    );
    if (plan.mode === 'range') {
      // A few frames: one step, shown without a count.
      onProgress(undefined, plan.fetchBytes);
      const bytes = await readPlaintextRange(setup, 0, plan.endBytes);
      return textView(name, bytes, plan.plaintextBytes, textBytes);
    }
    const sink = new MemorySink(maxBytes);
    await downloadObject({
      ...setup,
      sink,
      onProgress: (progress) => onProgress(progress.fetchedBytes, progress.objectBytes),
    });
    if (type.kind === 'text') {
      const bytes = sink.bytes();
      return textView(name, bytes, bytes.length, textBytes);
    }
    const url = deps.createUrl(sink.blob(type.mimeType));
    return { state: 'media', name, kind: type.kind, url, sizeBytes: sink.heldBytes };
  }
}

/**
 * The text view of the first bytes of a file of `totalBytes`, shown up to `textBytes`.
 * @throws VeilError PREVIEW_NOT_TEXT when they are not UTF-8.
 */
function textView(
  name: string,
  bytes: Uint8Array,
  totalBytes: number,
  textBytes: number,
): PreviewView {
  const shown = bytes.length > textBytes ? bytes.subarray(0, textBytes) : bytes;
  const cut = shown.length < totalBytes;
  const text = utf8Text(shown, cut);
  if (text === undefined) throw new VeilError('PREVIEW_NOT_TEXT');
  return { state: 'text', name, text, shownBytes: shown.length, totalBytes, cut };
}
