/**
 * "Share with a person…" of one file in Files: the dialog's state. Opening it reads the people
 * directory (assessed against the pins) and the file's header, to show who holds a person's key
 * to it already; sharing needs the user's own key pair (the note says who shared) and, for a
 * person not pinned or whose key changed, the confirmations of [Note: pinned people]; then
 * shareWithPerson (src/transfer/people-share.ts) rewraps with the person's public key and writes
 * their inbox note. "Remove access" rewraps their EDK away. The sharer's keys (readKeyring: vault,
 * HSM, KMS) open the header; they stay in it, so the lock-out check passes.
 */
import type { VeilConfig } from '../../aws/config';
import { PERSON_PROVIDER_ID, keysNeeded } from '../../core/provider-info';
import { VeilError } from '../../core/errors';
import { RawRsaKeyring } from '../../keyrings/raw-rsa';
import { downloadS3For } from '../../transfer/download-s3';
import { headerReader } from '../../transfer/rewrap-batch-plan';
import { removePersonAccess, shareWithPerson } from '../../transfer/people-share';
import { deleteOlderVersions, versionsHoldingPerson } from '../../transfer/people-versions';
import { personVersionsS3For } from './person-versions';
import { rewrapS3For } from '../../transfer/rewrap-s3';
import { shownError, type ShownError } from '../app/shown-error';
import { awsSession } from '../shared/credentials.svelte';
import { readKeyring } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import { vault } from '../keys/vault.svelte';
import { people, peoplePrefixOf, peopleStorageFor } from './people.svelte';
import { mayShare, type PersonView } from './pins';

export type SharePhase = 'loading' | 'choosing' | 'sharing' | 'shared' | 'removing' | 'failed';

/**
 * Older versions that still give a removed person access ([Note: removed people and older
 * versions] in transfer/people-versions.ts).
 */
export interface StaleAccess {
  readonly fingerprint: string;
  readonly name: string;
  readonly versionIds: readonly string[];
  /** Versions whose deletion failed, with why (shown per version). */
  readonly failed: readonly { readonly versionId: string; readonly message: string }[];
}

/** One file to share. */
export interface ShareTarget {
  readonly key: string;
  /** The clear name, for the note and the dialog. */
  readonly name: string;
}

export class SharePerson {
  readonly #config: VeilConfig;
  readonly target: ShareTarget;
  #phase = $state<SharePhase>('loading');
  #error = $state<ShownError | undefined>(undefined);
  #chosen = $state<string | undefined>(undefined);
  #withAccess = $state<readonly string[]>([]);
  /** The user compared the chosen person's fingerprint out of band. */
  confirmedFingerprint = $state(false);
  /** The user confirmed that the chosen person's key changed. */
  confirmedChange = $state(false);
  #done = $state('');
  #stale = $state<StaleAccess | undefined>(undefined);

  constructor(config: VeilConfig, target: ShareTarget) {
    this.#config = config;
    this.target = target;
  }

  get phase(): SharePhase {
    return this.#phase;
  }
  get error(): ShownError | undefined {
    return this.#error;
  }
  get done(): string {
    return this.#done;
  }
  /** After Remove access on a versioned bucket: older versions that still hold the person's key. */
  get stale(): StaleAccess | undefined {
    return this.#stale;
  }
  /** Fingerprints of the people whose key the file holds now. */
  get withAccess(): readonly string[] {
    return this.#withAccess;
  }
  get chosen(): PersonView | undefined {
    return people.directory.find((v) => v.entry.fingerprint === this.#chosen);
  }

  choose(fingerprint: string): void {
    this.#chosen = fingerprint;
    this.confirmedFingerprint = false;
    this.confirmedChange = false;
  }

  /** Whether Share may be pressed now. */
  get canShare(): boolean {
    const view = this.chosen;
    return (
      this.#phase === 'choosing' &&
      people.keyPair !== undefined &&
      view !== undefined &&
      mayShare(view, { fingerprint: this.confirmedFingerprint, change: this.confirmedChange })
    );
  }

  /** Reads the directory and the header. Never throws. */
  async open(): Promise<void> {
    try {
      await people.load();
      await people.readDirectory(this.#config);
      await this.#readAccess();
      this.#phase = 'choosing';
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Shares with the chosen person. Never throws. */
  async share(): Promise<void> {
    const view = this.chosen;
    const me = people.keyPair;
    if (!this.canShare || !view || !me) return;
    this.#phase = 'sharing';
    this.#error = undefined;
    try {
      const openWith = await this.#openWith();
      // [Note: pinned people]: sharing after confirming pins (or re-pins) the key.
      people.pin(view);
      await shareWithPerson({
        rewrap: { ...(await this.#rewrapSetup()), openWith },
        recipient: view.entry,
        recipientKeyring: await RawRsaKeyring.forPublicKey(view.entry.publicKeySpki),
        clearName: this.target.name,
        from: { name: me.name, fingerprint: me.fingerprint },
        storage: peopleStorageFor(this.#config),
        peoplePrefix: peoplePrefixOf(this.#config),
      });
      await this.#readAccess();
      this.#done = `Shared ${this.target.name} with ${view.entry.name}.`;
      this.#phase = 'shared';
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Removes a person's access (a rewrap dropping their EDK). Never throws. */
  async removeAccess(fingerprint: string): Promise<void> {
    this.#phase = 'removing';
    this.#error = undefined;
    try {
      await removePersonAccess(
        { ...(await this.#rewrapSetup()), openWith: await this.#openWith() },
        fingerprint,
      );
      await this.#readAccess();
      const name = this.nameOf(fingerprint);
      this.#done = `Removed ${name}’s access to the current version of ${this.target.name}.`;
      this.#stale = undefined;
      const versionIds = await this.#staleVersions(fingerprint);
      if (versionIds === undefined) {
        this.#done += ` Older versions of the file could not be listed (s3:ListBucketVersions), so any that still give ${name} access were not found.`;
      } else if (versionIds.length > 0) {
        this.#stale = { fingerprint, name, versionIds, failed: [] };
        this.#done += ` ${versionIds.length} older ${versionIds.length === 1 ? 'version' : 'versions'} of the file still ${versionIds.length === 1 ? 'gives' : 'give'} ${name} access.`;
      }
      this.#phase = 'shared';
    } catch (error) {
      this.#fail(error);
    }
  }

  /** The older versions holding the person's EDK; undefined when they cannot be listed. */
  async #staleVersions(fingerprint: string): Promise<string[] | undefined> {
    try {
      const s3 = personVersionsS3For(awsSession.clients().s3(), this.#config.bucket);
      const found = await versionsHoldingPerson(s3, this.target.key, fingerprint);
      return found.map((v) => v.versionId);
    } catch {
      return undefined;
    }
  }

  /**
   * Deletes the older versions named by `stale` (after the user confirmed), never the current
   * one; the versions that failed stay listed with why. Never throws.
   */
  async deleteStaleVersions(): Promise<void> {
    const stale = this.#stale;
    if (!stale) return;
    this.#phase = 'removing';
    this.#error = undefined;
    try {
      const s3 = personVersionsS3For(awsSession.clients().s3(), this.#config.bucket);
      const result = await deleteOlderVersions(s3, this.target.key, stale.versionIds);
      const failed = result.failed.map((f) => ({
        versionId: f.versionId,
        message: f.error.message,
      }));
      this.#stale = failed.length
        ? { ...stale, versionIds: failed.map((f) => f.versionId), failed }
        : undefined;
      this.#done = failed.length
        ? `Deleted ${result.deleted.length} older versions; ${failed.length} could not be deleted and still give ${stale.name} access.`
        : `Deleted ${result.deleted.length} older ${result.deleted.length === 1 ? 'version' : 'versions'}: no version of ${this.target.name} gives ${stale.name} access any more.`;
      this.#phase = 'shared';
    } catch (error) {
      this.#fail(error);
    }
  }

  /** A fingerprint's person as the directory names them, else the fingerprint. */
  nameOf(fingerprint: string): string {
    const known = people.directory.find((v) => v.entry.fingerprint === fingerprint);
    return known ? known.entry.name : people.shownFingerprint(fingerprint);
  }

  async #openWith() {
    const keyring = await readKeyring({
      config: this.#config,
      session: awsSession,
      vault,
      preferences: preferences.values,
    });
    if (!keyring) throw new VeilError('NO_KEY_FOR_OBJECT', 'no key is at hand in this session');
    return keyring;
  }

  async #rewrapSetup() {
    const s3 = awsSession.clients().s3();
    const bindingRule = await locationNames.bindingRule(this.#config);
    return {
      s3: rewrapS3For(s3, { blobBodies: true }),
      bucket: this.#config.bucket,
      key: this.target.key,
      bindingRule,
    };
  }

  async #readAccess(): Promise<void> {
    const read = headerReader(downloadS3For(awsSession.clients().s3()), this.#config.bucket);
    const info = await read(this.target.key);
    this.#withAccess = info.header
      ? keysNeeded(info.header)
          .filter((k) => k.providerId === PERSON_PROVIDER_ID)
          .map((k) => k.keyName)
      : [];
  }

  #fail(error: unknown): void {
    this.#error = shownError(error);
    this.#phase = this.#phase === 'loading' ? 'failed' : 'choosing';
  }
}
