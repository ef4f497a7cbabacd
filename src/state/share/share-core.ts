/**
 * The "Share link…" dialog's logic ([Note: share links] in core/share-link.ts), pure: the
 * expiry choices the credentials allow, making a link (a rewrap, with progress), the file's
 * links (its header's link keys joined with its list: [Note: links from the header] in
 * transfer/share-list.ts; expired ones marked), revoking one, and rebuilding a list that cannot be
 * used from the header ([Note: rebuilding a list of links] in transfer/share-list-rebuild.ts). The app's dependencies come in through
 * ShareDeps (share.svelte.ts); tests pass fakes.
 */
import { VeilError } from '../../core/errors';
import { MAX_PRESIGN_SECONDS } from '../../core/share-link';
import type { CreatedLink, FileLinks, NewLink } from '../../aws/share-link';
import type { RewrapProgress } from '../../transfer/rewrap-options';
import type { FileLink } from '../../transfer/share-list';
import { canRebuildAfter } from '../../transfer/share-list-rebuild';
import {
  deleteKept,
  keptAfterRevoke,
  type KeptVersions,
  type LinkVersionsDeps,
} from './link-versions';

export type { KeptVersions } from './link-versions';

/** One expiry the dialog offers. */
export interface ExpiryChoice {
  readonly seconds: number;
  readonly label: string;
}

/** The presets, shortest first; each is offered only when the credentials last that long. */
export const EXPIRY_PRESETS: readonly ExpiryChoice[] = [
  { seconds: 15 * 60, label: '15 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 24 * 3600, label: '1 day' },
  { seconds: 3 * 24 * 3600, label: '3 days' },
  { seconds: MAX_PRESIGN_SECONDS, label: '7 days' },
];

/** The default lifetime: one hour, or less when the credentials end sooner. */
export const DEFAULT_EXPIRY_SECONDS = 3600;

/**
 * The expiries to offer at `nowMs`: the presets that fit before the credentials end, and, when
 * they end within the hour, "until the credentials end" with the minutes left.
 */
export function expiryChoices(
  nowMs: number,
  credentialsExpireAtMs: number | undefined,
): {
  choices: ExpiryChoice[];
  defaultSeconds: number;
} {
  const leftSeconds =
    credentialsExpireAtMs === undefined
      ? Infinity
      : Math.floor((credentialsExpireAtMs - nowMs) / 1000);
  const choices = EXPIRY_PRESETS.filter((choice) => choice.seconds <= leftSeconds);
  if (leftSeconds < DEFAULT_EXPIRY_SECONDS && leftSeconds >= 60) {
    const minutes = Math.floor(leftSeconds / 60);
    const unit = minutes === 1 ? 'minute' : 'minutes';
    choices.push({ seconds: leftSeconds, label: `${minutes} ${unit} (until your sign-in ends)` });
  }
  const defaultSeconds = Math.min(DEFAULT_EXPIRY_SECONDS, leftSeconds);
  return { choices, defaultSeconds: choices.length > 0 ? defaultSeconds : 0 };
}

/** What the dialog calls on the app (the older versions' calls: link-versions.ts). */
export interface ShareDeps extends LinkVersionsDeps {
  /** When the session's credentials expire (undefined: long-term keys). */
  credentialsExpireAtMs(): Promise<number | undefined>;
  /** The file's links: its header's link keys joined with its list. */
  list(key: string): Promise<FileLinks>;
  /**
   * Replaces the file's unusable list by one rebuilt from its header's link keys (one PUT).
   * @returns the file's links after it.
   * @throws VeilError SHARE_LIST_CHANGED, SHARE_LIST_REBUILD_FAILED, the header's errors.
   */
  rebuild(key: string): Promise<FileLinks>;
  create(
    key: string,
    request: NewLink,
    onProgress: (progress: RewrapProgress) => void,
  ): Promise<CreatedLink>;
  /**
   * Removes the link's key from the file.
   * @returns the version the rewrap replaced, on a versioned bucket (it still holds the key).
   */
  revoke(
    key: string,
    linkId: string,
    onProgress: (progress: RewrapProgress) => void,
  ): Promise<{ readonly previousVersionId?: string } | undefined>;
  nowMs(): number;
}

/** Where the dialog is. */
export type SharePhase = 'loading' | 'ready' | 'creating' | 'created' | 'revoking' | 'rebuilding';

/** A link as the dialog lists it. */
export interface ListedLink extends FileLink {
  /** Its listed expiry has passed (false when the list does not know the link). */
  readonly expired: boolean;
}

/** The dialog's state, as the view shows it. */
export interface ShareView {
  phase: SharePhase;
  choices: ExpiryChoice[];
  expirySeconds: number;
  links: ListedLink[];
  /** Why the file's list of links could not be read (the links then come from the header). */
  listError: VeilError | undefined;
  /** The list cannot be used (not merely fetched): "Rebuild list" is offered. */
  listRebuildable: boolean;
  /** The list was just rebuilt from the header (the notice says so). */
  listRebuilt: boolean;
  /** The link just made, with its real expiry (shown once; never stored). */
  created: { link: string; expiresAtMs: number; limitedBy: string } | undefined;
  /** Bytes sent and copied by the rewrap so far, of the total. */
  progress: { doneBytes: number; totalBytes: number | undefined } | undefined;
  error: VeilError | undefined;
  /**
   * After a revoke on a versioned bucket: the older versions that still hold the revoked link's
   * key until they are deleted, and where their deletion is (link-versions.ts).
   */
  kept: KeptVersions | undefined;
}

export const EMPTY_SHARE_VIEW: ShareView = {
  phase: 'loading',
  choices: [],
  expirySeconds: 0,
  links: [],
  listError: undefined,
  listRebuildable: false,
  listRebuilt: false,
  created: undefined,
  progress: undefined,
  error: undefined,
  kept: undefined,
};

function asVeilError(error: unknown): VeilError {
  return error instanceof VeilError
    ? error
    : new VeilError('INTERNAL_ERROR', error instanceof Error ? error.name : String(error));
}

function progressOf(progress: RewrapProgress): ShareView['progress'] {
  const total =
    progress.sentTotalBytes === undefined || progress.copyTotalBytes === undefined
      ? undefined
      : progress.sentTotalBytes + progress.copyTotalBytes;
  return { doneBytes: progress.sentBytes + progress.copiedBytes, totalBytes: total };
}

/** The dialog for one file at a time. */
export class ShareCore {
  readonly #deps: ShareDeps;
  readonly #view: ShareView;
  #key = '';

  constructor(deps: ShareDeps, view: ShareView) {
    this.#deps = deps;
    this.#view = view;
  }

  /** Opens the dialog for the file stored at `key`: the expiries, then its links. */
  async open(key: string): Promise<void> {
    this.#key = key;
    Object.assign(this.#view, EMPTY_SHARE_VIEW);
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
      await this.#reload();
    } catch (error) {
      this.#view.error = asVeilError(error);
    }
    this.#view.phase = 'ready';
  }

  async #reload(listed?: FileLinks): Promise<void> {
    const nowMs = this.#deps.nowMs();
    const { links, listError } = listed ?? (await this.#deps.list(this.#key));
    this.#view.listRebuildable = canRebuildAfter(listError);
    this.#view.links = links.map((link) => ({
      ...link,
      expired: link.entry !== undefined && nowMs >= link.entry.expiresAtMs,
    }));
    this.#view.listError = listError;
  }

  /** Makes a link with the dialog's choices. */
  async create(request: Omit<NewLink, 'requestedSeconds'>): Promise<void> {
    if (this.#view.phase !== 'ready' && this.#view.phase !== 'created') return;
    this.#view.phase = 'creating';
    this.#view.error = undefined;
    this.#view.created = undefined;
    try {
      const made = await this.#deps.create(
        this.#key,
        { ...request, requestedSeconds: this.#view.expirySeconds },
        (progress) => (this.#view.progress = progressOf(progress)),
      );
      this.#view.created = {
        link: made.link,
        expiresAtMs: made.expiry.expiresAtMs,
        limitedBy: made.expiry.limitedBy,
      };
      await this.#reload();
      this.#view.phase = 'created';
    } catch (error) {
      this.#view.error = asVeilError(error);
      this.#view.phase = 'ready';
    } finally {
      this.#view.progress = undefined;
    }
  }

  /** Revokes link `linkId` (the view asked for confirmation). */
  async revoke(linkId: string): Promise<void> {
    if (this.#view.phase === 'creating' || this.#view.phase === 'revoking') return;
    const before = this.#view.phase;
    this.#view.phase = 'revoking';
    this.#view.error = undefined;
    this.#view.kept = undefined;
    try {
      const removed = await this.#deps.revoke(
        this.#key,
        linkId,
        (progress) => (this.#view.progress = progressOf(progress)),
      );
      this.#view.kept = await keptAfterRevoke(
        this.#deps,
        this.#key,
        linkId,
        removed?.previousVersionId,
      );
      await this.#reload();
    } catch (error) {
      this.#view.error = asVeilError(error);
    } finally {
      this.#view.progress = undefined;
      this.#view.phase = before === 'created' ? 'created' : 'ready';
    }
  }

  /**
   * Rebuilds the file's unusable list from its header (the view asked for confirmation): every
   * link key stays in the file; the links are listed again, and new links can be made.
   */
  async rebuild(): Promise<void> {
    if (this.busy || this.#view.phase === 'loading' || !this.#view.listRebuildable) return;
    const before = this.#view.phase;
    this.#view.phase = 'rebuilding';
    this.#view.error = undefined;
    try {
      await this.#reload(await this.#deps.rebuild(this.#key));
      this.#view.listRebuilt = this.#view.listError === undefined;
    } catch (error) {
      this.#view.error = asVeilError(error);
    } finally {
      this.#view.phase = before === 'created' ? 'created' : 'ready';
    }
  }

  /**
   * Deletes the older versions that still hold the last revoked link's key (the view asked for
   * confirmation), never the current one; the ones that fail stay listed with why.
   */
  async deleteKeptVersions(): Promise<void> {
    const kept = this.#view.kept;
    if (!kept || kept.state !== 'kept' || this.busy) return;
    await deleteKept(this.#deps, this.#key, kept);
  }

  /** True while a rewrap or a rebuild runs (the dialog must not close). */
  get busy(): boolean {
    const phase = this.#view.phase;
    return phase === 'creating' || phase === 'revoking' || phase === 'rebuilding';
  }
}
