/**
 * The list of downloads of this page (downloads.svelte.ts makes it reactive): newest first, the
 * keys picked at its items' key prompts ([Note: keys picked at the prompt] in
 * downloads.svelte.ts), and one status line for phase changes.
 */
import type { VeilConfig } from '../../aws/config';
import type { Keyring } from '../../core/keyring';
import type { DownloadContext, DownloadObject, DownloadPhase } from './download-view';

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

  /** Removes finished downloads from the list (those waiting for the user stay). */
  clearFinished(): void {
    this.#state.items = this.#state.items.filter(
      (item) => item.active || item.phase === 'needs-key' || item.phase === 'ready',
    );
  }

  dismiss(item: Item): void {
    this.#state.items = this.#state.items.filter((other) => other !== item);
  }
}
