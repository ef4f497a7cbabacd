/**
 * "Share link…" of several selected files at once ([Note: share links] in core/share-link.ts):
 * one link per file, each made as the single dialog makes one (share-core.ts: a link key added
 * by rewrap, an entry in the file's list, a presigned URL), one after the other, with the same
 * requested expiry for all. A file that fails is reported with its error and the others go on;
 * "Try the failed again" makes links for those only. "Copy all" copies every link made, one a
 * line, with its file name only when the names are included in the links (a name the links do not
 * carry should not travel with them by accident). Pure: the app's calls come in through
 * BulkShareDeps (the single dialog's), tests pass fakes.
 */
import { VeilError } from '../../core/errors';
import type { NewLink } from '../../aws/share-link';
import { expiryChoices, type ExpiryChoice, type ShareDeps } from './share-core';

/** What the bulk dialog calls on the app: the single dialog's calls. */
export type BulkShareDeps = Pick<ShareDeps, 'credentialsExpireAtMs' | 'create' | 'nowMs'>;

/** One selected file. */
export interface BulkFile {
  readonly key: string;
  /** The clear name, shown in the dialog; in the link only when names are included. */
  readonly name: string;
}

/** Where one file's link is. */
export interface BulkItem extends BulkFile {
  state: 'waiting' | 'creating' | 'made' | 'failed';
  /** The link made (shown once; never stored). */
  link?: string;
  expiresAtMs?: number;
  error?: VeilError;
}

export type BulkPhase = 'loading' | 'ready' | 'creating' | 'done';

/** The bulk dialog's state, as the view shows it. */
export interface BulkShareView {
  phase: BulkPhase;
  choices: ExpiryChoice[];
  expirySeconds: number;
  items: BulkItem[];
  /** An error of the whole dialog (the credentials end now). */
  error: VeilError | undefined;
}

/** What every link of one run carries besides its file. */
export interface BulkRequest {
  /** The app's base URL (origin and path). */
  readonly appBase: string;
  /** Put each file's clear name in its link. */
  readonly includeNames: boolean;
  /** Who shares. */
  readonly label: string;
}

export const emptyBulkShareView = (): BulkShareView => ({
  phase: 'loading',
  choices: [],
  expirySeconds: 0,
  items: [],
  error: undefined,
});

function asVeilError(error: unknown): VeilError {
  return error instanceof VeilError
    ? error
    : new VeilError('INTERNAL_ERROR', error instanceof Error ? error.name : String(error));
}

/**
 * The text "Copy all" puts on the clipboard: each link made, one a line, in the order shown;
 * `name: link` when the names are in the links, else the link alone.
 */
export function copyAllText(items: readonly BulkItem[], includeNames: boolean): string {
  return items
    .filter((item) => item.state === 'made' && item.link)
    .map((item) => (includeNames ? `${item.name}: ${item.link ?? ''}` : (item.link ?? '')))
    .join('\n');
}

/** The bulk dialog for one selection at a time. */
export class BulkShareCore {
  readonly #deps: BulkShareDeps;
  readonly #view: BulkShareView;

  constructor(deps: BulkShareDeps, view: BulkShareView) {
    this.#deps = deps;
    this.#view = view;
  }

  /** Opens the dialog for `files`: the expiries the credentials allow. Never throws. */
  async open(files: readonly BulkFile[]): Promise<void> {
    Object.assign(this.#view, emptyBulkShareView());
    this.#view.items = files.map((file) => ({ key: file.key, name: file.name, state: 'waiting' }));
    try {
      const { choices, defaultSeconds } = expiryChoices(
        this.#deps.nowMs(),
        await this.#deps.credentialsExpireAtMs(),
      );
      this.#view.choices = choices;
      this.#view.expirySeconds = defaultSeconds;
      if (choices.length === 0) {
        throw new VeilError('CREDENTIALS_EXPIRED', 'they end in less than a minute');
      }
    } catch (error) {
      this.#view.error = asVeilError(error);
    }
    this.#view.phase = 'ready';
  }

  /**
   * Makes a link for each file still without one (all at first; the failed ones after), one
   * after the other, with the dialog's expiry. A failure is kept on its file. Never throws.
   */
  async create(request: BulkRequest): Promise<void> {
    if (this.#view.phase !== 'ready' && this.#view.phase !== 'done') return;
    if (this.#view.choices.length === 0) return;
    this.#view.phase = 'creating';
    const asked: Omit<NewLink, 'name'> = {
      appBase: request.appBase,
      label: request.label,
      requestedSeconds: this.#view.expirySeconds,
    };
    for (const item of this.#view.items) {
      if (item.state === 'made') continue;
      item.state = 'creating';
      delete item.error;
      try {
        const made = await this.#deps.create(
          item.key,
          { ...asked, ...(request.includeNames ? { name: item.name } : {}) },
          () => undefined,
        );
        item.link = made.link;
        item.expiresAtMs = made.expiry.expiresAtMs;
        item.state = 'made';
      } catch (error) {
        item.error = asVeilError(error);
        item.state = 'failed';
      }
    }
    this.#view.phase = 'done';
  }

  /** How many links are made, failed, and in all. */
  get counts(): { made: number; failed: number; total: number } {
    const items = this.#view.items;
    return {
      made: items.filter((item) => item.state === 'made').length,
      failed: items.filter((item) => item.state === 'failed').length,
      total: items.length,
    };
  }

  /** True while links are being made (the dialog must not close). */
  get busy(): boolean {
    return this.#view.phase === 'creating';
  }
}
