/**
 * The resume store in Node: one JSON file per unfinished upload in a folder of the caller's
 * choice (the command line keeps one per user). Each record is written whole to a temporary
 * file, flushed and renamed over the old one, so a crash leaves the old record or the new one,
 * never half of either. The header bytes are stored as base64; like the browser's store it holds
 * no secret ([Note: no secret in the resume record] in upload-store.ts), but the folder is made
 * 0700 and the files 0600, as the record names buckets, keys and file names.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VeilError } from '../../core';
import { KeyValueUploadStore, type KeyValueApi } from '../kv-store';
import { KeyValueRewrapStore, type RewrapStore } from '../rewrap-store';
import type { UploadRecord, UploadStore } from '../upload-store';
import { errorCode } from './file-source';

/** Marks a record file of this layout; files without it are skipped. */
export const RECORD_FILE_FORMAT = 'veil-upload-record/1';

/** A record file: the store key and the record with its header as base64. */
interface RecordFile {
  readonly format: typeof RECORD_FILE_FORMAT;
  readonly key: string;
  readonly value: unknown;
}

/** The file name of store key `key`: its SHA-256, so any upload id makes a safe name. */
function fileName(key: string): string {
  return `${createHash('sha256').update(key).digest('hex')}.json`;
}

function encode(key: string, value: unknown): string {
  const record = value as UploadRecord;
  const stored =
    record.headerBytes instanceof Uint8Array
      ? { ...record, headerBytes: Buffer.from(record.headerBytes).toString('base64') }
      : record;
  const file: RecordFile = { format: RECORD_FILE_FORMAT, key, value: stored };
  return JSON.stringify(file);
}

function decode(text: string): { key: string; value: unknown } | undefined {
  try {
    const file = JSON.parse(text) as Partial<RecordFile>;
    if (file.format !== RECORD_FILE_FORMAT || typeof file.key !== 'string') return undefined;
    const value = file.value as Record<string, unknown> | null;
    if (typeof value !== 'object' || value === null) return undefined;
    const header = value.headerBytes;
    return {
      key: file.key,
      value:
        typeof header === 'string'
          ? { ...value, headerBytes: new Uint8Array(Buffer.from(header, 'base64')) }
          : value,
    };
  } catch {
    return undefined;
  }
}

async function readRecord(path: string): Promise<{ key: string; value: unknown } | undefined> {
  try {
    return decode(await readFile(path, 'utf8'));
  } catch (cause) {
    if (errorCode(cause) === 'ENOENT') return undefined;
    throw new VeilError('IO_FAILED', errorCode(cause), { cause });
  }
}

/** Writes `text` to `path` atomically: a temporary file, fsync, rename. Mode 0600. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tempPath = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tempPath, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tempPath, path);
  } catch (cause) {
    await rm(tempPath, { force: true }).catch(() => undefined);
    throw cause;
  }
}

/** The KeyValueApi over the files of `folder`. */
function folderApi(folder: string): KeyValueApi {
  const ready = mkdir(folder, { recursive: true, mode: 0o700 });
  return {
    async get(key) {
      await ready;
      const found = await readRecord(join(folder, fileName(key)));
      return found?.key === key ? found.value : undefined;
    },
    async set(key, value) {
      await ready;
      await writeAtomically(join(folder, fileName(key)), encode(key, value));
    },
    async del(key) {
      await ready;
      await rm(join(folder, fileName(key)), { force: true });
    },
    async entries() {
      await ready;
      const names = (await readdir(folder)).filter((name) => /^[0-9a-f]{64}\.json$/.test(name));
      const found = await Promise.all(names.map((name) => readRecord(join(folder, name))));
      return found
        .filter((entry) => entry !== undefined)
        .map((entry): [string, unknown] => [entry.key, entry.value]);
    },
  };
}

/**
 * The resume store over the folder `folder` (created, mode 0700, on first use). Records written
 * by another layout or damaged files are skipped, as the browser's store skips old entries.
 * @throws (from its methods) the fs error when the folder cannot be created or written;
 *   FileUpload reports a failed write as UPLOAD_RECORD_UNWRITABLE.
 */
export function fileUploadStore(folder: string): UploadStore {
  return new KeyValueUploadStore(folderApi(folder));
}

/**
 * The rewrap resume store over the folder `folder` ([Note: rewrap resume] in rewrap-resume.ts):
 * the same files as the upload store, its records plain JSON (no secret, base64 headers).
 */
export function fileRewrapStore(folder: string): RewrapStore {
  return new KeyValueRewrapStore(folderApi(folder));
}
