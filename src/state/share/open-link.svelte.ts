/**
 * The share link page's state: open-link-core.ts over the browser ([Note: share links] in
 * core/share-link.ts). No AWS credentials and no config sign-in: the object is read through the
 * link's presigned URL (presignedDownloadS3), opened with the link key's raw AES keyring,
 * decrypted in the app's worker pool and saved like a download from Files (chooseSaveTarget:
 * the save picker, else a Blob for small files or the service-worker stream), bound to the
 * object key the link names (bindingRule 'required': a swapped or unencrypted object is
 * refused before a byte is written). The header is opened with the link key before the page
 * offers Download, so a wrong key never reaches the save dialog.
 */
import { hasLinkEdk, linkKeyring } from '../../aws/share-link';
import { checkLocation } from '../../core/location';
import { openMessageKeys } from '../../core/message';
import { downloadObject, inspectObject } from '../../transfer/download';
import { DEFAULT_BLOB_LIMIT_BYTES, chooseSaveTarget } from '../../transfer/browser/download-sink';
import { presignedDownloadS3 } from '../../transfer/share-download-s3';
import { workerPool } from '../shared/transfers';
import { OpenLinkCore, type LinkView, type OpenLinkDeps } from './open-link-core';

export type { LinkView } from './open-link-core';
export { UNVERIFIED_LABEL_WHY, linkErrorText, savedText, sharedByView } from './open-link-core';

/** The page's dependencies in the browser. */
export function browserOpenLinkDeps(): OpenLinkDeps {
  return {
    nowMs: () => Date.now(),
    readHeader: async (payload) =>
      (
        await inspectObject({
          s3: presignedDownloadS3(payload.url),
          bucket: payload.bucket,
          key: payload.key,
        })
      ).header,
    hasLinkEdk,
    checkKey: async (payload, header) => {
      const keyring = await linkKeyring(payload.linkId, payload.linkKey);
      // A signed message's signature is checked by the download, which reads it whole.
      const { locationKey } = await openMessageKeys(header, {
        keyring,
        allowUnverifiedSignature: true,
      });
      await checkLocation(
        header,
        locationKey,
        { bucket: payload.bucket, key: payload.key },
        'required',
      );
    },
    chooseSink: async (name, sizeBytes) => (await chooseSaveTarget(name, sizeBytes)).sink,
    canStream: () =>
      typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker === 'function' ||
      'serviceWorker' in navigator,
    memoryLimitBytes: DEFAULT_BLOB_LIMIT_BYTES,
    download: async (payload, sink, onProgress) =>
      downloadObject({
        s3: presignedDownloadS3(payload.url),
        bucket: payload.bucket,
        key: payload.key,
        keyring: await linkKeyring(payload.linkId, payload.linkKey),
        bindingRule: 'required',
        decryptor: workerPool(),
        sink,
        onProgress,
      }),
    // [Note: the link key leaves the address bar]: no hashchange fires, so the page keeps it.
    forgetLink: () => history.replaceState(history.state, '', `${location.pathname}#/share/`),
  };
}

/** One link page. */
export class OpenLinkState {
  #view = $state<LinkView>({ state: 'opening' });
  readonly #core: OpenLinkCore;

  constructor(deps: OpenLinkDeps = browserOpenLinkDeps()) {
    this.#core = new OpenLinkCore(deps, (view) => (this.#view = view));
  }

  get view(): LinkView {
    return this.#view;
  }

  open(fragment: string): Promise<void> {
    return this.#core.open(fragment);
  }

  download(): Promise<void> {
    return this.#core.download();
  }
}
