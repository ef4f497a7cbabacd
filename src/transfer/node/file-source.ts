/**
 * The upload source in Node: a `File` over a path on disk that FileUpload's builders read in
 * slices, never whole. `fs.openAsBlob` gives a Blob backed by the file (Node 20+): `slice()` and
 * `arrayBuffer()` read only the bytes asked for, and a read after the file changed on disk (size
 * or modification time) fails instead of returning other bytes. Wrapping it in a `File` adds the
 * name and modification time the resume record identifies the file by, without copying it.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { VeilError } from '../../core';

/** Options of openFileSource. */
export interface FileSourceOptions {
  /** The name the upload records (resume matches on it); default the path's last segment. */
  readonly name?: string;
  /** The File's `type`; default empty. */
  readonly type?: string;
}

/**
 * Opens the regular file at `path` as a `File` for FileUpload.start / FileUpload.resume. Its
 * `lastModified` is the file's mtime in whole milliseconds, so a resume recognises it again.
 * Nothing is read until the engine slices it.
 * @throws VeilError IO_FAILED when the path is missing, unreadable or not a regular file.
 */
export async function openFileSource(path: string, options: FileSourceOptions = {}): Promise<File> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new VeilError('IO_FAILED', 'not a regular file');
    const blob = await openAsBlob(path);
    return new File([blob], options.name ?? basename(path), {
      lastModified: Math.trunc(info.mtimeMs),
      type: options.type ?? '',
    });
  } catch (cause) {
    if (cause instanceof VeilError) throw cause;
    throw new VeilError('IO_FAILED', errorCode(cause), { cause });
  }
}

/** The fs error code (ENOENT, EACCES, ...) of `cause`, for an error's detail. */
export function errorCode(cause: unknown): string | undefined {
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : cause instanceof Error ? cause.name : undefined;
}
