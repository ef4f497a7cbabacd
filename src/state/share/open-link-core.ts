/**
 * Opening a share link ([Note: share links] in core/share-link.ts), pure: the payload read from
 * the page's hash, the checks before anything is offered (expired by its own clock; the object's
 * header read through the presigned URL: S3's "Request has expired" answer, or no `veil-link`
 * EDK of this id, which means revoked; then the header opened with the link key and its location
 * binding checked, as Files does before its save dialog: [Note: check before the save dialog] in
 * state/files/downloads-core.ts), then the download through the same engine, worker decryption
 * and save targets as Files. A link whose key does not open the file is refused with no save
 * dialog; nothing is released before its frame authenticates: the engine aborts the sink on any
 * failure. The page's dependencies come in through OpenLinkDeps.
 *
 * [Note: the link's label is a claim] Anyone who can put an object in the deployment's bucket can
 * make a link on the company's own domain, with any "Shared by" label and name: the payload is
 * not signed. So the page shows the label as what the link says, never as a fact (sharedByView),
 * and says "verified" only of what the download checks: that every part of the file is intact
 * and that it is the object the link names (its location binding).
 *
 * [Note: the link key leaves the address bar] Once the link key opened the header, the page takes
 * the payload out of the address bar and the history (OpenLinkDeps.forgetLink: replaceState to
 * `#/share/`) and keeps it in memory for Download. A reload then finds no payload ('forgotten'),
 * and the page says to open the link again from where it came. An expired link keeps its payload:
 * nothing was opened with its key, and a reload checks it again.
 */
import { escapeUntrusted } from '../../core/untrusted-text';
import { VeilError } from '../../core/errors';
import type { MessageHeader } from '../../core/header';
import {
  decodeSharePayload,
  isExpired,
  shareSaveName,
  type SharePayload,
} from '../../core/share-link';
import type { DownloadProgress } from '../../transfer/download-progress';
import type { DownloadResult, DownloadSink } from '../../transfer/download-setup';

/** What the page calls on the app. */
export interface OpenLinkDeps {
  nowMs(): number;
  /** The object's header through the presigned URL (no key needed); undefined for no message. */
  readHeader(payload: SharePayload): Promise<MessageHeader | undefined>;
  /** True when `header` holds the EDK of link `linkId`. */
  hasLinkEdk(header: MessageHeader, linkId: string): boolean;
  /**
   * Opens `header` with the link key and checks its binding to the link's bucket and key
   * (bindingRule 'required'), releasing nothing.
   * @throws VeilError WRONG_KEY, COMMITMENT_MISMATCH, HEADER_TAMPERED, OBJECT_MISMATCH.
   */
  checkKey(payload: SharePayload, header: MessageHeader): Promise<void>;
  /** Where to save: the save picker, the service worker or a Blob (chooseSaveTarget). */
  chooseSink(name: string, sizeBytes: number): Promise<DownloadSink>;
  /** True when the browser can save without holding the file in memory. */
  canStream(): boolean;
  /** Largest file held in memory when it cannot stream. */
  readonly memoryLimitBytes: number;
  download(
    payload: SharePayload,
    sink: DownloadSink,
    onProgress: (progress: DownloadProgress) => void,
  ): Promise<DownloadResult>;
  /** Takes the payload out of the address bar and history ([Note: the link key leaves the address bar]). */
  forgetLink?(): void;
}

/** Why the "Shared by" label is not believed, for the page and screen readers. */
export const UNVERIFIED_LABEL_WHY =
  'Whoever makes a share link writes its “Shared by” label and name themselves, and nothing checks them: anyone who can store a file in this bucket can make a link that names anyone. Download the file only if you expected it, and ask the sender by another channel when in doubt.';

/** What the page shows of who shared the file ([Note: the link's label is a claim]). */
export interface SharedByView {
  /** The label as the link gives it, escaped; undefined when the link names no one. */
  readonly claimed: string | undefined;
  /** Always false: the payload carries no signature. */
  readonly verified: false;
  /** Shown (and read by screen readers) right after the label. */
  readonly note: string;
}

/** The "Shared by" of a link: a claim, never verified. */
export function sharedByView(label: string | undefined): SharedByView {
  const claimed = label ? escapeUntrusted(label) : undefined;
  return {
    claimed,
    verified: false,
    note: '(as written in the link, not verified)',
  };
}

/** What the page says once the file is saved: only what the download verified. */
export function savedText(writtenBytesText: string): string {
  return `Saved ${writtenBytesText}, decrypted; its integrity is verified (every part is intact and it is the file this link names). Who made the link is not verified.`;
}

/** What the page shows. */
export type LinkView =
  | { state: 'opening' }
  /** The page was reloaded after its payload left the address bar. */
  | { state: 'forgotten' }
  | { state: 'malformed'; error: VeilError }
  | { state: 'checking'; payload: SharePayload }
  | { state: 'expired'; payload: SharePayload }
  | { state: 'revoked'; payload: SharePayload }
  | { state: 'ready'; payload: SharePayload; error?: VeilError }
  /** The link's key does not open the file, or the file is not the one the link names. */
  | { state: 'refused'; payload: SharePayload; error: VeilError }
  | { state: 'downloading'; payload: SharePayload; writtenBytes: number; totalBytes?: number }
  | { state: 'done'; payload: SharePayload; writtenBytes: number };

/** A plain sentence for what went wrong with a link, by code; the catalogue's otherwise. */
export function linkErrorText(error: VeilError): string {
  switch (error.code) {
    case 'WRONG_KEY':
    case 'COMMITMENT_MISMATCH':
    case 'HEADER_TAMPERED':
      return 'The key in this link does not open the file: the link was changed or damaged on its way to you. Nothing was saved; ask for the link again.';
    default:
      return error.message;
  }
}

/** Failures of the key check that no retry can mend: the link or the object is wrong. */
const REFUSED_CODES: ReadonlySet<string> = new Set([
  'WRONG_KEY',
  'COMMITMENT_MISMATCH',
  'HEADER_TAMPERED',
  'OBJECT_MISMATCH',
]);

function asVeilError(error: unknown): VeilError {
  return error instanceof VeilError
    ? error
    : new VeilError('INTERNAL_ERROR', error instanceof Error ? error.name : String(error));
}

/** The link page's logic for one link. */
export class OpenLinkCore {
  readonly #deps: OpenLinkDeps;
  readonly #set: (view: LinkView) => void;
  #payload: SharePayload | undefined;
  /** True once the link key opened the header (the save dialog may be shown). */
  #checked = false;
  /** The state last shown. */
  #last: LinkView['state'] = 'opening';

  constructor(deps: OpenLinkDeps, set: (view: LinkView) => void) {
    this.#deps = deps;
    this.#set = (view) => {
      this.#last = view.state;
      set(view);
    };
  }

  /** Reads the payload (the hash after `#/share/`) and checks the link. */
  async open(fragment: string): Promise<void> {
    if (fragment === '') {
      this.#set({ state: 'forgotten' });
      return;
    }
    let payload: SharePayload;
    try {
      payload = decodeSharePayload(fragment);
    } catch (error) {
      this.#set({ state: 'malformed', error: asVeilError(error) });
      return;
    }
    this.#payload = payload;
    if (isExpired(payload, this.#deps.nowMs())) {
      this.#set({ state: 'expired', payload });
      return;
    }
    this.#set({ state: 'checking', payload });
    try {
      if (await this.#check(payload)) this.#set({ state: 'ready', payload });
    } catch (error) {
      this.#failed(payload, error);
    }
    if (this.#checked || this.#final()) this.#deps.forgetLink?.();
  }

  /** The key was read and can do no more here: revoked, or refused by the file. */
  #final(): boolean {
    return this.#last === 'revoked' || this.#last === 'refused';
  }

  /**
   * Reads the header and opens it with the link key ([Note: check before the save dialog]).
   * @returns false (the revoked page set) when the header holds no EDK of this link.
   */
  async #check(payload: SharePayload): Promise<boolean> {
    const header = await this.#deps.readHeader(payload);
    if (!header) {
      throw new VeilError('OBJECT_MISMATCH', 'the link names an object that is not encrypted');
    }
    if (!this.#deps.hasLinkEdk(header, payload.linkId)) {
      this.#set({ state: 'revoked', payload });
      return false;
    }
    await this.#deps.checkKey(payload, header);
    this.#checked = true;
    return true;
  }

  #failed(payload: SharePayload, error: unknown): void {
    const veil = asVeilError(error);
    if (veil.code === 'SHARE_LINK_EXPIRED') this.#set({ state: 'expired', payload });
    else if (veil.code === 'SHARE_LINK_REVOKED' || veil.code === 'NO_MATCHING_EDK') {
      this.#set({ state: 'revoked', payload });
    } else if (REFUSED_CODES.has(veil.code)) {
      this.#set({ state: 'refused', payload, error: veil });
    } else this.#set({ state: 'ready', payload, error: veil });
  }

  /** Saves the file (call from the click: the save picker needs the gesture). */
  async download(): Promise<void> {
    const payload = this.#payload;
    if (!payload) return;
    try {
      if (!this.#deps.canStream() && payload.sizeBytes > this.#deps.memoryLimitBytes) {
        throw new VeilError(
          'SHARE_TOO_LARGE_IN_MEMORY',
          `${payload.sizeBytes} bytes; the limit is ${this.#deps.memoryLimitBytes} bytes`,
        );
      }
      // A check that failed for a passing reason (the network) runs again before any dialog.
      if (!this.#checked && !(await this.#check(payload))) return;
      this.#deps.forgetLink?.();
      const sink = await this.#deps.chooseSink(shareSaveName(payload), payload.sizeBytes);
      this.#set({ state: 'downloading', payload, writtenBytes: 0, totalBytes: payload.sizeBytes });
      const result = await this.#deps.download(payload, sink, (progress) =>
        this.#set({
          state: 'downloading',
          payload,
          writtenBytes: progress.writtenBytes,
          totalBytes: progress.totalBytes,
        }),
      );
      this.#set({ state: 'done', payload, writtenBytes: result.writtenBytes });
    } catch (error) {
      this.#failed(payload, error);
    }
  }
}
