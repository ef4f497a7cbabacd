/**
 * The names of the app's current location (the default target under its root prefix), opened
 * once for Files, Upload and Downloads ([Note: private names] in core/names.ts, [Note: names key
 * object] in transfer/names-key.ts). location-names.svelte.ts is the reactive wrapper over the
 * app's session, vault and preferences.
 *
 * [Note: names of the current location] What the app shows and writes depends on one question,
 * asked of the bucket: is there a names key under the root?
 * - yes, and a key at hand opens it: 'private', names encrypted both ways, every object must be
 *   bound to its key (bindingRule 'required');
 * - yes, and none opens it (wrong key, HSM down, KMS denied) or it is not a names key:
 *   'unreadable'. Listings show the stored keys, marked; nothing is written (objectKey throws
 *   NAMES_KEY_UNREADABLE), so no file is ever stored under a clear name beside encrypted ones;
 * - no, and the location's setting asks for private names: 'pending', plain until the first
 *   upload, which creates the names key (If-None-Match: *) with the upload's keyring and context;
 * - no: 'plain';
 * - the bucket could not be asked: 'failed'; listings show stored keys as they are, writes are
 *   refused with the failure until it is asked again.
 * The bucket wins over the setting: a names key makes a location private for everyone.
 */
import { s3Failure } from '../../core/aws-failure';
import { VeilError } from '../../core/errors';
import type { EncryptionContext } from '../../core/encryption-context';
import type { Keyring } from '../../core/keyring';
import { plainNames, privateNames, type LocationNames } from '../../transfer/location-names';
import {
  ensureNamesKey,
  readNamesKey,
  type NamesKeyStorage,
  type NamesLocation,
} from '../../transfer/names-key';
import { shownError, type ShownError } from '../app/shown-error';

/** Where the names are, and whether this location's setting asks for private names. */
export interface NamesPlace extends NamesLocation {
  /** The setting (config.json's privateNames, or turned on in Settings). */
  readonly wanted: boolean;
}

/** What the app knows of the current location's names. */
export type NamesStatus =
  | { readonly state: 'unknown' }
  | { readonly state: 'opening' }
  | { readonly state: 'plain' }
  | { readonly state: 'pending' }
  | { readonly state: 'private' }
  | { readonly state: 'unreadable'; readonly error: ShownError }
  | { readonly state: 'failed'; readonly error: ShownError };

/** What the names need of the app. */
export interface LocationNamesDeps {
  /** The names key's S3 calls on `bucket`. */
  storage(bucket: string): NamesKeyStorage;
  /** Every key this session has (readKeyring), as the Files downloads open objects. */
  readKeyring(): Promise<Keyring | undefined>;
}

/** What the view shows (the wrapper makes it reactive). */
export interface LocationNamesView {
  status: NamesStatus;
}

/** What writes a new names key: an upload's keyring and encryption context. */
export interface NamesWriter {
  readonly keyring: Keyring;
  readonly encryptionContext: EncryptionContext;
}

/** Opens nothing: the names key of a session without keys does not open. */
const NO_KEYS: Keyring = {
  onEncrypt: () => Promise.reject(new VeilError('NO_KEY_FOR_OBJECT')),
  onDecrypt: () => Promise.resolve(undefined),
};

/** Codes that mean "the names key is there but cannot be used". */
const UNREADABLE_CODES: ReadonlySet<string> = new Set([
  'NAMES_KEY_UNREADABLE',
  'NAMES_KEY_INVALID',
  'OBJECT_MISMATCH',
]);

/** A location as the preferences name it: `bucket/root`. */
export function locationId(location: NamesLocation): string {
  return `${location.bucket}/${location.root}`;
}

/**
 * The current location of `config` (its default target under `root`, from rootPrefix) and its
 * setting: config.json's privateNames, or turned on in this browser (`turnedOn`, locationIds).
 */
export function namesPlace(
  config: { readonly bucket: string; readonly privateNames?: boolean | undefined },
  root: string,
  turnedOn: readonly string[],
): NamesPlace {
  const location = { bucket: config.bucket, root };
  const wanted = config.privateNames === true || turnedOn.includes(locationId(location));
  return { ...location, wanted };
}

/** A place's identity: its bucket, root and setting. */
export function placeId(place: NamesPlace): string {
  return `${place.bucket}\n${place.root}\n${String(place.wanted)}`;
}

/**
 * Names that open nothing and write nothing: every stored key is shown as it is, every write
 * is refused with `error`. `bindingRule` is the strict one where the location may be private.
 */
export function closedNames(
  place: NamesLocation,
  error: VeilError,
  bindingRule: LocationNames['bindingRule'],
): LocationNames {
  return {
    bucket: place.bucket,
    root: place.root,
    isPrivate: bindingRule === 'required',
    bindingRule,
    objectKey() {
      throw error;
    },
    clearPath: () => undefined,
    locationOf: (key) => ({ bucket: place.bucket, key }),
  };
}

export class LocationNamesCore {
  readonly #deps: LocationNamesDeps;
  readonly #view: LocationNamesView;
  #id: string | undefined;
  #opened: Promise<LocationNames> | undefined;
  #names: LocationNames | undefined;
  /** Why writes are refused ('unreadable', 'failed'). */
  #refusal: VeilError | undefined;
  /** A names key being created, so two uploads added at once create one. */
  #creating: Promise<LocationNames> | undefined;

  constructor(deps: LocationNamesDeps, view: LocationNamesView = { status: { state: 'unknown' } }) {
    this.#deps = deps;
    this.#view = view;
  }

  get status(): NamesStatus {
    return this.#view.status;
  }

  /** The names last opened (undefined before the first open). */
  get current(): LocationNames | undefined {
    return this.#names;
  }

  /** Forgets what was opened (new credentials, new keys, Try again): the next open asks again. */
  reset(): void {
    this.#id = undefined;
    this.#opened = undefined;
    this.#names = undefined;
    this.#refusal = undefined;
    this.#view.status = { state: 'unknown' };
  }

  /**
   * The names of `place`, opened once per place (see [Note: names of the current location]).
   * Never throws: a names key that does not open gives names that show stored keys and refuse
   * writes.
   */
  open(place: NamesPlace): Promise<LocationNames> {
    const id = placeId(place);
    if (this.#opened && this.#id === id) return this.#opened;
    this.#id = id;
    this.#view.status = { state: 'opening' };
    const opened = this.#read(place).then(({ names, refusal }) => {
      if (this.#id === id) {
        this.#names = names;
        this.#refusal = refusal;
      }
      return names;
    });
    this.#opened = opened;
    return opened;
  }

  async #read(
    place: NamesPlace,
  ): Promise<{ names: LocationNames; refusal: VeilError | undefined }> {
    const id = placeId(place);
    const settle = (status: NamesStatus): void => {
      if (this.#id === id) this.#view.status = status;
    };
    try {
      const keyring = (await this.#deps.readKeyring()) ?? NO_KEYS;
      const cipher = await readNamesKey(this.#deps.storage(place.bucket), place, keyring);
      if (cipher) {
        settle({ state: 'private' });
        return { names: privateNames(place, cipher), refusal: undefined };
      }
      settle({ state: place.wanted ? 'pending' : 'plain' });
      return { names: plainNames(place), refusal: undefined };
    } catch (error) {
      const refused = s3Failure(error, { task: 'names', operation: 'GetObject names key' });
      if (UNREADABLE_CODES.has(refused.code)) {
        settle({ state: 'unreadable', error: shownError(refused) });
        return { names: closedNames(place, refused, 'required'), refusal: refused };
      }
      settle({ state: 'failed', error: shownError(refused) });
      return { names: closedNames(place, refused, 'if-present'), refusal: refused };
    }
  }

  /**
   * The names an upload to `place` writes with. Asks the bucket again unless the names are
   * private already (another tab or the command line may have created a names key since); in a
   * 'pending' location, creates the names key with `writer` first.
   * @throws VeilError NAMES_KEY_UNREADABLE (and the other codes of an unreadable names key), the
   *   failure of a bucket that could not be asked, NAMES_NEED_ENCRYPTION for an upload without a key model
   *   (`writer` undefined) where names are private, and the errors of ensureNamesKey.
   */
  async forUpload(place: NamesPlace, writer: NamesWriter | undefined): Promise<LocationNames> {
    if (!(this.#id === placeId(place) && this.#view.status.state === 'private')) this.#forget();
    const names = await this.open(place);
    if (this.#refusal) throw this.#refusal;
    const pending = this.#view.status.state === 'pending';
    if (!pending && !names.isPrivate) return names;
    if (!writer) {
      throw new VeilError('NAMES_NEED_ENCRYPTION');
    }
    if (names.isPrivate) return names;
    this.#creating ??= this.#create(place, writer).finally(() => {
      this.#creating = undefined;
    });
    return this.#creating;
  }

  async #create(place: NamesPlace, writer: NamesWriter): Promise<LocationNames> {
    const id = placeId(place);
    const created = await ensureNamesKey(
      this.#deps.storage(place.bucket),
      place,
      writer.keyring,
      writer.encryptionContext,
    );
    const opened = privateNames(place, created.cipher);
    if (this.#id === id) {
      this.#names = opened;
      this.#opened = Promise.resolve(opened);
      this.#view.status = { state: 'private' };
    }
    return opened;
  }

  #forget(): void {
    this.#id = undefined;
    this.#opened = undefined;
    this.#refusal = undefined;
  }

  /**
   * The path to show for a stored object key of the current location: with private names its
   * clear path below the root when it opens, else (and with plain names) the key as stored.
   */
  shownPath(objectKey: string): string {
    const names = this.#names;
    if (!names?.isPrivate || !objectKey.startsWith(names.root)) return objectKey;
    return names.clearPath(objectKey) ?? objectKey;
  }
}

/** What the names follow of the vault (Vault.onLock and Vault.onUnlock; each returns its undo). */
export interface VaultLockEvents {
  onLock(listener: () => void): () => void;
  onUnlock(listener: () => void): () => void;
}

/**
 * A private location's names key is opened with the vault's keys, so the names are forgotten when
 * the vault locks (the clear names must not outlive the keys that opened them) and again when it
 * unlocks, so names that did not open while locked are asked for again. Returns the undo.
 */
export function followVaultLock(names: Pick<LocationNamesCore, 'reset'>, vault: VaultLockEvents) {
  const offLock = vault.onLock(() => names.reset());
  const offUnlock = vault.onUnlock(() => names.reset());
  return (): void => {
    offLock();
    offUnlock();
  };
}

/** What Settings says of a location's names, and what the user may change. */
export interface NamesSummary {
  /** One line: "Private names: on — names key in the bucket", … */
  readonly line: string;
  /** Why, or what happens next. */
  readonly detail: string;
  readonly canTurnOn: boolean;
  /** Only while no names key exists and the setting is this browser's own. */
  readonly canTurnOff: boolean;
}

/**
 * Settings' words for `status`; `fromConfig` when config.json turns private names on for the
 * location, `turnedOn` when this browser did.
 */
export function namesSummary(
  status: NamesStatus,
  setting: { readonly fromConfig: boolean; readonly turnedOn: boolean },
): NamesSummary {
  const none = { canTurnOn: false, canTurnOff: false };
  switch (status.state) {
    case 'private':
      return {
        ...none,
        line: 'Private names: on — names key in the bucket',
        detail:
          'File and folder names are encrypted before they leave this browser. This cannot be turned off: the names already stored open only with this names key, and every reader of the bucket (this app, the command line) treats the location as private while it exists.',
      };
    case 'unreadable':
      return {
        ...none,
        line: 'Private names: on — names key in the bucket, not opened',
        detail:
          'None of your keys opens this location’s names key, so names show as stored and nothing can be uploaded. Add the key it was made with in Keys, or sign in for an HSM or KMS key.',
      };
    case 'pending':
      return {
        canTurnOn: false,
        canTurnOff: setting.turnedOn && !setting.fromConfig,
        line: 'Private names: on, created on first upload',
        detail: setting.fromConfig
          ? 'This site’s config.json asks for private names here. The names key is created, wrapped by your upload key, with the first upload.'
          : 'You turned private names on here. The names key is created, wrapped by your upload key, with the first upload; until then you can still turn it off.',
      };
    case 'plain':
      return {
        canTurnOn: true,
        canTurnOff: false,
        line: 'Private names: off',
        detail:
          'Object keys in the bucket show file and folder names. Turn private names on to encrypt the names of new uploads (files already stored keep their names; they will show as not readable).',
      };
    case 'failed':
      return {
        ...none,
        line: 'Private names: not known',
        detail: 'The bucket could not be asked for a names key; uploads wait until it can.',
      };
    case 'unknown':
    case 'opening':
      return { ...none, line: 'Private names: checking…', detail: '' };
  }
}
