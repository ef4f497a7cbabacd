/**
 * The parts of Settings' "Rotate names key…" that are not its state machine
 * (names-rotation-core.ts): what the view shows, what the core needs of the app, and the pure
 * helpers (the skipped objects of a plan, the rotation's keyring, storage that writes nothing).
 */
import type { EncryptionContext, Keyring } from '../../core';
import type { MovePlan } from '../../transfer/move-plan';
import type { NamesKeyStorage, NamesLocation } from '../../transfer/names-key';
import type { finishNamesRotation } from '../../transfer/names-rotate';
import type { BatchSnapshot, ListedObject } from '../../transfer/rewrap-batch';
import type { RewrapResult, RewrapSetup } from '../../transfer/rewrap-options';
import type { RewrapS3 } from '../../transfer/rewrap-s3';
import type { ShownError } from '../app/shown-error';

/** Plans run before giving up on a location that keeps receiving uploads under the old key. */
export const MAX_ROUNDS = 5;

/** Where a rotation is. */
export type RotationPhase =
  | 'idle'
  | 'opening'
  | 'ready'
  | 'planning'
  | 'planned'
  | 'running'
  | 'finishing'
  | 'finished'
  | 'stopped'
  | 'failed';

/** An object the plan leaves where it is, as the view shows it. */
export interface SkippedObject {
  readonly key: string;
  readonly code: string;
  readonly detail: string;
}

/** Everything the view shows (the wrapper copies it into $state). */
export interface RotationView {
  readonly phase: RotationPhase;
  /** A rotation was started before (the next names key is there): it is continued. */
  readonly started: boolean;
  /** Stopped inside the last step: only the next key is there, it just takes its place. */
  readonly lastStep: boolean;
  /** The key that wraps a new names key (the upload key chosen in Settings). */
  readonly keyName: string;
  readonly plan: MovePlan | undefined;
  readonly skipped: readonly SkippedObject[];
  /** The plan run now (1 for the first, more for objects uploaded meanwhile). */
  readonly round: number;
  readonly run: BatchSnapshot | undefined;
  /** Objects given a name under the next key by this dialog's runs. */
  readonly movedObjects: number;
  readonly error: ShownError | undefined;
}

export const EMPTY_ROTATION_VIEW: RotationView = {
  phase: 'idle',
  started: false,
  lastStep: false,
  keyName: '',
  plan: undefined,
  skipped: [],
  round: 0,
  run: undefined,
  movedObjects: 0,
  error: undefined,
};

/** The names key storage with the DeleteObject a rotation's last step needs. */
export type RotationStorage = NamesKeyStorage & {
  remove(key: string, signal?: AbortSignal): Promise<void>;
};

/** What the core needs of the app. */
export interface NamesRotationDeps {
  /** The current location (bucket and root). */
  location(): NamesLocation;
  storage(): RotationStorage;
  /** Every object under a prefix, all pages (listAll over the app's S3 adapter). */
  list(prefix: string, signal?: AbortSignal): Promise<readonly ListedObject[]>;
  /** The rewrap engine's S3 seam. */
  rewrapS3(): RewrapS3;
  /** Every key the session holds (readKeyring): opens objects and both names keys. */
  readKeyring(): Promise<Keyring | undefined>;
  /**
   * What wraps the new names key: the upload's keyring and context (writeKeys for the model
   * chosen in Settings, with buildUploadContext), and the key's name to show.
   * @throws the errors of writeKeys (VAULT_KEY_MISSING, MODEL_NOT_CONFIGURED, ...).
   */
  writeKeys(): {
    readonly keyring: Keyring;
    readonly encryptionContext: EncryptionContext;
    readonly keyName: string;
  };
  /** Forgets the location's opened names and opens them again (after the last step). */
  reopen(): void;
  /** Moves in flight; default 2. */
  readonly concurrency?: number;
  /** The engine (tests pass a fake). */
  readonly rewrap?: (setup: RewrapSetup) => Promise<RewrapResult>;
  /** The last step (finishNamesRotation; tests pass a fake). */
  readonly finish?: typeof finishNamesRotation;
}

/** The skipped objects of a plan, as the view lists them. Pure. */
export function skippedOf(plan: MovePlan): SkippedObject[] {
  return plan.objects.flatMap((object) =>
    object.skip
      ? [
          {
            key: object.key,
            code: object.skip.code ?? 'NAME_UNREADABLE',
            detail: object.skip.detail,
          },
        ]
      : [],
  );
}

/**
 * The keyring of a rotation: `write` wraps the new names key, `read` (every key of the session)
 * opens objects and names keys, `write` too when `read` does not.
 */
export function rotationKeyring(read: Keyring, write: Keyring): Keyring {
  return {
    onEncrypt: (request) => write.onEncrypt(request),
    onDecrypt: async (request) => (await read.onDecrypt(request)) ?? write.onDecrypt(request),
  };
}

/** Storage that writes nothing: a next key planning would create stays in memory. */
export function dryStorage(storage: NamesKeyStorage): NamesKeyStorage {
  return {
    read: (key, signal) => storage.read(key, signal),
    createOnly: () => Promise.resolve(true),
  };
}
