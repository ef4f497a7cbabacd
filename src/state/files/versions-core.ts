/**
 * The logic of the Versions dialog of one file (versions.svelte.ts is its reactive wrapper).
 *
 * [Note: a file's versions] A bucket with versioning on keeps every version a write replaced or
 * a delete hid. The dialog lists the versions of exactly the file's stored key
 * (ListObjectVersions with Prefix = the key, filtered, paged; delete markers shown as such),
 * newest first, and offers on each:
 * - Download: the downloads' own logic (downloads-core.ts: key check, binding check, then the
 *   save dialog) on the download engine with the version pinned (`VersionsS3.downloadS3`), so
 *   its If-Match checks hold as for any download;
 * - Restore: CopyObject from `key?versionId=…` onto the same key. S3 makes the copy the current
 *   version and keeps the one that was current as a previous version, so a restore loses
 *   nothing. Before copying, the version's header is opened with the session's keys and its
 *   location binding checked ([Note: location binding] in core/location.ts) under the
 *   location's rule: a version that storage swapped in from another file is refused
 *   (OBJECT_MISMATCH) and never made current. One CopyObject takes at most 5 GiB; a larger
 *   version, or one under SSE-C, is refused (VERSION_RESTORE_UNSUPPORTED) rather than copied in
 *   parts;
 * - Restore never gives back access that was taken away ([Note: restore and revoked access] in
 *   versions-regrant.ts);
 * - Delete: DeleteObject with VersionId, final. A previous version goes through the rewrap
 *   engine's deletePreviousVersion ([Note: rewrap and versions] in transfer/rewrap-versions.ts),
 *   which checks first that it is still not the current one; the current version is deleted
 *   only after the confirmation said what follows (deleteEffect in versions-list.ts: the next
 *   version becomes current, or the file is gone), and not when the version that would become
 *   current holds a share key the current one lacks ([Note: restore and revoked access]).
 * Rollback is what the binding does not catch: an older version is bound to the same place, so
 * a storage that serves it instead of the current one goes unnoticed by a download. Listing the
 * versions with their dates is how a user sees it.
 *
 * A bucket without versioning has nothing to list: the dialog says so, and that a delete or an
 * upload over a file there cannot be undone. Sizes are plaintext sizes from each version's
 * header (sizes.ts), read only when asked ("Show sizes"): one or two ranged GETs per version.
 */
import type { FileVersion } from './versions-list';
import type { VersionsS3 } from '../../aws/object-versions';
import {
  VeilError,
  checkLocation,
  errorName,
  openMessageKeys,
  type BindingRule,
  type Keyring,
  type MessageHeader,
} from '../../core';
import { inspectObject } from '../../transfer/download';
import type { RewrapS3 } from '../../transfer/rewrap-s3';
import { deletePreviousVersion } from '../../transfer/rewrap-versions';
import { shownError } from '../app/shown-error';
import { probeBadge } from './badges';
import { humanDate } from './format';
import { sizeCellOf } from './sizes';
import { appendVersions, fileExists, isLastPageOf, versionsOfKey } from './versions-list';
import { checkNoRegrant } from './versions-regrant';
import {
  emptyVersionsView,
  versioningOf,
  versionsFailure,
  type VersionedFile,
  type VersionsView,
} from './versions-view';

export { emptyVersionsView, versionsFailure, type VersionedFile, type VersionsView };

/** The most one CopyObject copies (5 GiB). */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;

/** Versions asked for per ListObjectVersions page. */
const PAGE_KEYS = 100;

/** Size probes run at once. */
const SIZE_PROBES = 2;

/** What the dialog needs of the app. */
export interface VersionsDeps {
  readonly bucket: string;
  /** @throws VeilError CREDENTIALS_MISSING without credentials. */
  s3(): VersionsS3;
  /** The rewrap engine's seam (deletePreviousVersion's HEAD and delete). */
  rewrapS3(): RewrapS3;
  /** Every key the session has ([Note: keyring choice]); undefined: none. */
  readKeyring(): Promise<Keyring | undefined>;
  /** How strictly bindings are checked here ([Note: names of the current location]). */
  bindingRule(): Promise<BindingRule>;
  /** Starts downloading `version` through the downloads' logic, saved as `name`. */
  download(version: FileVersion, name: string): void;
  /** Versions per page; default 100. */
  readonly pageKeys?: number;
}

/** The Versions dialog of one file. */
export class VersionsCore {
  readonly #deps: VersionsDeps;
  readonly #view: VersionsView;
  readonly #file: VersionedFile;
  #next: { keyMarker: string; versionIdMarker: string | undefined } | undefined;

  constructor(deps: VersionsDeps, view: VersionsView, file: VersionedFile) {
    this.#deps = deps;
    this.#view = view;
    this.#file = file;
  }

  get view(): VersionsView {
    return this.#view;
  }

  /** Asks whether the bucket keeps versions, then lists the first page of the file's. */
  async load(): Promise<void> {
    const view = this.#view;
    view.phase = 'loading';
    view.error = undefined;
    this.#next = undefined;
    try {
      const s3 = this.#deps.s3();
      view.versioning = await versioningOf(s3);
      if (view.versioning === 'off') {
        view.versions = [];
        view.complete = true;
        view.phase = 'ready';
        return;
      }
      view.versions = [];
      await this.#page(s3);
      view.phase = 'ready';
    } catch (error) {
      view.error = shownError(
        versionsFailure(error, 'ListObjectVersions', 's3:ListBucketVersions'),
      );
      view.phase = 'failed';
    }
  }

  /** Lists the next page of versions. */
  async loadMore(): Promise<void> {
    const view = this.#view;
    if (view.complete || view.loadingMore) return;
    view.loadingMore = true;
    view.error = undefined;
    try {
      await this.#page(this.#deps.s3());
    } catch (error) {
      view.error = shownError(
        versionsFailure(error, 'ListObjectVersions', 's3:ListBucketVersions'),
      );
    } finally {
      view.loadingMore = false;
    }
  }

  /** True when the bucket keeps no versions of this file: nothing to restore, no undo. */
  get versioningOff(): boolean {
    const view = this.#view;
    if (view.versioning === 'off') return true;
    return (
      view.versioning === 'unknown' &&
      view.complete &&
      view.versions.every((version) => version.versionId === 'null')
    );
  }

  async #page(s3: VersionsS3): Promise<void> {
    const key = this.#file.key;
    const page = await s3.listVersions({
      prefix: key,
      ...(this.#next ? { marker: this.#next } : {}),
      maxKeys: this.#deps.pageKeys ?? PAGE_KEYS,
    });
    const view = this.#view;
    view.versions = appendVersions(view.versions, versionsOfKey(page, key));
    view.complete = isLastPageOf(page, key);
    this.#next = view.complete ? undefined : page.next;
  }

  /** Downloads `version` (from a click: the save picker needs it). */
  download(version: FileVersion): void {
    if (version.deleteMarker) return;
    this.#deps.download(version, this.#file.name);
  }

  /**
   * Makes `version` current again by copying it onto the file's key, after its binding checked
   * out ([Note: a file's versions]). Resolves to true when restored; failures land in
   * `view.actionError` (OBJECT_MISMATCH for a swapped version, NO_KEY_FOR_OBJECT without a key
   * that opens it, VERSION_RESTORE_UNSUPPORTED, VERSIONS_DENIED, S3 codes).
   */
  async restore(version: FileVersion): Promise<boolean> {
    if (version.deleteMarker || version.isLatest || this.#view.working) return false;
    return this.#act(version, 'restore', async () => {
      const s3 = this.#deps.s3();
      const { key } = this.#file;
      const facts = await s3.headVersion(key, version.versionId);
      if (facts.sseCustomerAlgorithm) {
        throw new VeilError('VERSION_RESTORE_UNSUPPORTED', 'the version is stored under SSE-C');
      }
      if ((facts.sizeBytes ?? version.sizeBytes) > MAX_COPY_BYTES) {
        throw new VeilError('VERSION_RESTORE_UNSUPPORTED', 'the version is larger than 5 GiB');
      }
      const header = await this.#checkBinding(s3, version.versionId);
      await this.#refuseRegrant(s3, version.versionId, header);
      await s3.restoreVersion(key, version.versionId, facts);
      return `The version of ${humanDate(version.lastModifiedMs)} is the current version again; the version that was current is kept as a previous version.`;
    });
  }

  /**
   * Opens the version's header with the session's keys and checks its binding to this bucket
   * and key under the location's rule, releasing nothing. Resolves to its header (undefined for
   * an unencrypted version).
   * @throws VeilError OBJECT_MISMATCH, NO_KEY_FOR_OBJECT and the keyring's and engine's codes.
   */
  async #checkBinding(s3: VersionsS3, versionId: string): Promise<MessageHeader | undefined> {
    const keyring = await this.#deps.readKeyring();
    const bindingRule = await this.#deps.bindingRule();
    const location = { bucket: this.#deps.bucket, key: this.#file.key };
    const opened = await inspectObject({
      s3: s3.downloadS3(versionId),
      ...location,
      bindingRule,
      ...(keyring ? { keyring } : {}),
    });
    // An unencrypted version: let through where bindings are optional ('required' refused it).
    if (!opened.header) return undefined;
    if (!keyring) throw new VeilError('NO_KEY_FOR_OBJECT', 'a restore checks the version first');
    // A framed 0x0478 message was opened and checked by inspectObject; others are checked here.
    if (opened.contentKey) return opened.header;
    const { locationKey } = await openMessageKeys(opened.header, {
      keyring,
      allowUnverifiedSignature: true,
    });
    await checkLocation(opened.header, locationKey, location, bindingRule);
    return opened.header;
  }

  /**
   * Refuses to make version `versionId` current when it holds a share key that the newest
   * version after it (not a delete marker) lacks ([Note: restore and revoked access]). Lists the
   * file's newest versions afresh and reads that version's header (nothing decrypted); `header`
   * is the header of `versionId` when already read, else it is read here.
   * @throws VeilError VERSION_RESTORE_REGRANTS; the listing's and the reads' failures.
   */
  async #refuseRegrant(s3: VersionsS3, versionId: string, header?: MessageHeader): Promise<void> {
    const location = { bucket: this.#deps.bucket, key: this.#file.key };
    const readHeader = async (id: string): Promise<MessageHeader | undefined> =>
      (await inspectObject({ s3: s3.downloadS3(id), ...location })).header;
    const versions = await this.#newest(s3, (listed) =>
      listed.some((other) => other.versionId === versionId),
    );
    await checkNoRegrant(versions, versionId, readHeader, header);
  }

  /**
   * The file's versions listed afresh, newest first, page after page until `enough` holds of
   * them or none are left.
   */
  async #newest(
    s3: VersionsS3,
    enough: (versions: readonly FileVersion[]) => boolean,
  ): Promise<FileVersion[]> {
    const key = this.#file.key;
    let versions: FileVersion[] = [];
    let marker: { keyMarker: string; versionIdMarker: string | undefined } | undefined;
    for (;;) {
      const page = await s3.listVersions({
        prefix: key,
        ...(marker ? { marker } : {}),
        maxKeys: PAGE_KEYS,
      });
      versions = appendVersions(versions, versionsOfKey(page, key));
      if (enough(versions) || isLastPageOf(page, key)) return versions;
      marker = page.next;
    }
  }

  /**
   * Deletes `version` for good, once confirmed (the dialog says what deleteEffect gives first).
   * Resolves to true when deleted; failures land in `view.actionError` (VERSIONS_DENIED without
   * s3:DeleteObjectVersion, VERSIONS_CHANGED when a previous version became current meanwhile,
   * VERSION_RESTORE_REGRANTS when deleting the current version would make current one that holds
   * a share key the current one lacks: [Note: restore and revoked access]).
   */
  async remove(version: FileVersion): Promise<boolean> {
    if (this.#view.working) return false;
    return this.#act(version, 'delete', async () => {
      const { key } = this.#file;
      if (version.isLatest) {
        const s3 = this.#deps.s3();
        if (!version.deleteMarker) await this.#refuseRegrantAfterDelete(s3, version.versionId);
        await s3.deleteVersion(key, version.versionId);
      } else {
        await deletePreviousVersion(
          this.#deps.rewrapS3(),
          this.#deps.bucket,
          key,
          version.versionId,
        );
      }
      const what = version.deleteMarker ? 'delete marker' : 'version';
      return `The ${what} of ${humanDate(version.lastModifiedMs)} was deleted.`;
    });
  }

  /**
   * Refuses to delete the current version `versionId` when the version that would become current
   * holds a share key that `versionId` lacks ([Note: restore and revoked access]).
   * @throws VeilError VERSIONS_CHANGED when `versionId` is no longer current;
   *   VERSION_RESTORE_REGRANTS; the listing's and the reads' failures.
   */
  async #refuseRegrantAfterDelete(s3: VersionsS3, versionId: string): Promise<void> {
    const versions = await this.#newest(s3, (listed) => listed.length >= 2);
    if (versions[0]?.versionId !== versionId) {
      throw new VeilError('VERSIONS_CHANGED', 'that version is no longer the current one');
    }
    const next = versions[1];
    // Nothing next deletes the file; a delete marker next leaves it deleted.
    if (next === undefined || next.deleteMarker) return;
    await this.#refuseRegrant(s3, next.versionId);
  }

  /** Runs a restore or delete on `version`, then lists the versions again. */
  async #act(
    version: FileVersion,
    action: 'restore' | 'delete',
    run: () => Promise<string>,
  ): Promise<boolean> {
    const view = this.#view;
    view.working = { versionId: version.versionId, action };
    view.actionError = undefined;
    try {
      const said = await run();
      view.changed = true;
      await this.load();
      view.notice =
        fileExists(view.versions) || !view.complete ? said : `${said} The file is gone.`;
      return true;
    } catch (error) {
      const [operation, permission] =
        action === 'restore'
          ? ['CopyObject of a version', 's3:GetObjectVersion and s3:PutObject']
          : ['DeleteObject of a version', 's3:DeleteObjectVersion'];
      view.actionError = shownError(versionsFailure(error, operation, permission));
      return false;
    } finally {
      view.working = undefined;
    }
  }

  /**
   * Reads the plaintext size of every listed version that has none yet, a few at a time (one or
   * two ranged GETs each; [Note: plaintext size from the header] in sizes.ts).
   */
  async showSizes(): Promise<void> {
    const view = this.#view;
    if (view.sizing) return;
    view.sizing = true;
    const s3 = this.#deps.s3();
    const waiting = view.versions.filter(
      (version) => !version.deleteMarker && view.sizes[version.versionId] === undefined,
    );
    for (const version of waiting) view.sizes[version.versionId] = { state: 'pending' };
    const probeOne = async (version: FileVersion): Promise<void> => {
      try {
        const probed = await probeBadge(
          s3.probeS3(version.versionId),
          this.#file.key,
          version.sizeBytes,
        );
        view.sizes[version.versionId] = sizeCellOf({ state: 'known', ...probed });
      } catch (error) {
        view.sizes[version.versionId] = sizeCellOf({ state: 'failed', reason: errorName(error) });
      }
    };
    const lanes = Array.from({ length: SIZE_PROBES }, async () => {
      for (let version = waiting.shift(); version; version = waiting.shift()) {
        await probeOne(version);
      }
    });
    await Promise.all(lanes);
    view.sizing = false;
  }
}
