/**
 * `veil cp FILE s3://BUCKET/KEY`: the app's upload engine (FileUpload) with the Node adapters of
 * src/transfer/node: the file read in slices from disk, parts encrypted on this thread and sent
 * `partsInFlight` at once (one PutObject for a file of one part), every part's CRC32 checked by
 * S3. The object is what the app writes: the same ESDK message, the same encryption context
 * ([Note: upload encryption context]: veil-app, veil-bucket, and any --context pairs) and the same
 * metadata and model badge (src/transfer/object-params.ts). The multipart upload is kept when the
 * command fails or is interrupted, with its resume record in a folder of the user's, and the same
 * command run again continues it ([Note: veil cp resume] in resume-match.ts).
 *
 * KEY is the clear key: in a private location ([Note: names on the command line] in names.ts)
 * the path below the root is encrypted with the location's names key, opened with the keys
 * given, before anything is sent (NAME_TOO_LONG when it would not fit S3's 1,024 bytes), and the
 * object is bound to its encrypted key like every new object.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EncryptionContext } from '../core/encryption-context';
import { VeilError } from '../core/errors';
import { withPadding, type PaddingScheme } from '../core/padding';
import { buildUploadContext } from '../keyrings/upload-context';
import { fileUploadStore, nodeBuilder, nodeUploadS3, openFileSource } from '../transfer/node';
import type { UploadProgress } from '../transfer/progress';
import type { UploadS3 } from '../transfer/s3-api';
import { FileUpload, type UploadResult } from '../transfer/upload';
import { fileIdentity, type UploadRecord, type UploadStore } from '../transfer/upload-store';
import { keyFileName } from './key-files';
import { cliKeyring, writeKeyFlags, type KeyringFlags } from './keyrings';
import { namesFor, storedKeyOf } from './names';
import { s3NamesKeyStorage } from './names-storage';
import { formatBytes, progressLine } from './progress-line';
import { recordMatches, type UploadCommand } from './resume-match';
import { cliS3, type S3Flags } from './s3-client';
import { formatS3Url, type S3Location } from './s3-url';

/** What `veil cp FILE s3://...` is given. */
export interface UploadFileOptions {
  readonly keys: KeyringFlags;
  readonly s3: S3Flags;
  readonly inPath: string;
  readonly target: S3Location;
  /** Extra encryption context pairs (--context); never `veil-` keys. */
  readonly extraContext: Readonly<Record<string, string>>;
  /**
   * --pad: pad the plaintext to a bucketed size ([Note: size padding] in core/padding.ts), marked
   * `veil-padding` in the context; an unfinished upload continues only with the same setting.
   */
  readonly padding?: PaddingScheme | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The folder of unfinished uploads' records: $XDG_STATE_HOME/veil/uploads, by default
 * ~/.local/state/veil/uploads (created with mode 0700 on first use).
 */
export function resumeFolder(env: NodeJS.ProcessEnv = process.env): string {
  const stateHome = env.XDG_STATE_HOME?.trim() || join(homedir(), '.local', 'state');
  return join(stateHome, 'veil', 'uploads');
}

/** The model badge of the object: the model of the key that makes the data key (keyrings.ts). */
export function uploadModel(keys: KeyringFlags): 'A' | 'B' | 'C' {
  if (keys.kmsKeys.length > 0) return 'C';
  if (keys.hsmKeys.length > 0) return 'B';
  return 'A';
}

/**
 * The stored upload this command continues, if any; unfinished uploads to the same destination
 * that do not match are aborted in S3 (best effort) and forgotten ([Note: veil cp resume]).
 */
async function findResumable(
  store: UploadStore,
  s3: UploadS3,
  file: File,
  command: Omit<UploadCommand, 'file'>,
): Promise<UploadRecord | undefined> {
  const records = (await store.list()).filter(
    (record) => record.bucket === command.bucket && record.key === command.key,
  );
  if (records.length === 0) return undefined;
  const identity = await fileIdentity(file);
  const match = records.find((record) => recordMatches(record, { ...command, file: identity }));
  for (const record of records) {
    if (record === match) continue;
    await s3
      .abortMultipartUpload({
        Bucket: record.bucket,
        Key: record.key,
        UploadId: record.uploadId,
      })
      .catch(() => undefined);
    await store.delete(record.id);
  }
  return match;
}

/**
 * Encrypts the file at `inPath` and uploads it to `target`, continuing this command's
 * unfinished upload when there is one. Progress is drawn on stderr when it is a terminal.
 * @throws VeilError USAGE (flags), IO_FAILED (the file), the keyring's errors, and the upload
 *   engine's (S3_REJECTED, S3_UNREACHABLE, S3_RETRIES_EXHAUSTED, CREDENTIALS_*,
 *   UPLOAD_FILE_UNREADABLE, RESUME_UPLOAD_GONE, ...).
 */
export async function uploadFile(options: UploadFileOptions): Promise<UploadResult> {
  const env = options.env ?? process.env;
  const { bucket } = options.target;
  const file = await openFileSource(options.inPath);
  const encryptionContext: EncryptionContext = withPadding(
    buildUploadContext({ bucket, extra: options.extraContext }),
    options.padding,
  );
  const s3 = await cliS3(options.s3, env);
  try {
    const keyFlags = writeKeyFlags(options.keys);
    const { keyring, close } = await cliKeyring('encrypt', keyFlags, env);
    try {
      const names = await namesFor(
        s3NamesKeyStorage(s3.client, bucket, 'upload'),
        options.target,
        'object',
        () => Promise.resolve(keyring),
      );
      const key = storedKeyOf(names, options.target.key);
      const keyFileNames = await Promise.all(keyFlags.keyFiles.map((path) => keyFileName(path)));
      const uploadS3 = nodeUploadS3(s3.client);
      const store = fileUploadStore(resumeFolder(env));
      const record = await findResumable(store, uploadS3, file, {
        bucket,
        key,
        encryptionContext,
        keys: { keyFileNames, hsmLabels: keyFlags.hsmKeys, kmsKeys: keyFlags.kmsKeys },
      });
      const line = progressLine();
      const setup = (resumed: boolean) => ({
        s3: uploadS3,
        builder: nodeBuilder,
        store,
        keyring,
        keepOnFailure: true,
        onProgress: (progress: UploadProgress) =>
          line.show({
            verb: resumed ? 'upload (resumed)' : 'upload',
            doneBytes: progress.uploadedBytes,
            totalBytes: progress.objectBytes,
            rateBytesPerSecond: progress.rateBytesPerSecond,
            etaSeconds: progress.etaSeconds,
          }),
      });
      const start = () =>
        FileUpload.start({
          ...setup(false),
          file,
          bucket,
          key,
          protection: 'client-side',
          model: uploadModel(keyFlags),
          encryptionContext,
        }).done;
      try {
        const result = record
          ? await FileUpload.resume(record, file, setup(true)).done.catch(async (error) => {
              // The multipart upload was aborted or expired in S3: forget it and start afresh.
              if (!(error instanceof VeilError && error.code === 'RESUME_UPLOAD_GONE')) throw error;
              await store.delete(record.id);
              return start();
            })
          : await start();
        line.end(
          `uploaded ${formatBytes(file.size)} to ${formatS3Url(options.target)} ` +
            `(${formatBytes(result.objectBytes)} encrypted${options.padding ? `, size padded (${options.padding})` : ''}, ` +
            `${result.partCount} part${result.partCount === 1 ? '' : 's'})`,
        );
        return result;
      } catch (error) {
        line.end();
        throw error;
      }
    } finally {
      close();
    }
  } finally {
    s3.close();
  }
}
