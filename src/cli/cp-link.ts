/**
 * `veil cp '<share link>' FILE`: the share page's download on the command line ([Note: share
 * links] in core/share-link.ts), without AWS credentials and without any key but the link's.
 *
 * The same steps and answers as the page (state/share/open-link-core.ts, which the command line
 * may not import): the link's payload is read (SHARE_LINK_MALFORMED), its own expiry checked
 * (SHARE_LINK_EXPIRED, as is S3's "Request has expired"), the header read through the presigned
 * URL with ranged GETs (presignedDownloadS3 over Node's fetch, no credentials); a header without
 * this link's EDK means the link was revoked (SHARE_LINK_REVOKED); then the header is opened with
 * the link key and its binding to the bucket and key the link names is checked ('required'), so a
 * changed link key (WRONG_KEY) or a swapped object (OBJECT_MISMATCH) is refused before FILE or
 * its temporary file is created. Only then the download engine runs, with the link key's raw AES
 * keyring: frame-aligned ranged GETs, every frame authenticated before its plaintext is written to
 * a temporary file beside FILE (mode 0600), padding stripped, FILE linked into place at the end
 * (as `veil cp s3://...` does). On any failure neither FILE nor the temporary file is left.
 *
 * FILE may be a folder: the file then takes the name the link carries (without unsafe
 * characters, shareSaveName), or `shared-file` when it carries none. FILE `-` writes the file to
 * stdout, only once the whole message verified ([Note: stdout after verification] in
 * cp-link-stdout.ts): on any failure stdout stays empty.
 */
import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { hasLinkEdk, linkKeyring } from '../aws/share-link';
import { VeilError } from '../core/errors';
import type { MessageHeader } from '../core/header';
import { checkLocation } from '../core/location';
import { openMessageKeys } from '../core/message';
import { isExpired, payloadOfLink, shareSaveName, type SharePayload } from '../core/share-link';
import { downloadObject, inspectObject } from '../transfer/download';
import type { DownloadS3 } from '../transfer/download-s3';
import type { DownloadResult } from '../transfer/download-setup';
import { fileSink, nodeDecryptor } from '../transfer/node';
import { presignedDownloadS3 } from '../transfer/share-download-s3';
import { stdoutSink } from './cp-link-stdout';
import { trackPendingOutput } from './files';
import { formatBytes, progressLine } from './progress-line';

/** What `veil cp '<link>' FILE` is given. */
export interface LinkDownloadOptions {
  /** The whole link (or anything holding `#/share/<payload>`). */
  readonly link: string;
  /** FILE, or a folder to save the file in under the link's name, or `-` for stdout. */
  readonly to: string;
  /** Where `-` writes; default process.stdout. */
  readonly stdout?: Writable;
  /** Replace an existing FILE. */
  readonly force: boolean;
  /** Fetch for the presigned URL; default Node's. */
  readonly fetchFn?: typeof fetch;
  /** Clock, ms since the epoch. */
  readonly nowMs?: () => number;
}

/** The link's text for a changed key: the link was altered, not the file. */
const CHANGED_LINK =
  'the key in this link does not open the file: the link was changed or damaged on its way to you. Nothing was saved; ask for the link again';

/** Codes of a key check that fails because the link (its key) was changed. */
const CHANGED_CODES: ReadonlySet<string> = new Set([
  'WRONG_KEY',
  'COMMITMENT_MISMATCH',
  'HEADER_TAMPERED',
]);

/** True for text that is a share link rather than a path or an s3:// URL. */
export function isShareLink(text: string): boolean {
  return /^https?:\/\//i.test(text) && text.includes('#/share/');
}

/** The page's answers, in the catalogue's codes (see the header). */
function explainLinkFailure(error: unknown): unknown {
  if (!(error instanceof VeilError)) return error;
  if (error.code === 'NO_MATCHING_EDK') {
    return new VeilError('SHARE_LINK_REVOKED', 'the file holds no key of this link', {
      cause: error,
    });
  }
  if (CHANGED_CODES.has(error.code))
    return new VeilError('WRONG_KEY', CHANGED_LINK, { cause: error });
  return error;
}

/**
 * Opens `header` with the link key and checks its binding to the link's bucket and key,
 * releasing nothing ([Note: check before the save dialog] in state/files/downloads-core.ts).
 * @throws VeilError SHARE_LINK_REVOKED when the header holds no EDK of this link; WRONG_KEY;
 *   OBJECT_MISMATCH.
 */
async function checkLinkKey(payload: SharePayload, header: MessageHeader): Promise<void> {
  if (!hasLinkEdk(header, payload.linkId)) {
    throw new VeilError('SHARE_LINK_REVOKED', `link ${payload.linkId}`);
  }
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
}

/** FILE itself, or the link's name inside FILE when FILE is a folder. */
async function outputPath(payload: SharePayload, to: string): Promise<string> {
  const folder =
    to.endsWith('/') ||
    (await stat(to).then(
      (info) => info.isDirectory(),
      () => false,
    ));
  if (!folder) return to;
  return join(to, folderFileName(shareSaveName(payload)));
}

/**
 * The name the sharer chose, made safe to create inside a folder the user named: the sharer must
 * not pick a hidden file (`.bash_aliases` in a home folder runs in the next shell) or leave the
 * folder (`..\x` where `\` separates). Leading dots, path separators and `:` become `_`
 * (so `..` is `__`). Pure.
 */
export function folderFileName(name: string): string {
  const flat = name.replace(/[/\\:]/g, '_').replace(/^\.+/, (dots) => '_'.repeat(dots.length));
  return flat === '' ? '_' : flat;
}

/**
 * Downloads the file of a share link into FILE (see the header).
 * @throws VeilError SHARE_LINK_MALFORMED, SHARE_LINK_EXPIRED, SHARE_LINK_REVOKED, WRONG_KEY,
 *   OBJECT_MISMATCH (also for an object that is not encrypted), OUTPUT_EXISTS without `force`;
 *   the engine's (FRAME_TAMPERED, TRUNCATED, DOWNLOAD_OBJECT_CHANGED, S3_REJECTED, S3_UNREACHABLE,
 *   ...), DOWNLOAD_SAVE_FAILED.
 */
export async function downloadLink(options: LinkDownloadOptions): Promise<DownloadResult> {
  const payload = payloadOfLink(options.link);
  if (isExpired(payload, (options.nowMs ?? Date.now)())) {
    throw new VeilError('SHARE_LINK_EXPIRED', new Date(payload.expiresAtMs).toISOString());
  }
  const toStdout = options.to === '-';
  const outPath = toStdout ? 'stdout' : await outputPath(payload, options.to);
  const exists =
    !toStdout &&
    (await access(outPath).then(
      () => true,
      () => false,
    ));
  if (exists && !options.force) throw new VeilError('OUTPUT_EXISTS', outPath);
  const s3: DownloadS3 = presignedDownloadS3(payload.url, options.fetchFn ?? fetch);
  const where = { s3, bucket: payload.bucket, key: payload.key };
  try {
    const { header } = await inspectObject(where);
    if (!header) {
      throw new VeilError('OBJECT_MISMATCH', 'the link names an object that is not encrypted');
    }
    await checkLinkKey(payload, header);
  } catch (error) {
    throw explainLinkFailure(error);
  }
  const controller = new AbortController();
  const stop = (reason: unknown) => controller.abort(reason);
  // To stdout: verified whole in a private file first ([Note: stdout after verification]).
  const held = toStdout ? await stdoutSink(stop) : undefined;
  const sink = held ?? (await fileSink(outPath, { mode: 0o600, noOverwrite: !options.force }));
  const untrack = held ? () => undefined : trackPendingOutput(sink.tempPath, stop);
  const line = progressLine();
  try {
    const result = await downloadObject({
      ...where,
      keyring: await linkKeyring(payload.linkId, payload.linkKey),
      bindingRule: 'required',
      decryptor: nodeDecryptor,
      sink,
      signal: controller.signal,
      onProgress: (progress) =>
        line.show({
          verb: 'download',
          doneBytes: progress.writtenBytes,
          totalBytes: progress.totalBytes,
          rateBytesPerSecond: progress.rateBytesPerSecond,
          etaSeconds: progress.etaSeconds,
        }),
    });
    const summary = `downloaded ${formatBytes(result.writtenBytes)} to ${outPath} (verified)`;
    line.end(held ? undefined : summary);
    if (held) {
      await held.release(options.stdout ?? process.stdout);
      line.end(summary);
    }
    return result;
  } catch (error) {
    line.end();
    await sink.abort(error).catch(() => undefined);
    await held?.discard();
    const explained = explainLinkFailure(error);
    if (explained instanceof VeilError && explained.code === 'DOWNLOAD_SAVE_FAILED') {
      if (explained.detail === 'EEXIST') throw new VeilError('OUTPUT_EXISTS', outPath);
    }
    throw explained;
  } finally {
    untrack();
  }
}
