/**
 * The Versions dialog's state for one file ([Note: a file's versions] in versions-core.ts): the
 * core wired to the app's session, keys and location names, its view in `$state`, and the
 * downloads of versions started from the dialog.
 *
 * [Note: a version's download] A version downloads as a DownloadItem of the downloads' own logic
 * (downloads-core.ts), so it has the same key check, binding check, save path, key prompt and
 * progress as any download; only its S3 seam differs: the download engine's `DownloadS3` with
 * the version pinned (VersionId on HeadObject and on every ranged GET, If-Match kept). The deps
 * below are the downloads' app deps with that one seam changed, and the item reports to the
 * page's `downloads` list, so a key picked for one is held for the others. Its progress shows
 * in the dialog.
 */
import type { VeilConfig } from '../../aws/config';
import { versionsS3For } from '../../aws/object-versions';
import { rewrapS3For } from '../../transfer/rewrap-s3';
import { vault } from '../keys/vault.svelte';
import { awsSession } from '../shared/credentials.svelte';
import { readKeyring } from '../shared/keyrings';
import { locationNames } from '../shared/location-names.svelte';
import { preferences } from '../shared/preferences.svelte';
import type { DownloadsDeps } from './downloads-core';
import { DownloadItem, appDownloadDeps, downloads } from './downloads.svelte';
import {
  VersionsCore,
  emptyVersionsView,
  type VersionedFile,
  type VersionsDeps,
  type VersionsView,
} from './versions-core';
import type { FileVersion } from './versions-list';

/** The downloads' app deps with the engine reading version `versionId` ([Note: a version's download]). */
function versionDownloadDeps(config: VeilConfig, versionId: string): DownloadsDeps {
  return {
    ...appDownloadDeps,
    s3: () => versionsS3For(awsSession.clients().s3(), config.bucket).downloadS3(versionId),
  };
}

/** Ids of version downloads (their own range, apart from the Files list's). */
let nextDownloadId = 1_000_000;

/** The versions of one file, as the dialog shows them. */
export class FileVersions {
  readonly file: VersionedFile;
  readonly #view = $state<VersionsView>(emptyVersionsView());
  readonly #downloads = $state<DownloadItem[]>([]);
  readonly #core: VersionsCore;

  constructor(config: VeilConfig, file: VersionedFile) {
    this.file = file;
    const deps: VersionsDeps = {
      bucket: config.bucket,
      s3: () => versionsS3For(awsSession.clients().s3(), config.bucket),
      rewrapS3: () => rewrapS3For(awsSession.clients().s3(), { blobBodies: true }),
      readKeyring: () =>
        readKeyring({ config, session: awsSession, vault, preferences: preferences.values }),
      bindingRule: () => locationNames.bindingRule(config),
      download: (version, name) => this.#download(config, version, name),
    };
    this.#core = new VersionsCore(deps, this.#view, file);
  }

  /** What the dialog shows (reactive). */
  get view(): VersionsView {
    return this.#view;
  }

  /** Downloads of versions started here, newest first. */
  get downloads(): DownloadItem[] {
    return this.#downloads;
  }

  /** True when the bucket keeps no versions of this file. */
  get versioningOff(): boolean {
    return this.#core.versioningOff;
  }

  load(): Promise<void> {
    return this.#core.load();
  }

  loadMore(): Promise<void> {
    return this.#core.loadMore();
  }

  showSizes(): Promise<void> {
    return this.#core.showSizes();
  }

  /** Downloads `version` (from a click: the save picker needs it). */
  download(version: FileVersion): void {
    this.#core.download(version);
  }

  restore(version: FileVersion): Promise<boolean> {
    return this.#core.restore(version);
  }

  remove(version: FileVersion): Promise<boolean> {
    return this.#core.remove(version);
  }

  dismiss(item: DownloadItem): void {
    const at = this.#downloads.indexOf(item);
    if (at >= 0) this.#downloads.splice(at, 1);
  }

  #download(config: VeilConfig, version: FileVersion, name: string): void {
    const item = new DownloadItem(
      nextDownloadId++,
      this.file.key,
      name,
      version.sizeBytes,
      downloads,
      versionDownloadDeps(config, version.versionId),
    );
    this.#downloads.unshift(item);
    void item.run(config);
  }
}
