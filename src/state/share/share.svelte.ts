/**
 * "Share link…" as the views use it: share-core.ts over the app's session ([Note: share links]
 * in core/share-link.ts). The file is opened with every key of the session and its list of
 * links wrapped as an upload would wrap it (the model and key chosen in Settings); the S3 seams
 * are the rewrap engine's (rewrapS3For with Blob bodies) and aws/share-link.ts's presigner.
 */
import type { VeilConfig } from '../../aws/config';
import { credentialsExpireAtMs } from '../../aws/presign';
import {
  createShareLink,
  fileShareLinks,
  revokeShareLink,
  type ShareContext,
} from '../../aws/share-link';
import { VeilError } from '../../core/errors';
import { rebuildShareList } from '../../aws/share-list-repair';
import { olderVersionsS3For } from '../../aws/older-versions';
import { deleteOlderVersions, versionsHoldingLink } from '../../transfer/people-versions';
import { rewrapS3For } from '../../transfer/rewrap-s3';
import { deletePreviousVersion } from '../../transfer/rewrap-versions';
import type { RewrapProgress } from '../../transfer/rewrap-options';
import { vault } from '../keys/vault.svelte';
import { awsSession } from '../shared/credentials.svelte';
import { locationNames } from '../shared/location-names.svelte';
import { readKeyring, writeKeys, type KeyringSources, type WriteKeys } from '../shared/keyrings';
import { rootPrefix } from '../shared/object-paths';
import { preferences } from '../shared/preferences.svelte';
import { EMPTY_SHARE_VIEW, ShareCore, type ShareDeps, type ShareView } from './share-core';

export type { ExpiryChoice, ListedLink, ShareView } from './share-core';

function sources(config: VeilConfig): KeyringSources {
  return { config, session: awsSession, vault, preferences: preferences.values };
}

/**
 * What wraps a file's list of links: the model chosen in Settings, else the first other model
 * this session can write with (a session with only KMS keys still lists its links).
 * @throws the chosen model's error when no model can write.
 */
function listWriteKeys(config: VeilConfig): WriteKeys {
  const chosen = preferences.values.model;
  let first: unknown;
  for (const model of [chosen, 'C', 'A', 'B'] as const) {
    try {
      return writeKeys(model, sources(config));
    } catch (error) {
      first ??= error;
    }
  }
  throw first;
}

/** The share context of the file at `key`, for one operation. */
async function contextFor(
  config: VeilConfig,
  key: string,
  onProgress?: (progress: RewrapProgress) => void,
): Promise<ShareContext> {
  await vault.load();
  const client = awsSession.clients().s3();
  const openWith = await readKeyring(sources(config));
  if (!openWith) throw new VeilError('NO_KEY_FOR_OBJECT', 'no key is at hand in this session');
  const write = listWriteKeys(config);
  return {
    client,
    rewrapS3: rewrapS3For(client, { blobBodies: true }),
    bucket: config.bucket,
    root: rootPrefix(config, awsSession.identityId || undefined),
    key,
    openWith,
    wrapWith: write.keyring,
    context: write.encryptionContext,
    bindingRule: await locationNames.bindingRule(config),
    ...(onProgress ? { onProgress } : {}),
  };
}

/** The dialog's dependencies in the app. */
export function appShareDeps(config: VeilConfig): ShareDeps {
  return {
    credentialsExpireAtMs: () => credentialsExpireAtMs(awsSession.clients().s3()),
    list: async (key) => fileShareLinks(await contextFor(config, key)),
    rebuild: async (key) => rebuildShareList(await contextFor(config, key)),
    create: async (key, request, onProgress) =>
      createShareLink(await contextFor(config, key, onProgress), request),
    revoke: async (key, linkId, onProgress) =>
      revokeShareLink(await contextFor(config, key, onProgress), linkId),
    olderVersionsHolding: async (key, linkId) =>
      (
        await versionsHoldingLink(
          olderVersionsS3For(awsSession.clients().s3(), config.bucket),
          key,
          linkId,
        )
      ).map((v) => v.versionId),
    deleteVersions: (key, versionIds) =>
      deleteOlderVersions(
        olderVersionsS3For(awsSession.clients().s3(), config.bucket),
        key,
        versionIds,
      ),
    deleteVersion: (key, versionId) =>
      deletePreviousVersion(
        rewrapS3For(awsSession.clients().s3(), { blobBodies: true }),
        config.bucket,
        key,
        versionId,
      ),
    nowMs: () => Date.now(),
  };
}

/** The dialog's state for the views. */
export class ShareDialogState {
  readonly #view = $state<ShareView>({ ...EMPTY_SHARE_VIEW });
  readonly #core: ShareCore;

  constructor(deps: ShareDeps) {
    this.#core = new ShareCore(deps, this.#view);
  }

  get view(): ShareView {
    return this.#view;
  }

  get busy(): boolean {
    return this.#core.busy;
  }

  open(key: string): Promise<void> {
    return this.#core.open(key);
  }

  create(request: Parameters<ShareCore['create']>[0]): Promise<void> {
    return this.#core.create(request);
  }

  revoke(linkId: string): Promise<void> {
    return this.#core.revoke(linkId);
  }

  rebuild(): Promise<void> {
    return this.#core.rebuild();
  }

  deleteKeptVersions(): Promise<void> {
    return this.#core.deleteKeptVersions();
  }

  set expirySeconds(seconds: number) {
    this.#view.expirySeconds = seconds;
  }
}
