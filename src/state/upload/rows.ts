/**
 * The rows of the upload queue as the view shows them (and the view data around them), and small
 * pure helpers of the queue: a new row, the row phase of an engine state, and bounded concurrency
 * for the key lookups.
 */
import type { UploadProgress } from '../../transfer/progress';
import { protectionStatement, type Protection } from '../shared/protection';
import { protectionLabel, type UploadChoice } from './choice';
import type { RowError } from './errors';
import type { RowPhase } from './format';

/** What a conflict is settled with ([Note: existing objects]). */
export type ConflictAction = 'replace' | 'keep-both' | 'skip';

/** One file in the queue. */
export interface UploadRow {
  readonly id: number;
  /** The path shown: the file's path below the destination folder. */
  readonly relativePath: string;
  /** The object key (changes when the user keeps both); '' when the name was refused. */
  key: string;
  /**
   * With private names, the clear path below the root the key encrypts (changes with the key);
   * absent with plain names, where the key shows it.
   */
  shownPath?: string;
  readonly sizeBytes: number;
  readonly protection: Protection;
  readonly protectionLabel: string;
  /** What protects the file, in one line (shown once it is done). */
  readonly statement: string;
  /** The key that wraps the data key, when encrypted. */
  readonly keyName: string | undefined;
  phase: RowPhase;
  /** The engine's state while active ('preparing', 'uploading', 'paused', 'completing'). */
  engineState: UploadProgress['state'] | undefined;
  progress: UploadProgress | undefined;
  error: RowError | undefined;
  /** Something the user should know that is not a failure (the upload started over, and why). */
  notice: string | undefined;
  /** True when the row continues an upload of an earlier session. */
  readonly resumed: boolean;
}

/** The row phase of an engine state. */
export function phaseOf(state: UploadProgress['state']): RowPhase {
  if (state === 'done') return 'done';
  if (state === 'failed') return 'failed';
  if (state === 'cancelled') return 'cancelled';
  return 'active';
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Whether the chosen protection can write now, and with which key. */
export type WriteReadiness =
  | { readonly ok: true; readonly keyName: string | undefined }
  | { readonly ok: false; readonly error: RowError };

/** What the Upload view shows (the wrapper makes it reactive). */
export interface UploadsState {
  /** The choice made on this page; until then the defaults from Settings. */
  choice: UploadChoice | undefined;
  /** The destination folder as typed. */
  folderText: string;
  rows: UploadRow[];
  /** Why the last files could not be added. */
  addError: RowError | undefined;
  /** The last completion or failure, for the aria-live region. */
  announcement: string;
}

/** A fresh UploadsState. */
export function emptyUploadsState(): UploadsState {
  return { choice: undefined, folderText: '', rows: [], addError: undefined, announcement: '' };
}

/** A new row, waiting for its key lookup. */
export function newRow(
  id: number,
  relativePath: string,
  key: string,
  sizeBytes: number,
  protection: Protection,
  keyName: string | undefined,
): UploadRow {
  return {
    id,
    relativePath,
    key,
    sizeBytes,
    protection,
    protectionLabel: protectionLabel(protection),
    statement: protectionStatement(protection),
    keyName,
    phase: 'checking',
    engineState: undefined,
    progress: undefined,
    error: undefined,
    notice: undefined,
    resumed: false,
  };
}
