/**
 * Sharing with people as the app uses it: the user's key pair (key-pair-core.ts over IndexedDB,
 * database `veil-people`), the bucket's people directory assessed against this browser's pins
 * ([Note: pinned people] in pins.ts, kept in localStorage per bucket and people root), publishing
 * the public key, and the inbox ("Shared with me"). The S3 calls go through aws/bucket-s3.ts.
 * Once the key pair is loaded its keyring is held by the downloads ([Note: keys picked at the
 * prompt] in src/state/files/downloads.svelte.ts), so a file shared with the user downloads
 * through the normal path. Under the vault's lock ([Note: the key pair under the lock] in
 * person-seal.ts) that keyring fails VAULT_LOCKED while the vault is locked, and locking drops
 * the opened private key and the names read from the inbox.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { bucketS3For, peopleStorageOver } from '../../aws/bucket-s3';
import type { VeilConfig } from '../../aws/config';
import { VeilError } from '../../core/errors';
import { formatFingerprint } from '../../core/provider-info';
import { listPeople, peopleRoot, publishEntry } from '../../transfer/people-directory';
import type { PeopleStorage, RefusedEntry } from '../../transfer/people-directory';
import { INBOX_NOTES_PER_VIEW, readInbox, type ReadNote } from '../../transfer/people-inbox';
import { awsSession } from '../shared/credentials.svelte';
import { downloads } from '../files/downloads.svelte';
import { downloadS3For } from '../../transfer/download-s3';
import { vault } from '../keys/vault.svelte';
import { withUnlockedVault } from '../keys/unlock-request';
import { sharedFileBytes, type SharedSizeS3 } from './shared-size';
import {
  KeyPairCore,
  isoTime,
  keyPairProtection,
  type KeyPairInfo,
  type KeyPairProtection,
  type KeyPairStore,
} from './key-pair-core';
import {
  assessPeople,
  isPinned,
  parsePins,
  pinPerson,
  pinScope,
  type Pin,
  type PersonView,
} from './pins';

export type { KeyPairInfo, KeyPairProtection } from './key-pair-core';
export type { PersonView } from './pins';

/** The key pair's store in IndexedDB (the pair, and the record that it is sealed). */
function indexedDbKeyPairStore(): KeyPairStore {
  let db: UseStore | undefined;
  const store = (): UseStore => (db ??= createStore('veil-people', 'key-pair'));
  return {
    get: (slot) => get(slot, store()),
    set: (slot, value) => set(slot, value, store()),
    del: (slot) => del(slot, store()),
  };
}

/**
 * The people prefix of a deployment ([Note: the people root] in transfer/people-directory.ts):
 * under the prefix, or under its part before `{identityId}`.
 */
export function peoplePrefixOf(config: Pick<VeilConfig, 'prefix'>): string {
  const shared = config.prefix.split('{identityId}')[0] ?? '';
  const root = shared.replace(/^\/+/, '');
  return peopleRoot(root === '' || root.endsWith('/') ? root : `${root}/`);
}

/** The people directory and inboxes of `config`'s bucket, with this session's credentials. */
export function peopleStorageFor(config: Pick<VeilConfig, 'bucket'>): PeopleStorage {
  return peopleStorageOver(awsSession.clients().s3(), config.bucket);
}

const PINS_KEY = 'veil-people-pins:';

/** The app's people: one per page. */
export class People {
  readonly #core = new KeyPairCore(
    indexedDbKeyPairStore(),
    () => vault.sealing(),
    () => vault.isFresh(),
  );
  #keyPair = $state<KeyPairInfo | undefined>(undefined);
  #tampered = $state(false);
  #loaded = $state(false);
  #directory = $state<readonly PersonView[]>([]);
  #refused = $state<readonly RefusedEntry[]>([]);
  #inbox = $state<readonly ReadNote[]>([]);
  #unreadableNotes = $state(0);
  #notesNotRead = $state(0);
  #notesPerView = INBOX_NOTES_PER_VIEW;
  /** Each note's file size in bytes, once probed (shared-size.ts). */
  #sizes = $state<Readonly<Record<string, number>>>({});
  #pins = $state<readonly Pin[]>([]);
  #scope = '';

  constructor() {
    vault.onLock(() => this.#locked());
  }

  get keyPair(): KeyPairInfo | undefined {
    return this.#keyPair;
  }

  /** How the key pair is protected now (follows the vault's lock); undefined without one. */
  get protection(): KeyPairProtection | undefined {
    const info = this.#keyPair;
    return info ? keyPairProtection(info, this.#tampered, vault.lock.status) : undefined;
  }
  get loaded(): boolean {
    return this.#loaded;
  }
  get directory(): readonly PersonView[] {
    return this.#directory;
  }
  get refused(): readonly RefusedEntry[] {
    return this.#refused;
  }
  get inbox(): readonly ReadNote[] {
    return this.#inbox;
  }
  get unreadableNotes(): number {
    return this.#unreadableNotes;
  }
  /** Notes of the inbox beyond those read in this view (newest first). */
  get notesNotRead(): number {
    return this.#notesNotRead;
  }
  /**
   * The size in bytes of the file a note points at, for the download's save path and progress;
   * 0 while not known (the object could not be read: the download then says why).
   */
  sizeOf(note: ReadNote): number {
    return this.#sizes[note.noteKey] ?? 0;
  }

  /** The fingerprint as people compare it (groups of four). */
  shownFingerprint(fingerprint: string): string {
    return formatFingerprint(fingerprint);
  }

  /** Reads the key pair from IndexedDB once, and hands its keyring to the downloads. */
  async load(): Promise<void> {
    await vault.load();
    await this.#core.load();
    this.#sync();
    this.#loaded = true;
  }

  /** See KeyPairCore.create; resolves to the backup text. */
  async create(name: string, passphrase: string): Promise<string> {
    const backup = await this.#core.create(name, passphrase);
    this.#sync();
    return backup;
  }

  /** See KeyPairCore.restore. */
  async restore(backup: string, passphrase: string, name: string): Promise<void> {
    await this.#core.restore(backup, passphrase, name);
    this.#sync();
  }

  /**
   * See KeyPairCore.backup; a locked vault asks for the unlock first ([Note: unlock where the
   * user is]).
   */
  backup(): Promise<string> {
    return withUnlockedVault(() => this.#core.backup());
  }

  /** See KeyPairCore.putUnderLock: the backup's passphrase puts an older pair under the lock. */
  async putUnderLock(passphrase: string): Promise<void> {
    await this.#core.putUnderLock(passphrase);
    this.#sync();
  }

  async markBackupSaved(): Promise<void> {
    await this.#core.markBackupSaved();
    this.#sync();
  }

  exportPem(passphrase: string): Promise<string> {
    return this.#core.exportPem(passphrase);
  }

  async remove(): Promise<void> {
    await this.#core.remove();
    this.#sync();
  }

  /** The keyring of the user's private key (KEY_PAIR_MISSING without one). */
  keyring() {
    return this.#core.keyring();
  }

  /**
   * Publishes the public key in the people directory (If-None-Match), only from a pair whose
   * private key opens (asking for the unlock under a locked vault) and matches it.
   */
  async publish(config: VeilConfig): Promise<'published' | 'already'> {
    if (!this.#core.info) throw new VeilError('KEY_PAIR_MISSING');
    const info = await withUnlockedVault(() => this.#core.publishable());
    return publishEntry(peopleStorageFor(config), peoplePrefixOf(config), {
      name: info.name,
      publicKeySpki: info.publicKeySpki,
      fingerprint: info.fingerprint,
      created: isoTime(info.createdAtMs),
    });
  }

  /** Reads the directory and assesses it against the pins of this bucket. */
  async readDirectory(config: VeilConfig): Promise<void> {
    const prefix = peoplePrefixOf(config);
    this.#scope = pinScope(config.bucket, prefix);
    this.#pins = parsePins(localStorage.getItem(PINS_KEY + this.#scope));
    const listing = await listPeople(peopleStorageFor(config), prefix);
    const mine = this.#core.info?.fingerprint;
    const others = listing.people.filter((p) => p.fingerprint !== mine);
    this.#directory = assessPeople(others, this.#pins);
    this.#refused = listing.refused;
  }

  /** Pins a person's key ([Note: pinned people]) after the user confirmed it. */
  pin(view: PersonView): void {
    this.#pins = pinPerson(this.#pins, view.entry, Date.now());
    localStorage.setItem(PINS_KEY + this.#scope, JSON.stringify(this.#pins));
    this.#directory = assessPeople(
      this.#directory.map((v) => v.entry),
      this.#pins,
    );
  }

  /** Whether a sharer's fingerprint is one this browser pinned. */
  knows(fingerprint: string): boolean {
    return isPinned(this.#pins, fingerprint);
  }

  /**
   * Reads the inbox with the user's private key: its newest INBOX_NOTES_PER_VIEW notes, or as
   * many more as `more` asks for (each "Show more" reads the next batch too).
   * @throws VeilError VAULT_LOCKED while the pair is under a locked vault (the list is emptied).
   */
  async readInbox(config: VeilConfig, more = false): Promise<void> {
    this.#notesPerView = more ? this.#notesPerView + INBOX_NOTES_PER_VIEW : INBOX_NOTES_PER_VIEW;
    const info = this.#core.info;
    if (!info) {
      this.#inbox = [];
      return;
    }
    try {
      await this.#core.privateKey();
    } catch (error) {
      this.#inbox = [];
      this.#unreadableNotes = 0;
      throw error;
    }
    const prefix = peoplePrefixOf(config);
    this.#scope = pinScope(config.bucket, prefix);
    this.#pins = parsePins(localStorage.getItem(PINS_KEY + this.#scope));
    const listing = await readInbox(
      peopleStorageFor(config),
      prefix,
      { fingerprint: info.fingerprint, keyring: this.#core.keyring() },
      undefined,
      this.#notesPerView,
    );
    this.#inbox = listing.notes;
    this.#unreadableNotes = listing.unreadable.length;
    this.#notesNotRead = listing.notRead;
    await this.#probeSizes(config, listing.notes);
  }

  /** Learns each note's file size (shared-size.ts); one that fails stays unknown. */
  async #probeSizes(config: VeilConfig, notes: readonly ReadNote[]): Promise<void> {
    const client = awsSession.clients().s3();
    const bucket = bucketS3For(client, config.bucket);
    const ranges = downloadS3For(client);
    const s3: SharedSizeS3 = {
      head: (key, signal) => bucket.head(key, signal),
      firstBytes: (key, countBytes, signal) => bucket.firstBytes(key, countBytes, signal),
      range: async (key, startBytes, endBytes, signal) =>
        (
          await ranges.getRange(
            { bucket: config.bucket, key, startBytes, endBytes, ifMatch: undefined },
            signal,
          )
        ).bytes,
    };
    const sizes: Record<string, number> = {};
    await Promise.all(
      notes.map(async (note) => {
        const bytes = await sharedFileBytes(s3, note.key).catch(() => undefined);
        if (bytes !== undefined) sizes[note.noteKey] = bytes;
      }),
    );
    this.#sizes = sizes;
  }

  /** The vault locked: the private key and what it opened (the inbox's names) leave the page. */
  #locked(): void {
    this.#core.vaultLocked();
    if (this.#core.info?.underLock) {
      this.#inbox = [];
      this.#unreadableNotes = 0;
      this.#sizes = {};
    }
  }

  #sync(): void {
    this.#keyPair = this.#core.info;
    this.#tampered = this.#core.tampered;
    if (this.#core.info) {
      downloads.holdKey(this.#core.keyring(), `person:${this.#core.info.fingerprint}`);
    }
  }
}

/** The app's one People. */
export const people = new People();
