/**
 * `veil cp s3://BUCKET/KEY FILE`: the app's download engine (downloadObject) with the Node
 * adapters of src/transfer/node: HeadObject, the header, the keyring, then frame-aligned ranged
 * GETs several at once (each with If-Match on the first ETag), every frame authenticated before
 * its plaintext is written, in order, to a temporary file beside FILE (mode 0600). FILE appears
 * only when the whole object verified (fsync, then link or rename into place); on any failure,
 * or Ctrl-C, the temporary file is removed and FILE is left as it was.
 *
 * Objects that are not ESDK messages are refused (MALFORMED): nothing authenticates them, and
 * `veil cp` promises verified plaintext. `aws s3 cp` copies such objects as they are.
 *
 * FILE `-` writes the plaintext to stdout, only once the whole object verified, through the
 * private temporary file of `veil cp '<share link>' -` ([Note: stdout after verification] in
 * cp-link-stdout.ts): on any failure, or Ctrl-C, stdout stays empty and the file is removed.
 *
 * KEY is the clear key: in a private location ([Note: names on the command line] in names.ts)
 * it is mapped to the stored, encrypted key, and the object must be bound to that key
 * (bindingRule 'required'): a swapped object, or an unencrypted one under an encrypted name, is
 * refused with OBJECT_MISMATCH before a byte of it is written.
 */
import { access } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { VeilError } from '../core/errors';
import { downloadObject } from '../transfer/download';
import { downloadS3For } from '../transfer/download-s3';
import type { DownloadResult, DownloadSink } from '../transfer/download-setup';
import { fileSink, nodeDecryptor } from '../transfer/node';
import { stdoutSink } from './cp-link-stdout';
import { trackPendingOutput } from './files';
import { cliKeyring, explainDecryptFailure, readKeyFlags, type KeyringFlags } from './keyrings';
import { namesFor, storedKeyOf } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { formatBytes, progressLine } from './progress-line';
import { cliS3, type S3Flags } from './s3-client';
import { formatS3Url, type S3Location } from './s3-url';

/** What `veil cp s3://... FILE` is given. */
export interface DownloadFileOptions {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  readonly source: S3Location;
  /** FILE, or `-` for stdout. */
  readonly outPath: string;
  /** Replace an existing FILE. */
  readonly force: boolean;
  /** Where `-` writes; default process.stdout. */
  readonly stdout?: Writable;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A sink that passes writes and aborts through but holds the close back, so the caller decides
 * once the engine has said what the object was.
 */
function heldSink(inner: DownloadSink): DownloadSink {
  return {
    write: (chunk) => inner.write(chunk),
    close: () => Promise.resolve(),
    abort: (reason) => inner.abort(reason),
  };
}

/** OUTPUT_EXISTS for a sink that could not link FILE into place; other errors as they are. */
function explainSaveFailure(error: unknown, outPath: string): unknown {
  if (error instanceof VeilError && error.code === 'DOWNLOAD_SAVE_FAILED') {
    if (error.detail === 'EEXIST') return new VeilError('OUTPUT_EXISTS', outPath, { cause: error });
  }
  return error;
}

/**
 * Downloads and decrypts `source` into `outPath` (see the header). Progress is drawn on stderr
 * when it is a terminal.
 * @throws VeilError OUTPUT_EXISTS without `force`; NO_KEY_GIVEN when no key was given and KMS
 *   discovery opens none; MALFORMED for an object that is not an ESDK message; the engine's
 *   (S3_REJECTED, S3_UNREACHABLE, DOWNLOAD_OBJECT_CHANGED, HEADER_TAMPERED, FRAME_TAMPERED,
 *   TRUNCATED, ...), the keyring's, DOWNLOAD_SAVE_FAILED.
 */
export async function downloadFile(options: DownloadFileOptions): Promise<DownloadResult> {
  const env = options.env ?? process.env;
  const { outPath, force } = options;
  const toStdout = outPath === '-';
  const exists =
    !toStdout &&
    (await access(outPath).then(
      () => true,
      () => false,
    ));
  if (exists && !force) throw new VeilError('OUTPUT_EXISTS', outPath);
  const keyFlags = readKeyFlags(options.keys);
  const s3 = await cliS3(options.s3, env);
  try {
    const { keyring, close } = await cliKeyring('decrypt', keyFlags, env);
    try {
      const names = await namesFor(
        s3NamesKeyStorage(s3.client, options.source.bucket, 'download'),
        options.source,
        'object',
        () => Promise.resolve(keyring),
      );
      const key = storedKeyOf(names, options.source.key);
      const controller = new AbortController();
      const stop = (reason: unknown) => controller.abort(reason);
      // Plaintext is written owner-only (0600): it was worth encrypting. To stdout: verified
      // whole in a private file first, which stdoutSink tracks for a signal itself.
      const held = toStdout ? await stdoutSink(stop) : undefined;
      const sink = held ?? (await fileSink(outPath, { mode: 0o600, noOverwrite: !force }));
      const untrack = held ? () => undefined : trackPendingOutput(sink.tempPath, stop);
      const line = progressLine();
      try {
        const result = await downloadObject({
          s3: downloadS3For(s3.client),
          decryptor: nodeDecryptor,
          keyring,
          bucket: options.source.bucket,
          key,
          bindingRule: names.bindingRule,
          sink: heldSink(sink),
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
        if (result.label === 'plain') {
          throw new VeilError(
            'MALFORMED',
            `${formatS3Url(options.source)} is not an ESDK message (a plain object); nothing was saved`,
          );
        }
        await sink.close();
        const summary = `downloaded ${formatBytes(result.writtenBytes)} to ${toStdout ? 'stdout' : outPath} (verified)`;
        if (held) {
          line.end();
          await held.release(options.stdout ?? process.stdout);
        }
        line.end(summary);
        return result;
      } catch (error) {
        line.end();
        await sink.abort(error).catch(() => undefined);
        await held?.discard();
        throw explainSaveFailure(explainDecryptFailure(error, keyFlags), outPath);
      } finally {
        untrack();
      }
    } finally {
      close();
    }
  } finally {
    s3.close();
  }
}
