/**
 * What a download is, as its logic and the view share it: the app's objects it needs
 * (DownloadsDeps), its phases, what the view shows of it (DownloadView) and what it needs of the
 * list that holds it (DownloadContext). The logic is downloads-core.ts.
 */
import type { VeilConfig } from '../../aws/config';
import type { RawAesKeyMaterial } from '../../core/key-file';
import type { Keyring } from '../../core/keyring';
import type { BindingRule } from '../../core/location';
import type { DownloadProgress } from '../../transfer/download-progress';
import type { DownloadS3 } from '../../transfer/download-s3';
import type { DownloadSetup, DownloadSink } from '../../transfer/download-setup';
import type { ShownError } from '../app/shown-error';
import type { AddOptions, VaultKeyInfo } from '../keys/vault-core';
import type { KeyAdvice } from './download-keys';

/** Where a download is saved: the picker's file, or the browser's downloads. */
export type SaveKind = 'file-system-access' | 'blob';

/** What the downloads need of the app. */
export interface DownloadsDeps {
  /**
   * Asks where to save (chooseSaveTarget), once the object is known to open ([Note: check before
   * the save dialog]).
   * @throws VeilError DOWNLOAD_CANCELLED when the user dismisses the picker, and the like.
   */
  chooseTarget(name: string, sizeBytes: number): Promise<{ sink: DownloadSink; kind: SaveKind }>;
  /**
   * True when asking where to save now needs a new click (the save picker needs a recent user
   * gesture and the check outlasted it); absent: never.
   */
  needsClickToSave?(): boolean;
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
  'opening' | 'ready' | 'choosing' | 'downloading' | 'done' | 'failed' | 'cancelled' | 'needs-key';

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
    phase: 'opening',
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
